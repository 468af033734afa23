// send_test.cpp: sending a campaign end to end through the maildir transport, on SQLite and
// PostgreSQL: the real daemon with the real maildir and csv-importer plugins on a private bus,
// driven with campaignd-ctl. What an administrator sees: every attached, subscribed recipient
// gets exactly one message, personalised, with the [CID:N] tag and a VERP envelope; someone who
// unsubscribed after being attached is skipped; the counts add up at every observation;
// run-scheduled starts only campaigns whose time has come; pause, resume and cancel take effect
// within a second and never send anyone the campaign twice; bad transports are refused at
// start-up (exit 78) and at `campaign create --transport`.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "backends.h"
#include "daemon_fixture.h"
#include "storage/sql_store.h"
#include "storage/store.h"
#include "support/postgres_environment.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

// One delivered file of the Maildir.
struct Delivered {
    std::string recipient;     // Delivered-To
    std::string returnPath;    // the envelope sender
    std::string text;          // the whole file
};

std::vector<Delivered> readMaildir(const fs::path& maildir) {
    std::vector<Delivered> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(maildir / "new", ec)) {
        Delivered d;
        d.text = readFile(entry.path());
        auto header = [&](const std::string& name) {
            const auto at = d.text.find(name + ": ");
            if (at == std::string::npos) return std::string();
            const auto end = d.text.find("\r\n", at);
            return d.text.substr(at + name.size() + 2, end - at - name.size() - 2);
        };
        d.recipient = header("Delivered-To");
        d.returnPath = header("Return-Path");
        out.push_back(std::move(d));
    }
    return out;
}

std::size_t countFiles(const fs::path& dir) {
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it) ++n;
    return n;
}

class SendTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        fs::create_directories(dir_ / "plugins");
        fs::copy_file(MAILDIR_PLUGIN, dir_ / "plugins" / "maildir.so");
        fs::copy_file(CSV_IMPORTER_PLUGIN, dir_ / "plugins" / "csv-importer.so");
        database_ = databaseFor(GetParam(), dir_, "send");
    }

    void start(const std::string& transportExtra = {}, const std::string& sendingExtra = {}) {
        DaemonConfig config;
        config.database = database_;
        config.extra = "[Sending]\nDefaultTransport=local\nFrom=News <news@example.org>\n"
                       "EnvelopeDomain=bounces.example.org\nRetryDelay=1s\n" + sendingExtra + "\n"
                       "[Transport local]\nPlugin=maildir\nPath=" + maildir().string() + "\n" + transportExtra;
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    fs::path maildir() const { return dir_ / "outbox"; }

    std::string ok(const std::vector<std::string>& args) { return daemon_->ctlOk(args); }
    json okJson(const std::vector<std::string>& args) { return daemon_->ctlJson(args); }
    json campaign(int id) { return daemon_->ctlCampaign(id); }

    // n recipients r0..r(n-1)@<domain> in group `group`, named "Person i".
    void addRecipients(const std::string& group, int n, const std::string& domain = "example.org") {
        std::string csv = "email,name\n";
        for (int i = 0; i < n; ++i) csv += "r" + std::to_string(i) + "@" + domain + ",Person " + std::to_string(i) + "\n";
        const auto path = dir_ / (group + ".csv");
        writeFile(path, csv);
        ok({"group", "create", group});
        const auto s = okJson({"recipients", "import", path.string(), "--group", group});
        EXPECT_EQ(s["imported"], n);
    }

    int createCampaign(const std::string& group, const std::vector<std::string>& more = {}) {
        std::vector<std::string> args{"campaign", "create", "--name", "News " + group, "--subject",
                                      "News for {{name}}", "--html", "<p>Hello {{name}}, this is {{email}}.</p>"};
        args.insert(args.end(), more.begin(), more.end());
        const auto c = okJson(args);
        const int id = c.value("id", 0);
        ok({"campaign", "attach", std::to_string(id), "--group", group});
        return id;
    }

    // sent + failed + unknown + skipped + pending + in flight == recipients, as the bus shows it.
    void expectCountsAddUp(const json& c) {
        const auto sum = c["sent_count"].get<int>() + c["failed_count"].get<int>() + c["unknown_count"].get<int>() +
                         c["skipped_count"].get<int>() + c["pending_count"].get<int>() +
                         c["in_flight_count"].get<int>();
        EXPECT_EQ(sum, c["recipient_count"].get<int>()) << c.dump();
    }

    bool waitForStatus(int id, const std::string& status, std::chrono::milliseconds timeout = 60s) {
        return waitUntil([&] { return campaign(id)["status"] == status; }, timeout);
    }

    TempDir dir_{"campaignd-send"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::string database_;
    std::unique_ptr<Campaignd> daemon_;
};

// A campaign that ends within a second or so, watched from its start: the watcher's last line
// has its rate (the engine's first report has one, and a last report comes with the end).
TEST_P(SendTest, AShortCampaignWatchedFromItsStartShowsItsRate) {
    start("MaxPerSecond=20\n");  // a second's burst of 20, then 10 more over half a second
    addRecipients("news", 30);
    const int id = createCampaign("news");
    const auto sent = daemon_->ctl({"campaign", "send", std::to_string(id), "--watch"});
    ASSERT_EQ(sent.exitCode, 0) << sent.err << sent.out;
    const auto at = sent.out.rfind(" rate=");
    ASSERT_NE(at, std::string::npos) << sent.out;
    EXPECT_GT(std::stod(sent.out.substr(at + 6)), 0.0) << sent.out;
    EXPECT_EQ(campaign(id)["sent_count"], 30);
}

TEST_P(SendTest, EveryRecipientGetsExactlyOnePersonalisedMessage) {
    start("MaxPerSecond=60\nConnections=2\n");  // slow enough to watch the counts move
    addRecipients("news", 60);
    ok({"recipients", "add", "zoe@example.org", "--name", "Zoë Ünicode", "--group", "news"});
    const int id = createCampaign("news");
    ok({"recipients", "unsubscribe", "r7@example.org"});  // attached, then unsubscribed

    const auto sent = daemon_->ctl({"campaign", "send", std::to_string(id)});
    ASSERT_EQ(sent.exitCode, 0) << sent.err;
    EXPECT_NE(sent.out.find("61 recipients"), std::string::npos) << sent.out;
    // The counts add up at every observation while it sends.
    int observations = 0;
    while (campaign(id)["status"] == "in_progress" && observations < 400) {
        expectCountsAddUp(campaign(id));
        ++observations;
    }
    EXPECT_GT(observations, 0);
    const auto watch = daemon_->ctl({"campaign", "watch", std::to_string(id)});
    EXPECT_EQ(watch.exitCode, 0) << watch.err << watch.out;
    EXPECT_NE(watch.out.find("Completed"), std::string::npos) << watch.out;

    const auto c = campaign(id);
    EXPECT_EQ(c["status"], "completed");
    EXPECT_EQ(c["sent_count"], 60);
    EXPECT_EQ(c["skipped_count"], 1);
    EXPECT_EQ(c["failed_count"], 0);
    EXPECT_EQ(c["unknown_count"], 0);
    EXPECT_EQ(c["pending_count"], 0);
    expectCountsAddUp(c);

    const auto files = readMaildir(maildir());
    ASSERT_EQ(files.size(), 60u);
    std::set<std::string> recipients;
    for (const auto& f : files) {
        EXPECT_TRUE(recipients.insert(f.recipient).second) << "twice: " << f.recipient;
        EXPECT_EQ(f.returnPath.rfind("<bounces+" + std::to_string(id) + "-", 0), 0u) << f.returnPath;
        EXPECT_NE(f.returnPath.find("@bounces.example.org>"), std::string::npos) << f.returnPath;
        EXPECT_NE(f.text.find("[CID:" + std::to_string(id) + "]"), std::string::npos);
        EXPECT_NE(f.text.find("X-Campaign-Id: " + std::to_string(id)), std::string::npos);
        EXPECT_NE(f.text.find("Message-ID: <"), std::string::npos);
        EXPECT_NE(f.text.find("From: News <news@example.org>"), std::string::npos);
    }
    EXPECT_FALSE(recipients.count("r7@example.org"));
    EXPECT_TRUE(recipients.count("zoe@example.org"));
    const auto zoe = std::find_if(files.begin(), files.end(), [](const Delivered& d) { return d.recipient == "zoe@example.org"; });
    ASSERT_NE(zoe, files.end());
    EXPECT_NE(zoe->text.find("=?UTF-8?"), std::string::npos);  // the subject's name, RFC 2047
    const auto r3 = std::find_if(files.begin(), files.end(), [](const Delivered& d) { return d.recipient == "r3@example.org"; });
    ASSERT_NE(r3, files.end());
    EXPECT_NE(r3->text.find("Hello Person 3, this is r3@example.org."), std::string::npos) << r3->text;
    EXPECT_NE(r3->text.find("News for Person 3"), std::string::npos);

    // The summary agrees, and a completed campaign cannot be sent again.
    const auto summary = okJson({"campaign", "summary", std::to_string(id)});
    EXPECT_EQ(summary["sent"], 60);
    EXPECT_EQ(daemon_->ctl({"campaign", "send", std::to_string(id)}).exitCode, 1);
    EXPECT_EQ(readMaildir(maildir()).size(), 60u);
}

// Lines of the daemon's stderr (its journal outside systemd) that contain `part`.
std::vector<std::string> linesWith(const std::string& text, const std::string& part) {
    std::vector<std::string> lines;
    std::size_t from = 0;
    while (from < text.size()) {
        const std::size_t end = std::min(text.find('\n', from), text.size());
        const std::string line = text.substr(from, end - from);
        if (line.find(part) != std::string::npos) lines.push_back(line);
        from = end + 1;
    }
    return lines;
}

// One journal line per delivery outcome, as Postfix logs each delivery, with the campaign, the
// recipient's id (no address), the transport and the status as fields; LogDeliveries=no for a
// very large send turns them off.
TEST_P(SendTest, EachOutcomeIsOneJournalLineWithItsFieldsAndNoAddress) {
    start();
    addRecipients("news", 3);
    const int id = createCampaign("news");
    ok({"campaign", "send", std::to_string(id), "--watch"});
    const auto lines = linesWith(daemon_->process().err(), "delivery sent");
    ASSERT_EQ(lines.size(), 3u) << daemon_->process().err();
    for (const auto& line : lines) {
        EXPECT_NE(line.find("CAMPAIGN_ID=" + std::to_string(id)), std::string::npos) << line;
        EXPECT_NE(line.find("RECIPIENT_ID="), std::string::npos) << line;
        EXPECT_NE(line.find("TRANSPORT=local"), std::string::npos) << line;
        EXPECT_NE(line.find("STATUS=sent"), std::string::npos) << line;
        EXPECT_EQ(line.find("@example.org"), std::string::npos) << "no address in the journal: " << line;
    }
}

TEST_P(SendTest, LogDeliveriesNoLeavesTheDeliveriesOutOfTheJournal) {
    start({}, "LogDeliveries=no\n");
    addRecipients("news", 3);
    const int id = createCampaign("news");
    ok({"campaign", "send", std::to_string(id), "--watch"});
    EXPECT_EQ(campaign(id)["sent_count"], 3);
    EXPECT_TRUE(linesWith(daemon_->process().err(), "delivery sent").empty()) << daemon_->process().err();
}

TEST_P(SendTest, ACampaignWithNobodyAttachedIsNotSent) {
    start();
    const auto c = okJson({"campaign", "create", "--name", "Empty", "--subject", "Hi", "--html", "<p>Hi</p>"});
    const std::string id = std::to_string(c.value("id", 0));
    const auto r = daemon_->ctl({"campaign", "send", id});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("has nobody attached"), std::string::npos) << r.err;
    EXPECT_EQ(campaign(std::stoi(id))["status"], "draft") << "it can still be attached and sent";
    addRecipients("late", 3);
    ok({"campaign", "attach", id, "--group", "late"});
    ok({"campaign", "send", id});
    EXPECT_TRUE(waitForStatus(std::stoi(id), "completed"));
}

TEST_P(SendTest, RunScheduledStartsOnlyCampaignsWhoseTimeHasCome) {
    start();
    addRecipients("news", 5);
    const auto soon = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count() + 2;
    char when[64];
    const std::time_t t = soon;
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    const int due = createCampaign("news");
    ok({"campaign", "schedule", std::to_string(due), when});
    const int later = createCampaign("news");
    ok({"campaign", "schedule", std::to_string(later), "2099-01-01T00:00:00Z"});
    const int draft = createCampaign("news");

    // Nothing is due yet.
    EXPECT_EQ(okJson({"run-scheduled"})["started"], json::array());
    ASSERT_TRUE(waitUntil([&] {
        return std::chrono::system_clock::now().time_since_epoch() > std::chrono::seconds(soon);
    }, 10s));
    EXPECT_EQ(okJson({"run-scheduled"})["started"], json::array({due}));
    EXPECT_TRUE(waitForStatus(due, "completed"));
    EXPECT_EQ(campaign(later)["status"], "scheduled");
    EXPECT_EQ(campaign(draft)["status"], "draft");
    EXPECT_EQ(readMaildir(maildir()).size(), 5u);
    EXPECT_NE(ok({"run-scheduled"}).find("No scheduled campaign is due"), std::string::npos);
}

TEST_P(SendTest, ADueCampaignThatCannotStartIsPausedWithItsReasonAndRunScheduledSaysSo) {
    start();
    addRecipients("news", 2);
    const auto soon = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count() + 2;
    char when[64];
    const std::time_t t = soon;
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    const auto empty = okJson({"campaign", "create", "--name", "Empty", "--subject", "Hi", "--html", "<p>Hi</p>"});
    const int emptyId = empty.value("id", 0);
    ok({"campaign", "schedule", std::to_string(emptyId), when});  // nobody attached
    const int due = createCampaign("news");
    ok({"campaign", "schedule", std::to_string(due), when});
    ASSERT_TRUE(waitUntil([&] {
        return std::chrono::system_clock::now().time_since_epoch() > std::chrono::seconds(soon);
    }, 10s));

    const auto r = daemon_->ctl({"run-scheduled"});
    EXPECT_EQ(r.exitCode, 1) << "a timer's run that could not start a campaign fails";
    EXPECT_NE(r.out.find("Started 1 campaign: " + std::to_string(due)), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("campaign " + std::to_string(emptyId) + " could not start (now paused): "),
              std::string::npos) << r.err;
    EXPECT_NE(r.err.find("has nobody attached"), std::string::npos) << r.err;
    const auto paused = campaign(emptyId);
    EXPECT_EQ(paused["status"], "paused");
    EXPECT_NE(paused["status_reason"].get<std::string>().find("could not start: "), std::string::npos) << paused;
    EXPECT_TRUE(waitForStatus(due, "completed"));
    // Tried once, not again every minute: it is no longer scheduled.
    const auto again = daemon_->ctl({"--json", "run-scheduled"});
    EXPECT_EQ(again.exitCode, 0) << again.err;
    EXPECT_EQ(json::parse(again.out)["not_started"], json::array());
}

TEST_P(SendTest, PauseAndResumeSendNobodyTwice) {
    start("MaxPerSecond=40\n");
    addRecipients("news", 200);
    const int id = createCampaign("news");
    ok({"campaign", "send", std::to_string(id)});
    ASSERT_TRUE(waitUntil([&] { return campaign(id)["sent_count"].get<int>() >= 20; }, 30s));
    ok({"campaign", "pause", std::to_string(id)});
    EXPECT_EQ(campaign(id)["status"], "paused");
    // Within a second nothing more is handed over; after that the files stay as they are.
    std::this_thread::sleep_for(1s);
    const auto files = countFiles(maildir() / "new");
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(countFiles(maildir() / "new"), files);
    const auto paused = campaign(id);
    EXPECT_EQ(paused["sent_count"].get<std::size_t>(), files);
    EXPECT_EQ(paused["in_flight_count"], 0);
    EXPECT_GT(paused["pending_count"].get<int>(), 0);
    expectCountsAddUp(paused);
    EXPECT_NE(daemon_->ctl({"campaign", "watch", std::to_string(id)}).exitCode, 0);  // paused: not completed

    const auto resumed = daemon_->ctl({"campaign", "resume", std::to_string(id), "--watch"});
    EXPECT_EQ(resumed.exitCode, 0) << resumed.err << resumed.out;
    const auto c = campaign(id);
    EXPECT_EQ(c["status"], "completed");
    EXPECT_EQ(c["sent_count"], 200);
    const auto delivered = readMaildir(maildir());
    std::set<std::string> unique;
    for (const auto& d : delivered) unique.insert(d.recipient);
    EXPECT_EQ(delivered.size(), 200u);
    EXPECT_EQ(unique.size(), 200u);
}

TEST_P(SendTest, CancelSkipsEveryoneNotYetSent) {
    start("MaxPerSecond=40\n");
    addRecipients("news", 200);
    const int id = createCampaign("news");
    ok({"campaign", "send", std::to_string(id)});
    ASSERT_TRUE(waitUntil([&] { return campaign(id)["sent_count"].get<int>() >= 10; }, 30s));
    const auto out = ok({"campaign", "cancel", std::to_string(id)});
    EXPECT_NE(out.find("skipped"), std::string::npos);
    std::this_thread::sleep_for(1s);
    const auto files = countFiles(maildir() / "new");
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(countFiles(maildir() / "new"), files);
    const auto c = campaign(id);
    EXPECT_EQ(c["status"], "cancelled");
    EXPECT_EQ(c["sent_count"].get<std::size_t>(), files);
    EXPECT_EQ(c["pending_count"], 0);
    EXPECT_EQ(c["in_flight_count"], 0);
    EXPECT_EQ(c["sent_count"].get<int>() + c["skipped_count"].get<int>(), 200) << c.dump();
    EXPECT_GT(c["skipped_count"].get<int>(), 0);
    EXPECT_EQ(daemon_->ctl({"campaign", "resume", std::to_string(id)}).exitCode, 1);
    // Its report says how far it got, not a success rate that counts the skipped as failures.
    const auto report = ok({"campaign", "report", std::to_string(id)});
    EXPECT_NE(report.find("Success:      none: cancelled after sending to " + std::to_string(files) + " of 200"),
              std::string::npos)
        << report;

    // A draft can be cancelled too; everyone attached is then skipped.
    const int draft = createCampaign("news");
    ok({"campaign", "cancel", std::to_string(draft)});
    EXPECT_EQ(campaign(draft)["skipped_count"], 200);
    EXPECT_EQ(countFiles(maildir() / "new"), files);

    // Deleting the one that sent drops the record of what happened to each: only with --force.
    const auto refused = daemon_->ctl({"campaign", "delete", std::to_string(id)});
    EXPECT_EQ(refused.exitCode, 2) << refused.err;
    EXPECT_NE(refused.err.find("campaign " + std::to_string(id) + " is cancelled with " + std::to_string(files) +
                               " of 200 recipients done"),
              std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find("Give --force to delete it"), std::string::npos) << refused.err;
    EXPECT_EQ(campaign(id)["status"], "cancelled");
    ok({"campaign", "delete", std::to_string(id), "--force"});
    ok({"campaign", "delete", std::to_string(draft)});  // it never sent: no --force needed
}

TEST_P(SendTest, ACampaignNamesOnlyAConfiguredTransport) {
    start();
    addRecipients("news", 3);
    const auto refused = daemon_->ctl({"campaign", "create", "--name", "X", "--subject", "S", "--html", "<p>x</p>",
                                       "--transport", "nosuch"});
    EXPECT_EQ(refused.exitCode, 1);
    EXPECT_NE(refused.err.find("transport \"nosuch\" is not configured"), std::string::npos) << refused.err;
    const int id = createCampaign("news", {"--transport", "local"});
    EXPECT_EQ(campaign(id)["transport"], "local");
    const auto edit = daemon_->ctl({"campaign", "edit", std::to_string(id), "--transport", "other"});
    EXPECT_EQ(edit.exitCode, 1);
    EXPECT_EQ(campaign(id)["transport"], "local");
    ok({"campaign", "send", std::to_string(id)});
    EXPECT_TRUE(waitForStatus(id, "completed"));
    EXPECT_EQ(readMaildir(maildir()).size(), 3u);
}

TEST_P(SendTest, AnUnwritableMaildirPausesTheCampaignWithTheReason) {
    // A regular file where the Maildir should be: the transport cannot open a session. The
    // campaign pauses with the reason instead of failing every recipient.
    writeFile(dir_ / "blocked", "not a directory");
    DaemonConfig config;
    config.database = database_;
    config.extra = "[Sending]\nDefaultTransport=broken\n\n[Transport broken]\nPlugin=maildir\nPath=" +
                   (dir_ / "blocked" / "maildir").string() + "\n";
    daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    addRecipients("news", 4);
    const int id = createCampaign("news");
    ok({"campaign", "send", std::to_string(id)});
    ASSERT_TRUE(waitForStatus(id, "paused", 30s));
    const auto c = campaign(id);
    EXPECT_NE(c["status_reason"].get<std::string>().find("transport \"broken\""), std::string::npos) << c.dump();
    EXPECT_EQ(c["failed_count"], 0);
    EXPECT_EQ(c["pending_count"], 4);
    const auto watch = daemon_->ctl({"campaign", "watch", std::to_string(id)});
    EXPECT_EQ(watch.exitCode, 1);
    EXPECT_NE(watch.out.find("Reason: transport \"broken\""), std::string::npos) << watch.out;
}

TEST_P(SendTest, ARestartedDaemonGoesOnSendingWhereItStopped) {
    start("MaxPerSecond=40\n");
    addRecipients("news", 120);
    const int id = createCampaign("news");
    ok({"campaign", "send", std::to_string(id)});
    ASSERT_TRUE(waitUntil([&] { return campaign(id)["sent_count"].get<int>() >= 10; }, 30s));
    EXPECT_EQ(daemon_->stop(), 0);
    daemon_.reset();
    start();  // no throttle now
    EXPECT_TRUE(waitForStatus(id, "completed"));
    const auto c = campaign(id);
    EXPECT_EQ(c["sent_count"].get<int>() + c["unknown_count"].get<int>(), 120) << c.dump();
    const auto delivered = readMaildir(maildir());
    std::set<std::string> unique;
    for (const auto& d : delivered) unique.insert(d.recipient);
    EXPECT_EQ(unique.size(), delivered.size());
    EXPECT_EQ(delivered.size(), c["sent_count"].get<std::size_t>() + c["unknown_count"].get<std::size_t>());
}

// A notice that carries nothing of the returned message (no Message-ID, no X-Campaign-Id, no
// [CID:N] tag) is still mapped to its campaign and recipient by the VERP address it was sent
// to, because the daemon checks it with the same key it signed the messages with; an address
// with a forged token maps to nothing.
TEST_P(SendTest, ABounceToItsVerpAddressNamesTheCampaignAndTheRecipient) {
    start();
    addRecipients("news", 2);
    const int id = createCampaign("news");
    ok({"campaign", "send", std::to_string(id)});
    ASSERT_TRUE(waitForStatus(id, "completed"));
    std::string verp;
    for (const auto& d : readMaildir(maildir()))
        if (d.recipient == "r1@example.org") verp = d.returnPath.substr(1, d.returnPath.size() - 2);
    ASSERT_EQ(verp.rfind("bounces+" + std::to_string(id) + "-", 0), 0u) << verp;

    auto notice = [](const std::string& to) {
        return "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.net\r\nTo: " + to +
               "\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
               "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
               "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
               "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
               "Final-Recipient: rfc822; r1@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
               "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n--B--\r\n";
    };
    const auto genuine = dir_ / "genuine.eml";
    writeFile(genuine, notice(verp));
    const auto found = okJson({"bounces", "ingest", genuine.string(), "--dry-run"});
    ASSERT_EQ(found["results"].size(), 1u) << found.dump();
    EXPECT_EQ(found["results"][0]["recipient"], "r1@example.org");
    EXPECT_EQ(found["results"][0]["campaign_id"], id) << found.dump();

    std::string forged = verp;
    const auto at = forged.find('@');
    forged[at - 1] = forged[at - 1] == 'a' ? 'b' : 'a';  // the token's last character changed
    const auto fake = dir_ / "forged.eml";
    writeFile(fake, notice(forged));
    const auto unmatched = okJson({"bounces", "ingest", fake.string(), "--dry-run"});
    ASSERT_EQ(unmatched["results"].size(), 1u) << unmatched.dump();
    EXPECT_TRUE(unmatched["results"][0]["campaign_id"].is_null()) << unmatched.dump();
}

INSTANTIATE_TEST_SUITE_P(Backends, SendTest, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

// Two daemons sharing one PostgreSQL send the same campaign together (the second goes on with
// what is in progress when it starts): their claims never overlap (FOR UPDATE SKIP LOCKED,
// worker names carrying each daemon's own instance id), so everyone gets exactly one message,
// and both did part of the work.
TEST(SharedDatabase, TwoDaemonsSendOneCampaignWithoutDuplicates) {
    const std::string database = PostgresEnvironment::server().createDatabase("shared");
    TempDir dirA("campaignd-shared-a"), dirB("campaignd-shared-b");
    PrivateBus busA(PrivateBus::Kind::Session), busB(PrivateBus::Kind::Session);
    const auto outbox = dirA / "outbox";
    for (const TempDir* d : {&dirA, &dirB}) {
        fs::create_directories(*d / "plugins");
        fs::copy_file(MAILDIR_PLUGIN, *d / "plugins" / "maildir.so");
        fs::copy_file(CSV_IMPORTER_PLUGIN, *d / "plugins" / "csv-importer.so");
    }
    DaemonConfig config;
    config.database = database;
    config.extra = "[Sending]\nDefaultTransport=local\n[Transport local]\nPlugin=maildir\nPath=" + outbox.string() +
                   "\nMaxPerSecond=100\n";
    Campaignd a(busA, dirA, config);
    auto okA = [&](const std::vector<std::string>& args) {
        const auto r = a.ctl(args);
        EXPECT_EQ(r.exitCode, 0) << r.err;
        return r.out;
    };
    std::string csv = "email,name\n";
    for (int i = 0; i < 600; ++i) csv += "s" + std::to_string(i) + "@example.org,S " + std::to_string(i) + "\n";
    writeFile(dirA / "people.csv", csv);
    okA({"group", "create", "people"});
    okA({"recipients", "import", (dirA / "people.csv").string(), "--group", "people"});
    okA({"campaign", "create", "--name", "N", "--subject", "S", "--html", "<p>Hi {{name}}</p>"});
    okA({"campaign", "attach", "1", "--group", "people"});
    okA({"campaign", "send", "1"});
    auto show = [&] { return json::parse(okA({"--json", "campaign", "show", "1"})); };
    ASSERT_TRUE(waitUntil([&] { return show()["sent_count"].get<int>() >= 50; }, 30s));
    Campaignd b(busB, dirB, config);  // goes on with the campaign in progress
    ASSERT_TRUE(waitUntil([&] { return show()["status"] == "completed"; }, 60s));
    const auto c = show();
    EXPECT_EQ(c["sent_count"], 600) << c.dump();
    std::set<std::string> recipients;
    std::size_t files = 0;
    for (const auto& d : readMaildir(outbox)) {
        ++files;
        recipients.insert(d.recipient);
    }
    EXPECT_EQ(files, 600u);
    EXPECT_EQ(recipients.size(), 600u);
    // Both daemons sent some: each one's instance id is in the claims of sent rows.
    auto trimmed = [](std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
        return s;
    };
    const auto idA = trimmed(readFile(dirA / "state" / "instance-id"));
    const auto idB = trimmed(readFile(dirB / "state" / "instance-id"));
    EXPECT_NE(idA, idB);
    auto store = storage::openStore(database);
    auto& sql = dynamic_cast<storage::SqlStore&>(*store).connection();
    std::map<std::string, int> byDaemon;
    for (const auto& row : sql.query("SELECT claimed_by FROM campaign_recipients WHERE status = 'sent'"))
        ++byDaemon[row.text(0).substr(0, row.text(0).find(':'))];
    EXPECT_EQ(byDaemon.size(), 2u);
    EXPECT_GT(byDaemon[idA], 0);
    EXPECT_GT(byDaemon[idB], 0);
    EXPECT_EQ(byDaemon[idA] + byDaemon[idB], 600);
    EXPECT_TRUE(a.running());
    EXPECT_TRUE(b.running());
}

// ---- the configuration ---------------------------------------------------------------------

class TransportConfigTest : public ::testing::Test {
protected:
    // Starts the daemon with `extra` and expects it to refuse with exit 78 and `message`.
    void expectRefused(const std::string& extra, const std::string& message) {
        fs::create_directories(dir_ / "plugins");
        if (!fs::exists(dir_ / "plugins" / "maildir.so")) fs::copy_file(MAILDIR_PLUGIN, dir_ / "plugins" / "maildir.so");
        if (!fs::exists(dir_ / "plugins" / "csv-importer.so"))
            fs::copy_file(CSV_IMPORTER_PLUGIN, dir_ / "plugins" / "csv-importer.so");
        const std::string text = "[Daemon]\nDatabase=sqlite:" + (dir_ / "c.db").string() + "\nPluginDirectory=" +
                                 (dir_ / "plugins").string() + "\nStateDirectory=" + (dir_ / "state").string() +
                                 "\n" + extra;
        writeFile(dir_ / "campaignd.conf", text);
        ProcessOptions options;
        options.env = bus_.clientEnv();
        options.unsetEnv = {"JOURNAL_STREAM", "NOTIFY_SOCKET"};
        const auto r = run({campaigndBinary(), "--user", "--config", (dir_ / "campaignd.conf").string()}, options, 30s);
        EXPECT_EQ(r.exitCode, 78) << r.err;
        EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    }

    TempDir dir_{"campaignd-transport-config"};
    PrivateBus bus_{PrivateBus::Kind::Session};
};

TEST_F(TransportConfigTest, UnknownDefaultTransportIsRefusedWithItsLine) {
    expectRefused("\n[Sending]\nDefaultTransport=nosuch\n",
                  (dir_ / "campaignd.conf").string() + ":7: DefaultTransport=: no [Transport nosuch]");
}

TEST_F(TransportConfigTest, APluginThatIsNotATransportIsRefused) {
    expectRefused("[Transport x]\nPlugin=csv-importer\n",
                  (dir_ / "campaignd.conf").string() + ":6: [Transport x] Plugin=csv-importer: the plugin \"csv-importer\" is not a transport");
}

TEST_F(TransportConfigTest, AMissingPluginIsRefused) {
    expectRefused("[Transport x]\nPlugin=smtp-nonexistent\n", "no running plugin \"smtp-nonexistent\"");
}

TEST_F(TransportConfigTest, BadNumbersAreRefusedWithTheirLine) {
    expectRefused("[Transport local]\nPlugin=maildir\nConnections=0\n",
                  (dir_ / "campaignd.conf").string() + ":7: Connections=: 0 is out of range (1 to 1000)");
    expectRefused("[Transport local]\nPlugin=maildir\nConnections=1001\n", ":7: Connections=: 1001 is out of range (1 to 1000)");
    expectRefused("[Transport local]\nPlugin=maildir\nMaxPerSecond=fast\n", ":7: MaxPerSecond=: \"fast\" is not a rate");
    expectRefused("[Sending]\nMaxAttempts=-1\n", ":6: MaxAttempts=: \"-1\" is not a whole number");
    expectRefused("[Sending]\nRetryDelay=soon\n", ":6: RetryDelay=: \"soon\" is not a time span");
    expectRefused("[Transport local]\nPath=/tmp/x\n", ":6: [Transport local]: Plugin= is missing");
}

// The config a fresh install ships (systemd/campaignd.conf) sends through its maildir
// transport with no mail server; here only its paths are moved by a drop-in.
TEST(ShippedConfig, SendsThroughTheDefaultMaildirTransport) {
    TempDir dir("campaignd-shipped");
    PrivateBus bus(PrivateBus::Kind::Session);
    fs::create_directories(dir / "etc" / "campaignd.conf.d");
    fs::create_directories(dir / "plugins");
    fs::copy_file(MAILDIR_PLUGIN, dir / "plugins" / "maildir.so");
    const auto shipped = readFile(std::string(CAMPAIGND_BUILD_DIR) + "/systemd/campaignd.conf");
    ASSERT_NE(shipped.find("DefaultTransport=local"), std::string::npos);
    writeFile(dir / "etc" / "campaignd.conf", shipped);
    writeFile(dir / "etc" / "campaignd.conf.d" / "paths.conf",
              "[Daemon]\nDatabase=sqlite:" + (dir / "c.db").string() + "\nPluginDirectory=" + (dir / "plugins").string() +
                  "\nStateDirectory=" + (dir / "state").string() + "\n[Transport local]\nPath=" +
                  (dir / "outbox").string() + "\n");
    ProcessOptions options;
    options.env = bus.clientEnv();
    options.unsetEnv = {"JOURNAL_STREAM", "NOTIFY_SOCKET"};
    Process daemon({campaigndBinary(), "--user", "--config", (dir / "etc" / "campaignd.conf").string()}, options);
    auto ctl = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {ctlBinary(), "--user"});
        ProcessOptions o;
        o.env = bus.clientEnv();
        return run(args, o, 60s);
    };
    ASSERT_TRUE(waitUntil([&] { return ctl({"status"}).exitCode == 0 || !daemon.running(); }, 30s)) << daemon.err();
    ASSERT_TRUE(daemon.running()) << daemon.err();
    EXPECT_EQ(ctl({"recipients", "add", "ada@example.org"}).exitCode, 0);
    EXPECT_EQ(ctl({"campaign", "create", "--name", "N", "--subject", "S", "--html", "<p>x</p>"}).exitCode, 0);
    EXPECT_EQ(ctl({"campaign", "attach", "1", "--email", "ada@example.org"}).exitCode, 0);
    const auto sent = ctl({"campaign", "send", "1", "--watch"});
    EXPECT_EQ(sent.exitCode, 0) << sent.err << sent.out;
    EXPECT_EQ(countFiles(dir / "outbox" / "new"), 1u);
    // The VERP secret was made once, private.
    const auto secret = fs::status(dir / "state" / "verp-secret");
    EXPECT_EQ(secret.permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
    daemon.stop();
}

}  // namespace
}  // namespace campaignd::test

// sending_guard_test.cpp: the campaign that stops itself (issue 12 item 5), with the real smtp
// plugin and a private Postfix that refuses a chosen share of the recipients at RCPT with 550
// (check_recipient_access), on SQLite and PostgreSQL. A campaign whose hard-bounce rate passes
// [Sending] HardBounceLimit= after HardBounceMinimum= attempts pauses itself with the reason on
// its status; a plain resume is refused, saying why and how to force it; resume --force sends
// the rest. One below the limit completes. ARF complaints ingested for a sending campaign's
// messages push it past ComplaintLimit= and it pauses too. Small minimums, and a transport
// throttled with MaxPerSecond= so that the campaign is still sending when the guard decides:
// nothing here measures time.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "backends.h"
#include "daemon_fixture.h"
#include "storage/sql_store.h"
#include "storage/store.h"
#include "support/postfix_server.h"
#include "support/postgres_environment.h"
#include "support/smtp_sink.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);


std::string address(int i) { return "r" + std::to_string(i) + "@example.org"; }

class SendingGuardTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        fs::create_directories(dir_ / "plugins");
        fs::copy_file(SMTP_PLUGIN, dir_ / "plugins" / "smtp.so");
        fs::copy_file(CSV_IMPORTER_PLUGIN, dir_ / "plugins" / "csv-importer.so");
        database_ = databaseFor(GetParam(), dir_, "sendingguard");
    }

    void start(const std::string& transport, const std::string& guard) {
        DaemonConfig config;
        config.database = database_;
        config.extra = "[Sending]\nDefaultTransport=mail\nFrom=News <news@example.org>\n" + guard +
                       "\n[Transport mail]\nPlugin=smtp\nConnections=1\n" + transport;
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    std::string ok(const std::vector<std::string>& args) { return daemon_->ctlOk(args); }
    json okJson(const std::vector<std::string>& args) { return daemon_->ctlJson(args); }
    json campaign(int id) { return daemon_->ctlCampaign(id); }

    // n recipients r0..r(n-1)@example.org attached to a new campaign; returns its id.
    int campaignWith(int n) {
        std::string csv = "email,name\n";
        for (int i = 0; i < n; ++i) csv += address(i) + ",Person " + std::to_string(i) + "\n";
        writeFile(dir_ / "people.csv", csv);
        ok({"group", "create", "people"});
        EXPECT_EQ(okJson({"recipients", "import", (dir_ / "people.csv").string(), "--group", "people"})["imported"], n);
        const int id = okJson({"campaign", "create", "--name", "News", "--subject", "Hello", "--html", "<p>News.</p>"})
                           .value("id", 0);
        ok({"campaign", "attach", std::to_string(id), "--group", "people"});
        return id;
    }

    bool waitForStatus(int id, const std::string& status, std::chrono::milliseconds timeout = 120s) {
        return waitUntil([&] { return campaign(id)["status"] == status; }, timeout);
    }

    // The Message-IDs of the campaign's sent rows, by address, from the database itself.
    std::map<std::string, std::string> sentMessageIds(int id) {
        auto store = storage::openStore(database_);
        auto& sql = dynamic_cast<storage::SqlStore&>(*store).connection();
        std::map<std::string, std::string> out;
        for (const auto& row : sql.query("SELECT recipient_email, message_id FROM campaign_recipients"
                                         " WHERE campaign_id = $1 AND status = 'sent'",
                                         {static_cast<std::int64_t>(id)}))
            out[row.text(0)] = row.text(1);
        return out;
    }

    TempDir dir_{"campaignd-sending-guard"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::string database_;
    std::unique_ptr<Campaignd> daemon_;
};

TEST_P(SendingGuardTest, AHardBounceRateAboveTheLimitPausesTheCampaignUntilAForcedResume) {
    if (!PostfixServer::available()) GTEST_SKIP() << "postfix, dovecot or openssl missing, or not root";
    // Every other recipient refused at RCPT: a 50% hard-bounce rate.
    constexpr int kRecipients = 60;
    auto options = relayProfile();
    for (int i = 0; i < kRecipients; i += 2) options.rejectedRecipients.push_back(address(i));
    PostfixServer server(options);
    start("URL=" + server.url() + "\nCAFile=" + server.caFile().string() + "\nMaxPerSecond=10\n",
          "HardBounceLimit=20%\nHardBounceMinimum=10\nBatchSize=5\n");
    const int id = campaignWith(kRecipients);
    const std::string cid = std::to_string(id);
    ok({"campaign", "send", cid});
    ASSERT_TRUE(waitForStatus(id, "paused")) << campaign(id).dump();
    // What was in the server's hands when it paused gets its outcome recorded after the pause
    // (the pause's promise): the figures below are read once nothing is in flight any more.
    ASSERT_TRUE(waitUntil([&] { return campaign(id)["in_flight_count"] == 0; }, 30s)) << campaign(id).dump();

    json c = campaign(id);
    const std::string reason = c["status_reason"];
    EXPECT_EQ(reason.rfind("sending guard: hard bounces ", 0), 0u) << reason;
    EXPECT_NE(reason.find("passed HardBounceLimit=20% after HardBounceMinimum=10"), std::string::npos) << reason;
    EXPECT_EQ(c["bounce_guard"], "tripped");
    // It stopped after the sample, long before the end of the list.
    const int tried = c["sent_count"].get<int>() + c["failed_count"].get<int>();
    EXPECT_GE(tried, 10);
    EXPECT_GT(c["pending_count"].get<int>(), 0) << c.dump();
    // Where people look: campaign show and list, the report.
    const std::string shown = ok({"campaign", "show", cid});
    EXPECT_NE(shown.find("sending guard: hard bounces"), std::string::npos) << shown;
    EXPECT_NE(ok({"campaign", "list"}).find("Paused (sending guard)"), std::string::npos);
    const json report = okJson({"campaign", "report", cid});
    EXPECT_EQ(report["bounce_guard"], "tripped");
    EXPECT_EQ(report["attempts"], tried);
    EXPECT_EQ(report["hard_bounces"], c["failed_count"]);
    const std::string reportText = ok({"campaign", "report", cid});
    EXPECT_NE(reportText.find("Hard bounces:"), std::string::npos) << reportText;
    EXPECT_NE(reportText.find("Amazon SES"), std::string::npos) << reportText;

    // A plain resume is refused, saying why and how to go on anyway.
    const auto refused = daemon_->ctl({"campaign", "resume", cid});
    EXPECT_EQ(refused.exitCode, 1) << refused.out;
    EXPECT_NE(refused.err.find("sending guard"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
    EXPECT_EQ(campaign(id)["status"], "paused");

    // --force sends the rest, and the guard stays off for this campaign.
    ok({"campaign", "resume", cid, "--force"});
    ASSERT_TRUE(waitForStatus(id, "completed")) << campaign(id).dump();
    c = campaign(id);
    EXPECT_EQ(c["bounce_guard"], "off");
    EXPECT_EQ(c["sent_count"], kRecipients / 2);
    EXPECT_EQ(c["failed_count"], kRecipients / 2);
}

TEST_P(SendingGuardTest, AHardBounceRateBelowTheLimitCompletes) {
    if (!PostfixServer::available()) GTEST_SKIP() << "postfix, dovecot or openssl missing, or not root";
    constexpr int kRecipients = 30;
    auto options = relayProfile();
    options.rejectedRecipients = {address(3), address(17)};  // 6.7%, under 20%
    PostfixServer server(options);
    start("URL=" + server.url() + "\nCAFile=" + server.caFile().string() + "\n",
          "HardBounceLimit=20%\nHardBounceMinimum=10\nBatchSize=5\n");
    const int id = campaignWith(kRecipients);
    ok({"campaign", "send", std::to_string(id)});
    ASSERT_TRUE(waitForStatus(id, "completed")) << campaign(id).dump();
    const json c = campaign(id);
    EXPECT_EQ(c["bounce_guard"], "armed");
    EXPECT_EQ(c["failed_count"], 2);
    const json report = okJson({"campaign", "report", std::to_string(id)});
    EXPECT_EQ(report["attempts"], kRecipients);
    EXPECT_EQ(report["hard_bounces"], 2);
}

TEST_P(SendingGuardTest, ComplaintsAboveTheLimitPauseASendingCampaign) {
    if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
    SmtpSink sink;
    // Slow enough that the campaign is still sending when the complaints come in.
    start("URL=" + sink.url() + "\nMaxPerSecond=2\n",
          "ComplaintLimit=17%\nComplaintMinimum=5\nHardBounceLimit=0\nBatchSize=2\n");
    constexpr int kRecipients = 200;
    const int id = campaignWith(kRecipients);
    const std::string cid = std::to_string(id);
    ok({"campaign", "send", cid});
    ASSERT_TRUE(waitUntil([&] { return sentMessageIds(id).size() >= 6; }, 60s));
    EXPECT_EQ(campaign(id)["status"], "in_progress");
    EXPECT_EQ(okJson({"dashboard"})["guard_rates"].size(), 1u);

    // One complaint among six or more delivered is under 17%; a second, while fewer than twelve
    // were delivered (at two a second), is over.
    const auto ids = sentMessageIds(id);
    int complaints = 0;
    for (const auto& [email, messageId] : ids) {
        writeFile(dir_ / "arf.eml", arfReport(email, messageId, email));
        const json ingested = okJson({"bounces", "ingest", (dir_ / "arf.eml").string()});
        ASSERT_EQ(ingested["recorded"], 1) << ingested.dump();
        if (++complaints == 2) break;
    }
    ASSERT_TRUE(waitForStatus(id, "paused", 60s)) << campaign(id).dump();
    const json c = campaign(id);
    const std::string reason = c["status_reason"];
    EXPECT_EQ(reason.rfind("sending guard: complaints 2 of ", 0), 0u) << reason;
    EXPECT_NE(reason.find("passed ComplaintLimit=17% after ComplaintMinimum=5"), std::string::npos) << reason;
    EXPECT_EQ(c["bounce_guard"], "tripped");
    EXPECT_GT(c["pending_count"].get<int>(), 0);
    const std::string dashboard = ok({"dashboard"});
    EXPECT_NE(dashboard.find("Gmail and Yahoo"), std::string::npos) << dashboard;
    EXPECT_NE(dashboard.find("paused the campaign"), std::string::npos) << dashboard;
}

// The tally is read again from the ledger and the bounce records when the daemon starts: a
// campaign left sending by a stopped daemon is stopped by what it did before the restart.
TEST_P(SendingGuardTest, TheTallyOutlivesARestart) {
    if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
    SmtpSink sink;
    const std::string transport = "URL=" + sink.url() + "\nMaxPerSecond=2\n";
    start(transport, "ComplaintLimit=0\nHardBounceLimit=0\nBatchSize=2\n");  // no guard yet
    const int id = campaignWith(200);
    const std::string cid = std::to_string(id);
    ok({"campaign", "send", cid});
    ASSERT_TRUE(waitUntil([&] { return sentMessageIds(id).size() >= 6; }, 60s));
    const auto ids = sentMessageIds(id);
    int complaints = 0;
    for (const auto& [email, messageId] : ids) {
        writeFile(dir_ / "arf.eml", arfReport(email, messageId, email));
        ASSERT_EQ(okJson({"bounces", "ingest", (dir_ / "arf.eml").string()})["recorded"], 1);
        if (++complaints == 2) break;
    }
    EXPECT_EQ(campaign(id)["status"], "in_progress");  // the guard is off
    EXPECT_EQ(daemon_->stop(), 0);
    daemon_.reset();
    // Started again with the guard on: the two complaints recorded before count (2 of fewer
    // than 200 delivered is over 1%).
    start(transport, "ComplaintLimit=1%\nComplaintMinimum=5\nHardBounceLimit=0\nBatchSize=2\n");
    ASSERT_TRUE(waitForStatus(id, "paused", 60s)) << campaign(id).dump();
    EXPECT_EQ(campaign(id)["status_reason"].get<std::string>().rfind("sending guard: complaints 2 of ", 0), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SendingGuardTest, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

}  // namespace
}  // namespace campaignd::test

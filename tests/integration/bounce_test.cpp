// bounce_test.cpp: `campaignd-ctl bounces ingest|list|export` end to end, on SQLite and
// PostgreSQL: the real daemon, messages handed over as descriptors (a file, standard input as a
// Postfix pipe(8) transport gives it). What an administrator sees: --dry-run --json reports
// every message of the project's corpus exactly as the corpus expects and records nothing; a
// real ingestion records once however often the notice comes, suppresses the recipient for
// every later campaign, shows in the list, the CSV report and the campaign summary; non-mail
// input is refused, and --sysexits tells Postfix whether to retry. Only a notice that proves
// itself (a valid VERP token, a returned Message-ID in the send ledger) changes a recipient: a
// forged token or an ARF that matches nothing is listed as "no effect: not matched", unless
// [Bounces] ActOnUnmatched=yes; a notice naming more than 100 addresses is cut, and says so.
#include <gtest/gtest.h>
#include <sysexits.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "backends.h"
#include "daemon_fixture.h"
#include "mail/verp.h"
#include "storage/store.h"
#include "support/postgres_environment.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size())
        text.replace(pos, from.size(), to);
    return text;
}

// A Postfix-shaped DSN for `recipient`, sent to `envelope`, returning a message with `messageId`.
std::string dsn(const std::string& noticeId, const std::string& envelope, const std::string& recipient,
                const std::string& messageId, const std::string& status = "5.1.1") {
    return "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
           "Subject: Undelivered Mail Returned to Sender\r\nTo: " + envelope + "\r\n"
           "Message-Id: " + noticeId + "\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
           "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
           "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n"
           "X-Postfix-Sender: rfc822; " + envelope + "\r\n\r\n"
           "Final-Recipient: rfc822; " + recipient + "\r\nAction: failed\r\nStatus: " + status + "\r\n"
           "Diagnostic-Code: smtp; 550 " + status + " <" + recipient + ">: User unknown\r\n\r\n"
           "--B\r\nContent-Type: message/rfc822\r\n\r\nReturn-Path: <" + envelope + ">\r\n"
           "From: news@example.org\r\nTo: " + recipient + "\r\nSubject: News\r\n"
           "Message-ID: <" + messageId + ">\r\nX-Campaign-Id: 1\r\n\r\nHello\r\n--B--\r\n";
}

class BounceTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override { start(); }

    void start(const std::string& extra = {}) {
        daemon_.reset();
        DaemonConfig config;
        config.database = database_;
        config.extra = extra;
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    // Puts `emails` (stored recipients) in campaign `campaign`'s ledger as the engine leaves them
    // handed over, each with the Message-ID returned (without brackets).
    std::map<std::string, std::string> handedOver(int campaign, const std::vector<std::string>& emails) {
        for (const auto& e : emails) ok({"campaign", "attach", std::to_string(campaign), "--email", e});
        auto store = storage::openStore(database_);
        const auto batch = store->claimBatch(campaign, "engine", emails.size(), 1);
        EXPECT_EQ(batch.size(), emails.size());
        std::vector<storage::HandOver> items;
        std::map<std::string, std::string> ids;
        for (const auto& b : batch) {
            ids[b.email] = "c" + std::to_string(campaign) + ".l" + std::to_string(b.ledgerId) + "@example.org";
            items.push_back({b.ledgerId, ids[b.email]});
        }
        EXPECT_EQ(store->markHandedOver("engine", items).size(), emails.size());
        return ids;
    }
    // The VERP envelope address the daemon signs for (campaign, recipient), with its own secret.
    std::string verpFor(Id campaign, Id recipient) {
        mail::VerpSettings v;
        v.domain = "example.org";
        v.secret = readFile(dir_ / "state" / "verp-secret");
        while (!v.secret.empty() && (v.secret.back() == '\n' || v.secret.back() == '\r')) v.secret.pop_back();
        return mail::verpAddress(mail::checkVerpSettings(v), campaign, recipient);
    }
    Id recipientId(const std::string& email) { return okJson({"recipients", "show", email})["id"].get<Id>(); }
    std::string statusOf(const std::string& email) { return okJson({"recipients", "show", email})["status"]; }
    json ingest(const std::string& message) {
        const auto r = piped({"--json", "bounces", "ingest", "-"}, message);
        EXPECT_EQ(r.exitCode, 0) << r.err;
        return json::parse(r.out, nullptr, false);
    }

    std::string ok(const std::vector<std::string>& args) { return daemon_->ctlOk(args); }
    json okJson(const std::vector<std::string>& args) { return daemon_->ctlJson(args); }
    // campaignd-ctl ARGS with `input` on standard input, as pipe(8) runs it.
    RunResult piped(const std::vector<std::string>& args, const std::string& input) {
        return daemon_->ctlWithInput(args, input);
    }
    void createCampaigns(int upTo) {
        for (int i = 1; i <= upTo; ++i)
            ok({"campaign", "create", "--name", "c" + std::to_string(i), "--subject", "s", "--html", "<p>x</p>"});
    }
    static fs::path corpusDir() { return fs::path(CAMPAIGND_SOURCE_DIR) / "tests/bounce/corpus"; }

    TempDir dir_{"campaignd-bounces"};
    std::string database_ = databaseFor(GetParam(), dir_, "bounces");
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::unique_ptr<Campaignd> daemon_;
};

TEST_P(BounceTest, DryRunJsonReportsEveryCorpusMessageAsTheCorpusExpects) {
    const json expected = json::parse(readFile(fs::path(CAMPAIGND_SOURCE_DIR) /
                                               "tests/bounce/corpus-expected.json"));
    const auto single = (corpusDir() / "postfix-dsn-single.eml").string();
    // Before campaign 42 exists, its tag is a claim the daemon does not trust.
    const json before = okJson({"bounces", "ingest", "--dry-run", single});
    ASSERT_EQ(before["results"].size(), 1u);
    EXPECT_TRUE(before["results"][0]["campaign_id"].is_null()) << before.dump();

    createCampaigns(99);  // every campaign id the corpus names now exists
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(corpusDir()))
        if (entry.path().extension() == ".eml") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    ASSERT_GE(files.size(), 15u);
    for (const fs::path& file : files) {
        SCOPED_TRACE(file.filename().string());
        ASSERT_TRUE(expected.contains(file.filename().string())) << "the corpus message has no expectations";
        const json got = okJson({"bounces", "ingest", "--dry-run", file.string()});
        ASSERT_TRUE(got.contains("results")) << got.dump();
        EXPECT_EQ(got["results"], expected[file.filename().string()])
            << "got:      " << got["results"].dump() << "\nexpected: " << expected[file.filename().string()].dump();
        for (const json& r : got["results"]) EXPECT_EQ(r.size(), 6u) << "exactly the six documented keys";
        EXPECT_EQ(got["recorded"], 0);
    }
    EXPECT_EQ(okJson({"bounces", "list"}).size(), 0u) << "a dry run records nothing";
}

TEST_P(BounceTest, IngestRecordsOnceSuppressesAndReports) {
    createCampaigns(1);
    ok({"group", "create", "list"});
    ok({"recipients", "add", "nobody@example.net", "--group", "list"});
    ok({"recipients", "add", "fine@example.net", "--group", "list"});
    // The corpus's Postfix DSN, about campaign 1, returning the message campaign 1 sent
    // nobody@ (the ledger has its Message-ID: only a notice that proves itself acts).
    const auto ids = handedOver(1, {"nobody@example.net"});
    std::string dsn = readFile(corpusDir() / "postfix-dsn-single.eml");
    dsn = replaceAll(replaceAll(dsn, "X-Campaign-Id: 42", "X-Campaign-Id: 1"), "[CID:42]", "[CID:1]");
    dsn = replaceAll(dsn, "c42.r1001.1717488901@campaign.example.org", ids.at("nobody@example.net"));

    auto r = piped({"--json", "bounces", "ingest", "-"}, dsn);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    json report = json::parse(r.out);
    EXPECT_EQ(report["recorded"], 1);
    ASSERT_EQ(report["results"].size(), 1u);
    EXPECT_EQ(report["results"][0]["campaign_id"], 1);
    EXPECT_EQ(okJson({"recipients", "show", "nobody@example.net"})["status"], "bounced");

    // The same notice again (a retried delivery): nothing new.
    r = piped({"--json", "bounces", "ingest", "-"}, dsn);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    report = json::parse(r.out);
    EXPECT_EQ(report["recorded"], 0);
    EXPECT_EQ(report["duplicates"], 1);

    const json list = okJson({"bounces", "list"});
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["campaign_id"], 1);
    EXPECT_EQ(list[0]["recipient"], "nobody@example.net");
    EXPECT_EQ(list[0]["status"], "5.1.1");
    EXPECT_EQ(list[0]["reason"], "userunknown");
    EXPECT_EQ(list[0]["hard"], true);
    EXPECT_EQ(list[0]["source"], "ingest");
    EXPECT_EQ(okJson({"bounces", "list", "--reason", "mailboxfull"}).size(), 0u);
    EXPECT_EQ(okJson({"bounces", "list", "--campaign", "1"}).size(), 1u);
    EXPECT_NE(daemon_->ctl({"bounces", "list", "--reason", "nonsense"}).exitCode, 0);
    EXPECT_NE(ok({"bounces", "list"}).find("nobody@example.net"), std::string::npos);

    const json summary = okJson({"campaign", "summary", "1"});
    EXPECT_EQ(summary["bounces"], 1);
    EXPECT_EQ(summary["bounces_by_reason"], json::parse(R"([{"reason":"userunknown","count":1}])"));

    const auto csvPath = (dir_ / "bounces.csv").string();
    EXPECT_EQ(ok({"bounces", "export", csvPath}), "Wrote 1 bounce record to " + csvPath + ".\n");
    const std::string csv = readFile(csvPath);
    EXPECT_EQ(csv.rfind("campaign,recipient_email,reason,processed_at,", 0), 0u) << csv;
    EXPECT_NE(csv.find("\r\n1,nobody@example.net,userunknown,"), std::string::npos) << csv;
    EXPECT_EQ((fs::status(csvPath).permissions() & fs::perms::others_read), fs::perms::none);

    // A later campaign skips the bounced recipient.
    ok({"campaign", "create", "--name", "later", "--subject", "s", "--html", "<p>x</p>"});
    const json attached = okJson({"campaign", "attach", "2", "--group", "list"});
    EXPECT_EQ(attached["attached"], 1);
    EXPECT_EQ(attached["skipped_bounced"], 1) << attached.dump();
    EXPECT_EQ(attached["skipped_unsubscribed"], 0) << "a bounced address is not an unsubscribed one";
    const json bounced = okJson({"recipients", "list", "--status", "bounced"});
    ASSERT_EQ(bounced.size(), 1u);
    EXPECT_EQ(bounced[0]["email"], "nobody@example.net");
}

TEST_P(BounceTest, RefusesNonMailInputAndTellsPostfixWhatToDo) {
    auto r = piped({"bounces", "ingest", "-"}, "%PDF-1.4\n1 0 obj\n<< >>\n");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("not a mail message"), std::string::npos) << r.err;
    r = piped({"bounces", "ingest", "--sysexits", "-"}, "%PDF-1.4\n");
    EXPECT_EQ(r.exitCode, EX_DATAERR) << r.err;
    r = piped({"bounces", "ingest", "-"}, "");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
    // An auto-reply is mail, but no bounce: accepted, nothing recorded.
    r = piped({"bounces", "ingest", "-"}, readFile(corpusDir() / "autoreply.eml"));
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("auto-reply"), std::string::npos) << r.out;
    EXPECT_EQ(okJson({"bounces", "list"}).size(), 0u);
    // The daemon gone: Postfix should keep the notice and retry.
    daemon_->stop();
    r = piped({"bounces", "ingest", "--sysexits", "-"}, readFile(corpusDir() / "qmail.eml"));
    EXPECT_EQ(r.exitCode, EX_TEMPFAIL) << r.err;
}

TEST_P(BounceTest, OnlyANoticeThatProvesItselfChangesASubscription) {
    createCampaigns(1);
    for (const char* e : {"victim@example.net", "annoyed@example.net", "gone@example.net", "sent@example.net",
                          "liked@example.net"})
        ok({"recipients", "add", e});
    const auto ids = handedOver(1, {"gone@example.net", "sent@example.net", "liked@example.net"});

    // A DSN to a VERP address whose token is forged (one character changed): recorded, no effect.
    std::string forged = verpFor(1, recipientId("victim@example.net"));
    const auto at = forged.find('@');
    forged[at - 1] = forged[at - 1] == 'a' ? 'b' : 'a';
    json report = ingest(dsn("<forged@mx.example.net>", forged, "victim@example.net", "made-up@example.org"));
    EXPECT_EQ(report["recorded"], 1) << report.dump();
    ASSERT_EQ(report["results"].size(), 1u);
    EXPECT_EQ(report["unmatched"], 1) << "recorded with no effect";
    EXPECT_EQ(statusOf("victim@example.net"), "subscribed") << "a forged DSN suppresses nobody";

    // An ARF complaint that matches nothing: no unsubscribe.
    report = ingest(arfReport("annoyed@example.net", "not-ours@elsewhere.example", "1-annoyed@example.net", "X-Campaign-Id: 1\r\n"));
    EXPECT_EQ(report["recorded"], 1) << report.dump();
    EXPECT_EQ(report["unmatched"], 1);
    EXPECT_EQ(statusOf("annoyed@example.net"), "subscribed") << "an unmatched complaint unsubscribes nobody";

    // Proven notices still act: a real VERP DSN, a DSN returning a ledger Message-ID, an ARF
    // returning a ledger Message-ID.
    report = ingest(dsn("<real-verp@mx.example.net>", verpFor(1, recipientId("gone@example.net")), "gone@example.net",
                        "made-up-too@example.org"));
    EXPECT_EQ(report["unmatched"], 0) << report.dump();
    EXPECT_EQ(statusOf("gone@example.net"), "bounced");
    report = ingest(dsn("<by-ledger@mx.example.net>", "bounces@example.org", "sent@example.net",
                        ids.at("sent@example.net")));
    EXPECT_EQ(report["unmatched"], 0) << report.dump();
    EXPECT_EQ(statusOf("sent@example.net"), "bounced");
    ingest(arfReport("liked@example.net", ids.at("liked@example.net"), "1-liked@example.net", "X-Campaign-Id: 1\r\n"));
    EXPECT_EQ(statusOf("liked@example.net"), "unsubscribed");

    // What an administrator sees: the two unproven records say they did nothing, and how to act.
    const json list = okJson({"bounces", "list"});
    ASSERT_EQ(list.size(), 5u);
    std::map<std::string, json> byRecipient;
    for (const json& b : list) byRecipient[b["recipient"]] = b;
    for (const char* e : {"victim@example.net", "annoyed@example.net"}) {
        EXPECT_EQ(byRecipient[e]["acted"], false) << e;
        EXPECT_EQ(byRecipient[e]["note"], "no effect: not matched") << e;
    }
    for (const char* e : {"gone@example.net", "sent@example.net", "liked@example.net"}) {
        EXPECT_EQ(byRecipient[e]["acted"], true) << e;
        EXPECT_TRUE(byRecipient[e]["note"].is_null()) << e;
    }
    EXPECT_EQ(byRecipient["gone@example.net"]["matched_by"], "verp");
    EXPECT_EQ(byRecipient["sent@example.net"]["matched_by"], "message-id");
    const std::string text = ok({"bounces", "list"});
    EXPECT_NE(text.find("no effect: not matched"), std::string::npos) << text;
    EXPECT_NE(text.find("campaignd-ctl recipients unsubscribe"), std::string::npos) << text;

    // A site that wants the old rule says so: the same kind of forged notice now acts.
    start("[Bounces]\nActOnUnmatched=yes\n");
    report = ingest(dsn("<forged-2@mx.example.net>", forged, "victim@example.net", "made-up@example.org"));
    EXPECT_EQ(report["unmatched"], 0) << report.dump();
    EXPECT_EQ(statusOf("victim@example.net"), "bounced");
    ingest(arfReport("annoyed@example.net", "not-ours-2@elsewhere.example", "2-annoyed@example.net", "X-Campaign-Id: 1\r\n"));
    EXPECT_EQ(statusOf("annoyed@example.net"), "unsubscribed");
}

TEST_P(BounceTest, ANoticeWithMoreResultsThanTheBoundIsCutAndSaysSo) {
    std::string blocks;
    for (int i = 0; i < 150; ++i)
        blocks += "Final-Recipient: rfc822; r" + std::to_string(i) +
                  "@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n";
    const std::string notice =
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered\r\n"
        "To: bounces@example.org\r\nMessage-Id: <many@mx.example.net>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n" +
        blocks + "--B--\r\n";
    writeFile(dir_ / "many.eml", notice);
    const json dry = okJson({"bounces", "ingest", "--dry-run", (dir_ / "many.eml").string()});
    EXPECT_EQ(dry["results"].size(), 100u);
    EXPECT_EQ(dry["dropped"], 50);
    const json report = ingest(notice);
    EXPECT_EQ(report["recorded"], 100) << report.dump();
    EXPECT_EQ(report["dropped"], 50);
    EXPECT_EQ(okJson({"bounces", "list"}).size(), 100u);
    const auto r = piped({"bounces", "ingest", "-"}, notice);  // seen before: duplicates, still cut
    EXPECT_NE(r.out.find("50 results were dropped"), std::string::npos) << r.out;
}

// Issue 13 item 6: the sender recorded a rejection at RCPT (as the smtp plugin's reply makes it
// do), then the relay's DSN for the same campaign and recipient comes: one bounce. The DSN is
// kept, linked to the first (same_as), suppresses nobody again, and the campaign counts one.
TEST_P(BounceTest, ADsnRepeatingARejectionAtRcptIsOneBounce) {
    createCampaigns(1);
    ok({"recipients", "add", "full@example.net"});
    const auto ids = handedOver(1, {"full@example.net"});
    const Id recipient = recipientId("full@example.net");
    Id atRcpt = 0;
    {
        auto store = storage::openStore(database_);
        BounceRecord b;
        b.campaignId = 1;
        b.recipientId = recipient;
        b.recipientEmail = "full@example.net";
        b.statusCode = "5.2.2";
        b.reason = "mailboxfull";
        b.action = "failed";
        b.diagnostic = "552 5.2.2 Mailbox full (in reply to RCPT TO command)";
        b.messageId = ids.at("full@example.net");
        b.source = "smtp";
        b.noticeKey = "smtp:" + b.messageId;
        b.processedAt = 1;
        b.matchedBy = "ledger";
        atRcpt = store->insertBounce(b).value_or(0);
        ASSERT_NE(atRcpt, 0);
        store->countSoftBounce(recipient, 3);  // what acting on it did
    }
    const json got = ingest(dsn("<dsn-full@mx.example.net>", "bounces@example.org", "full@example.net",
                                ids.at("full@example.net"), "5.2.2"));
    EXPECT_EQ(got["recorded"], 1) << got.dump();
    const json list = okJson({"bounces", "list"});
    ASSERT_EQ(list.size(), 2u) << list.dump();
    EXPECT_EQ(list[0]["source"], "ingest");
    EXPECT_EQ(list[0]["same_as"], atRcpt) << list.dump();
    EXPECT_EQ(list[1]["same_as"], 0);
    EXPECT_NE(ok({"bounces", "list"}).find("ingest, same as #" + std::to_string(atRcpt)), std::string::npos);
    EXPECT_EQ(okJson({"campaign", "summary", "1"})["bounces"], 1);
    EXPECT_EQ(statusOf("full@example.net"), "subscribed");
    auto store = storage::openStore(database_);
    EXPECT_EQ(store->countSoftBounce(recipient, 100).softBounceCount, 2) << "counted once before this call";
}

// Issue 13 item 4: auto-replies, challenge-response requests and receipts are no bounces: the
// dry run says what each is, and ingesting them suppresses and counts nobody.
TEST_P(BounceTest, AutoRepliesChallengesAndReceiptsAreNoBounces) {
    createCampaigns(42);
    for (const char* e : {"jane@example.com", "dana@mail.example.com", "robert@homemail.example.net",
                          "erin@example.com", "fay@example.com", "gary@example.net"})
        ok({"recipients", "add", e});
    const std::map<std::string, std::string> kinds = {
        {"autoreply.eml", "auto-reply"},          {"autoreply-precedence.eml", "auto-reply"},
        {"challenge-tmda.eml", "challenge-response"}, {"challenge-human.eml", "challenge-response"},
        {"mdn-receipt.eml", "receipt"},           {"dsn-delivered.eml", "receipt"},
        {"postfix-dsn-single.eml", "bounce"},     {"arf.eml", "complaint"}};
    for (const auto& [file, kind] : kinds) {
        SCOPED_TRACE(file);
        const json got = okJson({"bounces", "ingest", "--dry-run", (corpusDir() / file).string()});
        EXPECT_EQ(got["kind"], kind) << got.dump();
    }
    for (const auto& [file, kind] : kinds) {
        if (kind == "bounce" || kind == "complaint") continue;
        SCOPED_TRACE(file);
        EXPECT_EQ(daemon_->ctl({"bounces", "ingest", (corpusDir() / file).string()}).exitCode, 0);
    }
    EXPECT_NE(ok({"bounces", "ingest", (corpusDir() / "challenge-human.eml").string()}).find("challenge-response"),
              std::string::npos);
    for (const char* e : {"jane@example.com", "dana@mail.example.com", "robert@homemail.example.net",
                          "erin@example.com", "fay@example.com", "gary@example.net"})
        EXPECT_EQ(statusOf(e), "subscribed") << e;
    // Only the delivery report is kept (a success, which resets soft bounces): nothing counted.
    const json list = okJson({"bounces", "list"});
    ASSERT_EQ(list.size(), 1u) << list.dump();
    EXPECT_EQ(list[0]["action"], "delivered");
    EXPECT_EQ(okJson({"campaign", "summary", "42"})["bounces"], 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, BounceTest, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

}  // namespace
}  // namespace campaignd::test

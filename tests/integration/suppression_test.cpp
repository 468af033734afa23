// suppression_test.cpp: unsubscribes, the suppression list and erasure end to end (issue 11,
// items 3-5), on SQLite and PostgreSQL: the real daemon driven with the real campaignd-ctl.
// What an administrator sees: an unsubscribe recorded with how and from which campaign (an
// administrator's, a complaint's), counted in the campaign report and the dashboard; a
// deleted recipient who had unsubscribed refused by `recipients add` and skipped by an import;
// the list exported and imported back; and `recipients delete --forget`, after which a dump of
// every table of the database finds neither the address nor the name.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "backends.h"
#include "daemon_fixture.h"
#include "storage/sql_store.h"
#include "storage/store.h"
#include "support/postgres_environment.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Kind = storage::LedgerOutcome::Kind;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

// An abuse report (ARF) for `recipient` about campaign `campaign`, returning the message with
// `messageId` (the ledger's, so that it proves itself: issue 13 item 5).
std::string complaint(const std::string& recipient, int campaign, const std::string& messageId) {
    return "From: <staff@fbl.example.com>\r\n"
           "Date: Tue, 4 Jun 2024 12:00:00 +0000\r\n"
           "Subject: FW: Spring sale\r\n"
           "To: <fbl@example.org>\r\n"
           "Message-ID: <arf-" + recipient + "@fbl.example.com>\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=feedback-report; boundary=\"b1\"\r\n\r\n"
           "--b1\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n"
           "--b1\r\nContent-Type: message/feedback-report\r\n\r\n"
           "Feedback-Type: abuse\r\nUser-Agent: SomeGenerator/1.0\r\nVersion: 1\r\n"
           "Original-Rcpt-To: <" + recipient + ">\r\n\r\n"
           "--b1\r\nContent-Type: message/rfc822\r\n\r\n"
           "From: <news@example.org>\r\nTo: <" + recipient + ">\r\nSubject: Spring sale\r\n"
           "Message-ID: <" + messageId + ">\r\nX-Campaign-Id: " + std::to_string(campaign) +
           "\r\n\r\nBuy now.\r\n"
           "--b1--\r\n";
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

class SuppressionTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        fs::create_directories(dir_ / "plugins");
        fs::copy_file(CSV_IMPORTER_PLUGIN, dir_ / "plugins" / "csv-importer.so");
        database_ = databaseFor(GetParam(), dir_, "suppression");
        DaemonConfig config;
        config.database = database_;
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    std::string ok(const std::vector<std::string>& args) { return daemon_->ctlOk(args); }
    json okJson(const std::vector<std::string>& args) { return daemon_->ctlJson(args); }
    std::string file(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / name, std::ios::binary) << text;
        return (dir_ / name).string();
    }

    // Campaign 1 with `emails` attached (the first named `firstName`), each of them sent (as the
    // engine records it), the first `failed` of them refused with a reply naming the address.
    void sentCampaign(const std::vector<std::string>& emails, std::size_t failed = 0, const std::string& firstName = {}) {
        ok({"group", "create", "members"});
        for (const auto& e : emails) {
            if (&e == &emails.front() && !firstName.empty())
                ok({"recipients", "add", e, "--group", "members", "--name", firstName});
            else
                ok({"recipients", "add", e, "--group", "members"});
        }
        ok({"campaign", "create", "--name", "Spring", "--subject", "Spring news", "--html", "<p>Hello</p>"});
        ok({"campaign", "attach", "1", "--group", "members"});
        auto store = storage::openStore(database_);
        const auto batch = store->claimBatch(1, "engine", emails.size(), 1);
        ASSERT_EQ(batch.size(), emails.size());
        std::vector<storage::HandOver> handOver;
        std::vector<storage::LedgerOutcome> outcomes;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            // As the engine stores it: without the angle brackets.
            messageIds_[batch[i].email] = std::to_string(batch[i].ledgerId) + "@test";
            handOver.push_back({batch[i].ledgerId, messageIds_[batch[i].email]});
            if (i < failed)
                outcomes.push_back({batch[i].ledgerId, Kind::Failed,
                                    "550 5.1.1 <" + batch[i].email + ">: User unknown", std::nullopt});
            else
                outcomes.push_back({batch[i].ledgerId, Kind::Sent, "", std::nullopt});
        }
        ASSERT_EQ(store->markHandedOver("engine", handOver).size(), emails.size());
        ASSERT_EQ(store->recordOutcomes("engine", outcomes, 2), std::int64_t(emails.size()));
    }

    // Every text value of every table, lower-cased, as "table: value".
    std::vector<std::string> dumpEveryTable() {
        auto store = storage::openStore(database_);
        auto& sql = dynamic_cast<storage::SqlStore&>(*store).connection();
        const auto tables = sql.dialect() == storage::SqlDialect::SQLite
                                ? sql.query("SELECT name FROM sqlite_master WHERE type = 'table'")
                                : sql.query("SELECT table_name FROM information_schema.tables"
                                            " WHERE table_schema = current_schema()");
        EXPECT_GE(tables.size(), 10u);
        std::vector<std::string> out;
        for (const auto& t : tables)
            for (const auto& row : sql.query("SELECT * FROM \"" + t.text(0) + "\""))
                for (std::size_t i = 0; i < row.size(); ++i) out.push_back(t.text(0) + ": " + lower(row.text(i)));
        return out;
    }

    std::map<std::string, std::string> messageIds_;  // address -> Message-ID sentCampaign gave it
    TempDir dir_{"campaignd-suppression"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::string database_;
    std::unique_ptr<Campaignd> daemon_;
};

TEST_P(SuppressionTest, UnsubscribesAreRecordedWithHowAndWhichCampaignAndCounted) {
    sentCampaign({"ann@example.org", "bob@example.org", "cat@example.org", "dan@example.org"});

    const json first = okJson({"recipients", "unsubscribe", "ann@example.org", "--campaign", "1"});
    EXPECT_EQ(first["changed"], true);
    const json ann = okJson({"recipients", "show", "ann@example.org"});
    EXPECT_EQ(ann["status"], "unsubscribed");
    EXPECT_EQ(ann["unsubscribe_source"], "administrator");
    EXPECT_EQ(ann["unsubscribe_campaign_id"], 1);
    ASSERT_TRUE(ann["unsubscribed_at"].is_string()) << ann.dump();
    // A second time changes nothing and keeps the first record.
    const json again = okJson({"recipients", "unsubscribe", "ann@example.org"});
    EXPECT_EQ(again["changed"], false);
    EXPECT_EQ(again["unsubscribed_at"], ann["unsubscribed_at"]);
    EXPECT_EQ(again["unsubscribe_campaign_id"], 1);
    EXPECT_NE(ok({"recipients", "unsubscribe", "ann@example.org"}).find("already unsubscribed"), std::string::npos);
    const std::string shown = ok({"recipients", "show", "ann@example.org"});
    EXPECT_NE(shown.find("administrator, from campaign 1"), std::string::npos) << shown;

    // A complaint (an ARF report about campaign 1) unsubscribes as "complaint", attributed.
    const json ingested = okJson({"bounces", "ingest", file("arf.eml", complaint("bob@example.org", 1, messageIds_.at("bob@example.org")))});
    ASSERT_EQ(ingested["results"].size(), 1u) << ingested.dump();
    EXPECT_EQ(ingested["recorded"], 1) << ingested.dump();
    const json bob = okJson({"recipients", "show", "bob@example.org"});
    EXPECT_EQ(bob["unsubscribe_source"], "complaint");
    EXPECT_EQ(bob["unsubscribe_campaign_id"], 1);

    // Through UpdateRecipient too (the older way a client may unsubscribe someone).
    const auto r = daemon_->busctl({"call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                    "org.campaignd.Campaignd1.Manager", "UpdateRecipient", "sa{sv}",
                                    "cat@example.org", "1", "status", "s", "unsubscribed"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("\"unsubscribe_source\" s \"administrator\""), std::string::npos) << r.out;

    const json report = okJson({"campaign", "report", "1"});
    EXPECT_EQ(report["unsubscribes"], 2) << report.dump();
    EXPECT_DOUBLE_EQ(report["unsubscribe_percent"].get<double>(), 50.0);
    const std::string text = ok({"campaign", "report", "1"});
    EXPECT_NE(text.find("Unsubscribes: 2 (50.0% of sent)"), std::string::npos) << text;
    const json dashboard = okJson({"dashboard"});
    EXPECT_EQ(dashboard["unsubscribes"], 3);
    EXPECT_EQ(dashboard["unsubscribes_30d"], 3);

    // The report keeps counting them after the people are gone.
    ok({"recipients", "delete", "ann@example.org"});
    EXPECT_EQ(okJson({"campaign", "report", "1"})["unsubscribes"], 2);
}

TEST_P(SuppressionTest, ADeletedUnsubscriberIsNeverAddedOrImportedAgain) {
    ok({"recipients", "add", "gone@example.org", "--name", "Gone"});
    ok({"recipients", "unsubscribe", "gone@example.org"});
    const std::string deleted = ok({"recipients", "delete", "gone@example.org"});
    EXPECT_NE(deleted.find("stays on the suppression list (unsubscribed"), std::string::npos) << deleted;

    const auto refused = daemon_->ctl({"recipients", "add", "Gone@Example.org"});
    EXPECT_EQ(refused.exitCode, 1) << refused.out;
    EXPECT_NE(refused.err.find("is on the suppression list since "), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("because unsubscribed"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("campaignd-ctl suppression remove"), std::string::npos) << refused.err;

    // The list holds a hash and no address.
    const json list = okJson({"suppression", "list"});
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["reason"], "unsubscribed");
    EXPECT_EQ(list[0]["email"], "");
    EXPECT_EQ(list[0]["hash"].get<std::string>().size(), 64u);
    for (const auto& value : dumpEveryTable()) EXPECT_EQ(value.find("gone@example.org"), std::string::npos) << value;
    EXPECT_EQ(okJson({"dashboard"})["suppressed"], 1);

    const auto csv = file("people.csv", "email,name\nGONE@example.org,Back\nnew@example.org,New\n");
    const json imported = okJson({"recipients", "import", csv});
    EXPECT_EQ(imported["imported"], 1);
    EXPECT_EQ(imported["suppressed"], 1);
    EXPECT_EQ(daemon_->ctl({"recipients", "show", "gone@example.org"}).exitCode, 1);
    const std::string human = ok({"recipients", "import", csv});
    const auto at = human.find("Suppressed:");
    ASSERT_NE(at, std::string::npos) << human;
    EXPECT_EQ(human[human.find_first_not_of(' ', at + 11)], '1') << human;

    // Lifted by an administrator, the address may come back.
    EXPECT_NE(ok({"suppression", "remove", "gone@example.org"}).find("Removed"), std::string::npos);
    ok({"recipients", "add", "gone@example.org"});
    EXPECT_EQ(daemon_->ctl({"suppression", "remove", "gone@example.org"}).exitCode, 1);
}

TEST_P(SuppressionTest, TheListGoesOutAndComesBackInAsAFile) {
    ok({"recipients", "add", "current@example.org"});
    const auto addresses = file("old-system.csv",
                                "email\n"
                                "one@example.org\n"
                                "\"two@example.org\",2019-01-01\n"
                                "# a comment\n"
                                "not an address\n"
                                "current@example.org\n");
    const json result = okJson({"suppression", "import", addresses});
    EXPECT_EQ(result["added"], 3) << result.dump();
    ASSERT_EQ(result["invalid"].size(), 1u);
    EXPECT_EQ(result["invalid"][0]["line"], 5);
    EXPECT_EQ(okJson({"recipients", "show", "current@example.org"})["status"], "unsubscribed");

    const auto out = (dir_ / "export.csv").string();
    ok({"suppression", "export", out});
    std::stringstream exported;
    exported << std::ifstream(out).rdbuf();
    EXPECT_EQ(exported.str().rfind("hash,reason,suppressed_at,email\r\n", 0), 0u) << exported.str();
    EXPECT_NE(exported.str().find(",import,"), std::string::npos);
    EXPECT_NE(exported.str().find("current@example.org"), std::string::npos) << "a current recipient shows";
    EXPECT_EQ(exported.str().find("one@example.org"), std::string::npos) << "no other address is kept";

    const json before = okJson({"suppression", "list"});
    ASSERT_EQ(before.size(), 3u);
    for (const auto& e : before) ok({"suppression", "remove", e["hash"].get<std::string>()});
    EXPECT_EQ(okJson({"suppression", "list"}).size(), 0u);
    EXPECT_EQ(okJson({"suppression", "import", out})["added"], 3);
    const json after = okJson({"suppression", "list"});
    ASSERT_EQ(after.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(after[i]["hash"], before[i]["hash"]);
    EXPECT_EQ(daemon_->ctl({"recipients", "add", "two@example.org"}).exitCode, 1);
}

TEST_P(SuppressionTest, ForgettingLeavesNeitherAddressNorNameInAnyTable) {
    const std::string email = "quentin.forget@example.org", name = "Quentin Forgettable";
    sentCampaign({email, "other@example.org"}, 1, name);
    okJson({"bounces", "ingest", file("arf.eml", complaint(email, 1, messageIds_.at(email)))});
    ASSERT_EQ(okJson({"recipients", "show", email})["unsubscribe_source"], "complaint");
    const auto dumped = dumpEveryTable();
    ASSERT_TRUE(std::any_of(dumped.begin(), dumped.end(),
                            [&](const std::string& v) { return v.find(email) != std::string::npos; }));

    const json forgotten = okJson({"recipients", "delete", email, "--forget"});
    EXPECT_EQ(forgotten["deleted"], true);
    EXPECT_EQ(forgotten["ledger_rows_erased"], 1);
    EXPECT_EQ(forgotten["bounce_records_erased"], 1);
    EXPECT_EQ(forgotten["suppression_reason"], "complaint");

    for (const auto& value : dumpEveryTable()) {
        EXPECT_EQ(value.find(email), std::string::npos) << value;
        EXPECT_EQ(value.find("quentin"), std::string::npos) << value;
        EXPECT_EQ(value.find("forgettable"), std::string::npos) << value;
    }
    // What is kept: the counts, and the hash that keeps the address out.
    const json report = okJson({"campaign", "report", "1"});
    EXPECT_EQ(report["total"], 2);
    EXPECT_EQ(report["failed"], 1);
    EXPECT_EQ(report["unsubscribes"], 1);
    EXPECT_EQ(report["bounces"], 1);
    EXPECT_EQ(daemon_->ctl({"recipients", "add", email}).exitCode, 1);
    EXPECT_EQ(daemon_->ctl({"recipients", "delete", email, "--forget"}).exitCode, 1) << "nothing left to forget";
}

INSTANTIATE_TEST_SUITE_P(Backends, SuppressionTest, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

}  // namespace
}  // namespace campaignd::test

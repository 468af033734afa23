// report_test.cpp: `campaignd-ctl campaign report` against the real daemon on a private bus,
// on SQLite and on a private PostgreSQL. The ledger outcomes are written through the storage
// layer, as the delivery engine records them (sent, failed with a server reply or a reason that
// looks like a formula, unknown after a crash); the report must show each count, the success
// rate and the reasons as text, JSON and formula-safe CSV. And the report mail: a campaign sent
// through the maildir transport has its report mailed to the admin when it completes.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "daemon_fixture.h"
#include "storage/store.h"
#include "support/postgres_environment.h"

namespace campaignd::test {
namespace {

using nlohmann::json;
using Kind = storage::LedgerOutcome::Kind;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

class ReportTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        database_ = GetParam() == "sqlite" ? "sqlite:" + (dir_ / "campaignd.db").string()
                                           : PostgresEnvironment::server().createDatabase("report");
        DaemonConfig config;
        config.database = database_;
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    std::string ok(const std::vector<std::string>& args) { return daemon_->ctlOk(args); }

    TempDir dir_{"campaignd-report"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::string database_;
    std::unique_ptr<Campaignd> daemon_;
};

TEST_P(ReportTest, ShowsEveryCountAndReasonAsTextJsonAndFormulaSafeCsv) {
    ok({"group", "create", "members"});
    for (int i = 0; i < 5; ++i)
        ok({"recipients", "add", "r" + std::to_string(i) + "@example.org", "--group", "members"});
    ok({"campaign", "create", "--name", "Winter", "--subject", "Winter news", "--html", "<p>Hello</p>"});
    ok({"campaign", "attach", "1", "--group", "members"});

    // What the delivery engine records: r0 and r1 sent, r2 refused by the server, r3 failed for
    // a reason that starts with '=', r4 handed over when the sender died (unknown).
    auto store = storage::openStore(database_);
    const auto batch = store->claimBatch(1, "engine", 5, 1);
    ASSERT_EQ(batch.size(), 5u);
    std::vector<storage::HandOver> handOver;
    for (const auto& b : batch) handOver.push_back({b.ledgerId, "<" + std::to_string(b.ledgerId) + "@test>"});
    ASSERT_EQ(store->markHandedOver("engine", handOver).size(), 5u);
    const std::vector<storage::LedgerOutcome> outcomes{
        {batch[0].ledgerId, Kind::Sent, "", std::nullopt},
        {batch[1].ledgerId, Kind::Sent, "", std::nullopt},
        {batch[2].ledgerId, Kind::Failed, "550 5.1.1 <r2@example.org>: User unknown", std::nullopt},
        {batch[3].ledgerId, Kind::Failed, "=HYPERLINK(\"http://x\",\"y\")", std::nullopt},
    };
    ASSERT_EQ(store->recordOutcomes("engine", outcomes, 2), 4);
    ASSERT_EQ(store->recoverInterrupted(std::string("engine")).unknown, 1);
    store.reset();

    const std::string text = ok({"campaign", "report", "1"});
    for (const char* line : {"Campaign:     1 (Winter)", "Total:        5", "Sent:         2", "Failed:       2",
                             "Unknown:      1", "Skipped:      0", "Pending:      0", "Success:      40.0%",
                             "Unsubscribes: 0 (0.0% of sent)", "FAILURE REASON",
                             "550 5.1.1 <r2@example.org>: User unknown", "=HYPERLINK(\"http://x\",\"y\")"})
        EXPECT_NE(text.find(line), std::string::npos) << "missing \"" << line << "\" in:\n" << text;

    const json j = json::parse(ok({"--json", "campaign", "report", "1"}));
    EXPECT_EQ(j["id"], 1);
    EXPECT_EQ(j["name"], "Winter");
    EXPECT_EQ(j["total"], 5);
    EXPECT_EQ(j["sent"], 2);
    EXPECT_EQ(j["failed"], 2);
    EXPECT_EQ(j["unknown"], 1);
    EXPECT_DOUBLE_EQ(j["success_percent"].get<double>(), 40.0);
    ASSERT_EQ(j["failure_reasons"].size(), 2u);

    const std::string csv = ok({"campaign", "report", "1", "--csv"});
    EXPECT_EQ(csv.rfind("section,item,value\r\nsummary,campaign,1\r\nsummary,total,5\r\nsummary,sent,2\r\n"
                        "summary,failed,2\r\nsummary,unknown,1\r\nsummary,skipped,0\r\nsummary,pending,0\r\n"
                        "summary,in_flight,0\r\n",
                        0),
              0u)
        << csv;
    EXPECT_NE(csv.find("summary,success_percent,40.0\r\n"), std::string::npos) << csv;
    EXPECT_NE(csv.find("failure_reason,550 5.1.1 <r2@example.org>: User unknown,1\r\n"), std::string::npos) << csv;
    // The formula is quoted text, never a formula: a leading apostrophe, inside quotes.
    EXPECT_NE(csv.find("failure_reason,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",1\r\n"), std::string::npos) << csv;

    const auto missing = daemon_->ctl({"campaign", "report", "99"});
    EXPECT_EQ(missing.exitCode, 1);
    EXPECT_NE(missing.err.find("99"), std::string::npos) << missing.err;
}

// The report mail: a campaign sent through the maildir transport; when it completes, the
// daemon mails its report to AdminEmail= (admin@example.org in the fixture) through the same
// transport, so it lands in the same Maildir next to the campaign's own messages.
class ReportMailTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        std::filesystem::create_directories(dir_ / "plugins");
        for (const char* plugin : {MAILDIR_PLUGIN, REPORT_MAILER_PLUGIN})
            std::filesystem::copy_file(plugin, dir_ / "plugins" / std::filesystem::path(plugin).filename());
        DaemonConfig config;
        config.database = GetParam() == "sqlite" ? "sqlite:" + (dir_ / "campaignd.db").string()
                                                 : PostgresEnvironment::server().createDatabase("reportmail");
        config.extra = "[Sending]\nDefaultTransport=local\nFrom=News <news@example.org>\n\n"
                       "[Transport local]\nPlugin=maildir\nPath=" + (dir_ / "outbox").string() + "\n";
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    std::string ok(const std::vector<std::string>& args) { return daemon_->ctlOk(args); }

    // The Maildir's files addressed to `recipient` (its Delivered-To line).
    std::vector<std::string> deliveredTo(const std::string& recipient) {
        std::vector<std::string> out;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(dir_ / "outbox" / "new", ec)) {
            std::string text = readFile(e.path());
            if (text.find("\r\nDelivered-To: " + recipient + "\r\n") != std::string::npos) out.push_back(std::move(text));
        }
        return out;
    }

    TempDir dir_{"campaignd-report-mail"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::unique_ptr<Campaignd> daemon_;
};

TEST_P(ReportMailTest, ACompletedCampaignsReportIsMailedToTheAdmin) {
    ok({"group", "create", "members"});
    for (int i = 0; i < 3; ++i)
        ok({"recipients", "add", "r" + std::to_string(i) + "@example.org", "--group", "members"});
    ok({"campaign", "create", "--name", "Winter", "--subject", "Winter news", "--html", "<p>Hello {{name}}</p>"});
    ok({"campaign", "attach", "1", "--group", "members"});
    ok({"campaign", "send", "1"});
    ASSERT_TRUE(waitUntil([&] { return deliveredTo("admin@example.org").size() == 1; }, 60s))
        << "no report in the Maildir";
    const std::string report = deliveredTo("admin@example.org").at(0);
    EXPECT_NE(report.find("\r\nSubject: Campaign report: Winter [1]: 3 of 3 sent (100.0%)\r\n"), std::string::npos)
        << report.substr(0, 1000);
    EXPECT_NE(report.find("\r\nContent-Type: multipart/mixed"), std::string::npos);
    EXPECT_NE(report.find("Total recipients:   3"), std::string::npos);
    EXPECT_NE(report.find("No failures."), std::string::npos);
    const auto j = json::parse(ok({"--json", "campaign", "show", "1"}));
    EXPECT_EQ(j["status"], "completed");
    for (int i = 0; i < 3; ++i) EXPECT_EQ(deliveredTo("r" + std::to_string(i) + "@example.org").size(), 1u);
    // Exactly one report: nothing else arrives for the admin.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(deliveredTo("admin@example.org").size(), 1u);
}

// The dashboard's messages per minute (GetDashboard per_minute, issue 16): a campaign sent
// through the maildir transport shows up in `campaignd-ctl dashboard` as the last hour's
// messages and in --json as the per-minute series, counted as the daemon recorded them.
TEST_P(ReportMailTest, TheDashboardCountsTheMessagesSentPerMinute) {
    const json before = json::parse(ok({"--json", "dashboard"}));
    ASSERT_TRUE(before.contains("per_minute")) << before.dump();
    EXPECT_TRUE(before["per_minute"].empty()) << before.dump();
    const std::string empty = ok({"dashboard"});
    EXPECT_TRUE(std::regex_search(empty, std::regex(R"(\nLast hour: +0 messages, 0\.0 a minute)"))) << empty;

    ok({"group", "create", "members"});
    for (int i = 0; i < 4; ++i)
        ok({"recipients", "add", "r" + std::to_string(i) + "@example.org", "--group", "members"});
    ok({"campaign", "create", "--name", "Winter", "--subject", "Winter news", "--html", "<p>Hello {{name}}</p>"});
    ok({"campaign", "attach", "1", "--group", "members"});
    ok({"campaign", "send", "1"});
    ASSERT_TRUE(waitUntil([&] { return json::parse(ok({"--json", "campaign", "show", "1"}))["status"] == "completed"; },
                          60s));

    // The series: every minute with outcomes, oldest first, adding up to what was sent.
    const json after = json::parse(ok({"--json", "dashboard"}));
    ASSERT_FALSE(after["per_minute"].empty()) << after.dump();
    std::uint64_t sent = 0, other = 0;
    std::string previous;
    for (const json& minute : after["per_minute"]) {
        ASSERT_TRUE(minute["minute_at"].is_string()) << minute.dump();
        const std::string at = minute["minute_at"];
        EXPECT_EQ(at.substr(16), ":00Z") << "a minute starts at its first second: " << at;
        EXPECT_LT(previous, at);
        previous = at;
        sent += minute["sent"].get<std::uint64_t>();
        other += minute["failed"].get<std::uint64_t>() + minute["unknown"].get<std::uint64_t>() +
                 minute["deferred"].get<std::uint64_t>();
    }
    EXPECT_EQ(sent, 4u) << after.dump();
    EXPECT_EQ(other, 0u) << after.dump();
    const std::string text = ok({"dashboard"});
    EXPECT_TRUE(std::regex_search(
        text, std::regex(R"(\nLast hour: +4 messages, 0\.1 a minute \(4 sent, 0 failed, 0 unknown; 0 deferred\)\n)")))
        << text;
    EXPECT_TRUE(std::regex_search(text, std::regex(R"(\nLast 24 hours: +4 messages, )"))) << text;
    EXPECT_TRUE(std::regex_search(text, std::regex(R"(\nBusiest minute: +.*, [1-4] messages\n)"))) << text;
}

INSTANTIATE_TEST_SUITE_P(Backends, ReportMailTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Backends, ReportTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace campaignd::test

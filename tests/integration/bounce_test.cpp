// bounce_test.cpp: `campaignd-ctl bounces ingest|list|export` end to end, on SQLite and
// PostgreSQL: the real daemon, messages handed over as descriptors (a file, standard input as a
// Postfix pipe(8) transport gives it). What an administrator sees: --dry-run --json reports
// every message of the project's corpus exactly as the corpus expects and records nothing; a
// real ingestion records once however often the notice comes, suppresses the recipient for
// every later campaign, shows in the list, the CSV report and the campaign summary; non-mail
// input is refused, and --sysexits tells Postfix whether to retry.
#include <gtest/gtest.h>
#include <sysexits.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "backends.h"
#include "daemon_fixture.h"
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

class BounceTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        DaemonConfig config;
        config.database = databaseFor(GetParam(), dir_, "bounces");
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    std::string ok(const std::vector<std::string>& args) { return daemon_->ctlOk(args); }
    json okJson(const std::vector<std::string>& args) { return daemon_->ctlJson(args); }
    // campaignd-ctl ARGS with `input` on standard input, as pipe(8) runs it.
    RunResult piped(const std::vector<std::string>& args, const std::string& input) {
        std::vector<std::string> argv{ctlBinary(), "--user"};
        argv.insert(argv.end(), args.begin(), args.end());
        ProcessOptions options;
        options.env = bus_.clientEnv();
        options.stdinText = input;
        return run(argv, options, 60s);
    }
    void createCampaigns(int upTo) {
        for (int i = 1; i <= upTo; ++i)
            ok({"campaign", "create", "--name", "c" + std::to_string(i), "--subject", "s", "--html", "<p>x</p>"});
    }
    static fs::path corpusDir() { return fs::path(CAMPAIGND_SOURCE_DIR) / "tests/bounce/corpus"; }

    TempDir dir_{"campaignd-bounces"};
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
    // The corpus's Postfix DSN, about campaign 1.
    std::string dsn = readFile(corpusDir() / "postfix-dsn-single.eml");
    dsn = replaceAll(replaceAll(dsn, "X-Campaign-Id: 42", "X-Campaign-Id: 1"), "[CID:42]", "[CID:1]");

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

INSTANTIATE_TEST_SUITE_P(Backends, BounceTest, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

}  // namespace
}  // namespace campaignd::test

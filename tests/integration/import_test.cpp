// import_test.cpp: `campaignd-ctl recipients import` end to end, on SQLite and PostgreSQL: the
// real daemon with the real csv-importer plugin, files handed over as descriptors. What an
// administrator sees: the summary, the rows refused with their line numbers, a whole file
// refused for a structural error with nothing written, an unsubscribed recipient who stays
// unsubscribed, and an import cut off by a killed daemon that leaves nothing behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "backends.h"
#include "daemon_fixture.h"
#include "support/postgres_environment.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

class ImportTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        fs::create_directories(dir_ / "plugins");
        fs::copy_file(CSV_IMPORTER_PLUGIN, dir_ / "plugins" / "csv-importer.so");
        database_ = databaseFor(GetParam(), dir_, "import");
        start();
    }

    void start(const std::string& extra = {}) {
        DaemonConfig config;
        config.database = database_;
        config.extra = extra;
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    std::string ok(const std::vector<std::string>& args) { return daemon_->ctlOk(args); }
    json okJson(const std::vector<std::string>& args) { return daemon_->ctlJson(args); }
    std::string file(const std::string& name, const std::string& text) {
        writeFile(dir_ / name, text);
        return (dir_ / name).string();
    }

    TempDir dir_{"campaignd-import"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::string database_;
    std::unique_ptr<Campaignd> daemon_;
};

TEST_P(ImportTest, ImportsAndAccountsForEveryRow) {
    ok({"group", "create", "newsletter"});
    ok({"recipients", "add", "old@example.org", "--name", "Old Name"});
    ok({"recipients", "add", "gone@example.org", "--name", "Gone"});
    ok({"recipients", "unsubscribe", "gone@example.org"});
    const auto path = file("people.csv",
        "\xEF\xBB\xBF" "Full Name;E-Mail;Groups;subscription_status\r\n"
        "Ada Lovelace;ada@example.org;staff;subscribed\r\n"
        "Grace Hopper;grace@example.org;;\r\n"
        "ADA again;ADA@Example.org;;\r\n"
        "Not valid;not-an-address;;\r\n"
        "Bad status;bad@example.org;;maybe\r\n"
        "New Old;old@example.org;;\r\n"
        "Back again;gone@example.org;;subscribed\r\n"
        "\"Quoted; Name\";quoted@example.org;staff;\r\n");
    const auto s = okJson({"recipients", "import", path, "--group", "newsletter", "--create-groups"});
    EXPECT_EQ(s["state"], "done");
    EXPECT_EQ(s["rows"], 8);
    EXPECT_EQ(s["imported"], 3);  // ada, grace, quoted
    EXPECT_EQ(s["duplicates_in_file"], 1);
    EXPECT_EQ(s["invalid"], 2);
    EXPECT_EQ(s["already_stored"], 2);
    EXPECT_EQ(s["unsubscribed_kept"], 1);
    EXPECT_EQ(s["updated"], 0);
    EXPECT_EQ(s["groups_created"], json({"staff"}));
    ASSERT_EQ(s["errors"].size(), 2u);
    EXPECT_EQ(s["errors"][0]["line"], 5);
    EXPECT_EQ(s["errors"][1]["line"], 6);
    EXPECT_NE(s["errors"][1]["reason"].get<std::string>().find("maybe"), std::string::npos);

    EXPECT_EQ(okJson({"recipients", "show", "gone@example.org"})["status"], "unsubscribed");
    EXPECT_EQ(okJson({"recipients", "show", "old@example.org"})["name"], "Old Name");
    const auto ada = okJson({"recipients", "show", "ada@example.org"});
    EXPECT_EQ(ada["name"], "Ada Lovelace");
    EXPECT_EQ(ada["groups"], json({"newsletter", "staff"}));
    EXPECT_EQ(okJson({"recipients", "show", "quoted@example.org"})["name"], "Quoted; Name");
    EXPECT_EQ(okJson({"recipients", "list"}).size(), 5u);

    // The same file again: nothing new, nobody re-subscribed; with --update names change.
    const auto again = okJson({"recipients", "import", path, "--update"});
    EXPECT_EQ(again["imported"], 0);
    EXPECT_EQ(again["unsubscribed_kept"], 1);
    EXPECT_EQ(okJson({"recipients", "show", "old@example.org"})["name"], "New Old");
    EXPECT_EQ(okJson({"recipients", "show", "gone@example.org"})["status"], "unsubscribed");

    const auto human = ok({"recipients", "import", path});
    EXPECT_NE(human.find("Rows read"), std::string::npos) << human;
    EXPECT_NE(human.find("line 5: "), std::string::npos) << human;
}

TEST_P(ImportTest, GroupsTheFileNamesMustExistUnlessTheImportMayCreateThem) {
    ok({"group", "create", "newsletter"});
    const auto path = file("people.csv",
                           "email,name,groups\n"
                           "a@example.org,A,newsletter\n"
                           "b@example.org,B,newsleter|staff\n"
                           "c@example.org,C,staff\n");
    // Refused, naming each unknown group and its first line, and nothing is written.
    const auto refused = daemon_->ctl({"recipients", "import", path});
    EXPECT_EQ(refused.exitCode, 1) << refused.out << refused.err;
    EXPECT_NE(refused.err.find("2 groups that do not exist: newsleter (line 3), staff (line 3)"), std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find("--create-groups"), std::string::npos) << refused.err;
    EXPECT_EQ(okJson({"recipients", "list"}).size(), 0u);
    EXPECT_EQ(okJson({"group", "list"}).size(), 1u);

    // A dry run lists them, for a person and for a script.
    const auto human = ok({"recipients", "import", path, "--dry-run"});
    EXPECT_NE(human.find("Unknown groups:     newsleter (line 3), staff (line 3)"), std::string::npos) << human;
    EXPECT_NE(human.find("import with --create-groups"), std::string::npos) << human;
    const auto dry = okJson({"recipients", "import", path, "--dry-run"});
    EXPECT_EQ(dry["groups_unknown"], json::parse(R"([{"name":"newsleter","line":3},{"name":"staff","line":3}])"));
    EXPECT_EQ(dry["groups_created"], json::array());
    const auto dryCreating = okJson({"recipients", "import", path, "--dry-run", "--create-groups"});
    EXPECT_EQ(dryCreating["groups_created"], json({"newsleter", "staff"}));
    EXPECT_EQ(dryCreating["groups_unknown"], json::array());
    EXPECT_NE(ok({"recipients", "import", path, "--dry-run", "--create-groups"}).find("Groups to create:"),
              std::string::npos);
    EXPECT_EQ(okJson({"group", "list"}).size(), 1u);

    // With --create-groups they are created.
    const auto s = okJson({"recipients", "import", path, "--create-groups"});
    EXPECT_EQ(s["imported"], 3);
    EXPECT_EQ(s["groups_created"], json({"newsleter", "staff"}));
    EXPECT_EQ(okJson({"recipients", "show", "b@example.org"})["groups"], json({"newsleter", "staff"}));
}

TEST_P(ImportTest, DryRunWritesNothing) {
    const auto path = file("people.csv", "email,name\na@example.org,A\nb@example.org,B\n");
    const auto s = okJson({"recipients", "import", path, "--dry-run"});
    EXPECT_EQ(s["imported"], 2);
    EXPECT_EQ(s["dry_run"], true);
    EXPECT_EQ(okJson({"recipients", "list"}).size(), 0u);
}

TEST_P(ImportTest, StructuralErrorRejectsTheWholeFile) {
    const auto path = file("broken.csv", "email,name\na@example.org,A\nb@example.org,\"B\nc@example.org,C\n");
    const auto r = daemon_->ctl({"recipients", "import", path});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("line 3"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was imported"), std::string::npos) << r.err;
    const auto noEmail = daemon_->ctl({"recipients", "import", file("x.csv", "name,phone\nA,1\n")});
    EXPECT_EQ(noEmail.exitCode, 1);
    EXPECT_NE(noEmail.err.find("email"), std::string::npos) << noEmail.err;
    EXPECT_EQ(okJson({"recipients", "list"}).size(), 0u);
}

TEST_P(ImportTest, UploadChecksOfTheOriginal) {
    const auto wrong = daemon_->ctl({"recipients", "import", file("people.xlsx", "email\na@example.org\n")});
    EXPECT_EQ(wrong.exitCode, 1);
    EXPECT_NE(wrong.err.find(".csv, .tsv and .txt"), std::string::npos) << wrong.err;
    const auto noGroup = daemon_->ctl({"recipients", "import", file("p.csv", "email\na@example.org\n"), "--group", "nosuch"});
    EXPECT_EQ(noGroup.exitCode, 1);
    EXPECT_NE(noGroup.err.find("nosuch"), std::string::npos) << noGroup.err;

    ASSERT_EQ(daemon_->stop(), 0);
    start("[Import]\nMaxFileSize=1K\n");
    std::string big = "email\n";
    for (int i = 0; big.size() < 4096; ++i) big += "user" + std::to_string(i) + "@example.org\n";
    const auto tooBig = daemon_->ctl({"recipients", "import", file("big.csv", big)});
    EXPECT_EQ(tooBig.exitCode, 1);
    EXPECT_NE(tooBig.err.find("the limit is 1024 bytes"), std::string::npos) << tooBig.err;
    EXPECT_EQ(okJson({"recipients", "list"}).size(), 0u);
}

TEST_P(ImportTest, EveryInvalidRowReachesTheErrorsFile) {
    std::string csv = "email,name\n";
    for (int i = 0; i < 150; ++i) csv += "bad" + std::to_string(i) + "@,Bad\n";
    csv += "=HYPERLINK(\"x\")@,Formula\n";
    csv += "good@example.org,Good\n";
    const auto path = file("people.csv", csv);
    const auto errors = (dir_ / "errors.csv").string();
    const auto human = ok({"recipients", "import", path, "--errors-file", errors});
    EXPECT_NE(human.find("(the first 100)"), std::string::npos) << human;
    const auto written = readFile(errors);
    EXPECT_EQ(std::count(written.begin(), written.end(), '\n'), 152) << written.substr(0, 300);
    EXPECT_EQ(written.rfind("line,reason\n", 0), 0u);
    EXPECT_NE(written.find("\n2,"), std::string::npos);
    // A reason quoting a cell that starts with '=' must not become a formula in a spreadsheet.
    EXPECT_EQ(written.find("\n152,="), std::string::npos) << written.substr(written.size() - 200);

    const auto s = okJson({"recipients", "import", path, "--dry-run"});
    EXPECT_EQ(s["invalid"], 151);
    EXPECT_EQ(s["errors"].size(), 151u) << "--json lists every invalid row";
}

// Feeds the import through a pipe and never finishes it, so the daemon is caught mid-import.
class StalledImport {
public:
    StalledImport() {
        ::signal(SIGPIPE, SIG_IGN);
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        read_ = fds[0];
        write_ = fds[1];
        writer_ = std::thread([this] {
            std::string chunk = "email,name\n";
            for (int i = 0; i < 150000 && !stop_; ++i) {
                chunk += "person" + std::to_string(i) + "@example.org,Person " + std::to_string(i) + "\n";
                if (chunk.size() > 65536) {
                    if (::write(write_, chunk.data(), chunk.size()) < 0) return;
                    chunk.clear();
                }
            }
        });
    }
    ~StalledImport() {
        // Closing the read end first makes a writer blocked on a full pipe fail (EPIPE; SIGPIPE
        // is ignored) instead of waiting for a reader that is gone.
        stop_ = true;
        ::close(read_);
        writer_.join();
        ::close(write_);
    }
    int readEnd() const { return read_; }

private:
    int read_ = -1;
    int write_ = -1;
    std::atomic<bool> stop_{false};
    std::thread writer_;
};

std::uint64_t importedRowsSoFar(const Campaignd& daemon) {
    const auto r = daemon.busctl({"--json=short", "call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                  "org.campaignd.Campaignd1.Manager", "GetImport", "t", "1"});
    if (r.exitCode != 0) return 0;
    const auto j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return 0;
    return j["data"][0]["rows"]["data"].get<std::uint64_t>();
}

TEST_P(ImportTest, AnOverlongNameIsAnInvalidRowAsRecipientsAddWouldRefuseIt) {
    const auto path = file("people.csv", "email,name\nlong@example.org," + std::string(100000, 'a') +
                                             "\nok@example.org,  Grace  \n");
    const auto s = okJson({"recipients", "import", path});
    EXPECT_EQ(s["invalid"], 1);
    EXPECT_EQ(s["imported"], 1);
    ASSERT_EQ(s["errors"].size(), 1u);
    EXPECT_EQ(s["errors"][0]["line"], 2);
    EXPECT_NE(s["errors"][0]["reason"].get<std::string>().find("at most 200"), std::string::npos) << s.dump();
    EXPECT_EQ(okJson({"recipients", "show", "ok@example.org"})["name"], "Grace");
}

TEST_P(ImportTest, DaemonKilledMidImportLeavesNothingAndTheClientSaysSo) {
    ok({"recipients", "add", "before@example.org"});
    StalledImport feed;
    ProcessOptions options;
    options.env = bus_.clientEnv();
    options.stdinFd = feed.readEnd();
    Process client({ctlBinary(), "--user", "recipients", "import", "-"}, options);
    ASSERT_TRUE(waitUntil([&] { return importedRowsSoFar(*daemon_) >= 65536; }, std::chrono::seconds(60)))
        << client.err();
    daemon_->process().kill();
    const auto status = client.wait(std::chrono::seconds(30));
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 1);
    EXPECT_NE(client.err().find("nothing of it was written"), std::string::npos) << client.err();

    start();
    const auto list = okJson({"recipients", "list"});
    ASSERT_EQ(list.size(), 1u) << "a half-imported list was left behind";
    EXPECT_EQ(list[0]["email"], "before@example.org");
}

TEST_P(ImportTest, CancelledImportWritesNothing) {
    StalledImport feed;
    ProcessOptions options;
    options.env = bus_.clientEnv();
    options.stdinFd = feed.readEnd();
    Process client({ctlBinary(), "--user", "recipients", "import", "-"}, options);
    ASSERT_TRUE(waitUntil([&] { return importedRowsSoFar(*daemon_) > 0; }, std::chrono::seconds(60)));
    const auto cancel = daemon_->busctl({"call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                         "org.campaignd.Campaignd1.Manager", "CancelImport", "t", "1"});
    EXPECT_EQ(cancel.exitCode, 0) << cancel.err;
    const auto status = client.wait(std::chrono::seconds(30));
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 1);
    EXPECT_NE(client.err().find("cancelled"), std::string::npos) << client.err();
    EXPECT_EQ(okJson({"recipients", "list"}).size(), 0u);
    EXPECT_TRUE(daemon_->running());
}

// An errors file that nobody reads (a FIFO whose reader never reads, full after 64 KiB) holds
// only its own import: the import can be cancelled, the daemon answers and stops meanwhile.
TEST_P(ImportTest, AFullErrorsPipeHoldsNeitherACancelNorTheDaemon) {
    std::string csv = "email,name\n";
    for (int i = 0; i < 20000; ++i) csv += "bad" + std::to_string(i) + "@,Bad\n";  // 20,000 invalid rows
    const auto path = file("bad.csv", csv);
    const auto fifo = dir_ / "errors.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);  // never reads
    ASSERT_GE(reader, 0);
    ProcessOptions options;
    options.env = bus_.clientEnv();
    Process client({ctlBinary(), "--user", "recipients", "import", path, "--errors-file", fifo.string()}, options);
    // The daemon fills the pipe within a moment and then waits for a reader that never comes
    // (20,000 rows take well under a second when their errors are read).
    const auto importRunning = [&](int id) {
        return daemon_->busctl({"call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                "org.campaignd.Campaignd1.Manager", "GetImport", "t", std::to_string(id)})
                   .exitCode == 0;
    };
    ASSERT_TRUE(waitUntil([&] { return importRunning(1); }, std::chrono::seconds(60))) << client.err();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_FALSE(client.exitStatus().has_value()) << "the import ended although its errors were not read: "
                                                  << client.err();
    const auto status = daemon_->busctl({"call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                         "org.campaignd.Campaignd1.Manager", "GetStatus"});
    EXPECT_EQ(status.exitCode, 0) << status.err;
    const auto cancel = daemon_->busctl({"call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                         "org.campaignd.Campaignd1.Manager", "CancelImport", "t", "1"});
    EXPECT_EQ(cancel.exitCode, 0) << cancel.err;
    const auto ended = client.wait(std::chrono::seconds(10));
    ASSERT_TRUE(ended.has_value()) << "the cancel did not reach an import waiting on its errors file";
    EXPECT_EQ(*ended, 1);
    EXPECT_NE(client.err().find("cancelled"), std::string::npos) << client.err();

    // Again, and this time the daemon is stopped while the import waits: it stops at once.
    Process second({ctlBinary(), "--user", "recipients", "import", path, "--errors-file", fifo.string()}, options);
    ASSERT_TRUE(waitUntil([&] { return importRunning(2); }, std::chrono::seconds(60))) << second.err();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_FALSE(second.exitStatus().has_value()) << second.err();
    EXPECT_EQ(daemon_->stop(), 0);
    const std::string log = daemon_->process().err();
    EXPECT_EQ(log.find("not waiting any longer for a job"), std::string::npos)
        << "the import had to be abandoned at the stop instead of seeing it: " << log;
    ::close(reader);
}

INSTANTIATE_TEST_SUITE_P(Backends, ImportTest, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

}  // namespace
}  // namespace campaignd::test

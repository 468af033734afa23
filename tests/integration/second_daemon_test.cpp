// second_daemon_test.cpp: a second campaignd started while one already owns
// org.campaignd.Campaignd1 on the same bus stops at once with exit status 75 and a line naming
// the name, the bus and the owner's pid, before it creates its database (or the tables of an
// empty PostgreSQL one), its state directory or starts a plugin; and the first one goes on
// answering. Two that start together: the one that loses the name stops its plugins and says
// the same.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "backends.h"
#include "daemon_fixture.h"
#include "support/postgres_environment.h"

namespace campaignd::test {
namespace fs = std::filesystem;
namespace {

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

constexpr int kExitNameTaken = 75;

// The second daemon's config: its own database (`database`, or a SQLite file under state/),
// state directory and plugin directory, the latter holding the good test plugin, which appends
// "start good" / "stop good" to DIR/marker (and waits for DIR/gate when `gated`).
fs::path writeSecondConfig(const TempDir& dir, const std::string& database, bool gated = false) {
    fs::create_directories(dir / "plugins");
    fs::copy_file(TEST_PLUGIN_GOOD, dir / "plugins" / "good.so");
    std::string text = "[Daemon]\nDatabase=" + database + "\nPluginDirectory=" + (dir / "plugins").string() +
                       "\nStateDirectory=" + (dir / "state").string() + "\n\n[Plugin good]\nStopMarker=" +
                       (dir / "marker").string() + "\n";
    if (gated) text += "StartGate=" + (dir / "gate").string() + "\n";
    writeFile(dir / "campaignd.conf", text);
    return dir / "campaignd.conf";
}

std::vector<std::string> secondArgv(const PrivateBus& bus, const fs::path& config) {
    std::vector<std::string> argv{campaigndBinary(), "--config", config.string()};
    if (bus.kind() == PrivateBus::Kind::Session) argv.push_back("--user");
    return argv;
}

ProcessOptions secondOptions(const PrivateBus& bus) {
    ProcessOptions options;
    options.env = bus.clientEnv();
    options.unsetEnv = {"NOTIFY_SOCKET", "JOURNAL_STREAM"};
    return options;
}

std::string takenMessage(const char* bus, Campaignd& owner) {
    return std::string("another campaignd already owns org.campaignd.Campaignd1 on the ") + bus + " bus (pid " +
           std::to_string(owner.process().pid()) + ")";
}

class StartupSecondDaemon : public ::testing::TestWithParam<Backend> {};

TEST_P(StartupSecondDaemon, StopsBeforeItTouchesTheDatabaseOrThePlugins) {
    PrivateBus bus(PrivateBus::Kind::Session);
    TempDir firstDir("campaignd-first");
    DaemonConfig config;
    config.database = databaseFor(GetParam(), firstDir, "first");
    Campaignd first(bus, firstDir, config);

    TempDir dir("campaignd-second");
    std::string database = "sqlite:" + (dir / "state" / "campaignd.db").string();
    std::string pgName;
    if (GetParam() == Backend::Postgres) {
        database = PostgresEnvironment::server().createDatabase("second");
        pgName = database.substr(database.rfind('/') + 1);
    }
    const auto started = std::chrono::steady_clock::now();
    const auto r = run(secondArgv(bus, writeSecondConfig(dir, database)), secondOptions(bus), 30s);
    const auto took = std::chrono::steady_clock::now() - started;

    EXPECT_EQ(r.exitCode, kExitNameTaken) << r.err;
    EXPECT_NE(r.err.find(takenMessage("session", first)), std::string::npos) << r.err;
    EXPECT_LT(took, 5s) << r.err;
    EXPECT_FALSE(fs::exists(dir / "state")) << "the database or the state directory was created: " << r.err;
    EXPECT_FALSE(fs::exists(dir / "marker")) << "a plugin was started: " << readFile(dir / "marker");
    if (GetParam() == Backend::Postgres) {
        const auto tables = PostgresEnvironment::server().psql(
            pgName, "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')");
        ASSERT_EQ(tables.exitCode, 0) << tables.err;
        EXPECT_EQ(tables.out, "0\n") << "the second daemon migrated its database";
    }

    EXPECT_TRUE(first.running());
    const auto status = first.ctl({"status"});
    EXPECT_EQ(status.exitCode, 0) << status.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, StartupSecondDaemon, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

// On a system-type bus with the project's policy (default deny): the bus still says who owns
// the name, and to whom.
TEST(StartupSecondDaemonSystemBus, NamesTheOwnersPid) {
    PrivateBus bus(PrivateBus::Kind::System);
    TempDir firstDir("campaignd-first");
    DaemonConfig config;
    config.database = "sqlite:" + (firstDir / "c.db").string();
    Campaignd first(bus, firstDir, config);

    TempDir dir("campaignd-second");
    const auto r = run(secondArgv(bus, writeSecondConfig(dir, "sqlite:" + (dir / "state" / "c.db").string())),
                       secondOptions(bus), 30s);
    EXPECT_EQ(r.exitCode, kExitNameTaken) << r.err;
    EXPECT_NE(r.err.find(takenMessage("system", first)), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "state")) << r.err;
    EXPECT_EQ(first.ctl({"status"}).exitCode, 0);
}

// Two that start together both find the name free; the one that asks for it second has opened
// its database and started its plugins by then, and must stop them and say why.
TEST(StartupSecondDaemonRace, TheLoserStopsItsPluginsAndSaysWhy) {
    PrivateBus bus(PrivateBus::Kind::Session);
    TempDir dir("campaignd-second");
    Process second(secondArgv(bus, writeSecondConfig(dir, "sqlite:" + (dir / "state" / "c.db").string(), true)),
                   secondOptions(bus));
    // Past the name check: the database is open and the plugin waits at its gate.
    ASSERT_TRUE(waitUntil([&] { return fs::exists(dir / "state" / "c.db") || !second.running(); }, 20s));
    ASSERT_TRUE(second.running()) << second.err();

    TempDir firstDir("campaignd-first");
    DaemonConfig config;
    config.database = "sqlite:" + (firstDir / "c.db").string();
    Campaignd first(bus, firstDir, config);
    writeFile(dir / "gate", "");

    const auto status = second.wait(30s);
    ASSERT_TRUE(status.has_value()) << "the loser still runs: " << second.err();
    EXPECT_EQ(*status, kExitNameTaken) << second.err();
    EXPECT_NE(second.err().find(takenMessage("session", first)), std::string::npos) << second.err();
    EXPECT_EQ(readFile(dir / "marker"), "start good\nstop good\n") << "its plugin was not stopped";
    EXPECT_EQ(first.ctl({"status"}).exitCode, 0);
}

}  // namespace
}  // namespace campaignd::test

// startup_test.cpp: how campaignd starts and refuses to start: a bad config stops it with one
// line naming the file, line and key and exit status 78 (which the unit does not restart
// for); a database it cannot open stops it with a clear line; and the shipped systemd units
// pass `systemd-analyze verify`.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "daemon_fixture.h"

namespace campaignd::test {
namespace fs = std::filesystem;
namespace {

RunResult startWith(const TempDir& dir, const std::string& config) {
    writeFile(dir / "campaignd.conf", config);
    ProcessOptions options;
    options.unsetEnv = {"NOTIFY_SOCKET", "JOURNAL_STREAM"};
    // A session bus that does not exist: start-up must fail before it matters.
    options.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + (dir / "no-bus").string();
    return run({campaigndBinary(), "--user", "--config", (dir / "campaignd.conf").string()}, options);
}

TEST(Startup, BadConfigNamesFileLineAndKey) {
    TempDir dir("campaignd-start");
    const auto r = startWith(dir, "[Daemon]\n# comment\nDatabase=mysql://db/campaignd\n");
    EXPECT_EQ(r.exitCode, 78);
    const auto expected = (dir / "campaignd.conf").string() + ":3: Database=:";
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line, not a dump: " << r.err;
}

TEST(Startup, UnknownKeyIsRefused) {
    TempDir dir("campaignd-start");
    const auto r = startWith(dir, "[Daemon]\nDatabse=sqlite:/tmp/x.db\n");
    EXPECT_EQ(r.exitCode, 78);
    EXPECT_NE(r.err.find(":2: Databse=: unknown key in [Daemon]"), std::string::npos) << r.err;
}

TEST(Startup, MissingExplicitConfigIsRefused) {
    TempDir dir("campaignd-start");
    const auto r = run({campaigndBinary(), "--user", "--config", (dir / "absent.conf").string()});
    EXPECT_EQ(r.exitCode, 78);
    EXPECT_NE(r.err.find("absent.conf: no such file"), std::string::npos) << r.err;
}

TEST(Startup, UnreachableDatabaseIsAClearError) {
    TempDir dir("campaignd-start");
    const auto r = startWith(dir, "[Daemon]\nDatabase=postgresql://campaignd@127.0.0.1:1/none?connect_timeout=2\n");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("cannot open the database"), std::string::npos) << r.err;
}

TEST(Startup, WhatTheDaemonCreatesIsNotReadableByOthers) {
    TempDir dir("campaignd-start");
    // The daemon sets its own umask (027): what a permissive caller's umask would let others
    // read (the database holds every recipient's address) is closed to them all the same.
    const mode_t callers = ::umask(022);
    const auto r = startWith(dir, "[Daemon]\nDatabase=sqlite:" + (dir / "state/campaignd.db").string() + "\n");
    ::umask(callers);
    EXPECT_EQ(r.exitCode, 1) << "no bus to serve on: " << r.err;
    for (const auto& path : {dir / "state", dir / "state/campaignd.db"}) {
        struct stat st {};
        ASSERT_EQ(::stat(path.c_str(), &st), 0) << path << " was not created: " << r.err;
        EXPECT_EQ(st.st_mode & 07, 0u) << path << " mode " << std::oct << (st.st_mode & 0777);
    }
}

// How many lines of the daemon's stderr are errors (the plugins' start and stop are info).
long errorLines(const std::string& err) {
    long n = 0;
    for (std::size_t at = err.find("error: "); at != std::string::npos; at = err.find("error: ", at + 1)) ++n;
    return n;
}

// A config with its own database and plugin directory, holding the given test plugins.
std::string withPlugins(const TempDir& dir, const std::vector<std::pair<const char*, std::string>>& plugins,
                        const std::string& rest) {
    fs::create_directories(dir / "plugins");
    for (const auto& [built, file] : plugins) fs::copy_file(built, dir / "plugins" / file);
    return "[Daemon]\nDatabase=sqlite:" + (dir / "c.db").string() + "\nPluginDirectory=" + (dir / "plugins").string() +
           "\n\n" + rest;
}

TEST(Startup, ANamedPluginThatIsNotThereIsABadConfig) {
    TempDir dir("campaignd-start");
    const auto r = startWith(dir, withPlugins(dir, {}, "[Import]\nPlugin=csv-importer\n"));
    EXPECT_EQ(r.exitCode, 78);
    const auto expected = (dir / "campaignd.conf").string() + ":6: [Import] Plugin=csv-importer: no running plugin "
                                                             "\"csv-importer\" in " + (dir / "plugins").string();
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_EQ(errorLines(r.err), 1) << "one error line, not a dump: " << r.err;
}

TEST(Startup, ANamedPluginWithoutTheCapabilityIsABadConfig) {
    TempDir dir("campaignd-start");
    const auto r = startWith(dir, withPlugins(dir, {{TEST_PLUGIN_BOUNCE_B, "bounce-b.so"}},
                                              "[Reports]\nPlugin=bounce-b\n"));
    EXPECT_EQ(r.exitCode, 78);
    EXPECT_NE(r.err.find(":6: [Reports] Plugin=bounce-b: the plugin \"bounce-b\" is not a reporter"), std::string::npos)
        << r.err;
}

TEST(Startup, TwoBounceSourcesAndNoneNamedIsABadConfigNamingBoth) {
    TempDir dir("campaignd-start");
    const std::vector<std::pair<const char*, std::string>> two{{TEST_PLUGIN_BOUNCE_A, "bounce-a.so"},
                                                               {TEST_PLUGIN_BOUNCE_B, "bounce-b.so"}};
    const auto r = startWith(dir, withPlugins(dir, two, ""));
    EXPECT_EQ(r.exitCode, 78);
    EXPECT_NE(r.err.find("[Bounces] Plugin= is not set: more than one running plugin is a bounce source "
                         "(\"bounce-a\", \"bounce-b\")"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(errorLines(r.err), 1) << "one error line, not a dump: " << r.err;

    // Named, the choice is made and start-up goes on (to the bus, which this test has none of).
    TempDir named("campaignd-start");
    const auto ok = startWith(named, withPlugins(named, two, "[Bounces]\nPlugin=bounce-b\n"));
    EXPECT_EQ(ok.exitCode, 1) << ok.err;
    EXPECT_EQ(ok.err.find("bad configuration"), std::string::npos) << ok.err;
    EXPECT_NE(ok.err.find("bus"), std::string::npos) << ok.err;
}

// A command's --help ends with its own examples, not the top-level ones it would inherit.
TEST(CtlHelp, EveryCommandsHelpIsItsOwn) {
    const std::vector<std::vector<std::string>> commands{
        {"status"}, {"dashboard"}, {"campaign"}, {"campaign", "create"}, {"campaign", "send"},
        {"run-scheduled"}, {"recipients"}, {"recipients", "import"}, {"group"}, {"group", "delete"},
        {"bounces"}, {"bounces", "ingest"}, {"bounces", "fetch"}, {"bounces", "list"}, {"bounces", "export"}};
    for (auto command : commands) {
        command.insert(command.begin(), ctlBinary());
        command.push_back("--help");
        const auto r = run(command);
        EXPECT_EQ(r.exitCode, 0) << command[1] << ": " << r.err;
        EXPECT_EQ(r.out.find("campaignd-ctl campaign list --status scheduled"), std::string::npos)
            << command[1] << (command.size() > 3 ? " " + command[2] : "") << " shows the top-level examples:\n" << r.out;
    }
}

TEST(Startup, UsageErrorExitsTwo) {
    const auto r = run({campaigndBinary(), "--no-such-option"});
    EXPECT_EQ(r.exitCode, 2);
    const auto help = run({campaigndBinary(), "--help"});
    EXPECT_EQ(help.exitCode, 0);
    EXPECT_NE(help.out.find("--config"), std::string::npos);
}

TEST(Units, PassSystemdAnalyzeVerify) {
    TempDir dir("campaignd-units");
    // The unit as built names the installed binary; point it at the built one so that
    // verify's check that ExecStart exists holds on a machine where nothing is installed.
    std::string unit = readFile(std::string(CAMPAIGND_BUILD_DIR) + "/systemd/campaignd.service");
    const auto exec = unit.find("ExecStart=");
    ASSERT_NE(exec, std::string::npos);
    const auto end = unit.find('\n', exec);
    unit.replace(exec, end - exec, "ExecStart=" + campaigndBinary());
    writeFile(dir / "campaignd.service", unit);
    const auto r = run({"systemd-analyze", "verify", (dir / "campaignd.service").string()});
    EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
    EXPECT_EQ(r.err.find("campaignd.service:"), std::string::npos) << r.err;
}

TEST(Units, SchedulerServiceAndTimerPassSystemdAnalyzeVerify) {
    TempDir dir("campaignd-units");
    std::string unit = readFile(std::string(CAMPAIGND_BUILD_DIR) + "/systemd/campaignd-scheduler.service");
    const auto exec = unit.find("ExecStart=");
    ASSERT_NE(exec, std::string::npos);
    const auto end = unit.find(' ', exec);  // "ExecStart=/usr/bin/campaignd-ctl run-scheduled"
    unit.replace(exec, end - exec, "ExecStart=" + ctlBinary());
    EXPECT_NE(unit.find("run-scheduled"), std::string::npos);
    writeFile(dir / "campaignd-scheduler.service", unit);
    writeFile(dir / "campaignd-scheduler.timer",
              readFile(std::string(CAMPAIGND_BUILD_DIR) + "/systemd/campaignd-scheduler.timer"));
    const auto r = run({"systemd-analyze", "verify", (dir / "campaignd-scheduler.timer").string(),
                        (dir / "campaignd-scheduler.service").string()});
    EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
    EXPECT_EQ(r.err.find("campaignd-scheduler."), std::string::npos) << r.err;
    const auto timer = readFile(dir / "campaignd-scheduler.timer");
    EXPECT_NE(timer.find("OnCalendar=*-*-* *:*:00"), std::string::npos);  // every minute
}

TEST(Units, BounceTimerAndServicePassSystemdAnalyzeVerify) {
    TempDir dir("campaignd-units");
    std::string unit = readFile(std::string(CAMPAIGND_BUILD_DIR) + "/systemd/campaignd-bounces.service");
    const auto exec = unit.find("ExecStart=");
    ASSERT_NE(exec, std::string::npos);
    EXPECT_NE(unit.find("campaignd-ctl bounces fetch", exec), std::string::npos);
    EXPECT_NE(unit.find("Type=oneshot"), std::string::npos);
    const auto end = unit.find('\n', exec);
    unit.replace(exec, end - exec, "ExecStart=" + ctlBinary() + " bounces fetch");
    writeFile(dir / "campaignd-bounces.service", unit);
    const std::string timer = readFile(std::string(CAMPAIGND_BUILD_DIR) + "/systemd/campaignd-bounces.timer");
    EXPECT_NE(timer.find("OnUnitActiveSec=5min"), std::string::npos);
    writeFile(dir / "campaignd-bounces.timer", timer);
    // The service Requires= campaignd.service: give verify that one too.
    std::string daemon = readFile(std::string(CAMPAIGND_BUILD_DIR) + "/systemd/campaignd.service");
    const auto dexec = daemon.find("ExecStart=");
    daemon.replace(dexec, daemon.find('\n', dexec) - dexec, "ExecStart=" + campaigndBinary());
    writeFile(dir / "campaignd.service", daemon);
    const auto r = run({"systemd-analyze", "verify", (dir / "campaignd-bounces.timer").string(),
                        (dir / "campaignd-bounces.service").string()});
    EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
    EXPECT_EQ(r.err.find("campaignd-bounces."), std::string::npos) << r.err;
}

TEST(Units, ActivationFileNamesTheUnit) {
    const auto file = readFile(std::string(CAMPAIGND_BUILD_DIR) + "/systemd/org.campaignd.Campaignd1.service");
    EXPECT_NE(file.find("Name=org.campaignd.Campaignd1"), std::string::npos);
    EXPECT_NE(file.find("SystemdService=dbus-org.campaignd.Campaignd1.service"), std::string::npos);
    const auto unit = readFile(std::string(CAMPAIGND_BUILD_DIR) + "/systemd/campaignd.service");
    EXPECT_NE(unit.find("Alias=dbus-org.campaignd.Campaignd1.service"), std::string::npos);
}

}  // namespace
}  // namespace campaignd::test

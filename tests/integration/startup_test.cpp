// startup_test.cpp: how campaignd starts and refuses to start: a bad config stops it with one
// line naming the file, line and key and exit status 78 (which the unit does not restart
// for); a database it cannot open stops it with a clear line; `campaignd --check-config` finds
// every one of those problems the same way, without starting or changing anything (with
// --connect, also a transport that cannot reach its server or log in now); and the
// shipped systemd units pass `systemd-analyze verify`.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "daemon_fixture.h"
#include "support/network.h"
#include "support/postfix_server.h"

namespace campaignd::test {
namespace fs = std::filesystem;
namespace {

// What start-up did with a config, and what `campaignd --check-config` said of the same file
// (run first, so that it sees what start-up sees: start-up creates the database).
struct Started : RunResult {
    RunResult check;
};

ProcessOptions withoutABus(const TempDir& dir) {
    ProcessOptions options;
    options.unsetEnv = {"NOTIFY_SOCKET", "JOURNAL_STREAM"};
    // A session bus that does not exist: start-up must fail before it matters.
    options.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + (dir / "no-bus").string();
    return options;
}

RunResult checkConfig(const TempDir& dir) {
    return run({campaigndBinary(), "--user", "--check-config", "--config", (dir / "campaignd.conf").string()},
               withoutABus(dir));
}

Started startWith(const TempDir& dir, const std::string& config) {
    writeFile(dir / "campaignd.conf", config);
    Started started;
    started.check = checkConfig(dir);
    static_cast<RunResult&>(started) =
        run({campaigndBinary(), "--user", "--config", (dir / "campaignd.conf").string()}, withoutABus(dir));
    return started;
}

// --check-config found `expected` (one problem, the same line start-up logs) and exited 78.
void expectCheckFinds(const Started& r, const std::string& expected) {
    EXPECT_EQ(r.check.exitCode, 78) << r.check.err;
    EXPECT_NE(r.check.err.find(expected), std::string::npos) << "expected: " << expected << "\n" << r.check.err;
    EXPECT_EQ(r.check.out, "") << "nothing on stdout when there is a problem";
}

TEST(Startup, BadConfigNamesFileLineAndKey) {
    TempDir dir("campaignd-start");
    const auto r = startWith(dir, "[Daemon]\n# comment\nDatabase=mysql://db/campaignd\n");
    EXPECT_EQ(r.exitCode, 78);
    const auto expected = (dir / "campaignd.conf").string() + ":3: Database=:";
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line, not a dump: " << r.err;
    expectCheckFinds(r, expected);
    EXPECT_EQ(std::count(r.check.err.begin(), r.check.err.end(), '\n'), 1) << r.check.err;
}

TEST(Startup, UnknownKeyIsRefused) {
    TempDir dir("campaignd-start");
    const auto r = startWith(dir, "[Daemon]\nDatabse=sqlite:/tmp/x.db\n");
    EXPECT_EQ(r.exitCode, 78);
    EXPECT_NE(r.err.find(":2: Databse=: unknown key in [Daemon]"), std::string::npos) << r.err;
    expectCheckFinds(r, ":2: Databse=: unknown key in [Daemon]");
}

TEST(Startup, MissingExplicitConfigIsRefused) {
    TempDir dir("campaignd-start");
    const auto r = run({campaigndBinary(), "--user", "--config", (dir / "absent.conf").string()});
    EXPECT_EQ(r.exitCode, 78);
    EXPECT_NE(r.err.find("absent.conf: no such file"), std::string::npos) << r.err;
    const auto check = run({campaigndBinary(), "--user", "--check-config", "--config", (dir / "absent.conf").string()});
    EXPECT_EQ(check.exitCode, 78);
    EXPECT_NE(check.err.find("absent.conf: no such file"), std::string::npos) << check.err;
}

TEST(Startup, UnreachableDatabaseIsAClearError) {
    TempDir dir("campaignd-start");
    const auto r = startWith(dir, "[Daemon]\nDatabase=postgresql://campaignd@127.0.0.1:1/none?connect_timeout=2\n");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("cannot open the database"), std::string::npos) << r.err;
    expectCheckFinds(r, "cannot open the database: database: ");
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
    expectCheckFinds(r, expected);
}

TEST(Startup, ANamedPluginWithoutTheCapabilityIsABadConfig) {
    TempDir dir("campaignd-start");
    const auto r = startWith(dir, withPlugins(dir, {{TEST_PLUGIN_BOUNCE_B, "bounce-b.so"}},
                                              "[Reports]\nPlugin=bounce-b\n"));
    EXPECT_EQ(r.exitCode, 78);
    EXPECT_NE(r.err.find(":6: [Reports] Plugin=bounce-b: the plugin \"bounce-b\" is not a reporter"), std::string::npos)
        << r.err;
    expectCheckFinds(r, ":6: [Reports] Plugin=bounce-b: the plugin \"bounce-b\" is not a reporter");
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
    expectCheckFinds(r, "[Bounces] Plugin= is not set: more than one running plugin is a bounce source");

    // Named, the choice is made and start-up goes on (to the bus, which this test has none of).
    TempDir named("campaignd-start");
    const auto ok = startWith(named, withPlugins(named, two, "[Bounces]\nPlugin=bounce-b\n"));
    EXPECT_EQ(ok.exitCode, 1) << ok.err;
    EXPECT_EQ(ok.err.find("bad configuration"), std::string::npos) << ok.err;
    EXPECT_NE(ok.err.find("bus"), std::string::npos) << ok.err;
    EXPECT_EQ(ok.check.exitCode, 0) << ok.check.err;
}

// ---- Each plugin checks its section at start-up (ABI 1.4 validate) --------------------------

// "FILE:LINE: " of the test's config, as a bad setting's line begins.
std::string at(const TempDir& dir, int line) {
    return (dir / "campaignd.conf").string() + ":" + std::to_string(line) + ": ";
}

// Starts the daemon with one shipped plugin and `rest` from line 5 of the config on.
Started startWithPlugin(const TempDir& dir, const char* built, const std::string& file, const std::string& rest) {
    return startWith(dir, withPlugins(dir, {{built, file}}, rest));
}

// Exit 78 with exactly one error line, which holds `expected`; --check-config says the same.
void expectBadConfig(const Started& r, const std::string& expected) {
    EXPECT_EQ(r.exitCode, 78) << r.err;
    EXPECT_NE(r.err.find("bad configuration: " + expected), std::string::npos) << "expected: " << expected << "\n"
                                                                                << r.err;
    EXPECT_EQ(errorLines(r.err), 1) << "one error line, not a dump: " << r.err;
    expectCheckFinds(r, "bad configuration: " + expected);
    EXPECT_EQ(errorLines(r.check.err), 1) << r.check.err;
}

// Start-up went past the config and the plugins, to the bus (which these tests have none of);
// --check-config passed it.
void expectGoodConfig(const Started& r) {
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_EQ(r.err.find("bad configuration"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("bus"), std::string::npos) << r.err;
    EXPECT_EQ(r.check.exitCode, 0) << r.check.err;
    EXPECT_NE(r.check.out.find("the configuration is valid"), std::string::npos) << r.check.out;
}

TEST(Startup, ABadSmtpUrlIsABadConfigNamingItsLine) {
    TempDir dir("campaignd-start");
    const auto r = startWithPlugin(dir, SMTP_PLUGIN, "smtp.so",
                                   "[Transport relay]\nPlugin=smtp\nURL=htp:/mail example.org:25\nConnections=2\n");
    expectBadConfig(r, at(dir, 7) + "[Transport relay] URL=: plugin smtp: URL=htp:/mail example.org:25 is not "
                                    "smtp://HOST[:PORT] or smtps://HOST[:PORT]");
}

// A misspelt key of a transport used to be passed to the plugin and ignored: the relay then
// ran without the login or the TLS the administrator asked for.
TEST(Startup, AMisspeltTransportKeyIsABadConfigNamingItsLine) {
    TempDir dir("campaignd-start");
    const auto r = startWithPlugin(dir, SMTP_PLUGIN, "smtp.so",
                                   "[Transport relay]\nPlugin=smtp\nURL=smtp://mail.example.org:587\nConnections=2\n"
                                   "StartTSL=required\n");
    expectBadConfig(r, at(dir, 9) + "[Transport relay] StartTSL=: plugin smtp: StartTSL= is not a setting of the smtp "
                                    "plugin (URL, StartTLS,");
}

TEST(Startup, BadSmtpValuesAreABadConfigNamingTheirLines) {
    const std::string relay = "[Transport relay]\nPlugin=smtp\nURL=smtp://mail.example.org:587\n";
    {
        TempDir dir("campaignd-start");
        expectBadConfig(startWithPlugin(dir, SMTP_PLUGIN, "smtp.so", relay + "StartTLS=sometimes\n"),
                        at(dir, 8) + "[Transport relay] StartTLS=: plugin smtp: StartTLS=sometimes is not required, "
                                     "opportunistic or no");
    }
    {
        TempDir dir("campaignd-start");
        expectBadConfig(startWithPlugin(dir, SMTP_PLUGIN, "smtp.so", relay + "Timeout=soon\nHeloName=news.example.org\n"),
                        at(dir, 8) + "[Transport relay] Timeout=: plugin smtp: Timeout=soon is not a number of seconds");
    }
    {
        // A required key that is not there: the section's Plugin= line.
        TempDir dir("campaignd-start");
        expectBadConfig(startWithPlugin(dir, SMTP_PLUGIN, "smtp.so", "[Transport relay]\nPlugin=smtp\nStartTLS=required\n"),
                        at(dir, 6) + "[Transport relay] Plugin=smtp: plugin smtp: URL= is missing");
    }
    {
        // The password file is checked as the first session would (not readable by others),
        // and its contents are in no message.
        TempDir dir("campaignd-start");
        writeFile(dir / "relay.password", "s3cret-not-for-logs\n", fs::perms(0644));
        fs::permissions(dir / "relay.password", fs::perms(0644));
        const auto r = startWithPlugin(dir, SMTP_PLUGIN, "smtp.so",
                                       relay + "Username=campaignd\nPasswordFile=" + (dir / "relay.password").string() + "\n");
        expectBadConfig(r, at(dir, 9) + "[Transport relay] PasswordFile=: plugin smtp: PasswordFile=: " +
                               (dir / "relay.password").string() + " can be read or written by others");
        EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << r.err;
    }
}

TEST(Startup, AGoodSmtpTransportStartsWithoutConnecting) {
    TempDir dir("campaignd-start");
    writeFile(dir / "relay.password", "s3cret\n", fs::perms(0600));
    // Port 1 on loopback: nothing listens there, and start-up does not try.
    expectGoodConfig(startWithPlugin(dir, SMTP_PLUGIN, "smtp.so",
                                     "[Transport relay]\nPlugin=smtp\nURL=smtp://127.0.0.1:1\nStartTLS=no\n"
                                     "Username=campaignd\nPasswordFile=" + (dir / "relay.password").string() +
                                     "\nConnections=4\n"));
}

TEST(Startup, BadMaildirSettingsAreABadConfigNamingTheirLines) {
    {
        TempDir dir("campaignd-start");
        expectBadConfig(startWithPlugin(dir, MAILDIR_PLUGIN, "maildir.so", "[Transport local]\nPlugin=maildir\nPath=outbox\n"),
                        at(dir, 7) + "[Transport local] Path=: plugin maildir: Path= must be an absolute path, not 'outbox'");
    }
    {
        TempDir dir("campaignd-start");
        expectBadConfig(startWithPlugin(dir, MAILDIR_PLUGIN, "maildir.so",
                                        "[Transport local]\nPlugin=maildir\nPath=" + (dir / "outbox").string() +
                                            "\nFsync=sometimes\n"),
                        at(dir, 8) + "[Transport local] Fsync=: plugin maildir: Fsync= must be yes or no, not 'sometimes'");
        EXPECT_FALSE(fs::exists(dir / "outbox")) << "a check creates nothing";
    }
    {
        TempDir dir("campaignd-start");
        expectBadConfig(startWithPlugin(dir, MAILDIR_PLUGIN, "maildir.so", "[Transport local]\nPlugin=maildir\nFsync=no\n"),
                        at(dir, 6) + "[Transport local] Plugin=maildir: plugin maildir: Path= is required");
    }
}

TEST(Startup, AWellFormedMaildirThatCannotBeWrittenIsNoConfigError) {
    // Under a regular file: the environment, which the first session reports (and the campaign
    // pauses with the reason); start-up neither refuses it nor creates anything.
    TempDir dir("campaignd-start");
    writeFile(dir / "blocked", "not a directory");
    expectGoodConfig(startWithPlugin(dir, MAILDIR_PLUGIN, "maildir.so",
                                     "[Transport local]\nPlugin=maildir\nPath=" + (dir / "blocked" / "maildir").string() +
                                         "\n\n[Transport spare]\nPlugin=maildir\nPath=" + (dir / "spare").string() + "\n"));
    EXPECT_FALSE(fs::exists(dir / "spare")) << "a check creates nothing";
}

// The [Bounces] section of the imap-bounce plugin, from line 5; `password` is the file's path.
std::string bounces(const std::string& url, const fs::path& password, const std::string& more = {}) {
    return "[Bounces]\nURL=" + url + "\nUsername=bounces@example.org\nPasswordFile=" + password.string() + "\n" + more;
}

TEST(Startup, ABadBounceSourceSettingIsABadConfigNamingItsLine) {
    {
        TempDir dir("campaignd-start");
        writeFile(dir / "pw", "s3cret-not-for-logs\n", fs::perms(0600));
        const auto r = startWithPlugin(dir, IMAP_BOUNCE_PLUGIN, "imap-bounce.so",
                                       bounces("imaps://mail example.org/INBOX", dir / "pw"));
        expectBadConfig(r, at(dir, 6) + "[Bounces] URL=: plugin imap-bounce: URL=imaps://mail example.org/INBOX is "
                                        "not a URL");
    }
    {
        TempDir dir("campaignd-start");
        writeFile(dir / "pw", "s3cret-not-for-logs\n", fs::perms(0600));
        expectBadConfig(startWithPlugin(dir, IMAP_BOUNCE_PLUGIN, "imap-bounce.so",
                                        bounces("imaps://mail.example.org/INBOX", dir / "pw",
                                                "AfterProcessing=move:Trait\xc3\xa9\n")),
                        at(dir, 9) + "[Bounces] AfterProcessing=: plugin imap-bounce: AfterProcessing=move:Trait");
    }
    {
        TempDir dir("campaignd-start");
        writeFile(dir / "pw", "s3cret-not-for-logs\n", fs::perms(0644));
        fs::permissions(dir / "pw", fs::perms(0644));
        const auto r = startWithPlugin(dir, IMAP_BOUNCE_PLUGIN, "imap-bounce.so",
                                       bounces("imaps://mail.example.org/INBOX", dir / "pw"));
        expectBadConfig(r, at(dir, 8) + "[Bounces] PasswordFile=: plugin imap-bounce: PasswordFile=: " +
                               (dir / "pw").string() + " must be a regular file of at most 4 KiB that others cannot");
        EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << r.err;
    }
    {
        // A required key that is not there: Plugin= when it is set, else the section's first key.
        TempDir dir("campaignd-start");
        writeFile(dir / "pw", "s3cret\n", fs::perms(0600));
        expectBadConfig(startWithPlugin(dir, IMAP_BOUNCE_PLUGIN, "imap-bounce.so",
                                        "[Bounces]\nPlugin=imap-bounce\nURL=imaps://mail.example.org/INBOX\nPasswordFile=" +
                                            (dir / "pw").string() + "\n"),
                        at(dir, 6) + "[Bounces] Plugin=imap-bounce: plugin imap-bounce: Username= is not set");
        TempDir unnamed("campaignd-start");
        expectBadConfig(startWithPlugin(unnamed, IMAP_BOUNCE_PLUGIN, "imap-bounce.so",
                                        "[Bounces]\nSoftBounceLimit=2\nURL=imaps://mail.example.org/INBOX\nPasswordFile=" +
                                            (dir / "pw").string() + "\n"),
                        at(unnamed, 7) + "[Bounces]: plugin imap-bounce: Username= is not set");
    }
}

TEST(Startup, AGoodOrUnusedBounceSourceStartsWithoutConnecting) {
    TempDir dir("campaignd-start");
    writeFile(dir / "pw", "s3cret\n", fs::perms(0600));
    // Port 1 on loopback: nothing listens there, and start-up does not try.
    expectGoodConfig(startWithPlugin(dir, IMAP_BOUNCE_PLUGIN, "imap-bounce.so",
                                     bounces("imap://127.0.0.1:1/INBOX", dir / "pw", "AfterProcessing=move:Done\n")));
    // Installed (as a fresh install has it) but not configured: nothing to check.
    TempDir unused("campaignd-start");
    expectGoodConfig(startWithPlugin(unused, IMAP_BOUNCE_PLUGIN, "imap-bounce.so", "[Bounces]\nSoftBounceLimit=3\n"));
}

// ---- campaignd --check-config ------------------------------------------------------------

TEST(CheckConfig, AGoodConfigIsSaidWhatWasCheckedAndNothingIsCreated) {
    TempDir dir("campaignd-check");
    writeFile(dir / "campaignd.conf", withPlugins(dir, {{MAILDIR_PLUGIN, "maildir.so"}},
                                                  "[Transport local]\nPlugin=maildir\nPath=" +
                                                      (dir / "outbox").string() + "\n"));
    // The database in a directory that does not exist yet: start-up would create both.
    writeFile(dir / "campaignd.conf", "[Daemon]\nDatabase=sqlite:" + (dir / "state/campaignd.db").string() +
                                          "\nPluginDirectory=" + (dir / "plugins").string() +
                                          "\n[Transport local]\nPlugin=maildir\nPath=" + (dir / "outbox").string() + "\n");
    const auto r = checkConfig(dir);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("database: sqlite " + (dir / "state/campaignd.db").string() + ", not created yet"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("plugins: maildir"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("transports: local (maildir)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("the configuration is valid"), std::string::npos) << r.out;
    EXPECT_EQ(r.err, "") << "no plugin chatter";
    EXPECT_FALSE(fs::exists(dir / "state"));
    EXPECT_FALSE(fs::exists(dir / "outbox"));
}

TEST(CheckConfig, EveryProblemIsReportedNotOnlyTheFirst) {
    TempDir dir("campaignd-check");
    writeFile(dir / "blocked", "a file, not a directory");
    writeFile(dir / "campaignd.conf",
              withPlugins(dir, {{SMTP_PLUGIN, "smtp.so"}},
                          "[Transport relay]\nPlugin=smtp\nURL=htp:/mail example.org:25\n\n[Import]\nPlugin=csv-importer\n"));
    // withPlugins put the database in dir; move it under a file, where it cannot be created.
    std::string config = readFile(dir / "campaignd.conf");
    config.replace(config.find("sqlite:") + 7, (dir / "c.db").string().size(), (dir / "blocked/c.db").string());
    writeFile(dir / "campaignd.conf", config);
    const auto r = checkConfig(dir);
    EXPECT_EQ(r.exitCode, 78);
    EXPECT_NE(r.err.find("cannot open the database: database: cannot create " + (dir / "blocked/c.db").string()),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(at(dir, 7) + "[Transport relay] URL=: plugin smtp: URL=htp:/mail example.org:25"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(at(dir, 10) + "[Import] Plugin=csv-importer: no running plugin"), std::string::npos) << r.err;
    EXPECT_EQ(errorLines(r.err), 3) << r.err;
}

TEST(CheckConfig, AFileThatIsNotACampaigndDatabaseIsAProblem) {
    TempDir dir("campaignd-check");
    writeFile(dir / "c.db", std::string(4096, 'x'));
    writeFile(dir / "campaignd.conf", withPlugins(dir, {}, ""));
    const auto r = checkConfig(dir);
    EXPECT_EQ(r.exitCode, 78);
    EXPECT_NE(r.err.find("cannot open the database: database: " + (dir / "c.db").string() + ": file is not a database"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(readFile(dir / "c.db"), std::string(4096, 'x')) << "left as it was";
}

TEST(CheckConfig, ADatabaseNewerThanThisCampaigndIsAProblemAndIsNotTouched) {
    TempDir dir("campaignd-check");
    writeFile(dir / "campaignd.conf", withPlugins(dir, {}, ""));
    // A database the daemon made, then marked as from a later campaignd.
    auto started = run({campaigndBinary(), "--user", "--config", (dir / "campaignd.conf").string()}, withoutABus(dir));
    ASSERT_TRUE(fs::exists(dir / "c.db")) << started.err;
    ASSERT_EQ(run({"/usr/bin/python3", "-c",
                   "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute(\"INSERT INTO schema_version "
                   "VALUES (99, 'from the future', 0)\"); db.commit()",
                   (dir / "c.db").string()})
                  .exitCode,
              0);
    const auto before = fs::last_write_time(dir / "c.db");
    const auto r = checkConfig(dir);
    EXPECT_EQ(r.exitCode, 78);
    EXPECT_NE(r.err.find("has schema version 99, newer than this campaignd understands"), std::string::npos) << r.err;
    EXPECT_EQ(fs::last_write_time(dir / "c.db"), before);
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
    // The unit as built names the installed binary (ExecStart=, and ExecStartPre='s
    // --check-config); point both at the built one so that verify's check that the commands
    // exist holds on a machine where nothing is installed.
    std::string unit = readFile(std::string(CAMPAIGND_BUILD_DIR) + "/systemd/campaignd.service");
    const auto exec = unit.find("\nExecStart=");
    ASSERT_NE(exec, std::string::npos);
    const auto end = unit.find('\n', exec + 1);
    const std::string installed = unit.substr(exec + 11, end - exec - 11);
    for (auto at = unit.find(installed); at != std::string::npos; at = unit.find(installed, at + 1))
        unit.replace(at, installed.size(), campaigndBinary());
    EXPECT_NE(unit.find("ExecStartPre=" + campaigndBinary() + " --check-config\n"), std::string::npos) << unit;
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

// ---- DKIM keys ([DKIM DOMAIN]) are read and checked before anything starts -------------------

TEST(Startup, ADkimKeyThatCannotBeLoadedStopsStartUpNamingItsLine) {
    TempDir dir("campaignd-start");
    const std::string db = "[Daemon]\nDatabase=sqlite:" + (dir / "c.db").string() + "\n";  // lines 1-2
    // Not a key at all.
    writeFile(dir / "garbage.key", "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n",
              fs::perms::owner_read | fs::perms::owner_write);
    expectBadConfig(startWith(dir, db + "[DKIM example.org]\nSelector=mail\nKeyFile=" + (dir / "garbage.key").string() + "\n"),
                    at(dir, 5) + "[DKIM example.org] KeyFile=: not a private key in PEM form");
    // A weak RSA key.
    ASSERT_EQ(run({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out",
                   (dir / "weak.key").string()})
                  .exitCode,
              0);
    fs::permissions(dir / "weak.key", fs::perms::owner_read | fs::perms::owner_write);
    expectBadConfig(startWith(dir, db + "[DKIM example.org]\nSelector=mail\nKeyFile=" + (dir / "weak.key").string() + "\n"),
                    at(dir, 5) + "[DKIM example.org] KeyFile=: an RSA key of 1024 bits is too weak");
    // A key file that is not there.
    expectBadConfig(startWith(dir, db + "[DKIM example.org]\nSelector=mail\nKeyFile=" + (dir / "absent.key").string() + "\n"),
                    at(dir, 5) + "[DKIM example.org] KeyFile=: " + (dir / "absent.key").string() + " cannot be read");
    // A credential without CREDENTIALS_DIRECTORY (not started by systemd).
    expectBadConfig(startWith(dir, db + "[DKIM example.org]\nSelector=mail\nKeyCredential=dkim\n"),
                    at(dir, 5) + "[DKIM example.org] KeyCredential=: CREDENTIALS_DIRECTORY is not set");
    // A key others can read, refused by the config check at its line.
    ASSERT_EQ(run({"openssl", "genpkey", "-algorithm", "ed25519", "-out", (dir / "open.key").string()}).exitCode, 0);
    fs::permissions(dir / "open.key", fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
    const auto open = startWith(dir, db + "[DKIM example.org]\nSelector=mail\nKeyFile=" + (dir / "open.key").string() + "\n");
    EXPECT_EQ(open.exitCode, 78);
    EXPECT_NE(open.err.find(at(dir, 5) + "KeyFile=: " + (dir / "open.key").string() + " is readable by others"),
              std::string::npos)
        << open.err;
    EXPECT_EQ(open.err.find("PRIVATE KEY"), std::string::npos) << "the key must not be printed: " << open.err;
    // The same key, private: start-up goes on to the bus.
    fs::permissions(dir / "open.key", fs::perms::owner_read | fs::perms::owner_write);
    expectGoodConfig(startWith(dir, db + "[DKIM example.org]\nSelector=mail\nKeyFile=" + (dir / "open.key").string() + "\n"));
}

}  // namespace

// ---- campaignd --check-config --connect ----------------------------------------------------

namespace {

RunResult checkAndConnect(const TempDir& dir) {
    return run({campaigndBinary(), "--user", "--check-config", "--connect", "--config",
                (dir / "campaignd.conf").string()},
               withoutABus(dir));
}

// A [Transport relay] from line 5 on (Plugin= on line 6), logging in to `server` as campaignd with `password`.
void relayConfig(const TempDir& dir, const PostfixServer& server, const std::string& password) {
    writeFile(dir / "password", password + "\n");
    ::chmod((dir / "password").c_str(), 0600);
    writeFile(dir / "campaignd.conf",
              withPlugins(dir, {{SMTP_PLUGIN, "smtp.so"}},
                          "[Transport relay]\nPlugin=smtp\nURL=" + server.url() + "\nCAFile=" + server.caFile().string() +
                              "\nUsername=campaignd\nPasswordFile=" + (dir / "password").string() + "\n"));
}

}  // namespace

TEST(CheckConfigConnect, ARelayThatTakesTheLoginIsSaidReachedAndNothingIsSent) {
    if (!PostfixServer::available()) GTEST_SKIP() << "postfix, dovecot or openssl missing, or not root";
    TempDir dir("campaignd-connect");
    PostfixServer server(relayProfile({{"campaignd", "the-right-one"}}));
    relayConfig(dir, server, "the-right-one");
    const auto r = checkAndConnect(dir);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("transport relay: " + server.url() + " (220 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(": STARTTLS, logged in as campaignd"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("the configuration is valid"), std::string::npos) << r.out;
    EXPECT_TRUE(server.delivered().empty());
}

TEST(CheckConfigConnect, RefusedCredentialsAreAProblemAndThePasswordIsNotShown) {
    if (!PostfixServer::available()) GTEST_SKIP() << "postfix, dovecot or openssl missing, or not root";
    TempDir dir("campaignd-connect");
    PostfixServer server(relayProfile({{"campaignd", "the-right-one"}}));
    relayConfig(dir, server, "not-the-right-one");
    EXPECT_EQ(checkConfig(dir).exitCode, 0) << "without --connect nothing is reached";
    const auto r = checkAndConnect(dir);
    EXPECT_EQ(r.exitCode, 78);
    EXPECT_NE(r.err.find("cannot send now: " + at(dir, 6) + "[Transport relay] (plugin smtp, auth): " + server.url() +
                         " refused the login of Username=campaignd: 535"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("not-the-right-one"), std::string::npos) << "the password leaked";
    EXPECT_EQ(r.out, "");
}

TEST(CheckConfigConnect, AServerThatDoesNotAnswerIsAProblemOnlyWhenAskedToConnect) {
    TempDir dir("campaignd-connect");
    const Endpoint nobody = freeLoopbackEndpoint();  // nothing listens there
    writeFile(dir / "campaignd.conf", withPlugins(dir, {{SMTP_PLUGIN, "smtp.so"}},
                                                  "[Transport relay]\nPlugin=smtp\nURL=smtp://" + nobody.hostPort() + "\n"));
    EXPECT_EQ(checkConfig(dir).exitCode, 0);
    const auto r = checkAndConnect(dir);
    EXPECT_EQ(r.exitCode, 78);
    EXPECT_NE(r.err.find("cannot send now: " + at(dir, 6) + "[Transport relay] (plugin smtp, connection): smtp://" +
                         nobody.hostPort() + ": cannot connect"),
              std::string::npos)
        << r.err;
}

TEST(CheckConfigConnect, AMaildirIsReachedOrNotAndNothingIsCreated) {
    TempDir dir("campaignd-connect");
    writeFile(dir / "blocked", "a file, not a directory");
    const std::string transports = "[Transport fresh]\nPlugin=maildir\nPath=" + (dir / "fresh/outbox").string() +
                                   "\n\n[Transport made]\nPlugin=maildir\nPath=" + (dir / "made").string() + "\n";
    fs::create_directories(dir / "made/tmp");
    writeFile(dir / "campaignd.conf", withPlugins(dir, {{MAILDIR_PLUGIN, "maildir.so"}}, transports));
    const auto good = checkAndConnect(dir);
    EXPECT_EQ(good.exitCode, 0) << good.err;
    EXPECT_NE(good.out.find("transport fresh: " + (dir / "fresh/outbox").string() + " does not exist yet; it can be made in " +
                            dir.path().string()),
              std::string::npos)
        << good.out;
    EXPECT_NE(good.out.find("transport made: " + (dir / "made").string() + " can be written into"), std::string::npos)
        << good.out;
    EXPECT_FALSE(fs::exists(dir / "fresh"));

    writeFile(dir / "campaignd.conf",
              withPlugins(dir, {}, transports + "\n[Transport blocked]\nPlugin=maildir\nPath=" +
                                       (dir / "blocked/outbox").string() + "\n"));
    const auto bad = checkAndConnect(dir);
    EXPECT_EQ(bad.exitCode, 78);
    EXPECT_NE(bad.err.find("cannot send now: " + at(dir, 14) + "[Transport blocked] (plugin maildir, failed): maildir "
                           "[Transport blocked]: " + (dir / "blocked").string() + " is not a directory"),
              std::string::npos)
        << bad.err;
    EXPECT_EQ(errorLines(bad.err), 1) << bad.err;
}

TEST(CheckConfigConnect, ConnectAloneIsBadUsage) {
    const auto r = run({campaigndBinary(), "--user", "--connect"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("--check-config"), std::string::npos) << r.err;
}

}  // namespace campaignd::test

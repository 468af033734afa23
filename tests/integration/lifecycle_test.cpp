// lifecycle_test.cpp: what the daemon shows of itself while it runs: the plugins it loaded
// (a good one, one whose start fails by its config, one with the wrong ABI) in `status`, the
// PropertiesChanged signals a bus client sees when a campaign changes, and a SIGHUP reload
// that applies the new admin group at once without a restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "daemon_fixture.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST(Plugins, StatusListsEachPluginWithItsState) {
    TempDir dir("campaignd-plugins");
    fs::create_directories(dir / "plugins");
    fs::copy_file(TEST_PLUGIN_GOOD, dir / "plugins" / "good.so");
    fs::copy_file(TEST_PLUGIN_GOOD2, dir / "plugins" / "good2.so");
    fs::copy_file(TEST_PLUGIN_WRONG_ABI, dir / "plugins" / "wrong-abi.so");
    PrivateBus bus(PrivateBus::Kind::Session);
    DaemonConfig config;
    config.database = "sqlite:" + (dir / "c.db").string();
    config.extra = "[Plugin good2]\nFailStart=yes\n";
    Campaignd daemon(bus, dir, config);

    const auto r = daemon.ctl({"--json", "status"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto plugins = json::parse(r.out)["plugins"];
    ASSERT_EQ(plugins.size(), 3u) << r.out;
    std::map<std::string, json> byFile;
    for (const auto& p : plugins) byFile[fs::path(p["file"].get<std::string>()).filename()] = p;
    EXPECT_EQ(byFile["good.so"]["state"], "running");
    EXPECT_EQ(byFile["good.so"]["name"], "good");
    EXPECT_EQ(byFile["good2.so"]["state"], "failed");
    EXPECT_NE(byFile["good2.so"]["error"].get<std::string>().find("FailStart=yes"), std::string::npos);
    EXPECT_EQ(byFile["wrong-abi.so"]["state"], "rejected");
    EXPECT_NE(byFile["wrong-abi.so"]["error"].get<std::string>().find("ABI"), std::string::npos)
        << byFile["wrong-abi.so"];

    const auto table = daemon.ctl({"status"});
    EXPECT_NE(table.out.find("running"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("rejected"), std::string::npos) << table.out;
    EXPECT_TRUE(daemon.running());
}

TEST(Signals, PropertiesChangedReachesBusClients) {
    TempDir dir("campaignd-signals");
    PrivateBus bus(PrivateBus::Kind::Session);
    DaemonConfig config;
    config.database = "sqlite:" + (dir / "c.db").string();
    Campaignd daemon(bus, dir, config);
    ASSERT_EQ(daemon.ctl({"campaign", "create", "--name", "C", "--subject", "S", "--html", "<p>x</p>"}).exitCode, 0);

    Process monitor({"busctl", "--address=" + bus.address(), "monitor", "--json=short",
                     "--match=type='signal',interface='org.freedesktop.DBus.Properties',"
                     "path='/org/campaignd/Campaignd1/campaign/1'"});
    // busctl prints nothing until a message arrives; give it time to subscribe, then change
    // the campaign until a signal shows (a signal emitted before the match is in place is lost).
    bool seen = false;
    for (int attempt = 0; attempt < 20 && !seen; ++attempt) {
        const auto name = "Renamed " + std::to_string(attempt);
        ASSERT_EQ(daemon.ctl({"campaign", "edit", "1", "--name", name}).exitCode, 0);
        seen = monitor.waitForOutput(name, std::chrono::milliseconds(250));
    }
    monitor.stop();
    ASSERT_TRUE(seen) << monitor.out() << monitor.err();
    EXPECT_NE(monitor.out().find("PropertiesChanged"), std::string::npos);
    EXPECT_NE(monitor.out().find("org.campaignd.Campaignd1.Campaign"), std::string::npos);
}

TEST(Signals, HangupReloadsTheAdminGroup) {
    const auto nobody = lookupUser("nobody");
    if (!nobody || ::geteuid() != 0) GTEST_SKIP() << "needs root and a `nobody` user";
    TempDir dir("campaignd-reload");
    PrivateBus bus(PrivateBus::Kind::System);
    DaemonConfig config;
    config.database = "sqlite:" + (dir / "c.db").string();
    Campaignd daemon(bus, dir, config);
    EXPECT_EQ(daemon.ctl({"group", "create", "a"}, *nobody).exitCode, 1);

    auto text = readFile(dir / "campaignd.conf");
    writeFile(dir / "campaignd.conf", text + "AdminGroup=nogroup\n");
    const auto before = daemon.notifications().size();
    daemon.process().signal(SIGHUP);
    ASSERT_TRUE(waitUntil([&] {
        const auto notes = daemon.notifications();
        for (auto i = before; i < notes.size(); ++i)
            if (notes[i].find("READY=1") != std::string::npos) return true;
        return false;
    }, std::chrono::seconds(10)));
    const auto r = daemon.ctl({"group", "create", "a"}, *nobody);
    EXPECT_EQ(r.exitCode, 0) << r.err;

    // A broken config on reload is refused and the running one is kept.
    writeFile(dir / "campaignd.conf", text + "AdminGroup=nogroup\nNoSuchKey=1\n");
    daemon.process().signal(SIGHUP);
    EXPECT_TRUE(daemon.process().waitForOutput("reload refused", std::chrono::seconds(10)));
    EXPECT_TRUE(daemon.running());
    EXPECT_EQ(daemon.ctl({"group", "create", "b"}, *nobody).exitCode, 0);
}

// A reload names every key it did not apply (read once at start-up), and only those: here
// [Sending] BatchSize= and a new [Sending] MaxAttempts=, not the AdminGroup= it applied; until a
// restart, a later reload names them again.
TEST(Signals, HangupNamesTheKeysThatWaitForARestart) {
    TempDir dir("campaignd-reload");
    PrivateBus bus(PrivateBus::Kind::Session);
    DaemonConfig config;
    config.database = "sqlite:" + (dir / "c.db").string();
    config.extra = "[Sending]\nBatchSize=100\n";
    Campaignd daemon(bus, dir, config);
    const auto text = readFile(dir / "campaignd.conf");
    auto changed = text;
    changed.replace(changed.find("BatchSize=100"), 13, "BatchSize=200\nMaxAttempts=3");
    changed.replace(changed.find("[Daemon]\n"), 9, "[Daemon]\nAdminGroup=nogroup\n");
    writeFile(dir / "campaignd.conf", changed);
    daemon.process().signal(SIGHUP);
    const std::string said = "changed, and taking effect at the next restart: [Sending] BatchSize=, [Sending] MaxAttempts=\n";
    ASSERT_TRUE(daemon.process().waitForOutput(said, std::chrono::seconds(10))) << daemon.process().err();
    EXPECT_EQ(daemon.process().err().find("AdminGroup=,"), std::string::npos) << daemon.process().err();
    daemon.process().signal(SIGHUP);
    EXPECT_TRUE(waitUntil([&] {
        const auto err = daemon.process().err();
        return err.find(said) != err.rfind(said);
    }, std::chrono::seconds(10))) << "said again: " << daemon.process().err();
}

TEST(Signals, LosingTheBusEndsTheDaemonForSystemdToRestart) {
    TempDir dir("campaignd-lostbus");
    PrivateBus bus(PrivateBus::Kind::Session);
    DaemonConfig config;
    config.database = "sqlite:" + (dir / "c.db").string();
    Campaignd daemon(bus, dir, config);
    ASSERT_EQ(daemon.ctl({"group", "create", "a"}).exitCode, 0);
    bus.stop();
    const auto status = daemon.process().wait(std::chrono::seconds(10));
    ASSERT_TRUE(status.has_value()) << "still running without a bus";
    EXPECT_EQ(*status, 1) << daemon.process().err();  // Restart=on-failure brings it back
    EXPECT_NE(daemon.process().err().find("lost the connection to the bus"), std::string::npos)
        << daemon.process().err();
}

}  // namespace
}  // namespace campaignd::test

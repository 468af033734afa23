// support_test.cpp: the fixtures other tests rely on must themselves be right: output is
// captured without deadlock, timeouts and signals work, run-as-user works, endpoints are
// private and free, a private bus serves and stops, sd_notify messages arrive, a guarded server (foreground or daemon) is stopped, and stopped by its guard
// when the test process dies, and a PostgreSQL server starts, serves, stops, and does not
// outlive a crashed test process.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <sstream>

#include "support/guarded_server.h"
#include "support/network.h"
#include "support/notify_socket.h"
#include "support/postgres_environment.h"
#include "support/private_bus.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::test {
namespace {

TEST(TempDir, IsPrivateUniqueAndRemovedWithItsContents) {
    std::filesystem::path kept;
    {
        TempDir a("support-test");
        TempDir b("support-test");
        EXPECT_NE(a.path(), b.path());
        EXPECT_TRUE(std::filesystem::is_directory(a.path()));
        EXPECT_EQ(std::filesystem::status(a.path()).permissions() & std::filesystem::perms::all,
                  std::filesystem::perms::owner_all);
        std::filesystem::create_directories(a / "x" / "y");
        writeFile(a / "x" / "y" / "f.txt", "content");
        EXPECT_EQ(readFile(a / "x" / "y" / "f.txt"), "content");
        TempDir moved(std::move(a));
        kept = moved.path();
    }
    EXPECT_FALSE(std::filesystem::exists(kept));
    EXPECT_THROW(readFile(kept / "nothing"), std::runtime_error);
}

TEST(Process, CapturesStdoutStderrAndExitCode) {
    const RunResult r = run({"sh", "-c", "echo out; echo err >&2; exit 3"});
    EXPECT_EQ(r.exitCode, 3);
    EXPECT_EQ(r.out, "out\n");
    EXPECT_EQ(r.err, "err\n");
}

TEST(Process, LargeOutputDoesNotDeadlock) {
    const RunResult r = run({"sh", "-c", "head -c 8000000 /dev/zero; head -c 3000000 /dev/zero >&2"}, {}, 30s);
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_EQ(r.out.size(), 8'000'000u);
    EXPECT_EQ(r.err.size(), 3'000'000u);
}

TEST(Process, StdinEnvironmentAndWorkingDirectory) {
    TempDir dir;
    ProcessOptions o;
    o.stdinText = "line one\nline two\n";
    o.env["CAMPAIGND_FOO"] = "bar baz";
    o.unsetEnv = {"HOME"};
    o.workingDir = dir.path();
    const RunResult r = run({"sh", "-c", "cat; echo \"$CAMPAIGND_FOO\"; echo \"home=${HOME-unset}\"; pwd"}, o);
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_EQ(r.out, "line one\nline two\nbar baz\nhome=unset\n" + dir.str() + "\n");
    // Without stdinText, stdin is empty rather than the test's terminal.
    EXPECT_EQ(run({"cat"}).out, "");
}

TEST(Process, OnlyStandardDescriptorsAreInherited) {
    const int leaked = ::dup(1);  // not close-on-exec
    const RunResult r = run({"sh", "-c", "ls /proc/$$/fd"});
    ::close(leaked);
    EXPECT_EQ(r.out, "0\n1\n2\n");
}

TEST(Process, MissingProgramOrDirectoryThrows) {
    EXPECT_THROW(Process({"campaignd-no-such-program"}), std::runtime_error);
    ProcessOptions o;
    o.workingDir = "/nonexistent/directory";
    try {
        Process p({"true"}, o);
        FAIL() << "started in a missing directory";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("chdir"), std::string::npos) << e.what();
    }
}

TEST(Process, WaitTimesOutAndSignalsReachTheWholeGroup) {
    Process p({"sh", "-c", "sleep 60 & echo $!; wait"});
    ASSERT_TRUE(p.waitForOutput("\n", 10s));
    const pid_t grandchild = std::stoi(p.out());
    EXPECT_EQ(p.wait(100ms), std::nullopt);
    EXPECT_TRUE(p.running());
    EXPECT_EQ(p.stop(5s), 128 + SIGTERM);
    EXPECT_TRUE(waitForProcessExit(grandchild, 5s));
    EXPECT_FALSE(p.running());
    EXPECT_EQ(p.exitStatus(), 128 + SIGTERM);
}

TEST(Process, RunTimeoutKillsAndReports) {
    try {
        run({"sh", "-c", "echo started; sleep 60"}, {}, 300ms);
        FAIL() << "no timeout";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("started"), std::string::npos) << e.what();
    }
}

TEST(Process, RunsAsAnotherUser) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const auto nobody = lookupUser("nobody");
    ASSERT_TRUE(nobody);
    ProcessOptions o;
    o.uid = nobody->uid;
    const RunResult r = run({"sh", "-c", "id -u; id -g; id -G"}, o);
    EXPECT_EQ(r.out, std::to_string(nobody->uid) + "\n" + std::to_string(nobody->gid) + "\n" +
                         std::to_string(nobody->gid) + "\n");
}

TEST(Network, EndpointsArePrivateLoopbackAndFree) {
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i) {
        const Endpoint e = freeLoopbackEndpoint();
        EXPECT_EQ(e.address.rfind("127.", 0), 0u);
        EXPECT_NE(e.address, "127.0.0.1");
        EXPECT_GE(e.port, 20000);
        seen.insert(e.hostPort());
    }
    EXPECT_GT(seen.size(), 15u);

    const Endpoint e = freeLoopbackEndpoint();
    EXPECT_FALSE(isListening(e));
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(e.port);
    ::inet_pton(AF_INET, e.address.c_str(), &sa.sin_addr);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    EXPECT_TRUE(isListening(e));
    EXPECT_NE(freePortOn(e.address), e.port);
    ::close(fd);
}

TEST(GuardedServer, AForegroundServerIsReadyWhenItSaysSoAndStopsWithItsGroup) {
    TempDir dir;
    GuardedServerSpec spec;
    spec.name = "test server";
    spec.argv = {"sh", "-c", "sleep 60 & echo $! > child; echo ready > ready; wait"};
    spec.options.workingDir = dir.path();
    spec.ready = [&] { return std::filesystem::exists(dir / "ready"); };
    GuardedServer server(spec);
    EXPECT_TRUE(server.started());
    EXPECT_TRUE(server.running());
    EXPECT_EQ(server.pid(), server.process().pid());
    const pid_t child = std::stoi(readFile(dir / "child"));
    EXPECT_EQ(server.stop(), 128 + SIGTERM);
    EXPECT_TRUE(waitForProcessExit(child, 5s)) << "the server's whole process group is stopped";
    EXPECT_FALSE(server.started());
    EXPECT_EQ(server.stop(), -1) << "stop() is idempotent";
    server.start();
    EXPECT_TRUE(server.running()) << "and it starts again";
}

TEST(GuardedServer, ADaemonIsFoundByItsPidFileAndStopped) {
    TempDir dir;
    GuardedServerSpec spec;
    spec.name = "test daemon";
    spec.argv = {"sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $! > daemon.pid; echo started"};
    spec.options.workingDir = dir.path();
    spec.pidFile = dir / "daemon.pid";
    GuardedServer server(spec);
    const pid_t pid = server.pid();
    ASSERT_GT(pid, 0);
    EXPECT_EQ(pid, std::stoi(readFile(dir / "daemon.pid")));
    EXPECT_TRUE(server.running());
    EXPECT_EQ(server.output(), "started\n");
    EXPECT_THROW(server.process(), std::logic_error);
    server.stop();
    EXPECT_TRUE(processExited(pid));
    EXPECT_EQ(server.pid(), -1);
}

TEST(GuardedServer, AServerThatFailsToStartIsReportedWithWhatItSaid) {
    GuardedServerSpec spec;
    spec.name = "broken server";
    spec.argv = {"sh", "-c", "echo 'no such option: frobnicate' >&2; exit 3"};
    spec.ready = [] { return false; };
    spec.logs = [] { return std::string("the log says hello"); };
    try {
        GuardedServer server(spec);
        FAIL() << "it started";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("broken server did not start: exited with status 3"), std::string::npos) << what;
        EXPECT_NE(what.find("no such option: frobnicate"), std::string::npos) << what;
        EXPECT_NE(what.find("the log says hello"), std::string::npos) << what;
    }
    spec.argv = {"sleep", "60"};
    spec.readyTimeout = 200ms;
    try {
        GuardedServer server(spec);
        FAIL() << "it became ready";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("not ready after 200 ms"), std::string::npos) << e.what();
    }
}

TEST(GuardedServerDeathTest, NoServerOutlivesACrashedTestAndItsDirectoryGoes) {
    GTEST_FLAG_SET(death_test_style, "fast");
    TempDir dir;
    const auto record = dir / "record";
    auto startAndDie = [&] {
        auto* serverDir = new TempDir("guarded");  // never destroyed: the process just dies
        GuardedServerSpec spec;
        spec.name = "orphan";
        // Ignores SIGTERM: the guard must fall back to SIGKILL.
        spec.argv = {"sh", "-c", "trap '' TERM; sleep 60 & echo $! > child; wait; wait"};
        spec.options.workingDir = serverDir->path();
        spec.ready = [&] { return std::filesystem::exists(*serverDir / "child"); };
        spec.guardRemoves = serverDir->path();
        auto* server = new GuardedServer(spec);
        waitUntil([&] { return !readFile(*serverDir / "child").empty(); }, 5s);
        writeFile(record, std::to_string(server->pid()) + "\n" + readFile(*serverDir / "child") + serverDir->str());
        ::kill(::getpid(), SIGKILL);
    };
    EXPECT_EXIT(startAndDie(),
        ::testing::KilledBySignal(SIGKILL), "");
    std::istringstream in(readFile(record));
    pid_t server = -1, child = -1;
    std::string serverDir;
    in >> server >> child >> serverDir;
    ASSERT_GT(server, 0);
    ASSERT_GT(child, 0);
    EXPECT_TRUE(waitForProcessExit(server, 20s)) << "server " << server;
    EXPECT_TRUE(waitForProcessExit(child, 20s)) << "its child " << child;
    EXPECT_TRUE(waitUntil([&] { return !std::filesystem::exists(serverDir); }, 20s)) << serverDir;
}

TEST(PrivateBus, ASessionBusServesClientsUntilStopped) {
    if (::access("/usr/bin/dbus-daemon", X_OK) != 0 || ::access("/usr/bin/busctl", X_OK) != 0)
        GTEST_SKIP() << "dbus-daemon or busctl is not installed";
    PrivateBus bus(PrivateBus::Kind::Session);
    EXPECT_EQ(bus.address().rfind("unix:path=", 0), 0u) << bus.address();
    EXPECT_EQ(bus.clientEnv().at("DBUS_SESSION_BUS_ADDRESS"), bus.address());
    const RunResult listed = run({"busctl", "--address=" + bus.address(), "list"});
    EXPECT_EQ(listed.exitCode, 0) << listed.err;
    EXPECT_NE(listed.out.find("org.freedesktop.DBus"), std::string::npos) << listed.out;
    bus.stop();
    EXPECT_NE(run({"busctl", "--address=" + bus.address(), "list"}).exitCode, 0);
}

TEST(NotifySocket, KeepsEveryMessageInOrder) {
    TempDir dir;
    NotifySocket notify(dir / "notify");
    EXPECT_FALSE(notify.received("READY=1"));
    auto send = [&](const std::string& message) {
        const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, notify.path().c_str(), sizeof addr.sun_path - 1);
        EXPECT_EQ(::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
                  ssize_t(message.size()));
        ::close(fd);
    };
    send("READY=1\nSTATUS=started");
    EXPECT_TRUE(notify.received("READY=1"));
    send("STOPPING=1");
    EXPECT_EQ(notify.messages(), (std::vector<std::string>{"READY=1\nSTATUS=started", "STOPPING=1"}));
}

TEST(PostgresServer, ServesFreshDatabasesAndStopsCleanly) {
    if (!PostgresServer::available()) GTEST_SKIP() << "PostgreSQL 15 is not installed";
    std::filesystem::path dataDir;
    pid_t pid = -1;
    {
        PostgresServer server;
        dataDir = server.dataDir();
        pid = server.serverPid();
        ASSERT_GT(pid, 0);
        EXPECT_TRUE(isListening(server.endpoint()));
        EXPECT_NE(server.endpoint().address, "127.0.0.1");
        const std::string a = server.createDatabase("one");
        const std::string b = server.createDatabase("one");
        EXPECT_NE(a, b);
        EXPECT_EQ(a.rfind("postgresql://postgres@" + server.endpoint().hostPort() + "/one_", 0), 0u) << a;
        const std::string name = a.substr(a.rfind('/') + 1);
        const RunResult r = server.psql(name, "CREATE TABLE t (x int); INSERT INTO t VALUES (41), (1); SELECT sum(x) FROM t");
        EXPECT_EQ(r.exitCode, 0) << r.err;
        EXPECT_EQ(r.out, "42\n");
        EXPECT_NE(server.psql(name, "SELEKT").exitCode, 0);
        server.dropDatabase(name);
        EXPECT_NE(server.psql(name, "SELECT 1").exitCode, 0);
        // The server does not run as root.
        const RunResult owner = run({"ps", "-o", "user=", "-p", std::to_string(pid)});
        if (::geteuid() == 0) {
            EXPECT_EQ(owner.out, "postgres\n");
        }
    }
    EXPECT_TRUE(processExited(pid));
    EXPECT_FALSE(std::filesystem::exists(dataDir));
}

TEST(PostgresServerDeathTest, NoServerOutlivesACrashedTest) {
    if (!PostgresServer::available()) GTEST_SKIP() << "PostgreSQL 15 is not installed";
    // "fast" (fork, no re-exec): the child must see this test's TempDir. No other threads run.
    GTEST_FLAG_SET(death_test_style, "fast");
    TempDir dir;
    const auto record = dir / "server";
    EXPECT_EXIT(
        {
            auto* server = new PostgresServer();  // never destroyed: the process just dies
            writeFile(record, std::to_string(server->serverPid()) + "\n" + server->dataDir().string());
            ::_exit(7);
        },
        ::testing::ExitedWithCode(7), "");
    const std::string text = readFile(record);
    const pid_t pid = std::stoi(text);
    const std::filesystem::path dataDir = text.substr(text.find('\n') + 1);
    EXPECT_TRUE(waitForProcessExit(pid, 20s)) << "postgres " << pid << " still running";
    EXPECT_TRUE(waitUntil([&] { return !std::filesystem::exists(dataDir); }, 20s)) << dataDir;
}

}  // namespace
}  // namespace campaignd::test

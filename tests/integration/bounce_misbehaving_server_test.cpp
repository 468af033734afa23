// bounce_misbehaving_server_test.cpp: `bounces fetch` against IMAP servers that misbehave on
// purpose (issue 10 item 1), on SQLite and PostgreSQL: the real daemon and imap-bounce plugin,
// the server tests/support/misbehaving_imap.py on a private loopback address. A server that
// drip-feeds (a byte a second, for ever: its greeting, or its answer to SELECT after the login)
// holds the fetch job only until [Bounces] Timeout=; the job then ends with the deadline named
// (GetJob shows it, campaignd-ctl reports it), the bus answers meanwhile, and the next fetch
// works. A server that answers FETCH with six 32 MiB literals leaves the daemon's peak memory
// (VmHWM) far below what keeping them would take, and the fetch ends with a clear error.
// Every server the test starts is stopped by its object (or its guard, if the test dies).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backends.h"
#include "daemon_fixture.h"
#include "support/guarded_server.h"
#include "support/network.h"
#include "support/postgres_environment.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

constexpr int kTimeoutSeconds = 5;  // [Bounces] Timeout= in these tests

// tests/support/misbehaving_imap.py MODE on a private endpoint; only the first connection
// misbehaves (later ones find an empty INBOX).
class MisbehavingImap {
public:
    explicit MisbehavingImap(const std::string& mode, std::vector<std::string> options = {})
        : endpoint_(freeLoopbackEndpoint()) {
        GuardedServerSpec spec;
        spec.name = "misbehaving_imap.py " + mode + " on " + endpoint_.hostPort();
        spec.argv = {"/usr/bin/python3", "-u", (fs::path(CAMPAIGND_SOURCE_DIR) / "tests/support/misbehaving_imap.py").string(),
                     endpoint_.address, std::to_string(endpoint_.port), mode, "--misbehave", "1"};
        spec.argv.insert(spec.argv.end(), options.begin(), options.end());
        server_ = std::make_unique<GuardedServer>(std::move(spec));
        // Not isListening(): a probe would be the connection that misbehaves.
        if (!server_->process().waitForOutput("listening", 20s))
            throw std::runtime_error("misbehaving_imap.py did not start: " + server_->process().err());
    }
    ~MisbehavingImap() { server_->stop(); }
    MisbehavingImap(const MisbehavingImap&) = delete;
    MisbehavingImap& operator=(const MisbehavingImap&) = delete;

    std::string url() const { return "imap://" + endpoint_.hostPort() + "/INBOX"; }
    // Whether the first connection has reached the point where it misbehaves.
    bool waitUntilMisbehaving() { return server_->process().waitForOutput("misbehaving 1", 30s); }

private:
    Endpoint endpoint_;
    std::unique_ptr<GuardedServer> server_;
};

// The peak resident set of a process in KiB (VmHWM in /proc/PID/status); -1 if unreadable.
long peakMemoryKiB(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

class BounceMisbehavingServerTest : public ::testing::TestWithParam<Backend> {
protected:
    void startDaemon(const MisbehavingImap& imap) {
        fs::create_directories(dir_ / "plugins");
        fs::copy_file(IMAP_BOUNCE_PLUGIN, dir_ / "plugins" / "imap-bounce.so");
        writeFile(dir_ / "password", "secret\n", fs::perms::owner_read | fs::perms::owner_write);
        DaemonConfig config;
        config.database = databaseFor(GetParam(), dir_, "misbehaving");
        config.extra = "[Bounces]\nURL=" + imap.url() + "\nUsername=bounces@example.org\nPasswordFile=" +
                       (dir_ / "password").string() + "\nTimeout=" + std::to_string(kTimeoutSeconds) + "\n";
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    RunResult busctl(const std::vector<std::string>& args) {
        std::vector<std::string> argv{"busctl", "--address=" + bus_.address(), "--timeout=30", "--json=short",
                                      "call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                      "org.campaignd.Campaignd1.Manager"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, {}, 60s);
    }
    // GetJob(id) as busctl --json=short shows it: {"state": {"type": "s", "data": ...}, ...}.
    json getJob(std::uint64_t id) {
        const RunResult r = busctl({"GetJob", "t", std::to_string(id)});
        EXPECT_EQ(r.exitCode, 0) << r.err;
        return r.exitCode == 0 ? json::parse(r.out)["data"][0] : json::object();
    }
    // The next fetch, on a server that now behaves: it reads an empty mailbox.
    void expectTheNextFetchWorks() {
        const json next = daemon_->ctlJson({"bounces", "fetch"});
        EXPECT_EQ(next.value("source_status", ""), "ok") << next.dump();
        EXPECT_EQ(next.value("fetched", -1), 0) << next.dump();
    }
    static void expectTheDeadlineIsNamed(const std::string& message) {
        EXPECT_NE(message.find("deadline (Timeout=" + std::to_string(kTimeoutSeconds) + " s)"), std::string::npos)
            << message;
    }

    TempDir dir_{"campaignd-misbehaving-imap"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::unique_ptr<Campaignd> daemon_;
};

TEST_P(BounceMisbehavingServerTest, ADripFeedingServerHoldsTheFetchOnlyUntilItsDeadline) {
    MisbehavingImap imap("drip-select");  // logs in, then answers SELECT a byte a second
    startDaemon(imap);
    const RunResult started = busctl({"ProcessBounces", "a{sv}", "0"});
    ASSERT_EQ(started.exitCode, 0) << started.err;
    const std::uint64_t id = json::parse(started.out)["data"][0].get<std::uint64_t>();
    ASSERT_TRUE(imap.waitUntilMisbehaving()) << "the fetch never reached SELECT";

    // The bus answers while the server drips.
    const RunResult status = busctl({"GetStatus"});
    EXPECT_EQ(status.exitCode, 0) << status.err;
    EXPECT_EQ(getJob(id)["state"]["data"], "running") << "answered while the fetch was still held";

    // The job ends by the deadline (the server would drip for ever); 120 s is a guard only.
    json job;
    ASSERT_TRUE(waitUntil([&] { return (job = getJob(id))["state"]["data"] != "running"; }, 120s))
        << "the fetch job is still held by the dripping server: " << job.dump();
    ASSERT_EQ(job["state"]["data"], "completed") << job.dump();
    json& result = job["result"]["data"];
    EXPECT_EQ(result["source_status"]["data"], "connection") << job.dump();
    ASSERT_EQ(result["errors"]["data"].size(), 1u) << job.dump();
    expectTheDeadlineIsNamed(result["errors"]["data"][0].get<std::string>());
    EXPECT_EQ(result["fetched"]["data"], 0) << job.dump();

    expectTheNextFetchWorks();
}

TEST_P(BounceMisbehavingServerTest, AServerThatDripsItsGreetingEndsTheLoginByTheDeadline) {
    MisbehavingImap imap("drip-greeting");  // curl's own login never completes
    startDaemon(imap);
    ProcessOptions options;
    options.env = bus_.clientEnv();
    Process fetch({ctlBinary(), "--user", "bounces", "fetch"}, options);
    ASSERT_TRUE(imap.waitUntilMisbehaving()) << "the fetch never connected";
    const RunResult status = busctl({"GetStatus"});
    EXPECT_EQ(status.exitCode, 0) << status.err;
    EXPECT_TRUE(fetch.running()) << "answered while the fetch was still held: " << fetch.err();

    const auto exit = fetch.wait(120s);  // a guard only: the deadline is 5 s
    ASSERT_TRUE(exit.has_value()) << "the fetch is still held by the dripping server";
    EXPECT_EQ(*exit, 1) << fetch.out() << fetch.err();
    EXPECT_NE(fetch.err().find("could not be read (connection)"), std::string::npos) << fetch.err();
    expectTheDeadlineIsNamed(fetch.err());
    EXPECT_EQ(fetch.err().find("secret"), std::string::npos) << "no password in the message";

    expectTheNextFetchWorks();
}

TEST_P(BounceMisbehavingServerTest, HugeLiteralsLeaveTheDaemonsMemoryBoundedAndTheFetchFails) {
    // One FETCH response with six literals of 32 MiB (each within the message limit): 192 MiB.
    MisbehavingImap imap("huge-literals", {"--literals", "6", "--literal-mib", "32"});
    startDaemon(imap);
    const pid_t pid = daemon_->process().pid();
    const long before = peakMemoryKiB(pid);
    ASSERT_GT(before, 0);

    const RunResult r = daemon_->ctl({"bounces", "fetch"});
    EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("could not be read (failed)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("the IMAP server sent a response larger than 36 MiB"), std::string::npos) << r.err;
    const long after = peakMemoryKiB(pid);
    std::cout << "daemon VmHWM: " << before / 1024 << " MiB before the fetch, " << after / 1024 << " MiB after\n";
    // One literal is read whole (32 MiB, as a message may be) before the response is refused,
    // and held once; keeping all six would take 192 MiB at least.
    EXPECT_LT(after - before, 48L * 1024) << "VmHWM " << before << " -> " << after << " KiB";

    expectTheNextFetchWorks();
}

INSTANTIATE_TEST_SUITE_P(Backends, BounceMisbehavingServerTest, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

}  // namespace
}  // namespace campaignd::test

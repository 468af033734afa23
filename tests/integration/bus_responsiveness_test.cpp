// bus_responsiveness_test.cpp: the bus thread only dispatches (issue 9 item 6), on SQLite and
// PostgreSQL. While `bounces fetch` waits on an IMAP server that accepts the connection and
// never says a word (the test's own listener on a private loopback address), and while
// `bounces ingest -` waits on a pipe whose write end the test keeps open, GetStatus (busctl)
// and `campaignd-ctl campaign pause` of a campaign that is sending are each answered within a
// second; the ingest still completes once the message arrives, and the daemon stops cleanly
// (exit 0) while the fetch is still waiting. Everything the test starts is stopped.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "backends.h"
#include "daemon_fixture.h"
#include "support/network.h"
#include "support/postgres_environment.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

// A TCP server on a private loopback endpoint that accepts every connection and never sends
// (a hung IMAP server). Connections stay open until the server is destroyed.
class SilentServer {
public:
    SilentServer() : endpoint_(freeLoopbackEndpoint()) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(endpoint_.port);
        ::inet_pton(AF_INET, endpoint_.address.c_str(), &sa.sin_addr);
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
            ::listen(listener_, 16) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0)
            throw std::runtime_error("the silent server cannot listen on " + endpoint_.hostPort());
        thread_ = std::thread([this] { serve(); });
    }
    ~SilentServer() {
        const char c = 0;
        [[maybe_unused]] const auto n = ::write(wake_[1], &c, 1);
        thread_.join();
        for (const int fd : accepted_) ::close(fd);
        ::close(listener_);
        ::close(wake_[0]);
        ::close(wake_[1]);
    }
    SilentServer(const SilentServer&) = delete;
    SilentServer& operator=(const SilentServer&) = delete;

    const Endpoint& endpoint() const { return endpoint_; }
    int connections() const { return connections_.load(); }

private:
    void serve() {
        for (;;) {
            pollfd p[2] = {{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
            if (::poll(p, 2, -1) < 0) continue;
            if (p[1].revents) return;
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            accepted_.push_back(fd);  // only this thread touches it until the join
            ++connections_;
        }
    }

    Endpoint endpoint_;
    int listener_ = -1;
    int wake_[2] = {-1, -1};
    std::vector<int> accepted_;
    std::atomic<int> connections_{0};
    std::thread thread_;
};

// Whether process `pid` holds a descriptor of the pipe whose end `fd` is.
bool holdsPipeOf(pid_t pid, int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return false;
    const std::string wanted = "pipe:[" + std::to_string(st.st_ino) + "]";
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        std::error_code linkError;
        if (fs::read_symlink(entry.path(), linkError).string() == wanted) return true;
    }
    return false;
}

class BusResponsivenessTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        fs::create_directories(dir_ / "plugins");
        fs::copy_file(IMAP_BOUNCE_PLUGIN, dir_ / "plugins" / "imap-bounce.so");
        fs::copy_file(MAILDIR_PLUGIN, dir_ / "plugins" / "maildir.so");
        fs::copy_file(CSV_IMPORTER_PLUGIN, dir_ / "plugins" / "csv-importer.so");
        writeFile(dir_ / "password", "secret\n", fs::perms::owner_read | fs::perms::owner_write);
        DaemonConfig config;
        config.database = databaseFor(GetParam(), dir_, "responsive");
        config.extra = "[Bounces]\nURL=imap://" + imap_.endpoint().hostPort() +
                       "/INBOX\nUsername=bounces@example.org\nPasswordFile=" + (dir_ / "password").string() +
                       "\n\n[Sending]\nDefaultTransport=local\nFrom=News <news@example.org>\n"
                       "EnvelopeDomain=bounces.example.org\n\n"
                       // Slow enough that the campaign is still sending when the test pauses it.
                       "[Transport local]\nPlugin=maildir\nMaxPerSecond=5\nPath=" + (dir_ / "outbox").string() + "\n";
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    // A campaign to 200 recipients, sending (its first messages are out).
    std::string sendingCampaign() {
        std::string csv = "email,name\n";
        for (int i = 0; i < 200; ++i) csv += "r" + std::to_string(i) + "@example.org,Person " + std::to_string(i) + "\n";
        writeFile(dir_ / "news.csv", csv);
        daemon_->ctlOk({"group", "create", "news"});
        daemon_->ctlOk({"recipients", "import", (dir_ / "news.csv").string(), "--group", "news"});
        const int id = daemon_->ctlJson({"campaign", "create", "--name", "News", "--subject", "News",
                                         "--html", "<p>Hello {{name}}</p>"})
                           .value("id", 0);
        const std::string sid = std::to_string(id);
        daemon_->ctlOk({"campaign", "attach", sid, "--group", "news"});
        daemon_->ctlOk({"campaign", "send", sid});
        EXPECT_TRUE(waitUntil([&] { return daemon_->ctlCampaign(id)["sent_count"].get<int>() >= 1; }, 30s));
        return sid;
    }

    // Runs argv; true when it ended with exit status 0 within a second of being started.
    static bool answeredWithinASecond(std::vector<std::string> argv, const std::map<std::string, std::string>& env = {}) {
        ProcessOptions options;
        options.env = env;
        Process p(std::move(argv), options);
        const auto status = p.wait(1s);
        if (!status) {
            ADD_FAILURE() << p.commandLine() << ": no answer within a second";
            p.kill();
            p.wait(5s);
            return false;
        }
        EXPECT_EQ(*status, 0) << p.commandLine() << "\n" << p.err() << p.out();
        return *status == 0;
    }

    void expectTheBusAnswers(const std::string& campaign) {
        EXPECT_TRUE(answeredWithinASecond({"busctl", "--address=" + bus_.address(), "--timeout=5", "call",
                                           "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                           "org.campaignd.Campaignd1.Manager", "GetStatus"}));
        EXPECT_TRUE(answeredWithinASecond({ctlBinary(), "--user", "campaign", "pause", campaign}, bus_.clientEnv()));
        EXPECT_EQ(daemon_->ctlCampaign(std::stoi(campaign))["status"], "paused");
    }

    SilentServer imap_;
    TempDir dir_{"campaignd-responsive"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::unique_ptr<Campaignd> daemon_;
};

TEST_P(BusResponsivenessTest, TheBusAnswersWhileABounceFetchWaitsOnASilentImapServer) {
    const std::string campaign = sendingCampaign();
    ProcessOptions options;
    options.env = bus_.clientEnv();
    Process fetch({ctlBinary(), "--user", "bounces", "fetch"}, options);
    ASSERT_TRUE(waitUntil([&] { return imap_.connections() > 0; }, 10s)) << "the fetch never connected";

    expectTheBusAnswers(campaign);

    EXPECT_TRUE(fetch.running()) << "the fetch still waits for the server: " << fetch.err();
    // Stopping the daemon does not wait for the silent server.
    EXPECT_EQ(daemon_->stop(), 0);
    fetch.stop(2s);
}

TEST_P(BusResponsivenessTest, TheBusAnswersWhileAnIngestWaitsOnADescriptorThatNeverCloses) {
    const std::string campaign = sendingCampaign();
    int message[2];
    ASSERT_EQ(::pipe2(message, O_CLOEXEC), 0);
    ProcessOptions options;
    options.env = bus_.clientEnv();
    options.stdinFd = message[0];
    Process ingest({ctlBinary(), "--user", "bounces", "ingest", "-"}, options);
    // The call has reached the daemon once the daemon holds the pipe.
    ASSERT_TRUE(waitUntil([&] { return holdsPipeOf(daemon_->process().pid(), message[0]); }, 10s))
        << "the daemon never took the descriptor";

    expectTheBusAnswers(campaign);

    // The message arrives after all: the ingest completes as before.
    const std::string text = "From: someone@example.net\r\nTo: news@example.org\r\nSubject: Hello\r\n\r\nHi.\r\n";
    ASSERT_EQ(::write(message[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(message[1]);
    ::close(message[0]);
    const auto status = ingest.wait(30s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 0) << ingest.err();
    EXPECT_NE(ingest.out().find("No delivery notice found"), std::string::npos) << ingest.out();
    EXPECT_EQ(daemon_->stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, BusResponsivenessTest, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

}  // namespace
}  // namespace campaignd::test

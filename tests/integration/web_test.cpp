// web_test.cpp: campaignd-web end to end, on SQLite and PostgreSQL: the real daemon sends a
// campaign through the maildir transport with [Web] PublicURL=, and the real campaignd-web
// (--user, its own 127.x.y.z address and port) answers the links of the delivered messages,
// driven with curl as a mailbox provider and a person would. What they would notice: the
// one-click POST taken from List-Unsubscribe unsubscribes (200, no redirect) and a second one
// still answers 200; forged and altered tokens get the same 404 and change nothing; the page shows
// the masked address, never the whole one; oversized bodies and request lines are refused and
// 500 silent connections do not stop the service answering others; systemd-socket-activate
// can hand it the socket; only the web user may call the daemon's Web methods.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "backends.h"
#include "daemon_fixture.h"
#include "support/network.h"
#include "support/postgres_environment.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

constexpr const char* kPublic = "https://news.example.org";

struct Http {
    int status = 0;
    std::string headers;
    std::string body;
};

class WebTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        fs::create_directories(dir_ / "plugins");
        fs::copy_file(MAILDIR_PLUGIN, dir_ / "plugins" / "maildir.so");
        DaemonConfig config;
        config.database = databaseFor(GetParam(), dir_, "web");
        config.extra = "[Sending]\nDefaultTransport=local\nFrom=News Team <news@example.org>\n"
                       "EnvelopeDomain=bounces.example.org\n\n"
                       "[Web]\nPublicURL=" + std::string(kPublic) + "\n\n"
                       "[Transport local]\nPlugin=maildir\nPath=" + (dir_ / "outbox").string() + "\n";
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
        web_ = freeLoopbackEndpoint();
    }

    void startWeb() {
        ProcessOptions options;
        options.env = bus_.clientEnv();
        webProcess_ = std::make_unique<Process>(
            std::vector<std::string>{CAMPAIGND_WEB_BINARY, "--user", "--listen", web_.hostPort()}, options);
        ASSERT_TRUE(waitUntil([&] { return isListening(web_); }, 10s)) << webProcess_->err();
    }

    // Ada and Grace in group "news", campaign 1 sent to both; returns the delivered messages by
    // recipient.
    std::map<std::string, std::string> sendCampaign() {
        daemon_->ctlOk({"group", "create", "news"});
        daemon_->ctlOk({"recipients", "add", "ada@example.org", "--name", "Ada", "--group", "news"});
        daemon_->ctlOk({"recipients", "add", "grace@example.org", "--name", "Grace", "--group", "news"});
        const auto c = daemon_->ctlJson({"campaign", "create", "--name", "Winter news", "--subject", "News for {{name}}",
                                         "--html", "<p>Hello {{name}}! <a href=\"{{view_url}}\">View</a></p>"});
        const std::string id = std::to_string(c.value("id", 0));
        daemon_->ctlOk({"campaign", "attach", id, "--group", "news"});
        daemon_->ctlOk({"campaign", "send", id});
        std::map<std::string, std::string> out;
        EXPECT_TRUE(waitUntil([&] {
            out.clear();
            std::error_code ec;
            for (const auto& e : fs::directory_iterator(dir_ / "outbox" / "new", ec)) {
                const std::string text = readFile(e.path());
                for (const char* who : {"ada@example.org", "grace@example.org"})
                    if (text.find("Delivered-To: " + std::string(who)) != std::string::npos) out[who] = text;
            }
            return out.size() == 2;
        }, 30s));
        return out;
    }

    // The https URL of List-Unsubscribe, pointed at the test's campaignd-web (as the site's
    // reverse proxy would).
    std::string unsubscribeUrl(const std::string& message) {
        std::smatch m;
        const std::regex header("List-Unsubscribe: <([^>]*)>");
        EXPECT_TRUE(std::regex_search(message, m, header)) << message;
        EXPECT_NE(message.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), std::string::npos);
        return local(m[1].str());
    }
    std::string local(const std::string& url) {
        EXPECT_EQ(url.rfind(kPublic, 0), 0u) << url;
        return "http://" + web_.hostPort() + url.substr(std::string(kPublic).size());
    }

    Http curl(std::vector<std::string> args) {
        std::vector<std::string> argv{"curl", "-sS", "-i", "--max-time", "20"};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = run(argv);
        Http h;
        EXPECT_EQ(r.exitCode, 0) << r.err;
        const auto split = r.out.find("\r\n\r\n");
        h.headers = r.out.substr(0, split);
        h.body = split == std::string::npos ? "" : r.out.substr(split + 4);
        if (r.out.rfind("HTTP/1.1 ", 0) == 0) h.status = std::stoi(r.out.substr(9, 3));
        return h;
    }

    std::string status(const std::string& email) {
        return daemon_->ctlJson({"recipients", "show", email}).value("status", "");
    }

    TempDir dir_{"campaignd-web"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::unique_ptr<Campaignd> daemon_;
    Endpoint web_;
    std::unique_ptr<Process> webProcess_;
};

TEST_P(WebTest, TheOneClickPostFromListUnsubscribeUnsubscribesAndASecondOneStillAnswers200) {
    startWeb();
    const auto messages = sendCampaign();
    const std::string url = unsubscribeUrl(messages.at("ada@example.org"));
    ASSERT_NE(url.find("/u/1-"), std::string::npos) << url;
    // Exactly what a mailbox provider sends (RFC 8058).
    const auto r = run({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-X", "POST", "-d",
                        "List-Unsubscribe=One-Click", url});
    EXPECT_EQ(r.out, "200 ") << r.err;
    EXPECT_EQ(status("ada@example.org"), "unsubscribed");
    EXPECT_EQ(status("grace@example.org"), "subscribed");
    EXPECT_EQ(curl({"-X", "POST", "-d", "List-Unsubscribe=One-Click", url}).status, 200);
    EXPECT_EQ(status("ada@example.org"), "unsubscribed");
    EXPECT_EQ(webProcess_->err().find("ada@"), std::string::npos) << "the log names the address";
}

TEST_P(WebTest, ForgedAlteredAndUnknownTokensGetOneNotFoundPageAndChangeNothing) {
    startWeb();
    const auto messages = sendCampaign();
    const std::string url = unsubscribeUrl(messages.at("ada@example.org"));
    const std::string base = url.substr(0, url.find("/u/") + 3);
    const std::string token = url.substr(url.find("/u/") + 3);
    std::string altered = token;
    altered.back() = altered.back() == 'a' ? 'b' : 'a';
    const std::string otherCampaign = "2" + token.substr(token.find('-'));
    const std::vector<std::string> bad{altered, otherCampaign, "1-aaaaaaaaaaaaaaaaa", "1-" + token.substr(2, 5),
                                       "x", "99999999999999999999-" + token.substr(2)};
    const auto reference = curl({base + altered});
    EXPECT_EQ(reference.status, 404);
    for (const auto& t : bad) {
        const auto get = curl({base + t});
        EXPECT_EQ(get.status, 404) << t;
        EXPECT_EQ(get.body, reference.body) << t;
        const auto post = curl({"-X", "POST", "-d", "List-Unsubscribe=One-Click", base + t});
        EXPECT_EQ(post.status, 404) << t;
        EXPECT_EQ(post.body, reference.body) << t;
        EXPECT_EQ(curl({"http://" + web_.hostPort() + "/v/" + t}).status, 404) << t;
    }
    EXPECT_EQ(status("ada@example.org"), "subscribed");
    EXPECT_EQ(status("grace@example.org"), "subscribed");
}

TEST_P(WebTest, ThePageShowsTheMaskedAddressAndTheButtonUnsubscribes) {
    startWeb();
    const auto messages = sendCampaign();
    const std::string url = unsubscribeUrl(messages.at("ada@example.org"));
    const auto page = curl({url});
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("a\u2022\u2022\u2022@example.org"), std::string::npos) << page.body;
    EXPECT_EQ(page.body.find("ada@example.org"), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("News Team"), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("Winter news"), std::string::npos) << page.body;
    EXPECT_EQ(page.body.find("<script"), std::string::npos) << page.body;
    for (const char* h : {"Content-Security-Policy: ", "X-Content-Type-Options: nosniff", "Referrer-Policy: ",
                          "X-Robots-Tag: noindex"})
        EXPECT_NE(page.headers.find(h), std::string::npos) << h << "\n" << page.headers;
    EXPECT_EQ(status("ada@example.org"), "subscribed");  // looking is not unsubscribing
    const auto pressed = curl({"-X", "POST", "-d", "unsubscribe=yes", url});
    EXPECT_EQ(pressed.status, 200);
    EXPECT_NE(pressed.body.find("unsubscribed"), std::string::npos) << pressed.body;
    EXPECT_EQ(status("ada@example.org"), "unsubscribed");
    EXPECT_EQ(curl({"-X", "POST", "-d", "unsubscribe=yes", url}).status, 200);  // pressed twice
    EXPECT_EQ(curl({url}).status, 200);  // the old link still opens
    EXPECT_EQ(curl({"-X", "DELETE", url}).status, 405);
}

TEST_P(WebTest, ViewInBrowserShowsTheRecipientsOwnMessage) {
    startWeb();
    const auto messages = sendCampaign();
    std::smatch m;
    const std::string& ada = messages.at("ada@example.org");
    // The HTML part is quoted-printable; the view URL is short enough to stay on one line.
    ASSERT_TRUE(std::regex_search(ada, m, std::regex("href=3D\"(https://news\\.example\\.org/v/[0-9a-z-]+)\"")));
    const auto view = curl({local(m[1].str())});
    EXPECT_EQ(view.status, 200);
    EXPECT_NE(view.body.find("Hello Ada!"), std::string::npos) << view.body;
    EXPECT_NE(view.body.find("News for Ada"), std::string::npos) << view.body;
}

TEST_P(WebTest, OversizedBodiesAndRequestLinesAreRefusedAndTheServiceStillAnswers) {
    startWeb();
    const auto messages = sendCampaign();
    const std::string url = unsubscribeUrl(messages.at("ada@example.org"));
    const auto body = dir_ / "big";
    writeFile(body, "List-Unsubscribe=One-Click&" + std::string(100 * 1024, 'x'));
    const auto big = curl({"-X", "POST", "--data-binary", "@" + body.string(), url});
    EXPECT_EQ(big.status, 413);
    const auto chunked = curl({"-X", "POST", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + body.string(), url});
    EXPECT_NE(chunked.status, 200);
    EXPECT_EQ(status("ada@example.org"), "subscribed");
    const auto longLine = curl({url + "?" + std::string(10 * 1024, 'a')});
    EXPECT_TRUE(longLine.status == 414 || longLine.status == 431) << longLine.status;
    EXPECT_EQ(curl({url}).status, 200);
}

TEST_P(WebTest, FiveHundredSilentConnectionsDoNotStopItAnsweringOthers) {
    startWeb();
    const auto messages = sendCampaign();
    const std::string url = unsubscribeUrl(messages.at("ada@example.org"));
    std::vector<int> silent;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(web_.port);
    inet_pton(AF_INET, web_.address.c_str(), &addr.sin_addr);
    for (int i = 0; i < 500; ++i) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << i;
        silent.push_back(fd);
    }
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(curl({url}).status, 200);
    EXPECT_EQ(curl({"-X", "POST", "-d", "List-Unsubscribe=One-Click", url}).status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_EQ(status("ada@example.org"), "unsubscribed");
    for (int fd : silent) close(fd);
}

TEST_P(WebTest, RunsFromASocketHandedOverBySystemdSocketActivate) {
    ProcessOptions options;
    options.env = bus_.clientEnv();
    // systemd-socket-activate passes on only the variables it is told to (-E).
    std::vector<std::string> argv{"systemd-socket-activate", "-l", web_.hostPort()};
    for (const auto& [name, value] : options.env) argv.push_back("-E" + name + "=" + value);
    argv.insert(argv.end(), {CAMPAIGND_WEB_BINARY, "--user"});
    webProcess_ = std::make_unique<Process>(argv, options);
    ASSERT_TRUE(waitUntil([&] { return isListening(web_); }, 10s)) << webProcess_->err();
    const auto messages = sendCampaign();
    const std::string url = unsubscribeUrl(messages.at("grace@example.org"));
    EXPECT_EQ(curl({"-X", "POST", "-d", "List-Unsubscribe=One-Click", url}).status, 200);
    EXPECT_EQ(status("grace@example.org"), "unsubscribed");
}

// A person in headless Chromium (web_browser.py): the unsubscribe link from the delivered
// message, the button, the confirmation; then "view in browser". The daemon then shows the
// recipient unsubscribed, and only them.
TEST_P(WebTest, APersonInABrowserUnsubscribesWithTheButtonAndViewsTheMessage) {
    if (!fs::exists("/usr/bin/chromedriver") || !fs::exists("/usr/bin/chromium"))
        GTEST_SKIP() << "needs chromium and chromium-driver (debian/control, <!nocheck>)";
    startWeb();
    const auto messages = sendCampaign();
    const std::string& ada = messages.at("ada@example.org");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(ada, m, std::regex("href=3D\"(https://news\\.example\\.org/v/[0-9a-z-]+)\"")));
    const std::string view = local(m[1].str());
    ProcessOptions options;
    options.env["HOME"] = dir_.path().string();
    const auto r = run({"/usr/bin/python3", WEB_BROWSER_SCRIPT, unsubscribeUrl(ada), view, "Hello Ada!"}, options, 120s);
    EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("You are unsubscribed"), std::string::npos) << r.out;
    EXPECT_EQ(status("ada@example.org"), "unsubscribed");
    EXPECT_EQ(status("grace@example.org"), "subscribed");
}

INSTANTIATE_TEST_SUITE_P(Backends, WebTest, ::testing::Values(Backend::Sqlite, Backend::Postgres), backendTestName);

// On a system-type bus with the project's policy: another local user may not call the Web
// methods (the policy or the daemon refuses), while root reaches the daemon (NotFound for a bad
// token, the one answer for every bad token).
TEST(WebPermissionTest, OnlyRootAndTheWebUserMayCallTheWebMethods) {
    const auto nobody = lookupUser("nobody");
    if (!nobody || ::geteuid() != 0) GTEST_SKIP() << "needs root and a `nobody` user";
    TempDir dir{"campaignd-web-perm"};
    dir.chownTo(0, 0);
    PrivateBus bus{PrivateBus::Kind::System};
    DaemonConfig config;
    config.database = "sqlite:" + (dir / "campaignd.db").string();
    Campaignd daemon(bus, dir, config);
    const std::vector<std::string> call{"call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1/web",
                                        "org.campaignd.Campaignd1.Web", "Unsubscribe", "ss", "1-aaaaaaaaaaaaaaaaa",
                                        "one-click"};
    const auto refused = daemon.busctl(call, *nobody);
    EXPECT_NE(refused.exitCode, 0);
    EXPECT_TRUE(refused.err.find("Access denied") != std::string::npos ||  // the bus policy
                refused.err.find("for campaignd-web") != std::string::npos)  // the daemon's check
        << refused.err;
    const auto root = daemon.busctl(call);
    EXPECT_NE(root.exitCode, 0);
    EXPECT_NE(root.err.find("no such page"), std::string::npos) << root.err;
}

}  // namespace
}  // namespace campaignd::test

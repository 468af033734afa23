// cockpit_test.cpp: campaignd's Cockpit page (cockpit/) in a real browser. A real cockpit-ws
// (`--no-tls --local-session=cockpit-bridge`, on its own loopback address and port) runs as the
// `nobody` user with the page installed in its XDG data directory, and its bridge talks to a
// real daemon on the test's private system-type bus with the project's bus policy; headless
// Chromium drives the page (cockpit_browser.py). `nobody` is an administrator when the daemon's
// AdminGroup= is its group (nogroup), and a stranger with the default group. After each
// scenario the daemon is asked what became of it: the browser's word is not taken for it.
// Screenshots of each page go to the build tree (cockpit-screenshots/); the README's are copies.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <string>

#include "daemon_fixture.h"
#include "support/network.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kCockpitWs = "/usr/lib/cockpit/cockpit-ws";
constexpr const char* kBridge = "/usr/bin/cockpit-bridge";

class CockpitTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto user = lookupUser("nobody");
        if (!user || ::geteuid() != 0) GTEST_SKIP() << "needs root and a `nobody` user";
        nobody_ = *user;
        // debian/control's test dependencies install these: their absence is a failure.
        ASSERT_TRUE(fs::exists(kCockpitWs)) << kCockpitWs << " is missing (cockpit-ws)";
        ASSERT_TRUE(fs::exists(kBridge)) << kBridge << " is missing (cockpit-bridge)";
        ASSERT_TRUE(fs::exists("/usr/bin/chromedriver")) << "chromedriver is missing (chromium-driver)";
        dir_.chownTo(0, 0);
    }

    void TearDown() override {
        if (ws_) ws_->stop();
        daemon_.reset();
        bus_.reset();
    }

    // The daemon (maildir transport, throttled so that a campaign takes a few seconds), a
    // group of `members` recipients, and cockpit-ws as `nobody` with the page installed.
    // `nobodyIsReader`: nogroup is the daemon's ReaderGroup= (and the policy's reader group).
    void start(bool nobodyIsAdmin, int members = 40, int perSecond = 20, bool nobodyIsReader = false) {
        // The project's bus policy, its admin group renamed as the daemon's AdminGroup= (what a
        // site that renames it writes): the policy lets the group read personal data.
        const fs::path policy = dir_ / "policy" / "org.campaignd.Campaignd1.conf";
        fs::create_directories(policy.parent_path());
        std::string text = readFile(PrivateBus::projectPolicy());
        if (nobodyIsAdmin) text = std::regex_replace(text, std::regex(R"(group="campaignd")"), R"(group="nogroup")");
        if (nobodyIsReader)
            text = std::regex_replace(text, std::regex(R"(group="campaignd-readers")"), R"(group="nogroup")");
        writeFile(policy, text);
        bus_ = std::make_unique<PrivateBus>(PrivateBus::Kind::System, std::vector<fs::path>{policy});
        fs::create_directories(dir_ / "plugins");
        fs::copy_file(MAILDIR_PLUGIN, dir_ / "plugins" / "maildir.so");
        fs::copy_file(CSV_IMPORTER_PLUGIN, dir_ / "plugins" / "csv-importer.so");
        DaemonConfig config;
        config.database = "sqlite:" + (dir_ / "campaignd.db").string();
        config.adminGroup = nobodyIsAdmin ? "nogroup" : "";
        config.extra = std::string(nobodyIsReader ? "ReaderGroup=nogroup\n" : "") + "[Sending]\nDefaultTransport=local\nFrom=News Team <news@example.org>\n\n"
                       "[Transport local]\nPlugin=maildir\nPath=" + (dir_ / "outbox").string() +
                       "\nMaxPerSecond=" + std::to_string(perSecond) + "\n";
        daemon_ = std::make_unique<Campaignd>(*bus_, dir_, config);
        daemon_->ctlOk({"group", "create", "news"});
        std::string csv = "email,name\n";
        for (int i = 0; i < members; ++i) csv += "reader" + std::to_string(i) + "@example.org,Reader " + std::to_string(i) + "\n";
        const auto imported = daemon_->ctlWithInput({"recipients", "import", "-", "--group", "news"}, csv);
        ASSERT_EQ(imported.exitCode, 0) << imported.err;

        // The page, where cockpit-ws looks for packages of the user it runs as.
        const fs::path share = web_ / "share";
        fs::create_directories(share / "cockpit" / "campaignd");
        for (const auto& entry : fs::directory_iterator(COCKPIT_SOURCE_DIR))
            if (entry.path().extension() != ".md" && entry.path().filename() != "CMakeLists.txt")
                fs::copy_file(entry.path(), share / "cockpit" / "campaignd" / entry.path().filename());
        fs::create_directories(web_ / "home");
        fs::permissions(web_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                         fs::perms::others_read | fs::perms::others_exec);
        for (const auto& entry : fs::recursive_directory_iterator(share))
            fs::permissions(entry.path(), fs::perms::others_read | (entry.is_directory() ? fs::perms::others_exec : fs::perms::none),
                            fs::perm_options::add);
        ASSERT_EQ(::chown((web_ / "home").c_str(), nobody_.uid, nobody_.gid), 0);

        endpoint_ = freeLoopbackEndpoint();
        ProcessOptions options;
        options.env = bus_->clientEnv();
        options.env["HOME"] = (web_ / "home").string();
        options.env["XDG_DATA_HOME"] = share.string();
        options.env["XDG_CONFIG_HOME"] = (web_ / "home").string();
        options.env["XDG_RUNTIME_DIR"] = (web_ / "home").string();
        options.uid = nobody_.uid;
        options.gid = nobody_.gid;
        options.workingDir = "/";
        ws_ = std::make_unique<Process>(std::vector<std::string>{kCockpitWs, "--no-tls", "--local-session=" + std::string(kBridge),
                                                                 "--port", std::to_string(endpoint_.port), "--address",
                                                                 endpoint_.address},
                                        options);
        ASSERT_TRUE(waitUntil([&] { return isListening(endpoint_); }, 30s)) << ws_->err();
    }

    std::string pageUrl() const {
        return "http://" + endpoint_.hostPort() + "/cockpit/@localhost/campaignd/index.html";
    }

    // Runs a scenario of cockpit_browser.py; EXPECTs it to pass and returns what it printed.
    std::string browse(const std::string& scenario, const std::string& arg) {
        fs::create_directories(COCKPIT_SCREENSHOTS);
        const auto r = run({"/usr/bin/python3", COCKPIT_BROWSER_SCRIPT, pageUrl(), scenario, COCKPIT_SCREENSHOTS, arg}, {},
                           300s);
        EXPECT_EQ(r.exitCode, 0) << scenario << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err
                                 << "\ncockpit-ws:\n" << ws_->err();
        return r.out;
    }

    nlohmann::json campaign(int id) { return daemon_->ctlCampaign(id); }

    TempDir dir_{"campaignd-cockpit"};
    TempDir web_{"campaignd-cockpit-web"};
    UserIds nobody_{};
    std::unique_ptr<PrivateBus> bus_;
    std::unique_ptr<Campaignd> daemon_;
    std::unique_ptr<Process> ws_;
    Endpoint endpoint_;
};

TEST_F(CockpitTest, AnAdministratorCreatesAttachesAndSendsAndWatchesItComplete) {
    start(true);
    const std::string seen = browse("create-send", "news");
    const auto c = campaign(1);
    EXPECT_EQ(c["name"], "Spring newsletter");
    EXPECT_EQ(c["status"], "completed");
    EXPECT_EQ(c["sent_count"], 40);
    // The sanitiser kept the script out of what was stored.
    ASSERT_TRUE(c.contains("html_content")) << c.dump();
    EXPECT_EQ(c["html_content"].get<std::string>().find("<script"), std::string::npos) << c["html_content"];
    EXPECT_NE(c["html_content"].get<std::string>().find("Spring"), std::string::npos) << c["html_content"];
    EXPECT_NE(seen.find("progress values seen"), std::string::npos) << seen;
}

TEST_F(CockpitTest, AnAdministratorPausesAndResumesOnTheCampaignsPage) {
    start(true, 60, 10);
    daemon_->ctlOk({"campaign", "create", "--name", "Autumn", "--subject", "S", "--html", "<p>x</p>"});
    daemon_->ctlOk({"campaign", "attach", "1", "--group", "news"});
    const std::string seen = browse("pause-resume", "1");
    const auto c = campaign(1);
    EXPECT_EQ(c["status"], "completed");
    EXPECT_EQ(c["sent_count"], 60);
    EXPECT_NE(seen.find("status: paused"), std::string::npos) << seen;
}

TEST_F(CockpitTest, AUserWhoMayNotChangeAnythingCannotPressWhatChangesState) {
    start(false);
    daemon_->ctlOk({"campaign", "create", "--name", "Winter", "--subject", "S", "--html", "<p>x</p>"});
    browse("read-only", "1");
    EXPECT_EQ(campaign(1)["status"], "draft");
}

TEST_F(CockpitTest, AnAdministratorImportsACsvAndSeesTheRefusedRows) {
    start(true, 1);
    const fs::path csv = web_ / "members.csv";
    writeFile(csv, "email,name\ngrace@example.org,Grace Hopper\nnot-an-address,Nobody\nalan@example.org,Alan Turing\n"
                   "@example.org,Nobody either\n");
    fs::permissions(csv, fs::perms::others_read, fs::perm_options::add);
    const std::string seen = browse("import", csv.string());
    // The daemon imported the good rows and refused the bad ones, as the page said.
    EXPECT_EQ(daemon_->ctlJson({"recipients", "show", "grace@example.org"})["name"], "Grace Hopper");
    EXPECT_EQ(daemon_->ctlJson({"recipients", "show", "alan@example.org"})["name"], "Alan Turing");
    EXPECT_NE(seen.find("refused row: 3"), std::string::npos) << seen;
    EXPECT_NE(seen.find("refused row: 5"), std::string::npos) << seen;
}

TEST_F(CockpitTest, ABounceIngestedByCampaigndCtlAppearsInTheList) {
    start(true, 1);
    const std::string dsn =
        "From: MAILER-DAEMON@mx.example.net\r\nTo: bounces@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        "Final-Recipient: rfc822; reader0@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <reader0@example.org>: Recipient address rejected: User unknown\r\n--b--\r\n";
    const auto ingested = daemon_->ctlWithInput({"bounces", "ingest", "-"}, dsn);
    ASSERT_EQ(ingested.exitCode, 0) << ingested.err;
    browse("bounces", "reader0@example.org");
}

// The recipients, suppression and group pages (people.js) as an administrator: the daemon
// searches and pages, and what the page changed is what the daemon then holds.
TEST_F(CockpitTest, AnAdministratorSearchesPagesSuppressesAndEditsAGroup) {
    start(true, 120);
    const std::string seen = browse("people-admin", "-");
    EXPECT_NE(seen.find("recipients: 1\u201350 of 120"), std::string::npos) << seen;
    // One suppression left, reader6's (reader5's was lifted); suppressing unsubscribed both.
    const auto listed = daemon_->ctlJson({"suppression", "list"});
    ASSERT_EQ(listed.size(), 1u) << listed.dump();
    EXPECT_EQ(listed[0]["email"], "reader6@example.org") << listed.dump();
    EXPECT_EQ(daemon_->ctlJson({"recipients", "show", "reader6@example.org"})["status"], "unsubscribed");
    // Group vip holds reader2 and reader3 (the refused add changed nothing); old is gone.
    std::vector<std::string> members;
    for (const auto& r : daemon_->ctlJson({"recipients", "list", "--group", "vip"})) members.push_back(r["email"]);
    EXPECT_EQ(members, (std::vector<std::string>{"reader2@example.org", "reader3@example.org"}));
    std::vector<std::string> groups;
    for (const auto& g : daemon_->ctlJson({"group", "list"})) groups.push_back(g["name"]);
    EXPECT_EQ(groups, (std::vector<std::string>{"news", "vip"}));
}

// A member of the reader group sees the personal-data pages and can press nothing that
// changes state; the daemon holds what it held.
TEST_F(CockpitTest, AReaderSeesThePeoplePagesButCannotChangeThem) {
    start(false, 40, 20, true);
    daemon_->ctlOk({"suppression", "add", "reader7@example.org"});
    browse("people-reader", "news");
    EXPECT_EQ(daemon_->ctlJson({"suppression", "list"}).size(), 1u);
    EXPECT_EQ(daemon_->ctlJson({"recipients", "list", "--group", "news"}).size(), 40u);
}

// Someone neither in the admin nor the reader group: the bus refuses the personal data, and
// the page shows that refusal as it is worded: the words dbus-send gets as the same user (up
// to the sender, whose connection and pid differ).
TEST_F(CockpitTest, AStrangerSeesTheRefusalOfPersonalDataInItsOwnWords) {
    start(false);
    const std::string seen = browse("people-stranger", "news");
    ProcessOptions options;
    options.env = bus_->clientEnv();
    options.uid = nobody_.uid;
    options.gid = nobody_.gid;
    for (const char* member : {"ListRecipientsEx", "ListSuppressions"}) {
        // The bus refuses by member before it looks at the arguments.
        const auto r = run({"dbus-send", "--system", "--print-reply", "--dest=org.campaignd.Campaignd1",
                            "/org/campaignd/Campaignd1", std::string("org.campaignd.Campaignd1.Manager.") + member},
                           options);
        ASSERT_NE(r.exitCode, 0) << r.out;
        const auto from = r.err.find("Rejected send message");
        const auto to = r.err.find(" sender=");
        ASSERT_TRUE(from != std::string::npos && to != std::string::npos && from < to) << r.err;
        EXPECT_NE(seen.find(r.err.substr(from, to - from)), std::string::npos) << r.err << "\n" << seen;
        EXPECT_NE(seen.find(std::string("member=\"") + member + "\""), std::string::npos) << member << "\n" << seen;
    }
}

// The dashboard's messages per minute (issue 16 item 1): open before the campaign is sent, it
// draws the messages as they are recorded, from the campaigns' signals, and they add up to what
// the daemon says was sent.
TEST_F(CockpitTest, TheDashboardDrawsTheMessagesPerMinuteAsACampaignSends) {
    start(true, 30, 15);
    daemon_->ctlOk({"campaign", "create", "--name", "Summer", "--subject", "S", "--html", "<p>x</p>"});
    daemon_->ctlOk({"campaign", "attach", "1", "--group", "news"});
    const std::string seen = browse("per-minute", "1:30");
    EXPECT_EQ(campaign(1)["sent_count"], 30);
    const auto dashboard = daemon_->ctlJson({"dashboard"});
    std::uint64_t sent = 0;
    for (const auto& minute : dashboard["per_minute"]) sent += minute["sent"].get<std::uint64_t>();
    EXPECT_EQ(sent, 30u) << dashboard.dump();
    EXPECT_NE(seen.find("minutes drawn:"), std::string::npos) << seen;
}

}  // namespace
}  // namespace campaignd::test

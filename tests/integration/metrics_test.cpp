// metrics_test.cpp: the Prometheus metrics (issue 15 item 5) end to end, on SQLite and
// PostgreSQL. A real daemon on a private bus imports a CSV (one row invalid), sends a campaign
// through a real smtp-sink that accepts and one through a smtp-sink that refuses every RCPT
// with 550 5.1.1, ingests a DSN and an ARF for messages it sent, is told to unsubscribe
// someone, and keeps a third campaign in progress, its message deferred by a server that is
// not there. Then
// `campaignd-web --metrics` on its own 127.x.y.z address and port is scraped over HTTP with
// curl, as Prometheus would: the body passes `promtool check metrics` and every value the test
// can know is asserted exactly. The Grafana dashboard (contrib/grafana/campaignd.json) may only
// query metric names this exposition has.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "backends.h"
#include "daemon_fixture.h"
#include "support/network.h"
#include "support/postgres_environment.h"
#include "support/smtp_sink.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

// A Postfix-shaped DSN for `recipient` returning the message `messageId` (bounce_test.cpp's).
std::string dsn(const std::string& recipient, const std::string& messageId) {
    return "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
           "Subject: Undelivered Mail Returned to Sender\r\nTo: bounces@bounces.example.org\r\n"
           "Message-Id: <dsn-1@mx.example.net>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
           "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
           "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
           "Final-Recipient: rfc822; " + recipient + "\r\nAction: failed\r\nStatus: 5.2.2\r\n"
           "Diagnostic-Code: smtp; 552 5.2.2 <" + recipient + ">: Mailbox full\r\n\r\n"
           "--B\r\nContent-Type: message/rfc822\r\n\r\n"
           "From: news@example.org\r\nTo: " + recipient + "\r\nSubject: News\r\n"
           "Message-ID: <" + messageId + ">\r\n\r\nHello\r\n--B--\r\n";
}


// The samples of an exposition: "name{labels}" (labels as written) -> value.
std::map<std::string, double> samples(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.rfind(' ');
        out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return out;
}

class MetricsTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
        fs::create_directories(dir_ / "plugins");
        fs::copy_file(SMTP_PLUGIN, dir_ / "plugins" / "smtp.so");
        fs::copy_file(CSV_IMPORTER_PLUGIN, dir_ / "plugins" / "csv-importer.so");
        SmtpSinkOptions refuse;
        refuse.hardReject = {"RCPT"};
        refuse.hardReply = "550 5.1.1 User unknown";
        accepting_ = std::make_unique<SmtpSink>();
        refusing_ = std::make_unique<SmtpSink>(refuse);
        const Endpoint nobody = freeLoopbackEndpoint();  // nothing listens there
        DaemonConfig config;
        config.database = databaseFor(GetParam(), dir_, "metrics");
        config.extra = "[Sending]\nDefaultTransport=mail\nFrom=News <news@example.org>\n"
                       "EnvelopeDomain=bounces.example.org\n\n"
                       "[Transport mail]\nPlugin=smtp\nURL=" + accepting_->url() + "\nConnections=1\n\n"
                       "[Transport refusing]\nPlugin=smtp\nURL=" + refusing_->url() + "\nConnections=1\n\n"
                       "[Transport away]\nPlugin=smtp\nURL=smtp://" + nobody.hostPort() + "\nConnections=1\n";
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    std::string ok(const std::vector<std::string>& args) { return daemon_->ctlOk(args); }
    json okJson(const std::vector<std::string>& args) { return daemon_->ctlJson(args); }

    int campaign(const std::string& name, const std::string& transport, const std::string& group) {
        const auto c = okJson({"campaign", "create", "--name", name, "--subject", "News", "--html", "<p>News</p>",
                               "--transport", transport});
        const int id = c.value("id", 0);
        ok({"campaign", "attach", std::to_string(id), "--group", group});
        return id;
    }
    bool waitForStatus(int id, const std::string& status) {
        return waitUntil([&] { return daemon_->ctlCampaign(id)["status"] == status; }, 60s);
    }
    RunResult piped(const std::vector<std::string>& args, const std::string& input) {
        return daemon_->ctlWithInput(args, input);
    }

    // Everything the metrics count, once: see the file's comment.
    void runTheCampaigns() {
        for (const char* g : {"news", "refused", "waiting"}) ok({"group", "create", g});
        writeFile(dir_ / "news.csv",
                  "email,name\nada@example.org,Ada\ngrace@example.org,Grace\nalan@example.org,Alan\nnot an address,X\n");
        const json imported = okJson({"recipients", "import", (dir_ / "news.csv").string(), "--group", "news"});
        ASSERT_EQ(imported["imported"], 3) << imported.dump();
        for (const char* e : {"x1@example.net", "x2@example.net"}) ok({"recipients", "add", e, "--group", "refused"});
        ok({"recipients", "add", "later@example.com", "--group", "waiting"});

        const int news = campaign("News", "mail", "news");
        ok({"campaign", "send", std::to_string(news)});
        ASSERT_TRUE(waitForStatus(news, "completed")) << daemon_->ctlCampaign(news).dump();
        const int refused = campaign("Refused", "refusing", "refused");
        ok({"campaign", "send", std::to_string(refused)});
        ASSERT_TRUE(waitForStatus(refused, "completed")) << daemon_->ctlCampaign(refused).dump();
        const int waiting = campaign("Waiting", "away", "waiting");
        ok({"campaign", "send", std::to_string(waiting)});
        ASSERT_TRUE(waitForStatus(waiting, "in_progress"));
        // Its one recipient deferred (no server there; tried again as the engine reconnects):
        // the daemon's line for that outcome (LogDeliveries=, on by default) says it is recorded.
        ASSERT_TRUE(waitUntil([&] { return daemon_->process().err().find("delivery deferred") != std::string::npos; }, 60s))
            << daemon_->process().err();

        // The Message-IDs the server got, by recipient: the DSN and the ARF return them.
        std::map<std::string, std::string> messageIds;
        const std::regex mid("Message-ID: <([^>]+)>", std::regex::icase);
        for (const auto& m : accepting_->messages()) {
            std::smatch match;
            ASSERT_TRUE(std::regex_search(m.data, match, mid));
            messageIds[m.recipients.at(0)] = match[1].str();
        }
        ASSERT_EQ(messageIds.size(), 3u);
        auto r = piped({"--json", "bounces", "ingest", "-"}, dsn("grace@example.org", messageIds.at("grace@example.org")));
        ASSERT_EQ(r.exitCode, 0) << r.err;
        r = piped({"--json", "bounces", "ingest", "-"}, arfReport("alan@example.org", messageIds.at("alan@example.org")));
        ASSERT_EQ(r.exitCode, 0) << r.err;
        ASSERT_EQ(okJson({"recipients", "show", "alan@example.org"})["status"], "unsubscribed");
        ok({"recipients", "unsubscribe", "ada@example.org"});
        // A bus call that fails: counted with its error.
        const auto missing = daemon_->busctl({"call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                              "org.campaignd.Campaignd1.Manager", "GetCampaign", "t", "999"});
        ASSERT_NE(missing.exitCode, 0);
    }

    // GET /metrics from campaignd-web --metrics, as Prometheus scrapes it; with `activated`, the
    // socket comes from systemd-socket-activate, as campaignd-metrics.socket hands it over.
    std::string scrape(bool activated = false) {
        const Endpoint endpoint = freeLoopbackEndpoint();
        ProcessOptions options;
        options.env = bus_.clientEnv();
        std::vector<std::string> argv{CAMPAIGND_WEB_BINARY, "--user", "--metrics", "--listen", endpoint.hostPort()};
        if (activated) {
            // systemd-socket-activate passes on only the variables it is told to (-E).
            argv = {"systemd-socket-activate", "-l", endpoint.hostPort()};
            for (const auto& [name, value] : options.env) argv.push_back("-E" + name + "=" + value);
            argv.insert(argv.end(), {CAMPAIGND_WEB_BINARY, "--user", "--metrics"});
        }
        web_ = std::make_unique<Process>(argv, options);
        EXPECT_TRUE(waitUntil([&] { return isListening(endpoint); }, 10s)) << web_->err();
        const auto r = run({"curl", "-sS", "--max-time", "20", "-D", (dir_ / "headers").string(),
                            "http://" + endpoint.hostPort() + "/metrics"});
        EXPECT_EQ(r.exitCode, 0) << r.err;
        const std::string headers = readFile(dir_ / "headers");
        EXPECT_EQ(headers.rfind("HTTP/1.1 200", 0), 0u) << headers;
        EXPECT_NE(headers.find("Content-Type: text/plain; version=0.0.4; charset=utf-8"), std::string::npos) << headers;
        endpoint_ = endpoint;
        return r.out;
    }

    std::string backend() const { return GetParam() == Backend::Sqlite ? "sqlite" : "postgresql"; }

    TempDir dir_{"campaignd-metrics"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::unique_ptr<SmtpSink> accepting_;
    std::unique_ptr<SmtpSink> refusing_;
    std::unique_ptr<Campaignd> daemon_;
    std::unique_ptr<Process> web_;
    Endpoint endpoint_;
};

TEST_P(MetricsTest, AScrapeAfterARealCampaignPassesPromtoolAndCountsWhatHappened) {
    runTheCampaigns();
    if (HasFatalFailure()) return;
    const std::string text = scrape();
    writeFile(dir_ / "metrics.txt", text);
    const auto promtool = run({"sh", "-c", "promtool check metrics < " + (dir_ / "metrics.txt").string()});
    EXPECT_EQ(promtool.exitCode, 0) << promtool.out << promtool.err << text;
    EXPECT_EQ(promtool.out + promtool.err, "") << "promtool's lint has something to say";

    const auto s = samples(text);
    auto expect = [&](const std::string& series, double value) {
        const auto it = s.find(series);
        if (it == s.end()) ADD_FAILURE() << "no series " << series << " in\n" << text;
        else EXPECT_EQ(it->second, value) << series;
    };
    // The delivery side, per transport.
    expect(R"(campaignd_messages_handed_over_total{transport="mail"})", 3);
    expect(R"(campaignd_messages_handed_over_total{transport="refusing"})", 2);
    expect(R"(campaignd_delivery_outcomes_total{status="sent",transport="mail"})", 3);
    expect(R"(campaignd_delivery_outcomes_total{status="failed",transport="refusing"})", 2);
    expect(R"(campaignd_smtp_replies_total{class="2xx",transport="mail"})", 3);
    expect(R"(campaignd_smtp_replies_total{class="5xx",transport="refusing"})", 2);
    expect(R"(campaignd_send_duration_seconds_count{transport="mail"})", 3);
    expect(R"(campaignd_send_duration_seconds_bucket{transport="mail",le="+Inf"})", 3);
    expect(R"(campaignd_send_duration_seconds_count{transport="refusing"})", 2);
    expect(R"(campaignd_transport_sessions_open{transport="mail"})", 0);
    expect(R"(campaignd_transport_sessions_open{transport="refusing"})", 0);
    // The smtp plugin connects at its first message: each attempt is handed over, then deferred
    // (no server there, no reply), and tried again as the engine reconnects (1 s, 2 s, ...: how
    // many attempts by now depends on time, not on campaignd), the campaign waiting meanwhile.
    const double awayAttempts = s.count(R"(campaignd_messages_handed_over_total{transport="away"})")
                                    ? s.at(R"(campaignd_messages_handed_over_total{transport="away"})") : 0;
    EXPECT_GE(awayAttempts, 1) << text;
    const double awayDeferred = s.at(R"(campaignd_delivery_outcomes_total{status="deferred",transport="away"})");
    EXPECT_TRUE(awayDeferred == awayAttempts || awayDeferred + 1 == awayAttempts)  // one may be in flight
        << awayDeferred << " deferred of " << awayAttempts << " attempts";
    expect(R"(campaignd_delivery_outcomes_total{status="sent",transport="away"})", 0);
    for (const char* cls : {"2xx", "4xx", "5xx"})
        expect(std::string(R"(campaignd_smtp_replies_total{class=")") + cls + R"(",transport="away"})", 0);
    expect(R"(campaignd_smtp_replies_total{class="4xx",transport="mail"})", 0);
    expect(R"(campaignd_delivery_outcomes_total{status="unknown",transport="mail"})", 0);
    EXPECT_LE(s.at(R"(campaignd_transport_sessions_open{transport="away"})"), 1) << "one connection at most (Connections=1)";
    expect(R"(campaignd_campaign_recipients_pending{campaign_id="3",status="in_progress"})", 1);
    EXPECT_EQ(s.count(R"(campaignd_campaign_recipients_pending{campaign_id="1",status="completed"})"), 0u);
    // Bounces: the two 550 5.1.1 at RCPT, the DSN's mailbox full; the ARF as a complaint.
    expect(R"(campaignd_bounces_total{reason="userunknown",type="hard"})", 2);
    expect(R"(campaignd_bounces_total{reason="mailboxfull",type="soft"})", 1);
    expect("campaignd_complaints_total", 1);
    expect(R"(campaignd_unsubscribes_total{source="complaint"})", 1);
    expect(R"(campaignd_unsubscribes_total{source="administrator"})", 1);
    expect(R"(campaignd_import_rows_total{result="imported"})", 3);
    expect(R"(campaignd_import_rows_total{result="rejected"})", 1);
    // Bus calls by method and outcome.
    expect(R"(campaignd_bus_calls_total{method="CreateCampaignEx",outcome="ok"})", 3);
    expect(R"(campaignd_bus_calls_total{method="GetCampaign",outcome="NotFound"})", 1);
    // The database's transactions: counted, every one under the last bucket.
    const std::string tx = "campaignd_database_transaction_duration_seconds";
    const auto count = s.find(tx + "_count{backend=\"" + backend() + "\"}");
    ASSERT_NE(count, s.end()) << text;
    EXPECT_GT(count->second, 10);
    expect(tx + "_bucket{backend=\"" + backend() + "\",le=\"+Inf\"}", count->second);
    // No address, and no campaign name, anywhere.
    for (const char* personal : {"@example", "Ada", "News\"", "Refused", "Waiting"})
        EXPECT_EQ(text.find(personal), std::string::npos) << personal << " in\n" << text;

    // The public side's paths are not served here, and /metrics answers only GET and HEAD.
    const auto other = run({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://" + endpoint_.hostPort() + "/u/1-abc"});
    EXPECT_EQ(other.out, "404");
    const auto post = run({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-d", "x=1",
                           "http://" + endpoint_.hostPort() + "/metrics"});
    EXPECT_EQ(post.out, "405");
}

TEST_P(MetricsTest, TheGrafanaDashboardQueriesOnlyMetricsTheExpositionHas) {
    runTheCampaigns();
    if (HasFatalFailure()) return;
    const std::string text = scrape(/*activated=*/true);
    std::set<std::string> exposed;  // names of the samples, and of the families (# TYPE)
    for (const auto& [series, value] : samples(text)) exposed.insert(series.substr(0, series.find('{')));
    const std::regex type("# TYPE (\\S+) ");
    for (std::sregex_iterator it(text.begin(), text.end(), type), end; it != end; ++it) exposed.insert((*it)[1].str());

    const json dashboard = json::parse(readFile(fs::path(CAMPAIGND_SOURCE_DIR) / "contrib/grafana/campaignd.json"));
    std::set<std::string> queried;
    const std::regex name("campaignd_[a-z_]+");
    std::function<void(const json&)> walk = [&](const json& j) {
        if (j.is_object()) {
            for (const auto& [key, value] : j.items()) {
                if ((key == "expr" || key == "query") && value.is_string()) {
                    const std::string expr = value.get<std::string>();
                    for (std::sregex_iterator it(expr.begin(), expr.end(), name), end; it != end; ++it)
                        queried.insert(it->str());
                } else {
                    walk(value);
                }
            }
        } else if (j.is_array()) {
            for (const auto& v : j) walk(v);
        }
    };
    walk(dashboard);
    EXPECT_GE(queried.size(), 10u) << "the dashboard should show most of the metrics";
    for (const std::string& q : queried) EXPECT_TRUE(exposed.count(q)) << q << " is not in the exposition:\n" << text;
}

// On a system-type bus with the project's policy, as installed: campaignd-web --metrics running
// as an unprivileged user (here `nobody`; campaignd-metrics.service runs as campaignd-web, which
// the policy treats the same for the Manager interface) gets the metrics, since GetMetrics is
// open; the public side's interface stays closed to that user.
TEST(MetricsPermissionTest, AnUnprivilegedMetricsServiceIsAnsweredOnTheSystemBus) {
    const auto nobody = lookupUser("nobody");
    if (!nobody || ::geteuid() != 0) GTEST_SKIP() << "needs root and a `nobody` user";
    TempDir dir{"campaignd-metrics-perm"};
    dir.chownTo(0, 0);
    PrivateBus bus{PrivateBus::Kind::System};
    DaemonConfig config;
    config.database = "sqlite:" + (dir / "campaignd.db").string();
    Campaignd daemon(bus, dir, config);
    const Endpoint endpoint = freeLoopbackEndpoint();
    ProcessOptions options;
    options.env = bus.clientEnv();
    options.uid = nobody->uid;
    options.gid = nobody->gid;
    options.workingDir = "/";  // the build tree may be where nobody cannot go
    Process web({binaryForOthers(CAMPAIGND_WEB_BINARY), "--metrics", "--listen", endpoint.hostPort()}, options);
    ASSERT_TRUE(waitUntil([&] { return isListening(endpoint); }, 10s)) << web.err();
    const auto r = run({"curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}", "http://" + endpoint.hostPort() + "/metrics"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("# TYPE campaignd_start_time_seconds gauge"), std::string::npos) << r.out << web.err();
    EXPECT_EQ(r.out.substr(r.out.size() - 3), "200") << r.out << web.err();
    const auto webCall = daemon.busctl({"call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1/web",
                                        "org.campaignd.Campaignd1.Web", "ViewMessage", "s", "1-aaaaaaaaaaaaaaaaa"},
                                       *nobody);
    EXPECT_NE(webCall.exitCode, 0) << "the Web interface is not for every user";
}

INSTANTIATE_TEST_SUITE_P(Backends, MetricsTest, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

}  // namespace
}  // namespace campaignd::test

// daemon_test.cpp: campaignd as its users meet it. Each test starts a private dbus-daemon and
// the real daemon (on SQLite, and on a private PostgreSQL 15 server), then drives it with
// campaignd-ctl and busctl and checks what a person or a script would see: the output, the
// exit status, the bus objects, and that bad input changes nothing.
#include <gtest/gtest.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "backends.h"
#include "daemon_fixture.h"
#include "support/postgres_environment.h"

namespace campaignd::test {
namespace {

using nlohmann::json;

[[maybe_unused]] auto* const kPostgres =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

// "YYYY-MM-DD HH:MM" in UTC (the tests run the client with TZ=UTC), `seconds` from now.
std::string localTimeFromNow(long seconds) {
    const std::time_t t = std::time(nullptr) + seconds;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

class DaemonTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        database_ = databaseFor(GetParam(), dir_, "daemon");
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config());
    }

    DaemonConfig config() const {
        DaemonConfig c;
        c.database = database_;
        return c;
    }

    void restart() {
        ASSERT_EQ(daemon_->stop(), 0);
        daemon_.reset();
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config());
    }

    std::string ok(const std::vector<std::string>& args) { return daemon_->ctlOk(args); }
    json okJson(const std::vector<std::string>& args) { return daemon_->ctlJson(args); }
    // Runs campaignd-ctl and expects it to fail with exit status 1 and `message` on stderr.
    void refused(const std::vector<std::string>& args, const std::string& message) {
        const auto r = daemon_->ctl(args);
        EXPECT_EQ(r.exitCode, 1) << "campaignd-ctl " << join(args) << "\nstdout: " << r.out;
        EXPECT_NE(r.err.find(message), std::string::npos)
            << "campaignd-ctl " << join(args) << "\nstderr: " << r.err;
    }
    static std::string join(const std::vector<std::string>& v) {
        std::string s;
        for (const auto& a : v) s += a + " ";
        return s;
    }

    TempDir dir_{"campaignd-daemon"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::string database_;
    std::unique_ptr<Campaignd> daemon_;
};

TEST_P(DaemonTest, TellsSystemdItIsReadyAndStopsCleanly) {
    const auto notes = daemon_->notifications();
    bool ready = false, status = false;
    for (const auto& n : notes) {
        ready |= n.find("READY=1") != std::string::npos;
        status |= n.find("STATUS=") != std::string::npos;
    }
    EXPECT_TRUE(ready);
    EXPECT_TRUE(status);
    EXPECT_EQ(daemon_->stop(), 0);
    bool stopping = false;
    for (const auto& n : daemon_->notifications()) stopping |= n.find("STOPPING=1") != std::string::npos;
    EXPECT_TRUE(stopping);
}

TEST_P(DaemonTest, ManagerIsIntrospectableWithBusctlUser) {
    ProcessOptions options;
    options.env = bus_.clientEnv();
    const auto r = run({"busctl", "--user", "introspect", "org.campaignd.Campaignd1",
                        "/org/campaignd/Campaignd1"}, options);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("org.campaignd.Campaignd1.Manager"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("org.freedesktop.DBus.ObjectManager"), std::string::npos);
    EXPECT_NE(r.out.find(".CreateCampaign"), std::string::npos);
}

TEST_P(DaemonTest, StatusNamesTheBackend) {
    const auto status = okJson({"status"});
    EXPECT_EQ(status["backend"], GetParam() == Backend::Sqlite ? "sqlite" : "postgresql");
    EXPECT_GE(status["schema_version"].get<int>(), 1);
}

TEST_P(DaemonTest, CampaignObjectAppearsOnCreateAndGoesOnDelete) {
    const auto path = "/org/campaignd/Campaignd1/campaign/1";
    EXPECT_NE(daemon_->busctl({"introspect", "org.campaignd.Campaignd1", path}).exitCode, 0);
    ok({"campaign", "create", "--name", "Spring", "--subject", "Spring news", "--html", "<p>Hi</p>"});

    const auto r = daemon_->busctl({"introspect", "org.campaignd.Campaignd1", path});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("org.campaignd.Campaignd1.Campaign"), std::string::npos);
    EXPECT_NE(r.out.find("\"draft\""), std::string::npos) << r.out;
    const auto name = daemon_->busctl({"get-property", "org.campaignd.Campaignd1", path,
                                       "org.campaignd.Campaignd1.Campaign", "Name"});
    EXPECT_EQ(name.out, "s \"Spring\"\n");
    const auto managed = daemon_->busctl({"call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                          "org.freedesktop.DBus.ObjectManager", "GetManagedObjects"});
    EXPECT_NE(managed.out.find(path), std::string::npos) << managed.out;

    ok({"campaign", "delete", "1"});
    const auto gone = daemon_->busctl({"introspect", "org.campaignd.Campaignd1", path});
    EXPECT_EQ(gone.out.find("org.campaignd.Campaignd1.Campaign"), std::string::npos) << gone.out;
    refused({"campaign", "show", "1"}, "no campaign with id 1");
}

TEST_P(DaemonTest, RecipientsAndGroups) {
    ok({"group", "create", "newsletter"});
    ok({"group", "create", "staff"});
    ok({"recipients", "add", "ada@example.org", "--name", "Ada Lovelace", "--group", "newsletter"});
    ok({"recipients", "add", "Grace@Example.ORG", "--name", "Grace Hopper"});
    ok({"recipients", "add", "linus@bücher.example"});
    ok({"group", "add", "staff", "grace@example.org", "ada@example.org"});

    const auto ada = okJson({"recipients", "show", "ADA@example.org"});
    EXPECT_EQ(ada["email"], "ada@example.org");
    EXPECT_EQ(ada["name"], "Ada Lovelace");
    EXPECT_EQ(ada["status"], "subscribed");
    EXPECT_EQ(ada["groups"], json({"newsletter", "staff"}));
    EXPECT_EQ(okJson({"recipients", "show", "linus@bücher.example"})["email"],
              "linus@xn--bcher-kva.example");
    EXPECT_EQ(okJson({"recipients", "show", "grace@example.org"})["email"], "Grace@example.org");

    ok({"recipients", "unsubscribe", "ada@example.org"});
    EXPECT_EQ(okJson({"recipients", "list", "--status", "unsubscribed"}).size(), 1u);
    EXPECT_EQ(okJson({"recipients", "list", "--group", "staff"}).size(), 2u);
    ok({"recipients", "resubscribe", "ada@example.org"});
    EXPECT_EQ(okJson({"recipients", "list", "--status", "subscribed"}).size(), 3u);

    const auto page = okJson({"recipients", "list", "--limit", "1", "--offset", "1"});
    ASSERT_EQ(page.size(), 1u);
    EXPECT_EQ(page[0]["email"], "Grace@example.org");
    // ListRecipients with one filter key, as a bus client calls it.
    const auto listWith = [&](const std::string& key, const std::string& type, const std::string& value) {
        return daemon_->busctl({"call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                "org.campaignd.Campaignd1.Manager", "ListRecipients", "a{sv}", "1", key, type, value});
    };
    const auto tooMany = listWith("limit", "t", "10001");
    EXPECT_NE(tooMany.err.find("ListRecipients: limit 10001 is more than 10000 per call; page with offset"),
              std::string::npos)
        << tooMany.err;
    const auto badStatus = listWith("status", "s", "gone");
    EXPECT_NE(badStatus.err.find("ListRecipients: unknown status \"gone\" (subscribed, unsubscribed, bounced)"),
              std::string::npos)
        << badStatus.err;

    ok({"group", "remove", "staff", "ada@example.org"});
    EXPECT_EQ(okJson({"recipients", "list", "--group", "staff"}).size(), 1u);
    const auto groups = okJson({"group", "list"});
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[0]["name"], "newsletter");
    EXPECT_EQ(groups[0]["member_count"], 1);

    ok({"recipients", "delete", "linus@xn--bcher-kva.example"});
    EXPECT_EQ(okJson({"recipients", "list"}).size(), 2u);
    // A group with members goes only with --force (its members stay).
    const auto refused = daemon_->ctl({"group", "delete", "staff"});
    EXPECT_EQ(refused.exitCode, 2);
    EXPECT_NE(refused.err.find("has 1 member"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
    EXPECT_EQ(okJson({"group", "list"}).size(), 2u);
    ok({"group", "delete", "staff", "--force"});
    EXPECT_EQ(okJson({"group", "list"}).size(), 1u);
    EXPECT_EQ(okJson({"recipients", "show", "grace@example.org"})["groups"], json::array());

    const auto table = ok({"recipients", "list"});
    EXPECT_NE(table.find("EMAIL"), std::string::npos);
    EXPECT_NE(table.find("Ada Lovelace"), std::string::npos);
}

TEST_P(DaemonTest, CampaignLifecycle) {
    ok({"group", "create", "newsletter"});
    ok({"recipients", "add", "a@example.org", "--group", "newsletter"});
    ok({"recipients", "add", "b@example.org", "--group", "newsletter"});
    ok({"recipients", "add", "c@example.org", "--group", "newsletter"});
    ok({"recipients", "add", "d@example.org"});
    ok({"recipients", "unsubscribe", "c@example.org"});

    writeFile(dir_ / "body.html", "<h1>Winter</h1><p onclick=\"steal()\">Hello</p><script>steal()</script>");
    // The author is told what the sanitiser removed.
    const auto created = ok({"campaign", "create", "--name", "Winter", "--subject", "Winter news", "--html-file",
                             (dir_ / "body.html").string(), "--from", "News <news@example.org>"});
    EXPECT_NE(created.find("The HTML was sanitised before it was stored; removed:\n"
                           "  onclick attribute\n  <script> element\n"),
              std::string::npos)
        << created;
    auto c = okJson({"campaign", "show", "1"});
    EXPECT_EQ(c["id"], 1);
    EXPECT_EQ(c["status"], "draft");
    EXPECT_EQ(c["scheduled_time"], nullptr);
    EXPECT_EQ(c["sent_count"], 0);
    EXPECT_EQ(c["failed_count"], 0);
    EXPECT_TRUE(c["created_at"].is_string());
    const auto html = c["html_content"].get<std::string>();
    EXPECT_NE(html.find("Hello"), std::string::npos);
    EXPECT_EQ(html.find("script"), std::string::npos) << html;
    EXPECT_EQ(html.find("onclick"), std::string::npos) << html;

    auto attached = okJson({"campaign", "attach", "1", "--group", "newsletter"});
    EXPECT_EQ(attached["attached"], 2);
    EXPECT_EQ(attached["skipped_unsubscribed"], 1);
    EXPECT_EQ(attached["skipped_bounced"], 0);
    attached = okJson({"campaign", "attach", "1", "--group", "newsletter", "--email", "d@example.org"});
    EXPECT_EQ(attached["attached"], 1);
    EXPECT_EQ(attached["already_attached"], 2);
    EXPECT_EQ(attached["recipient_count"], 3);

    const auto edited = okJson({"campaign", "edit", "1", "--html",
                                "<p>Hi <a href=\"javascript:go()\">there</a></p><script>a()</script><script>b()</script>"});
    EXPECT_EQ(edited["html_removed"], json::parse(R"([{"what":"javascript: URL in href","count":1},)"
                                                  R"({"what":"<script> element","count":2}])"));
    EXPECT_EQ(okJson({"campaign", "edit", "1", "--html", "<p>Hi</p>"})["html_removed"], json::array());
    const auto plain = ok({"campaign", "edit", "1", "--subject", "Winter news, revised"});
    EXPECT_EQ(plain.find("sanitised"), std::string::npos) << plain;
    ok({"campaign", "schedule", "1", "2099-12-01T09:00:00+01:00"});
    c = okJson({"campaign", "show", "1"});
    EXPECT_EQ(c["status"], "scheduled");
    EXPECT_EQ(c["scheduled_time"], "2099-12-01T08:00:00Z");
    EXPECT_EQ(c["subject"], "Winter news, revised");
    const auto scheduled = okJson({"campaign", "list", "--status", "scheduled"});
    ASSERT_EQ(scheduled.size(), 1u);
    EXPECT_EQ(scheduled[0]["name"], "Winter");
    EXPECT_NE(ok({"campaign", "list"}).find("Scheduled"), std::string::npos);

    ok({"campaign", "schedule", "1", localTimeFromNow(7200)});
    ok({"campaign", "unschedule", "1"});
    EXPECT_EQ(okJson({"campaign", "show", "1"})["status"], "draft");

    const auto dashboard = okJson({"dashboard"});
    EXPECT_EQ(dashboard["total_recipients"], 4);
    EXPECT_EQ(dashboard["total_campaigns"], 1);
    EXPECT_EQ(dashboard["sent"], 0);
    EXPECT_EQ(dashboard["failed"], 0);
    const auto summary = okJson({"campaign", "summary", "1"});
    EXPECT_EQ(summary["total"], 3);
    EXPECT_EQ(summary["pending"], 3);
    // Every attached recipient is accounted for, in exactly one state.
    c = okJson({"campaign", "show", "1"});
    EXPECT_EQ(c["recipient_count"].get<int>(),
              c["sent_count"].get<int>() + c["failed_count"].get<int>() + c["unknown_count"].get<int>() +
                  c["skipped_count"].get<int>() + c["pending_count"].get<int>() +
                  c["in_flight_count"].get<int>());
    EXPECT_EQ(c["transport"], "");
    EXPECT_EQ(c["subject_tag"], true);

    // The [CID:N] tag is switched from the command line, and shown with a label.
    EXPECT_NE(ok({"campaign", "show", "1"}).find("Subject tag"), std::string::npos);
    EXPECT_EQ(ok({"campaign", "show", "1"}).find("subject_tag"), std::string::npos) << "no raw key";
    ok({"campaign", "edit", "1", "--no-subject-tag"});
    EXPECT_EQ(okJson({"campaign", "show", "1"})["subject_tag"], false);
    ok({"campaign", "edit", "1", "--subject-tag"});
    EXPECT_EQ(okJson({"campaign", "show", "1"})["subject_tag"], true);
    const auto untagged = okJson({"campaign", "create", "--name", "Plain", "--subject", "Plain news", "--html",
                                  "<p>x</p>", "--no-subject-tag"});
    EXPECT_EQ(untagged["subject_tag"], false);
    EXPECT_EQ(daemon_->ctl({"campaign", "edit", "1", "--subject-tag", "--no-subject-tag"}).exitCode, 2);
}

TEST_P(DaemonTest, BadInputIsRefusedClearlyAndChangesNothing) {
    ok({"group", "create", "newsletter"});
    ok({"recipients", "add", "ada@example.org", "--group", "newsletter"});
    ok({"campaign", "create", "--name", "Winter", "--subject", "Winter news", "--html", "<p>x</p>"});
    const auto recipientsBefore = okJson({"recipients", "list"});
    const auto campaignsBefore = okJson({"campaign", "list"});
    const auto groupsBefore = okJson({"group", "list"});

    refused({"recipients", "add", "not an address"}, "not an address");
    refused({"recipients", "add", "a..b@example.org"}, "two dots");
    refused({"recipients", "add", "ADA@EXAMPLE.ORG"}, "already exists");
    refused({"recipients", "add", "bob@example.org", "--group", "nosuchgroup"}, "nosuchgroup");
    refused({"recipients", "add", "bob@example.org", "--name", "Bob\r\nBcc: evil@example.net"},
            "line break");
    refused({"campaign", "schedule", "1", "2001-01-01T00:00:00Z"}, "in the past");
    refused({"campaign", "show", "99"}, "no campaign with id 99");
    refused({"campaign", "attach", "1", "--group", "nosuchgroup"}, "nosuchgroup");
    refused({"campaign", "attach", "1", "--email", "nobody@example.org"}, "nobody@example.org");
    refused({"campaign", "unschedule", "1"}, "draft");
    refused({"campaign", "create", "--name", "Evil", "--subject", "Hi\r\nBcc: evil@example.net",
             "--html", "<p>x</p>"},
            "line break");
    refused({"campaign", "create", "--name", "Evil", "--subject", "Hi", "--html", "<p>x</p>",
             "--schedule", "2001-01-01T00:00:00Z"},
            "in the past");
    refused({"group", "create", "newsletter"}, "already exists");
    refused({"group", "add", "newsletter", "nobody@example.org"}, "nobody@example.org");

    EXPECT_EQ(okJson({"recipients", "list"}), recipientsBefore);
    EXPECT_EQ(okJson({"campaign", "list"}), campaignsBefore);
    EXPECT_EQ(okJson({"group", "list"}), groupsBefore);
    EXPECT_TRUE(daemon_->running());
}

TEST_P(DaemonTest, UsageErrorsExitTwo) {
    EXPECT_EQ(daemon_->ctl({"frobnicate"}).exitCode, 2);
    EXPECT_EQ(daemon_->ctl({"campaign", "schedule", "1", "next tuesday"}).exitCode, 2);
    EXPECT_EQ(daemon_->ctl({"campaign", "create", "--name", "x"}).exitCode, 2);
    const auto help = daemon_->ctl({"campaign", "--help"});
    EXPECT_EQ(help.exitCode, 0);
    EXPECT_NE(help.out.find("attach"), std::string::npos);
}

TEST_P(DaemonTest, DataSurvivesRestart) {
    ok({"group", "create", "newsletter"});
    ok({"recipients", "add", "ada@example.org", "--name", "Ada", "--group", "newsletter"});
    ok({"campaign", "create", "--name", "Winter", "--subject", "Winter news", "--html", "<p>x</p>"});
    ok({"campaign", "attach", "1", "--group", "newsletter"});
    ok({"campaign", "schedule", "1", "2099-01-01T00:00:00Z"});

    restart();

    EXPECT_EQ(okJson({"recipients", "show", "ada@example.org"})["groups"], json({"newsletter"}));
    const auto c = okJson({"campaign", "show", "1"});
    EXPECT_EQ(c["status"], "scheduled");
    EXPECT_EQ(c["recipient_count"], 1);
    const auto status = daemon_->busctl({"get-property", "org.campaignd.Campaignd1",
                                         "/org/campaignd/Campaignd1/campaign/1",
                                         "org.campaignd.Campaignd1.Campaign", "Status"});
    EXPECT_EQ(status.out, "s \"scheduled\"\n") << status.err;
    // Ids are not reused after a restart.
    ok({"campaign", "create", "--name", "Spring", "--subject", "Spring", "--html", "<p>x</p>"});
    EXPECT_EQ(okJson({"campaign", "show", "2"})["name"], "Spring");
}

// campaignd --check-config beside a running daemon: it reads the database the daemon made
// (its schema version, as status reports it) on either backend, and answers without touching
// the bus or the running daemon.
TEST_P(DaemonTest, CheckConfigReadsTheRunningDaemonsDatabase) {
    const auto status = okJson({"status"});
    const auto r = run({campaigndBinary(), "--user", "--check-config", "--config", (dir_ / "campaignd.conf").string()});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    const std::string backend = GetParam() == Backend::Sqlite ? "sqlite" : "postgresql";
    EXPECT_NE(r.out.find("database: " + backend + " "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("schema version " + std::to_string(status["schema_version"].get<int>())), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("the configuration is valid"), std::string::npos) << r.out;
    EXPECT_TRUE(daemon_->running());
    ok({"status"});
}

// `recipients list --search` and Manager.ListRecipientsEx: a substring of the address or the
// name in any case, the user's % taken literally, and the total of matches beside a page.
TEST_P(DaemonTest, RecipientsAreSearchedWithAPageAndTheTotalOfMatches) {
    ok({"group", "create", "staff"});
    ok({"recipients", "add", "ada@example.org", "--name", "Ada Lovelace", "--group", "staff"});
    ok({"recipients", "add", "grace@example.org", "--name", "Grace Hopper", "--group", "staff"});
    ok({"recipients", "add", "alan@example.net", "--name", "Alan 100% Turing"});
    ok({"recipients", "add", "hopper.fan@example.net", "--name", "Fan"});

    auto emails = [](const json& list) {
        std::vector<std::string> out;
        for (const auto& r : list) out.push_back(r["email"]);
        return out;
    };
    EXPECT_EQ(emails(okJson({"recipients", "list", "--search", "HOPPER"})),
              (std::vector<std::string>{"grace@example.org", "hopper.fan@example.net"}));
    EXPECT_EQ(emails(okJson({"recipients", "list", "--search", "hopper", "--group", "staff"})),
              (std::vector<std::string>{"grace@example.org"}));
    EXPECT_EQ(emails(okJson({"recipients", "list", "--search", "%"})), (std::vector<std::string>{"alan@example.net"}));
    EXPECT_EQ(emails(okJson({"recipients", "list", "--search", "EXAMPLE.NET", "--limit", "1", "--offset", "1"})),
              (std::vector<std::string>{"hopper.fan@example.net"}));
    EXPECT_NE(ok({"recipients", "list", "--search", "lovelace"}).find("Ada Lovelace"), std::string::npos);

    // The bus: a page of one and the total of the three matches.
    const auto page = daemon_->busctl({"--json=short", "call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                       "org.campaignd.Campaignd1.Manager", "ListRecipientsEx", "a{sv}", "2", "search",
                                       "s", "example.", "limit", "t", "1"});
    ASSERT_EQ(page.exitCode, 0) << page.err;
    const json reply = json::parse(page.out);
    ASSERT_EQ(reply["data"].size(), 2u) << page.out;
    ASSERT_EQ(reply["data"][0].size(), 1u) << page.out;
    EXPECT_EQ(reply["data"][0][0]["email"]["data"], "ada@example.org") << page.out;
    EXPECT_EQ(reply["data"][1], 4) << page.out;
    const auto bad = daemon_->busctl({"call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                      "org.campaignd.Campaignd1.Manager", "ListRecipientsEx", "a{sv}", "1", "search",
                                      "s", std::string(1001, 'x')});
    EXPECT_NE(bad.err.find("longer than 1000 bytes"), std::string::npos) << bad.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, DaemonTest, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

}  // namespace
}  // namespace campaignd::test

// alignment_test.cpp: DMARC alignment by default, on SQLite and PostgreSQL, through the real
// daemon and campaignd-ctl with the maildir transport. With no EnvelopeDomain=, the VERP
// envelope sender is in the campaign's own From domain (or EnvelopeSubdomain= under it), and a
// bounce to such an address still names its campaign and recipient. When the From domain aligns
// with neither the envelope domain nor a DKIM key, `campaign create`, `edit` and `send` warn on
// stderr, and `campaign show` says which of SPF and DKIM alignment the campaign can pass.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "backends.h"
#include "daemon_fixture.h"
#include "support/postgres_environment.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

class AlignmentTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        fs::create_directories(dir_ / "plugins");
        fs::copy_file(MAILDIR_PLUGIN, dir_ / "plugins" / "maildir.so");
        database_ = databaseFor(GetParam(), dir_, "alignment");
        const auto r = run({"openssl", "genpkey", "-algorithm", "ed25519", "-out", (dir_ / "dkim.key").string()});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        fs::permissions(dir_ / "dkim.key", fs::perms::owner_read | fs::perms::owner_write);
    }

    void start(const std::string& sending, bool dkimKey) {
        DaemonConfig config;
        config.database = database_;
        config.extra = "[Sending]\nDefaultTransport=local\nFrom=News <news@example.org>\n" + sending +
                       "\n[Transport local]\nPlugin=maildir\nPath=" + (dir_ / "outbox").string() + "\n";
        if (dkimKey) config.extra += "\n[DKIM example.org]\nSelector=ed\nKeyFile=" + (dir_ / "dkim.key").string() + "\n";
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
        daemon_->ctlOk({"recipients", "add", "ada@example.net", "--name", "Ada"});
    }

    // campaign create (with `more`), then attach Ada; returns the id and create's stderr.
    std::pair<int, std::string> create(const std::vector<std::string>& more = {}) {
        std::vector<std::string> args{"--json", "campaign", "create", "--name", "News", "--subject", "Hello",
                                      "--html", "<p>News.</p>"};
        args.insert(args.end(), more.begin(), more.end());
        const auto r = daemon_->ctl(args);
        EXPECT_EQ(r.exitCode, 0) << r.err;
        const int id = json::parse(r.out, nullptr, false).value("id", 0);
        return {id, r.err};
    }

    // Sends campaign `id` (Ada attached), waits, and returns the envelope sender of its message
    // ("bounces+<id>-<token>@domain") and send's stderr.
    std::pair<std::string, std::string> send(int id) {
        daemon_->ctlOk({"campaign", "attach", std::to_string(id), "--email", "ada@example.net"});
        const auto r = daemon_->ctl({"campaign", "send", std::to_string(id)});
        EXPECT_EQ(r.exitCode, 0) << r.err;
        EXPECT_TRUE(waitUntil([&] { return daemon_->ctlCampaign(id)["status"] == "completed"; }, 60s));
        const std::string tag = "[CID:" + std::to_string(id) + "]";
        for (const auto& e : fs::directory_iterator(dir_ / "outbox" / "new")) {
            const std::string text = readFile(e.path());
            if (text.find(tag) == std::string::npos) continue;
            const auto at = text.find("Return-Path: <");
            if (at == std::string::npos) break;
            return {text.substr(at + 14, text.find('>', at) - at - 14), r.err};
        }
        ADD_FAILURE() << "no message of campaign " << id;
        return {{}, r.err};
    }

    // campaign show's text with the column padding after each label squeezed to one space.
    std::string show(int id) {
        return std::regex_replace(daemon_->ctlOk({"campaign", "show", std::to_string(id)}), std::regex(":  +"), ": ");
    }

    TempDir dir_{"campaignd-alignment"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::string database_;
    std::unique_ptr<Campaignd> daemon_;
};

TEST_P(AlignmentTest, TheEnvelopeSenderIsInTheCampaignsFromDomainByDefault) {
    start("", true);
    const auto [news, newsWarnings] = create();
    EXPECT_EQ(newsWarnings.find("warning:"), std::string::npos) << newsWarnings;
    const auto [envelope, sendWarnings] = send(news);
    EXPECT_EQ(envelope.rfind("bounces+" + std::to_string(news) + "-", 0), 0u) << envelope;
    EXPECT_EQ(envelope.substr(envelope.find('@')), "@example.org") << envelope;
    EXPECT_EQ(sendWarnings.find("warning:"), std::string::npos) << sendWarnings;

    // Another From domain: the envelope follows it.
    const auto [other, otherWarnings] = create({"--from", "Other <desk@Other.Example>"});
    const auto [otherEnvelope, unused] = send(other);
    EXPECT_EQ(otherEnvelope.substr(otherEnvelope.find('@')), "@other.example") << otherEnvelope;

    // A notice to that address still names the campaign and the recipient.
    writeFile(dir_ / "notice.eml",
              "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.net\r\nTo: " + otherEnvelope +
                  "\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
                  "report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nNo.\r\n"
                  "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
                  "Final-Recipient: rfc822; ada@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                  "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n--B--\r\n");
    const auto found = daemon_->ctlJson({"bounces", "ingest", (dir_ / "notice.eml").string(), "--dry-run"});
    ASSERT_EQ(found["results"].size(), 1u) << found.dump();
    EXPECT_EQ(found["results"][0]["campaign_id"], other) << found.dump();
    EXPECT_EQ(found["results"][0]["recipient"], "ada@example.net") << found.dump();

    // campaign show: both ways for the signed campaign; SPF only for the other.
    const json shown = daemon_->ctlCampaign(news);
    EXPECT_EQ(shown["envelope_domain"], "example.org") << shown.dump();
    EXPECT_EQ(shown["spf_aligned"], true);
    EXPECT_EQ(shown["dkim_aligned"], true);
    EXPECT_EQ(shown["dkim_domain"], "example.org");
    const std::string text = show(news);
    EXPECT_NE(text.find("SPF alignment: can pass: envelope domain example.org"), std::string::npos) << text;
    EXPECT_NE(text.find("DKIM alignment: can pass: signed as example.org"), std::string::npos) << text;
    const std::string otherText = show(other);
    EXPECT_NE(otherText.find("SPF alignment: can pass: envelope domain other.example"), std::string::npos) << otherText;
    EXPECT_NE(otherText.find("DKIM alignment: cannot pass: unsigned"), std::string::npos) << otherText;
}

TEST_P(AlignmentTest, EnvelopeSubdomainPutsTheEnvelopeUnderTheFromDomain) {
    start("EnvelopeSubdomain=bounces\n", true);
    const auto [id, warnings] = create();
    const auto [envelope, unused] = send(id);
    EXPECT_EQ(envelope.substr(envelope.find('@')), "@bounces.example.org") << envelope;
    EXPECT_EQ(daemon_->ctlCampaign(id)["spf_aligned"], true);
}

TEST_P(AlignmentTest, CreateEditAndSendWarnWhenTheFromDomainAlignsWithNeither) {
    start("EnvelopeDomain=bounces.mailer.test\n", false);
    const std::string neither =
        "warning: the From domain example.org aligns with neither the envelope domain bounces.mailer.test (SPF) "
        "nor a DKIM signature";
    const auto [id, created] = create();
    EXPECT_NE(created.find(neither), std::string::npos) << created;
    EXPECT_NE(created.find("warning: campaign is sent unsigned: no [DKIM example.org] key"), std::string::npos)
        << created;
    const std::string shown = show(id);
    EXPECT_NE(shown.find("SPF alignment: cannot pass: envelope domain bounces.mailer.test"), std::string::npos) << shown;
    EXPECT_NE(shown.find("DKIM alignment: cannot pass: unsigned"), std::string::npos) << shown;

    // An edit to another unaligned From warns again; one within the envelope's organisation
    // aligns SPF and only the unsigned warning is left.
    const auto edited = daemon_->ctl({"campaign", "edit", std::to_string(id), "--from", "desk@elsewhere.test"});
    EXPECT_EQ(edited.exitCode, 0) << edited.err;
    EXPECT_NE(edited.err.find("warning: the From domain elsewhere.test aligns with neither"), std::string::npos)
        << edited.err;
    const auto aligned = daemon_->ctl({"campaign", "edit", std::to_string(id), "--from", "news@news.mailer.test"});
    EXPECT_EQ(aligned.exitCode, 0) << aligned.err;
    EXPECT_EQ(aligned.err.find("aligns with neither"), std::string::npos) << aligned.err;
    EXPECT_EQ(daemon_->ctlCampaign(id)["spf_aligned"], true);

    // Send: back to an unaligned From, and send warns (and the daemon logs it).
    daemon_->ctlOk({"campaign", "edit", std::to_string(id), "--from", "news@example.org"});
    const auto [envelope, sent] = send(id);
    EXPECT_EQ(envelope.substr(envelope.find('@')), "@bounces.mailer.test") << envelope;
    EXPECT_NE(sent.find(neither), std::string::npos) << sent;
    EXPECT_NE(daemon_->process().err().find("aligns with neither"), std::string::npos);
}

// The unsigned warning comes back in the CreateCampaignEx reply itself (as Update's reply has
// the alignment warnings), so a caller hears it at once; a campaign whose From domain has a key
// gets none. campaign create prints what the reply says.
TEST_P(AlignmentTest, CreateCampaignExRepliesWithTheUnsignedWarning) {
    const auto createEx = [&](const std::string& from) {
        const auto r = daemon_->busctl({"--json=short", "call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                        "org.campaignd.Campaignd1.Manager", "CreateCampaignEx", "a{sv}t", "4", "name",
                                        "s", "News", "subject", "s", "Hello", "html_content", "s", "<p>News.</p>",
                                        "from_address", "s", from, "0"});
        EXPECT_EQ(r.exitCode, 0) << r.err;
        const json reply = json::parse(r.out, nullptr, false);
        EXPECT_EQ(reply["type"], "toa{sv}") << r.out;
        return reply["data"];
    };
    start("", true);
    const json unsigned_ = createEx("news@other.example");
    ASSERT_EQ(unsigned_.size(), 3u) << unsigned_.dump();
    EXPECT_EQ(unsigned_[1], "/org/campaignd/Campaignd1/campaign/" + std::to_string(unsigned_[0].get<int>()));
    const json warnings = unsigned_[2]["warnings"]["data"];
    ASSERT_FALSE(warnings.empty()) << unsigned_.dump();
    EXPECT_EQ(warnings[0], "campaign is sent unsigned: no [DKIM other.example] key signs its From domain; receivers "
                           "that require DMARC may junk or reject it");
    EXPECT_EQ(unsigned_[2]["dkim_domain"]["data"], "");
    const json signed_ = createEx("news@example.org");
    EXPECT_TRUE(signed_[2]["warnings"]["data"].empty()) << signed_.dump();
    EXPECT_EQ(signed_[2]["dkim_domain"]["data"], "example.org");

    const auto [id, created] = create({"--from", "news@other.example"});
    EXPECT_NE(created.find("warning: campaign is sent unsigned: no [DKIM other.example] key"), std::string::npos)
        << created;
}

INSTANTIATE_TEST_SUITE_P(Backends, AlignmentTest, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

}  // namespace
}  // namespace campaignd::test

// dkim_send_test.cpp: DKIM-signed campaigns end to end, on SQLite and PostgreSQL: the real
// daemon with [DKIM example.org] keys made by openssl for the test, sending through the maildir
// transport, the smtp transport to Postfix's smtp-sink, and the smtp transport through a real
// private Postfix; every message that arrives is checked by an independent verifier
// (python3-dkim, tests/support/dkim_verify.py, its DNS answered with the test's keys). Non-ASCII
// names and subjects and long lines are in every campaign. A campaign whose From domain has no
// key goes out unsigned, and the daemon warns when it starts.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "backends.h"
#include "daemon_fixture.h"
#include "support/postfix_server.h"
#include "support/postgres_environment.h"
#include "support/smtp_sink.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

constexpr auto kPrivate = fs::perms::owner_read | fs::perms::owner_write;

class DkimSendTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        fs::create_directories(dir_ / "plugins");
        fs::copy_file(MAILDIR_PLUGIN, dir_ / "plugins" / "maildir.so");
        fs::copy_file(SMTP_PLUGIN, dir_ / "plugins" / "smtp.so");
        fs::copy_file(CSV_IMPORTER_PLUGIN, dir_ / "plugins" / "csv-importer.so");
        database_ = databaseFor(GetParam(), dir_, "dkimsend");
        makeKey("rsa.key", {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"});
        makeKey("ed25519.key", {"-algorithm", "ed25519"});
        rsaRecord_ = txtRecord("rsa.key", false);
        edRecord_ = txtRecord("ed25519.key", true);
    }

    void makeKey(const std::string& name, std::vector<std::string> args) {
        std::vector<std::string> argv{"openssl", "genpkey"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"-out", (dir_ / name).string()});
        const auto r = run(argv);
        ASSERT_EQ(r.exitCode, 0) << r.err;
        fs::permissions(dir_ / name, kPrivate);
    }

    // The DKIM TXT record of a key, made with openssl and python, not with campaignd.
    std::string txtRecord(const std::string& key, bool ed25519) {
        return std::string("v=DKIM1; k=") + (ed25519 ? "ed25519" : "rsa") + "; p=" + dkimPublicKey(dir_ / key, ed25519);
    }

    std::string dkimSections(bool ed25519 = true) const {
        std::string s = "[DKIM example.org]\nSelector=rsa2026\nKeyFile=" + (dir_ / "rsa.key").string() + "\n";
        if (ed25519)
            s += "\n[DKIM example.org ed25519]\nSelector=ed2026\nAlgorithm=ed25519-sha256\nKeyFile=" +
                 (dir_ / "ed25519.key").string() + "\n";
        return s;
    }

    void start(const std::string& transport, const std::string& more = {}) {
        DaemonConfig config;
        config.database = database_;
        config.extra = "[Sending]\nDefaultTransport=out\nFrom=Nachrichten Ä <news@example.org>\n"
                       "EnvelopeDomain=bounces.example.org\nUnsubscribeURL=https://news.example.org/u/{token}\n\n"
                       "[Transport out]\n" + transport + "\n" + more;
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    // Recipients with plain and non-ASCII names, a long subject and a body with a long line.
    int campaignFor(int n, const std::vector<std::string>& more = {}) {
        std::string csv = "email,name\nzoe@example.org,Zoë Ünicode-Øster\n";
        for (int i = 1; i < n; ++i) csv += "r" + std::to_string(i) + "@example.org,Person " + std::to_string(i) + "\n";
        writeFile(dir_ / "people.csv", csv);
        daemon_->ctlOk({"group", "create", "people"});
        EXPECT_EQ(daemon_->ctlJson({"recipients", "import", (dir_ / "people.csv").string(), "--group", "people"})["imported"], n);
        std::vector<std::string> args{"campaign", "create", "--name", "Frühling", "--subject",
                                      "Frühlingsnachrichten für {{name}}: ein Betreff, der länger ist als eine Zeile "
                                      "und gefaltet werden muss — mit Ümläuten",
                                      "--html", "<h1>Hallo {{name}}</h1><p>" + std::string(2500, 'x') + "</p>"};
        args.insert(args.end(), more.begin(), more.end());
        const int id = daemon_->ctlJson(args).value("id", 0);
        daemon_->ctlOk({"campaign", "attach", std::to_string(id), "--group", "people"});
        return id;
    }

    void sendAndWait(int id) {
        daemon_->ctlOk({"campaign", "send", std::to_string(id)});
        ASSERT_TRUE(waitUntil([&] { return daemon_->ctlCampaign(id)["status"] == "completed"; }, 120s))
            << daemon_->ctlCampaign(id).dump();
    }

    // dkim_verify.py on one message, expecting `signatures` signatures that all verify.
    RunResult verify(const std::string& message, int signatures) {
        static int n = 0;
        const auto file = dir_ / ("check-" + std::to_string(++n) + ".eml");
        writeFile(file, message);
        return run({"/usr/bin/python3", CAMPAIGND_SOURCE_DIR "/tests/support/dkim_verify.py", "--expect",
                    std::to_string(signatures), "--record=rsa2026._domainkey.example.org=" + rsaRecord_,
                    "--record=ed2026._domainkey.example.org=" + edRecord_, file.string()});
    }

    void expectAllVerify(const std::vector<std::string>& messages, std::size_t count, int signatures) {
        ASSERT_EQ(messages.size(), count);
        bool sawZoe = false;
        for (const auto& m : messages) {
            sawZoe = sawZoe || m.find("zoe@example.org") != std::string::npos;
            const auto r = verify(m, signatures);
            EXPECT_EQ(r.exitCode, 0) << r.out << r.err << "\n" << m.substr(0, 1500);
        }
        EXPECT_TRUE(sawZoe);
    }

    static std::vector<std::string> maildirMessages(const fs::path& maildir) {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(maildir / "new")) out.push_back(readFile(e.path()));
        return out;
    }

    TempDir dir_{"campaignd-dkim-send"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::string database_;
    std::string rsaRecord_, edRecord_;
    std::unique_ptr<Campaignd> daemon_;
};

TEST_P(DkimSendTest, MaildirMessagesCarryAnRsaAndAnEd25519SignatureThatBothVerify) {
    start("Plugin=maildir\nPath=" + (dir_ / "outbox").string() + "\n", dkimSections());
    const int id = campaignFor(5);
    sendAndWait(id);
    const auto messages = maildirMessages(dir_ / "outbox");
    expectAllVerify(messages, 5, 2);
    for (const auto& m : messages)
        EXPECT_NE(m.find("\r\nFeedback-ID: " + std::to_string(id) + ":example.org\r\n"), std::string::npos)
            << m.substr(0, 1500);
    // Altered after signing: the verifier refuses it.
    std::string altered = messages.front();
    const auto at = altered.find("Hallo");
    ASSERT_NE(at, std::string::npos);
    altered.replace(at, 5, "Hullo");
    EXPECT_EQ(verify(altered, 2).exitCode, 1);
    EXPECT_EQ(daemon_->process().err().find("sent unsigned"), std::string::npos) << daemon_->process().err();
}

TEST_P(DkimSendTest, SmtpSinkMessagesVerify) {
    if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
    SmtpSink sink;
    start("Plugin=smtp\nURL=" + sink.url() + "\n", dkimSections(false));
    const int id = campaignFor(4);
    sendAndWait(id);
    ASSERT_TRUE(sink.waitForMessages(4));
    std::vector<std::string> messages;
    for (const auto& m : sink.messages()) messages.push_back(m.data);
    expectAllVerify(messages, 4, 1);
}

TEST_P(DkimSendTest, MessagesStillVerifyAfterPassingThroughARealPostfix) {
    if (!PostfixServer::available()) GTEST_SKIP() << "postfix, dovecot or openssl missing, or not root";
    PostfixServer server;
    start("Plugin=smtp\nURL=" + server.url() + "\nCAFile=" + server.caFile().string() + "\n", dkimSections());
    const int id = campaignFor(3);
    sendAndWait(id);
    ASSERT_TRUE(server.waitForDeliveries(3)) << server.log();
    const auto delivered = server.delivered();
    // Postfix added its own headers (Received, Return-Path, Delivered-To) and stored LF lines.
    ASSERT_FALSE(delivered.empty());
    EXPECT_NE(delivered.front().find("Received: "), std::string::npos);
    expectAllVerify(delivered, 3, 2);
}

// List-Id (RFC 2919) from the campaign's groups (the lowest group id of those attached): the
// group's name, quotes and non-ASCII letters included, safely encoded, and the header signed:
// python3-dkim verifies the message, its h= names List-Id, and a List-Id changed after signing
// fails.
TEST_P(DkimSendTest, ListIdNamesTheCampaignsFirstGroupAndIsSigned) {
    start("Plugin=maildir\nPath=" + (dir_ / "outbox").string() + "\n", dkimSections(false));
    daemon_->ctlOk({"group", "create", "Nachrichten \"Ärzte\""});
    daemon_->ctlOk({"group", "create", "second"});
    writeFile(dir_ / "people.csv", "email,name\nzoe@example.org,Zoë\nr1@example.org,One\n");
    EXPECT_EQ(daemon_->ctlJson({"recipients", "import", (dir_ / "people.csv").string(), "--group",
                                "Nachrichten \"Ärzte\""})["imported"], 2);
    const int id = daemon_->ctlJson({"campaign", "create", "--name", "News", "--subject", "Hello", "--html",
                                     "<p>Hello {{name}}</p>"})
                       .value("id", 0);
    daemon_->ctlOk({"campaign", "attach", std::to_string(id), "--group", "second"});
    daemon_->ctlOk({"campaign", "attach", std::to_string(id), "--group", "Nachrichten \"Ärzte\""});
    sendAndWait(id);
    const auto messages = maildirMessages(dir_ / "outbox");
    expectAllVerify(messages, 2, 1);
    for (const auto& m : messages) {
        const auto at = m.find("\r\nList-Id: ");
        ASSERT_NE(at, std::string::npos) << m.substr(0, 1500);
        // The field, unfolded (it is folded at 76 columns).
        std::string field;
        for (std::size_t i = at + 2; i < m.size() && !(m.compare(i, 2, "\r\n") == 0 && m[i + 2] != ' ');)
            if (m.compare(i, 2, "\r\n") == 0) i += 2;
            else field += m[i++];
        // Not ASCII: RFC 2047 encoded-words, then the list-id in the From domain.
        EXPECT_EQ(field.rfind("List-Id: =?UTF-8?", 0), 0u) << field;
        EXPECT_NE(field.find(" <nachrichten-rzte.example.org>"), std::string::npos) << field;
        const auto signature = m.find("DKIM-Signature:");
        ASSERT_NE(signature, std::string::npos);
        const std::string dkim = m.substr(signature, m.find("\r\n\r\n") - signature);
        EXPECT_NE(dkim.find("List-Id"), std::string::npos) << dkim;
    }
    std::string altered = messages.front();
    const auto at = altered.find("<nachrichten-rzte.example.org>");
    ASSERT_NE(at, std::string::npos);
    altered.replace(at, std::string("<nachrichten-rzte.example.org>").size(), "<other-list.example.org>");
    EXPECT_EQ(verify(altered, 1).exitCode, 1);
}

TEST_P(DkimSendTest, ACampaignFromADomainWithoutAKeyIsSentUnsignedWithAWarning) {
    start("Plugin=maildir\nPath=" + (dir_ / "outbox").string() + "\n", dkimSections(false));
    const int id = campaignFor(2, {"--from", "Other <news@other.example>"});
    sendAndWait(id);
    const auto messages = maildirMessages(dir_ / "outbox");
    ASSERT_EQ(messages.size(), 2u);
    for (const auto& m : messages) EXPECT_EQ(m.find("DKIM-Signature"), std::string::npos) << m.substr(0, 600);
    EXPECT_NE(daemon_->process().err().find("campaign is sent unsigned: no [DKIM other.example] key"),
              std::string::npos)
        << daemon_->process().err();
}

// campaignd-ctl dkim keygen: a key file of mode 0600 that is never overwritten, and a TXT record
// with which the messages signed by that key verify.
TEST_P(DkimSendTest, AKeyFromDkimKeygenSignsMessagesThatVerifyWithItsTxtRecord) {
    const auto keyFile = dir_ / "made.key";
    const auto made = run({ctlBinary(), "--json", "dkim", "keygen", "--domain", "Example.org", "--selector", "gen2026",
                           "--algorithm", "ed25519-sha256", "--output", keyFile.string()});
    ASSERT_EQ(made.exitCode, 0) << made.err;
    const json key = json::parse(made.out);
    EXPECT_EQ(key["dns_name"], "gen2026._domainkey.example.org");
    EXPECT_EQ(made.out.find("PRIVATE KEY"), std::string::npos) << "the key is never printed";
    EXPECT_EQ(fs::status(keyFile).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_EQ(key["txt_record"], txtRecord("made.key", true)) << "the record is openssl's view of the key";
    const auto again = run({ctlBinary(), "dkim", "keygen", "--domain", "example.org", "--selector", "x", "--output",
                            keyFile.string()});
    EXPECT_EQ(again.exitCode, 1);
    EXPECT_NE(again.err.find("never overwritten"), std::string::npos) << again.err;
    const auto weak = run({ctlBinary(), "dkim", "keygen", "--domain", "example.org", "--selector", "x", "--bits", "1024",
                           "--output", (dir_ / "weak.key").string()});
    EXPECT_EQ(weak.exitCode, 2) << weak.err;
    EXPECT_FALSE(fs::exists(dir_ / "weak.key"));

    start("Plugin=maildir\nPath=" + (dir_ / "outbox").string() + "\n",
          "[DKIM example.org]\nSelector=gen2026\nKeyFile=" + keyFile.string() + "\n");
    sendAndWait(campaignFor(2));
    for (const auto& m : maildirMessages(dir_ / "outbox")) {
        writeFile(dir_ / "made.eml", m);
        const auto r = run({"/usr/bin/python3", CAMPAIGND_SOURCE_DIR "/tests/support/dkim_verify.py", "--expect", "1",
                            "--record=gen2026._domainkey.example.org=" + key["txt_record"].get<std::string>(),
                            (dir_ / "made.eml").string()});
        EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
    }
}

// The keys are read once at start-up: a reload that changes them says they wait for a restart,
// and the running daemon goes on signing with the keys it has.
TEST_P(DkimSendTest, AReloadThatChangesTheKeysSaysTheyTakeEffectAtTheNextRestart) {
    start("Plugin=maildir\nPath=" + (dir_ / "outbox").string() + "\n", dkimSections(false));
    const auto config = dir_ / "campaignd.conf";
    writeFile(config, readFile(config) + "\n" + dkimSections(true).substr(dkimSections(false).size()));
    daemon_->process().signal(SIGHUP);
    EXPECT_TRUE(daemon_->process().waitForOutput("changed, and taking effect at the next restart: [DKIM example.org ed25519]", 10s))
        << daemon_->process().err();
    const int id = campaignFor(1);
    sendAndWait(id);
    const auto messages = maildirMessages(dir_ / "outbox");
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(verify(messages.front(), 1).exitCode, 0);  // the rsa key only, as at start-up
}

INSTANTIATE_TEST_SUITE_P(Backends, DkimSendTest, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         backendTestName);

}  // namespace
}  // namespace campaignd::test

// smtp_tls_test.cpp: the built smtp.so against a private Postfix (tests/support/postfix_server.h)
// that offers STARTTLS and implicit TLS with a self-signed certificate and SASL AUTH (through a
// private Dovecot) only after TLS, relaying nothing for anyone who has not logged in: the
// successful paths smtp-sink cannot show (STARTTLS, smtps, AUTH, delivery), and the failures a
// real server produces (an untrusted certificate, a wrong password, AUTH withheld without TLS,
// relaying refused to a client that did not log in).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "plugin-host/plugin_host.h"
#include "support/postfix_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using namespace campaignd::plugins;
using namespace campaignd::test;

constexpr const char* kPassword = "c0rrect-h0rse-battery";

const std::string kBody =
    "From: Campaigns <news@example.org>\r\n"
    "To: Ada <ada@example.org>\r\n"
    "Subject: TLS test\r\n"
    "\r\n"
    "Hello over TLS,\r\n"
    ".a line that starts with a dot\r\n"
    "the end\r\n";

class SmtpTls : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!PostfixServer::available()) return;
        PostfixServerOptions options;
        options.users = {{"campaigns", kPassword}};
        server_ = new PostfixServer(options);
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    void SetUp() override {
        if (server_ == nullptr) GTEST_SKIP() << "needs root, postfix, dovecot and openssl";
        fs::create_directory(dir_ / "plugins");
        fs::copy_file(SMTP_PLUGIN, dir_ / "plugins" / "smtp.so");
        host_ = std::make_unique<PluginHost>(dir_ / "plugins", nullptr);
        host_->start();
        ASSERT_EQ(host_->plugins().at(0).state, PluginState::Running) << host_->plugins().at(0).error;
        writeFile(dir_ / "password", std::string(kPassword) + "\n", fs::perms::owner_read);
        writeFile(dir_ / "wrong-password", "not-the-password\n", fs::perms::owner_read);
    }

    std::unique_ptr<TransportSession> open(const std::map<std::string, std::string>& settings) {
        return host_->transport("smtp")->openSession("relay", settings);
    }

    std::map<std::string, std::string> loggedIn(const std::string& url) {
        return {{"URL", url},
                {"StartTLS", "required"},
                {"CAFile", server_->caFile().string()},
                {"Username", "campaigns"},
                {"PasswordFile", (dir_ / "password").string()},
                {"Timeout", "10"}};
    }

    struct Sent {
        SendStatus status;
        std::vector<DeliveryResult> results;
    };

    static Sent send(TransportSession& session, const std::vector<std::string>& recipients) {
        std::vector<OutgoingMessage> batch;
        for (std::size_t i = 0; i < recipients.size(); ++i) {
            OutgoingMessage m;
            m.token = i + 1;
            m.envelopeFrom = "bounces+1-x@example.org";
            m.recipient = recipients[i];
            m.data = kBody;
            batch.push_back(m);
        }
        Sent out;
        out.status = session.send(batch, [&](const DeliveryResult& r) { out.results.push_back(r); });
        return out;
    }

    static PostfixServer* server_;
    TempDir dir_{"campaignd-smtp-tls-test"};
    std::unique_ptr<PluginHost> host_;
};

PostfixServer* SmtpTls::server_ = nullptr;

TEST_F(SmtpTls, StartTlsAndAuthThenTheServerDeliversEveryMessage) {
    const std::size_t before = server_->delivered().size();
    auto session = open(loggedIn(server_->url()));
    const Sent sent = send(*session, {"ada@example.org", "bob@example.org"});
    ASSERT_TRUE(sent.status.ok()) << sent.status.message << "\n" << server_->log();
    ASSERT_EQ(sent.results.size(), 2u);
    for (const auto& r : sent.results) {
        EXPECT_EQ(r.outcome, DeliveryOutcome::Sent) << r.text;
        EXPECT_EQ(r.smtpCode, 250);
        EXPECT_EQ(r.enhancedStatus, "2.0.0");
        EXPECT_NE(r.text.find("queued as"), std::string::npos) << r.text;
    }
    ASSERT_TRUE(server_->waitForDeliveries(before + 2)) << server_->log();
    const auto delivered = server_->delivered();
    for (std::size_t i = before; i < delivered.size(); ++i) {
        EXPECT_NE(delivered[i].find("\nHello over TLS,\n.a line that starts with a dot\nthe end\n"), std::string::npos)
            << delivered[i];
        // Postfix's Received header says how it came: "ESMTPSA" is ESMTP over TLS (S) from a
        // client that authenticated (A), RFC 3848.
        EXPECT_NE(delivered[i].find(" with ESMTPSA id "), std::string::npos) << delivered[i];
    }
}

// A server that offers only AUTH LOGIN (the client prefers PLAIN): the two-step exchange.
TEST_F(SmtpTls, AuthLoginWhenThatIsAllTheServerOffers) {
    PostfixServerOptions options;
    options.users = {{"campaigns", kPassword}};
    options.saslMechanisms = "login";
    PostfixServer loginOnly(options);
    auto settings = loggedIn(loginOnly.url());
    settings["CAFile"] = loginOnly.caFile().string();
    auto session = open(settings);
    const Sent sent = send(*session, {"dora@example.org"});
    ASSERT_TRUE(sent.status.ok()) << sent.status.message << "\n" << loginOnly.log();
    EXPECT_EQ(sent.results.at(0).outcome, DeliveryOutcome::Sent) << sent.results.at(0).text;
    ASSERT_TRUE(loginOnly.waitForDeliveries(1)) << loginOnly.log();
    EXPECT_NE(loginOnly.delivered().at(0).find(" with ESMTPSA id "), std::string::npos);
    EXPECT_NE(loginOnly.log().find("sasl_method=LOGIN"), std::string::npos) << loginOnly.log();
    EXPECT_EQ(loginOnly.log().find(kPassword), std::string::npos);
}

TEST_F(SmtpTls, ImplicitTlsDeliversToo) {
    const std::size_t before = server_->delivered().size();
    auto session = open(loggedIn(server_->smtpsUrl()));
    const Sent sent = send(*session, {"carol@example.org"});
    ASSERT_TRUE(sent.status.ok()) << sent.status.message << "\n" << server_->log();
    EXPECT_EQ(sent.results.at(0).outcome, DeliveryOutcome::Sent) << sent.results.at(0).text;
    EXPECT_TRUE(server_->waitForDeliveries(before + 1)) << server_->log();
}

TEST_F(SmtpTls, AnUntrustedCertificateIsATlsFailure) {
    auto settings = loggedIn(server_->url());
    settings.erase("CAFile");  // the system's CAs do not know the test certificate
    auto session = open(settings);
    const Sent sent = send(*session, {"ada@example.org"});
    EXPECT_EQ(sent.status.status, TransportStatus::Tls) << sent.status.message;
    EXPECT_EQ(sent.results.at(0).outcome, DeliveryOutcome::NotHandedOver);
    EXPECT_EQ(sent.status.message.find(kPassword), std::string::npos);

    settings = loggedIn(server_->smtpsUrl());
    settings.erase("CAFile");
    auto implicit = open(settings);
    EXPECT_EQ(send(*implicit, {"ada@example.org"}).status.status, TransportStatus::Tls);
}

TEST_F(SmtpTls, AWrongPasswordIsAnAuthFailureWithTheServersWords) {
    auto settings = loggedIn(server_->url());
    settings["PasswordFile"] = (dir_ / "wrong-password").string();
    auto session = open(settings);
    const Sent sent = send(*session, {"ada@example.org"});
    EXPECT_EQ(sent.status.status, TransportStatus::Auth) << sent.status.message;
    EXPECT_NE(sent.status.message.find("535 5.7.8"), std::string::npos) << sent.status.message;
    EXPECT_EQ(sent.status.message.find("not-the-password"), std::string::npos) << sent.status.message;
    EXPECT_EQ(sent.results.at(0).outcome, DeliveryOutcome::NotHandedOver);
}

TEST_F(SmtpTls, WithoutTlsTheServerWithholdsAuthAndNothingIsSent) {
    auto settings = loggedIn(server_->url());
    settings["StartTLS"] = "no";  // allowed on loopback; this server offers AUTH only after TLS
    settings.erase("CAFile");
    auto session = open(settings);
    const Sent sent = send(*session, {"ada@example.org"});
    EXPECT_EQ(sent.status.status, TransportStatus::Auth) << sent.status.message;
    EXPECT_NE(sent.status.message.find("offers no AUTH (without TLS)"), std::string::npos) << sent.status.message;
    EXPECT_EQ(sent.results.at(0).outcome, DeliveryOutcome::NotHandedOver);
}

TEST_F(SmtpTls, AClientThatDidNotLogInIsRefusedPerRecipient) {
    auto session = open({{"URL", server_->url()}, {"StartTLS", "required"}, {"CAFile", server_->caFile().string()}});
    const Sent sent = send(*session, {"ada@example.org"});
    ASSERT_TRUE(sent.status.ok()) << sent.status.message;
    const DeliveryResult& r = sent.results.at(0);
    EXPECT_EQ(r.outcome, DeliveryOutcome::Failed);
    EXPECT_EQ(r.smtpCode, 554);
    EXPECT_EQ(r.enhancedStatus, "5.7.1");
    EXPECT_NE(r.text.find("(in reply to RCPT TO)"), std::string::npos) << r.text;
}

}  // namespace

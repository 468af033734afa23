// smtp_pipelining_test.cpp: the smtp plugin's pipelined groups against real servers: a private
// Postfix (tests/support/postfix_server.h) that refuses a share of the recipients at RCPT, or
// that does not announce PIPELINING and refuses a client that pipelines anyway
// (reject_unauth_pipelining); and smtp-sink for a 421 in the middle of a group, a server
// without PIPELINING, and a connection closed after the final "." of a group. Asserts what the
// ledger would record (each message's outcome and the server's words), what the server got,
// and over how many connections.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "plugin-host/plugin_host.h"
#include "support/postfix_server.h"
#include "support/process.h"
#include "support/smtp_sink.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using namespace campaignd::plugins;
using namespace campaignd::test;

const std::string kBody =
    "From: Campaigns <news@example.org>\r\n"
    "To: someone@example.org\r\n"
    "Subject: pipelined\r\n"
    "\r\n"
    "Hello,\r\n"
    ".a line that starts with a dot\r\n"
    "bye\r\n";

struct Sent {
    SendStatus status;
    std::vector<DeliveryResult> results;

    const DeliveryResult& of(std::uint64_t token) const {
        for (const auto& r : results)
            if (r.token == token) return r;
        throw std::runtime_error("no result for token " + std::to_string(token));
    }
};

class SmtpPipelining : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directory(dir_ / "plugins");
        fs::copy_file(SMTP_PLUGIN, dir_ / "plugins" / "smtp.so");
        host_ = std::make_unique<PluginHost>(dir_ / "plugins", nullptr);
        host_->start();
        ASSERT_EQ(host_->plugins().at(0).state, PluginState::Running) << host_->plugins().at(0).error;
    }

    std::unique_ptr<TransportSession> open(const std::map<std::string, std::string>& settings) {
        return host_->transport("smtp")->openSession("relay", settings);
    }

    static Sent send(TransportSession& session, const std::vector<std::string>& recipients) {
        std::vector<OutgoingMessage> batch;
        for (std::size_t i = 0; i < recipients.size(); ++i) {
            OutgoingMessage m;
            m.token = i + 1;
            m.envelopeFrom = "bounces+1-x@example.org";
            m.recipient = recipients[i];
            m.messageId = "<" + std::to_string(i + 1) + "@example.org>";
            m.data = kBody;
            batch.push_back(m);
        }
        Sent out;
        out.status = session.send(batch, [&](const DeliveryResult& r) { out.results.push_back(r); });
        return out;
    }

    // How many SMTP sessions Postfix's smtpd had, from its log: the "disconnect from" lines of
    // sessions that said EHLO (the fixture's readiness probes connect and say nothing).
    static std::size_t sessions(const PostfixServer& server) {
        const std::string log = server.log();
        std::size_t n = 0;
        for (auto at = log.find("]: disconnect from "); at != std::string::npos; at = log.find("]: disconnect from ", at + 1)) {
            const std::string line = log.substr(at, log.find('\n', at) - at);
            if (line.find(" ehlo=") != std::string::npos) ++n;
        }
        return n;
    }

    // The recipients of what Postfix delivered (its Delivered-To header).
    static std::multiset<std::string> deliveredTo(const PostfixServer& server) {
        std::multiset<std::string> to;
        for (const auto& message : server.delivered()) {
            const auto at = message.find("Delivered-To: ");
            if (at == std::string::npos) continue;
            to.insert(message.substr(at + 14, message.find('\n', at) - at - 14));
        }
        return to;
    }

    std::map<std::string, std::string> postfixSettings(const PostfixServer& server) {
        return {{"URL", server.url()}, {"CAFile", server.caFile().string()}, {"Timeout", "10"}};
    }

    TempDir dir_{"campaignd-smtp-pipelining-test"};
    std::unique_ptr<PluginHost> host_;
};

// A refused RCPT inside a pipelined group fails that message only, with the server's words;
// the transaction after it starts with RSET on the same connection (libcurl used to reconnect
// after every refused recipient).
TEST_F(SmtpPipelining, ARefusedRecipientInAGroupFailsOnlyThatMessageOnTheSameConnection) {
    if (!PostfixServer::available()) GTEST_SKIP() << "needs root, postfix, dovecot and openssl";
    PostfixServerOptions options = relayProfile();
    options.rejectedRecipients = {"gone@example.org", "moved@example.org"};
    PostfixServer server(options);
    const std::vector<std::string> recipients{"ada@example.org",  "gone@example.org", "bob@example.org",
                                              "moved@example.org", "gone@example.org", "cy@example.org"};
    {
        auto session = open(postfixSettings(server));
        const Sent sent = send(*session, recipients);
        ASSERT_TRUE(sent.status.ok()) << sent.status.message;
        ASSERT_EQ(sent.results.size(), recipients.size());
        for (std::size_t i = 0; i < recipients.size(); ++i) {
            const DeliveryResult& r = sent.of(i + 1);
            if (recipients[i] == "gone@example.org" || recipients[i] == "moved@example.org") {
                EXPECT_EQ(r.outcome, DeliveryOutcome::Failed) << recipients[i] << ": " << r.text;
                EXPECT_EQ(r.smtpCode, 550);
                EXPECT_EQ(r.enhancedStatus, "5.1.1");
                EXPECT_EQ(r.text, "550 5.1.1 <" + recipients[i] +
                                      ">: Recipient address rejected: User unknown (in reply to RCPT TO)");
            } else {
                EXPECT_EQ(r.outcome, DeliveryOutcome::Sent) << recipients[i] << ": " << r.text;
                EXPECT_EQ(r.smtpCode, 250);
            }
        }
    }
    ASSERT_TRUE(server.waitForDeliveries(3)) << server.log();
    EXPECT_EQ(deliveredTo(server), (std::multiset<std::string>{"ada@example.org", "bob@example.org", "cy@example.org"}));
    EXPECT_EQ(sessions(server), 1u) << server.log();
}

// A Postfix that does not announce PIPELINING, with a refused recipient among the others: every
// message has the right outcome, on one connection.
TEST_F(SmtpPipelining, WithoutPipeliningAnnouncedEveryMessageHasItsOutcome) {
    if (!PostfixServer::available()) GTEST_SKIP() << "needs root, postfix, dovecot and openssl";
    PostfixServerOptions options = relayProfile();
    options.pipelining = false;
    options.rejectedRecipients = {"gone@example.org"};
    PostfixServer server(options);
    const std::vector<std::string> recipients{"ada@example.org", "gone@example.org", "bob@example.org", "cy@example.org"};
    {
        auto session = open(postfixSettings(server));
        const Sent sent = send(*session, recipients);
        ASSERT_TRUE(sent.status.ok()) << sent.status.message;
        ASSERT_EQ(sent.results.size(), recipients.size());
        for (std::size_t i = 0; i < recipients.size(); ++i)
            EXPECT_EQ(sent.of(i + 1).outcome, recipients[i] == "gone@example.org" ? DeliveryOutcome::Failed : DeliveryOutcome::Sent)
                << recipients[i] << ": " << sent.of(i + 1).text;
    }
    ASSERT_TRUE(server.waitForDeliveries(3)) << server.log();
    EXPECT_EQ(deliveredTo(server), (std::multiset<std::string>{"ada@example.org", "bob@example.org", "cy@example.org"}));
    EXPECT_EQ(sessions(server), 1u) << server.log();
}

// smtp-sink without PIPELINING (-p), slow to answer RCPT (-W RCPT:1): the client waits for
// each reply before the next command. (smtp-sink reads on while it delays a reply, and would
// answer a DATA sent ahead of time with "503 5.5.1 Error: need RCPT command" before the RCPT's
// 250: a client that pipelined here would see its messages refused.)
TEST_F(SmtpPipelining, WithoutPipeliningSmtpSinkGetsOneCommandAtATime) {
    if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
    SmtpSinkOptions options;
    options.advertisePipelining = false;
    options.waitAt = {"RCPT:1"};
    SmtpSink sink(options);
    {
        auto session = open({{"URL", sink.url()}});
        const Sent sent = send(*session, {"a@example.org", "b@example.org", "c@example.org"});
        ASSERT_TRUE(sent.status.ok()) << sent.status.message;
        for (std::uint64_t token : {1u, 2u, 3u})
            EXPECT_EQ(sent.of(token).outcome, DeliveryOutcome::Sent) << sent.of(token).text;
    }
    ASSERT_TRUE(waitUntil([&] { return sink.counters().sessions == 1; }, 10s)) << sink.output();
    EXPECT_EQ(sink.counters().messages, 3u);
    ASSERT_TRUE(sink.waitForMessages(3));
    for (const auto& m : sink.messages()) EXPECT_EQ(m.data, kBody);
}

// A refused transaction that ends one send() is reset (RSET) before the next send()'s MAIL on
// the same connection: the server must not answer "503 5.5.1 Error: nested MAIL command".
TEST_F(SmtpPipelining, ARefusedTransactionEndingOneSendIsResetBeforeTheNext) {
    if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
    SmtpSinkOptions options;
    options.hardReject = {"RCPT"};
    options.hardReply = "550 5.1.1 User unknown";
    SmtpSink sink(options);
    {
        auto session = open({{"URL", sink.url()}});
        for (const char* rcpt : {"a@example.org", "b@example.org", "c@example.org"}) {
            const Sent sent = send(*session, {rcpt});
            ASSERT_TRUE(sent.status.ok()) << sent.status.message;
            EXPECT_EQ(sent.of(1).outcome, DeliveryOutcome::Failed);
            EXPECT_EQ(sent.of(1).text, "550 5.1.1 User unknown (in reply to RCPT TO)") << rcpt;
        }
    }
    ASSERT_TRUE(waitUntil([&] { return sink.counters().sessions >= 1; }, 10s));
    EXPECT_EQ(sink.counters().sessions, 1u);
}

// A 421 as the first reply of a group (to the final "." of the first message, ahead of the
// second's MAIL, RCPT and DATA): nothing was accepted, so nothing has a result (the host sends
// them again), and the client does not wait for replies that will never come.
TEST_F(SmtpPipelining, A421InTheMiddleOfAGroupLeavesEveryMessageNotHandedOver) {
    if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
    SmtpSinkOptions options;
    options.close421At = {"."};
    SmtpSink sink(options);
    auto session = open({{"URL", sink.url()}, {"Timeout", "60"}});
    const Sent sent = send(*session, {"a@example.org", "b@example.org", "c@example.org"});
    EXPECT_EQ(sent.status.status, TransportStatus::Connection);
    EXPECT_NE(sent.status.message.find("421"), std::string::npos) << sent.status.message;
    EXPECT_NE(sent.status.message.find("(in reply to end of DATA)"), std::string::npos) << sent.status.message;
    ASSERT_EQ(sent.results.size(), 3u);
    for (const auto& r : sent.results) EXPECT_EQ(r.outcome, DeliveryOutcome::NotHandedOver) << r.text;
}

// The connection closed after the final "." of the first message of a group: that message is
// UNKNOWN (the server has it: never send it again); the ones behind it were not handed over.
TEST_F(SmtpPipelining, AConnectionClosedAfterTheFinalDotOfAGroupIsUnknownAndTheRestNotHandedOver) {
    if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
    SmtpSinkOptions options;
    options.dropAt = {"."};
    SmtpSink sink(options);
    auto session = open({{"URL", sink.url()}, {"Timeout", "60"}});
    const Sent sent = send(*session, {"a@example.org", "b@example.org", "c@example.org", "d@example.org"});
    EXPECT_EQ(sent.status.status, TransportStatus::Connection);
    ASSERT_EQ(sent.results.size(), 4u);
    EXPECT_EQ(sent.of(1).outcome, DeliveryOutcome::Unknown) << sent.of(1).text;
    EXPECT_NE(sent.of(1).text.find("lost after the message was sent"), std::string::npos) << sent.of(1).text;
    for (std::uint64_t token : {2u, 3u, 4u}) EXPECT_EQ(sent.of(token).outcome, DeliveryOutcome::NotHandedOver);
    ASSERT_TRUE(sink.waitForMessages(1));
    EXPECT_TRUE(waitUntil([&] { return sink.counters().sessions >= 1; }, 10s));
    const auto saved = sink.messages();
    ASSERT_EQ(saved.size(), 1u);  // b, c and d never reached DATA
    EXPECT_EQ(saved.at(0).recipients.at(0), "a@example.org");
}

}  // namespace

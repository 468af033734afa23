// smtp_submit_test.cpp: the smtp plugin's asynchronous submit (ABI 1.6), loaded by the real
// PluginHost and driven through the daemon's AsyncSession, against Postfix's smtp-sink on a
// private loopback address. Asserts what the engine would see: each message's one result, the
// session's end and why, how many connections the server had, what it saved, and how many
// threads the plugin runs (sessions are objects on one event thread, not threads).
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "plugin-host/async_session.h"
#include "plugin-host/plugin_host.h"
#include "support/postfix_server.h"
#include "support/network.h"
#include "support/process.h"
#include "support/smtp_sink.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using namespace campaignd::plugins;
using namespace campaignd::test;
using namespace std::chrono_literals;

const std::string kBody =
    "From: Campaigns <news@example.org>\r\n"
    "To: someone@example.org\r\n"
    "Subject: submitted\r\n"
    "\r\n"
    "Hello,\r\n"
    ".a line that starts with a dot\r\n"
    "bye\r\n";

// What a session's events said, collected across threads.
struct Seen {
    std::mutex mutex;
    std::condition_variable changed;
    std::map<std::uint64_t, std::vector<DeliveryResult>> results;
    std::vector<SendStatus> ends;

    AsyncEvents events() {
        return {[this](const DeliveryResult& r) {
                    std::lock_guard lock(mutex);
                    results[r.token].push_back(r);
                    changed.notify_all();
                },
                [this](const SendStatus& s) {
                    std::lock_guard lock(mutex);
                    ends.push_back(s);
                    changed.notify_all();
                }};
    }
    // Bounded only so that a broken build does not hang the suite.
    bool waitFor(std::size_t n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 60s, [&] { return results.size() >= n; });
    }
    bool waitForEnd() {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 60s, [&] { return !ends.empty(); });
    }
    DeliveryResult of(std::uint64_t token) {
        std::lock_guard lock(mutex);
        const auto& r = results.at(token);
        EXPECT_EQ(r.size(), 1u) << "token " << token << " has " << r.size() << " results";
        return r.at(0);
    }
    std::size_t count(DeliveryOutcome o) {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (const auto& [token, rs] : results) n += rs.size() == 1 && rs[0].outcome == o;
        return n;
    }
};

OutgoingMessage message(std::uint64_t token, const std::string& recipient, const std::string& data = kBody) {
    OutgoingMessage m;
    m.token = token;
    m.envelopeFrom = "bounces+" + std::to_string(token) + "@example.org";
    m.recipient = recipient;
    m.messageId = "<" + std::to_string(token) + "@example.org>";
    m.data = data;
    return m;
}

std::size_t threadsOfThisProcess() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/task")) ++n;
    return n;
}

class SmtpSubmit : public ::testing::Test {
protected:
    void SetUp() override {
        if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
        fs::create_directory(dir_ / "plugins");
        fs::copy_file(SMTP_PLUGIN, dir_ / "plugins" / "smtp.so");
        host_ = std::make_unique<PluginHost>(dir_ / "plugins", nullptr);
        host_->start();
        ASSERT_EQ(host_->plugins().at(0).state, PluginState::Running) << host_->plugins().at(0).error;
        ASSERT_TRUE(host_->transport("smtp")->submits());
    }

    std::unique_ptr<AsyncSession> open(const SmtpSink& sink, Seen& seen,
                                       std::map<std::string, std::string> extra = {}) {
        extra["URL"] = sink.url();
        if (!extra.count("Timeout")) extra["Timeout"] = "60";
        return host_->transport("smtp")->openAsync("relay", extra, seen.events());
    }

    TempDir dir_{"campaignd-smtp-submit-test"};
    std::unique_ptr<PluginHost> host_;
};

// Many submit() calls, each of one message, on one session: every message is sent, over one
// connection (one EHLO, one QUIT at close), whichever call brought it.
TEST_F(SmtpSubmit, ManySubmitsShareOneConnection) {
    SmtpSinkOptions options;
    SmtpSink sink(options);
    Seen seen;
    {
        auto session = open(sink, seen);
        EXPECT_TRUE(session->native());
        for (std::uint64_t t = 1; t <= 50; ++t) {
            const SendStatus s = session->submit(std::vector<OutgoingMessage>{message(t, "r" + std::to_string(t) + "@example.org")});
            ASSERT_TRUE(s.ok()) << s.message;
        }
        ASSERT_TRUE(seen.waitFor(50));
    }
    EXPECT_EQ(seen.count(DeliveryOutcome::Sent), 50u);
    EXPECT_TRUE(seen.ends.empty());
    ASSERT_TRUE(waitUntil([&] { return sink.counters().sessions >= 1; }, 10s)) << sink.output();
    EXPECT_EQ(sink.counters().sessions, 1u);
    EXPECT_EQ(sink.counters().quits, 1u);
    EXPECT_EQ(sink.counters().messages, 50u);
    ASSERT_TRUE(sink.waitForMessages(50));
    for (const auto& m : sink.messages()) EXPECT_EQ(m.data, kBody);
}

// TCP's own count of the data segments each side of the established connection to endpoint
// sent, from the kernel (ss -ti): {client's, server's}. On loopback a write of a few KiB is one
// segment, and segments are only ever merged, so this counts at most the writes.
std::pair<std::uint64_t, std::uint64_t> dataSegments(const Endpoint& server) {
    auto segsOut = [](const std::string& out) -> std::uint64_t {
        const auto at = out.find("data_segs_out:");
        if (at == std::string::npos) return 0;
        return std::stoull(out.substr(at + 14));
    };
    const RunResult client = run({"ss", "-tinH", "state", "established", "dst", server.hostPort()});
    const RunResult side = run({"ss", "-tinH", "state", "established", "src", server.hostPort()});
    return {segsOut(client.out), segsOut(side.out)};
}

// 30 submit() calls of one message each, made while the server holds its greeting back
// (smtp-sink -W CONNECT:1): the session then works them off as one pipeline, each message's
// body and "." in one write with the next message's MAIL, RCPT and DATA, although they came
// from different calls: about one write and one reply (one round trip) per message, counted
// by the kernel on both sides of the connection, where draining per call would take two.
TEST_F(SmtpSubmit, MessagesOfDifferentSubmitsShareAPipelinedWrite) {
    SmtpSinkOptions options;
    options.waitAt = {"CONNECT:1"};
    options.saveMessages = false;
    SmtpSink sink(options);
    Seen seen;
    constexpr std::uint64_t kMessages = 30;
    auto session = open(sink, seen);
    for (std::uint64_t t = 1; t <= kMessages; ++t)
        ASSERT_TRUE(session->submit(std::vector<OutgoingMessage>{message(t, "r@example.org")}).ok());
    ASSERT_TRUE(seen.waitFor(kMessages));
    EXPECT_EQ(seen.count(DeliveryOutcome::Sent), kMessages);
    const auto [client, server] = dataSegments(sink.endpoint());
    // EHLO, then the first MAIL/RCPT/DATA, then one write per message (its body and the next
    // one's commands): kMessages + 2. (The host's fallback for a plugin without submit, send()
    // on a thread, gets kMessages + 1 + its number of send() calls here: it drains at the end
    // of each.)
    EXPECT_GT(client, 0u);
    EXPECT_LE(client, kMessages + 2) << "client data segments";
    // The greeting, the EHLO reply, then one burst of replies per message.
    EXPECT_LE(server, kMessages + 4) << "server data segments";
}

// A server without PIPELINING (smtp-sink -p, slow to answer RCPT): one command at a time, or
// smtp-sink would answer a DATA sent ahead with 503; every message is sent.
TEST_F(SmtpSubmit, WithoutPipeliningOneCommandAtATime) {
    SmtpSinkOptions options;
    options.advertisePipelining = false;
    options.waitAt = {"RCPT:1"};
    SmtpSink sink(options);
    Seen seen;
    {
        auto session = open(sink, seen);
        ASSERT_TRUE(session->submit(std::vector<OutgoingMessage>{message(1, "a@example.org"), message(2, "b@example.org")}).ok());
        ASSERT_TRUE(session->submit(std::vector<OutgoingMessage>{message(3, "c@example.org")}).ok());
        ASSERT_TRUE(seen.waitFor(3));
    }
    for (std::uint64_t t : {1u, 2u, 3u}) EXPECT_EQ(seen.of(t).outcome, DeliveryOutcome::Sent) << seen.of(t).text;
    ASSERT_TRUE(waitUntil([&] { return sink.counters().sessions >= 1; }, 10s));
    EXPECT_EQ(sink.counters().sessions, 1u);
    EXPECT_EQ(sink.counters().messages, 3u);
}

// Every RCPT refused (smtp-sink -f RCPT) in pipelined groups: each message fails with the
// server's words, the session goes on (RSET between transactions), one connection.
TEST_F(SmtpSubmit, ARefusedRecipientFailsThatMessageAndTheSessionGoesOn) {
    SmtpSinkOptions options;
    options.hardReject = {"RCPT"};
    options.hardReply = "550 5.1.1 User unknown";
    SmtpSink sink(options);
    Seen seen;
    {
        auto session = open(sink, seen);
        for (std::uint64_t t = 1; t <= 5; ++t)
            ASSERT_TRUE(session->submit(std::vector<OutgoingMessage>{message(t, "gone@example.org")}).ok());
        ASSERT_TRUE(seen.waitFor(5));
    }
    for (std::uint64_t t = 1; t <= 5; ++t) {
        const DeliveryResult r = seen.of(t);
        EXPECT_EQ(r.outcome, DeliveryOutcome::Failed);
        EXPECT_EQ(r.enhancedStatus, "5.1.1");
        EXPECT_EQ(r.text, "550 5.1.1 User unknown (in reply to RCPT TO)");
    }
    EXPECT_TRUE(seen.ends.empty());
    ASSERT_TRUE(waitUntil([&] { return sink.counters().sessions >= 1; }, 10s));
    EXPECT_EQ(sink.counters().sessions, 1u);
}

// A 421 to the first "." (smtp-sink -Q .): the session ends CONNECTION saying so, and every
// message is NotHandedOver (the host sends them again); nothing more is taken afterwards.
TEST_F(SmtpSubmit, A421EndsTheSessionWithTheRestNotHandedOver) {
    SmtpSinkOptions options;
    options.close421At = {"."};
    SmtpSink sink(options);
    Seen seen;
    auto session = open(sink, seen);
    ASSERT_TRUE(session->submit(std::vector<OutgoingMessage>{message(1, "a@example.org"), message(2, "b@example.org"),
                                                             message(3, "c@example.org")})
                    .ok());
    ASSERT_TRUE(seen.waitForEnd());
    ASSERT_TRUE(seen.waitFor(3));
    EXPECT_EQ(seen.ends.at(0).status, TransportStatus::Connection);
    EXPECT_NE(seen.ends.at(0).message.find("421"), std::string::npos) << seen.ends.at(0).message;
    EXPECT_EQ(seen.count(DeliveryOutcome::NotHandedOver), 3u);
    EXPECT_FALSE(session->submit(std::vector<OutgoingMessage>{message(4, "d@example.org")}).ok());
}

// The connection dropped after the final "." (smtp-sink -q .): the message whose "." went
// out is UNKNOWN, never resent; the ones behind it were not handed over.
TEST_F(SmtpSubmit, AConnectionDroppedAfterTheDotIsUnknownAndTheRestNotHandedOver) {
    SmtpSinkOptions options;
    options.dropAt = {"."};
    SmtpSink sink(options);
    Seen seen;
    auto session = open(sink, seen);
    for (std::uint64_t t = 1; t <= 4; ++t)
        ASSERT_TRUE(session->submit(std::vector<OutgoingMessage>{message(t, "r@example.org")}).ok());
    ASSERT_TRUE(seen.waitForEnd());
    ASSERT_TRUE(seen.waitFor(4));
    EXPECT_EQ(seen.ends.at(0).status, TransportStatus::Connection);
    EXPECT_EQ(seen.of(1).outcome, DeliveryOutcome::Unknown) << seen.of(1).text;
    EXPECT_NE(seen.of(1).text.find("lost after the message was sent"), std::string::npos);
    for (std::uint64_t t : {2u, 3u, 4u}) EXPECT_EQ(seen.of(t).outcome, DeliveryOutcome::NotHandedOver);
    ASSERT_TRUE(sink.waitForMessages(1));
    EXPECT_EQ(sink.messages().size(), 1u);
}

// The server went away while the session was idle (it closed the connection) and came back:
// the next submit reconnects by itself and nothing is lost.
TEST_F(SmtpSubmit, AnIdleConnectionClosedByTheServerIsReopenedForTheNextSubmit) {
    SmtpSink sink;
    Seen seen;
    auto session = open(sink, seen);
    ASSERT_TRUE(session->submit(std::vector<OutgoingMessage>{message(1, "a@example.org")}).ok());
    ASSERT_TRUE(seen.waitFor(1));
    ASSERT_TRUE(sink.waitForMessages(1));
    sink.stop();  // closes the idle connection
    sink.start();
    ASSERT_TRUE(session->submit(std::vector<OutgoingMessage>{message(2, "b@example.org"), message(3, "c@example.org")}).ok());
    ASSERT_TRUE(seen.waitFor(3));
    for (std::uint64_t t : {1u, 2u, 3u}) EXPECT_EQ(seen.of(t).outcome, DeliveryOutcome::Sent) << seen.of(t).text;
    EXPECT_TRUE(seen.ends.empty());
    ASSERT_TRUE(sink.waitForMessages(2));
}

// SIZE (a private Postfix with message_size_limit 2000): a message larger than the server
// takes fails 5.3.4 without being sent; the session goes on with the next one.
TEST_F(SmtpSubmit, AMessageOverTheServersSizeFailsWithoutBeingSent) {
    if (!PostfixServer::available()) GTEST_SKIP() << "needs root, postfix, dovecot and openssl";
    PostfixServerOptions options = relayProfile();
    options.messageSizeLimit = 2000;
    PostfixServer server(options);
    Seen seen;
    {
        auto session = host_->transport("smtp")->openAsync(
            "relay", {{"URL", server.url()}, {"CAFile", server.caFile().string()}, {"Timeout", "10"}}, seen.events());
        const std::string big = kBody + std::string(3000, 'x') + "\r\n";
        ASSERT_TRUE(session->submit(std::vector<OutgoingMessage>{message(1, "a@example.org"), message(2, "b@example.org", big),
                                                                 message(3, "c@example.org")})
                        .ok());
        ASSERT_TRUE(seen.waitFor(3));
    }
    EXPECT_EQ(seen.of(1).outcome, DeliveryOutcome::Sent) << seen.of(1).text;
    EXPECT_EQ(seen.of(2).outcome, DeliveryOutcome::Failed);
    EXPECT_EQ(seen.of(2).enhancedStatus, "5.3.4");
    EXPECT_NE(seen.of(2).text.find("SIZE 2000"), std::string::npos) << seen.of(2).text;
    EXPECT_EQ(seen.of(3).outcome, DeliveryOutcome::Sent) << seen.of(3).text;
    EXPECT_TRUE(seen.ends.empty());
    ASSERT_TRUE(server.waitForDeliveries(2)) << server.log();
    for (const auto& m : server.delivered()) EXPECT_EQ(m.find("Delivered-To: b@example.org"), std::string::npos);
}

// TLS: the server's certificate names mx.test and its IPv4 address; reached as the same
// address written as IPv4-mapped IPv6, the name does not match: the session ends TLS and
// nothing is handed over.
TEST_F(SmtpSubmit, ACertificateForAnotherHostNameIsRefused) {
    if (!PostfixServer::available()) GTEST_SKIP() << "needs root, postfix, dovecot and openssl";
    PostfixServer server(relayProfile());
    Seen seen;
    const std::string url = "smtp://[::ffff:" + server.endpoint().address + "]:" + std::to_string(server.endpoint().port);
    auto session = host_->transport("smtp")->openAsync(
        "relay", {{"URL", url}, {"CAFile", server.caFile().string()}, {"StartTLS", "required"}, {"Timeout", "10"}},
        seen.events());
    ASSERT_TRUE(session->submit(std::vector<OutgoingMessage>{message(1, "a@example.org")}).ok());
    ASSERT_TRUE(seen.waitForEnd());
    ASSERT_TRUE(seen.waitFor(1));
    EXPECT_EQ(seen.ends.at(0).status, TransportStatus::Tls) << seen.ends.at(0).message;
    EXPECT_EQ(seen.of(1).outcome, DeliveryOutcome::NotHandedOver);
    EXPECT_EQ(server.delivered().size(), 0u);
}

// The "disconnect from" line Postfix's smtpd logs for the session that said EHLO, with its
// command counts ("ehlo=1 mail=6 rcpt=4/6 bdat=4/6 rset=5 quit=1 commands=..."); "" if none.
std::string postfixSessionLine(const PostfixServer& server) {
    const std::string log = server.log();
    for (auto at = log.find("]: disconnect from "); at != std::string::npos; at = log.find("]: disconnect from ", at + 1)) {
        const std::string line = log.substr(at, log.find('\n', at) - at);
        if (line.find(" ehlo=") != std::string::npos) return line;
    }
    return "";
}

// CHUNKING (RFC 3030) announced by a private Postfix refusing two recipients: the messages go
// as BDAT, several in one write (no 354 to wait for), each transaction after the first
// behind an RSET; the refused ones fail with Postfix's words, the rest are delivered, in one
// session whose command counts Postfix logs.
TEST_F(SmtpSubmit, WithChunkingMessagesGoAsBdatAndARefusedRecipientFailsOnlyItself) {
    if (!PostfixServer::available()) GTEST_SKIP() << "needs root, postfix, dovecot and openssl";
    PostfixServerOptions options = relayProfile();
    options.rejectedRecipients = {"gone@example.org"};
    PostfixServer server(options);
    Seen seen;
    const std::vector<std::string> to{"ada@example.org", "gone@example.org", "bob@example.org",
                                      "gone@example.org", "cy@example.org", "dee@example.org"};
    {
        auto session = host_->transport("smtp")->openAsync(
            "relay", {{"URL", server.url()}, {"CAFile", server.caFile().string()}, {"Timeout", "10"}}, seen.events());
        std::vector<OutgoingMessage> batch;
        for (std::size_t i = 0; i < to.size(); ++i) batch.push_back(message(i + 1, to[i]));
        ASSERT_TRUE(session->submit(batch).ok());
        ASSERT_TRUE(seen.waitFor(to.size()));
    }
    for (std::size_t i = 0; i < to.size(); ++i) {
        const DeliveryResult r = seen.of(i + 1);
        if (to[i] == "gone@example.org") {
            EXPECT_EQ(r.outcome, DeliveryOutcome::Failed) << r.text;
            EXPECT_EQ(r.text, "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown (in reply to RCPT TO)");
        } else {
            EXPECT_EQ(r.outcome, DeliveryOutcome::Sent) << r.text;
            EXPECT_NE(r.text.find("(in reply to BDAT)"), std::string::npos) << r.text;
        }
    }
    ASSERT_TRUE(server.waitForDeliveries(4)) << server.log();
    for (const auto& m : server.delivered())
        EXPECT_NE(m.find("\nHello,\n.a line that starts with a dot\nbye\n"), std::string::npos) << m;
    ASSERT_TRUE(waitUntil([&] { return !postfixSessionLine(server).empty(); }, 10s)) << server.log();
    const std::string line = postfixSessionLine(server);
    EXPECT_NE(line.find(" bdat=4/6 "), std::string::npos) << line;
    EXPECT_EQ(line.find(" data="), std::string::npos) << line;
}

// The same Postfix without CHUNKING announced, or with it announced and Chunking=no: DATA.
class SmtpSubmitData : public SmtpSubmit, public ::testing::WithParamInterface<bool> {};

TEST_P(SmtpSubmitData, WithoutChunkingMessagesGoAsData) {
    if (!PostfixServer::available()) GTEST_SKIP() << "needs root, postfix, dovecot and openssl";
    const bool announced = GetParam();
    PostfixServerOptions options = relayProfile();
    options.chunking = announced;
    PostfixServer server(options);
    Seen seen;
    {
        std::map<std::string, std::string> settings{
            {"URL", server.url()}, {"CAFile", server.caFile().string()}, {"Timeout", "10"}};
        if (announced) settings["Chunking"] = "no";
        auto session = host_->transport("smtp")->openAsync("relay", settings, seen.events());
        ASSERT_TRUE(session->submit(std::vector<OutgoingMessage>{message(1, "ada@example.org"), message(2, "bob@example.org")}).ok());
        ASSERT_TRUE(seen.waitFor(2));
    }
    EXPECT_EQ(seen.count(DeliveryOutcome::Sent), 2u);
    ASSERT_TRUE(waitUntil([&] { return !postfixSessionLine(server).empty(); }, 10s)) << server.log();
    const std::string line = postfixSessionLine(server);
    EXPECT_NE(line.find(" data=2 "), std::string::npos) << line;
    EXPECT_EQ(line.find(" bdat="), std::string::npos) << line;
}

INSTANTIATE_TEST_SUITE_P(Chunking, SmtpSubmitData, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "AnnouncedButTurnedOff" : "NotAnnounced"; });

// 8BITMIME: a message with 8-bit bytes is declared BODY=8BITMIME (smtp-sink announces it); a
// 7-bit one is not.
TEST_F(SmtpSubmit, EightBitMessagesAreDeclaredBody8BitMime) {
    SmtpSink sink;
    Seen seen;
    {
        auto session = open(sink, seen);
        const std::string eightBit = kBody + "Gr\xc3\xbc\xc3\x9f""e\r\n";
        ASSERT_TRUE(session->submit(std::vector<OutgoingMessage>{message(1, "a@example.org", eightBit),
                                                                 message(2, "b@example.org")})
                        .ok());
        ASSERT_TRUE(seen.waitFor(2));
    }
    ASSERT_TRUE(sink.waitForMessages(2));
    for (const auto& m : sink.messages()) {
        if (m.recipients.at(0) == "a@example.org") EXPECT_NE(m.mailArgs.find("BODY=8BITMIME"), std::string::npos) << m.mailArgs;
        else EXPECT_EQ(m.mailArgs.find("BODY="), std::string::npos) << m.mailArgs;
    }
}

// close() with messages not yet written: the written ones get their result, the rest are
// NotHandedOver, and nothing comes after close.
TEST_F(SmtpSubmit, CloseReportsWhatWasNotWrittenAsNotHandedOver) {
    SmtpSinkOptions options;
    options.waitAt = {"CONNECT:1"};  // the greeting comes after close() was asked
    SmtpSink sink(options);
    Seen seen;
    {
        auto session = open(sink, seen);
        std::vector<OutgoingMessage> batch;
        for (std::uint64_t t = 1; t <= 20; ++t) batch.push_back(message(t, "r@example.org"));
        ASSERT_TRUE(session->submit(batch).ok());
    }  // closed at once, before the greeting: at most the first transaction was written
    std::lock_guard lock(seen.mutex);
    EXPECT_EQ(seen.results.size(), 20u);
    std::size_t notHandedOver = 0;
    for (const auto& [token, rs] : seen.results) {
        ASSERT_EQ(rs.size(), 1u);
        // What was written before the close (at most the first transaction) has the outcome its
        // reply, or the lack of one within the close's wait, gave it: any, but only one.
        if (rs[0].outcome == DeliveryOutcome::NotHandedOver) ++notHandedOver;
    }
    EXPECT_GE(notHandedOver, 18u);
}

// 500 sessions at once to one smtp-sink through one plugin instance: every message sent, and
// the plugin adds one event thread, not one per session.
TEST_F(SmtpSubmit, FiveHundredSessionsOnOneEventThread) {
    SmtpSinkOptions options;
    options.saveMessages = false;
    options.maxConnections = 600;
    SmtpSink sink(options);
    const std::size_t before = threadsOfThisProcess();
    constexpr std::size_t kSessions = 500, kEach = 4;
    std::vector<Seen> seen(kSessions);
    std::vector<std::unique_ptr<AsyncSession>> sessions;
    for (std::size_t i = 0; i < kSessions; ++i) sessions.push_back(open(sink, seen[i]));
    for (std::size_t k = 0; k < kEach; ++k)
        for (std::size_t i = 0; i < kSessions; ++i)
            ASSERT_TRUE(sessions[i]->submit(std::vector<OutgoingMessage>{message(i * kEach + k + 1, "r@example.org")}).ok());
    std::size_t most = 0;
    for (std::size_t i = 0; i < kSessions; ++i) {
        most = std::max(most, threadsOfThisProcess());
        ASSERT_TRUE(seen[i].waitFor(kEach)) << "session " << i;
    }
    for (std::size_t i = 0; i < kSessions; ++i) {
        EXPECT_EQ(seen[i].count(DeliveryOutcome::Sent), kEach) << "session " << i;
        EXPECT_TRUE(seen[i].ends.empty()) << "session " << i << ": " << seen[i].ends.at(0).message;
    }
    // The host's own threads do not grow with native sessions; the plugin's event thread
    // started with the plugin, before `before` was counted.
    EXPECT_LE(most, before + 2) << "threads: " << before << " before, " << most << " at most";
    sessions.clear();
    ASSERT_TRUE(waitUntil([&] { return sink.counters().sessions >= kSessions; }, 60s)) << sink.output();
    EXPECT_EQ(sink.counters().sessions, kSessions);
    EXPECT_EQ(sink.counters().messages, kSessions * kEach);
}

}  // namespace

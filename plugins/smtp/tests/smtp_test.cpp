// smtp_test.cpp: the built smtp.so, loaded by the real PluginHost and driven through the
// daemon's TransportSession, against Postfix's smtp-sink (tests/support/smtp_sink.h) on a
// private loopback endpoint. Asserts what the ledger would record: each message's outcome,
// code, RFC 3463 status and text as the server said them; which messages were not handed over
// when the connection failed; what arrived at the server, byte for byte; that one session is
// one connection; and that the password never shows in an error.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "plugin-host/plugin_host.h"
#include "support/network.h"
#include "support/process.h"
#include "support/smtp_sink.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using namespace campaignd::plugins;
using namespace campaignd::test;

constexpr const char* kPassword = "Tr0ub4dor&3-not-for-logs";

struct Sent {
    SendStatus status;
    std::vector<DeliveryResult> results;  // in the order the host reported them

    const DeliveryResult& of(std::uint64_t token) const {
        for (const auto& r : results)
            if (r.token == token) return r;
        throw std::runtime_error("no result for token " + std::to_string(token));
    }
};

class Smtp : public ::testing::Test {
protected:
    void SetUp() override {
        if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
        fs::create_directory(dir_ / "plugins");
        fs::copy_file(SMTP_PLUGIN, dir_ / "plugins" / "smtp.so");
        host_ = std::make_unique<PluginHost>(dir_ / "plugins", nullptr);
        host_->start();
        ASSERT_EQ(host_->plugins().at(0).state, PluginState::Running) << host_->plugins().at(0).error;
    }

    std::unique_ptr<TransportSession> open(const std::map<std::string, std::string>& settings) {
        auto transport = host_->transport("smtp");
        if (!transport) throw std::runtime_error("smtp is not a transport");
        return transport->openSession("relay", settings);
    }

    // The error openSession throws, as status and message.
    std::pair<TransportStatus, std::string> openError(const std::map<std::string, std::string>& settings) {
        try {
            open(settings);
        } catch (const TransportError& e) {
            return {e.status(), e.what()};
        }
        return {TransportStatus::Ok, ""};
    }

    static Sent send(TransportSession& session, const std::vector<OutgoingMessage>& batch) {
        Sent out;
        out.status = session.send(batch, [&](const DeliveryResult& r) { out.results.push_back(r); });
        return out;
    }

    static OutgoingMessage message(std::uint64_t token, const std::string& rcpt, std::string_view data,
                                   const std::string& from = "bounces+7-abc@example.org") {
        OutgoingMessage m;
        m.token = token;
        m.envelopeFrom = from;
        m.recipient = rcpt;
        m.messageId = "<" + std::to_string(token) + "@example.org>";
        m.data = data;
        return m;
    }

    std::string passwordFile(fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
        const fs::path path = dir_ / "smtp-password";
        writeFile(path, std::string(kPassword) + "\n", perms);
        fs::permissions(path, perms);
        return path.string();
    }

    TempDir dir_{"campaignd-smtp-test"};
    std::unique_ptr<PluginHost> host_;
};

const std::string kBody =
    "From: Campaigns <news@example.org>\r\n"
    "To: Ada <ada@example.org>\r\n"
    "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
    "Message-ID: <1@example.org>\r\n"
    "\r\n"
    "Hello Ada,\r\n"
    ".a line that starts with a dot\r\n"
    ".\r\n"
    "..\r\n"
    "the end\r\n";

TEST_F(Smtp, MessagesArriveWithTheirEnvelopeAndExactBytes) {
    SmtpSink sink;
    auto session = open({{"URL", sink.url()}, {"HeloName", "campaignd.example.org"}});
    const std::string second = "Subject: no final line break\r\n\r\nlast line";
    const Sent sent = send(*session, {message(1, "ada@example.org", kBody), message(2, "bob@example.net", second, "")});
    ASSERT_TRUE(sent.status.ok()) << sent.status.message;
    ASSERT_EQ(sent.results.size(), 2u);
    for (const auto& r : sent.results) {
        EXPECT_EQ(r.outcome, DeliveryOutcome::Sent) << r.text;
        EXPECT_EQ(r.smtpCode, 250);
        EXPECT_EQ(r.enhancedStatus, "2.0.0");
        EXPECT_NE(r.text.find("250 2.0.0 Ok"), std::string::npos) << r.text;
    }
    ASSERT_TRUE(sink.waitForMessages(2));
    std::map<std::string, SavedMessage> byRecipient;
    for (auto& m : sink.messages()) byRecipient[m.recipients.at(0)] = m;
    ASSERT_EQ(byRecipient.size(), 2u);
    const SavedMessage& ada = byRecipient.at("ada@example.org");
    EXPECT_EQ(ada.sender, "bounces+7-abc@example.org");
    EXPECT_EQ(ada.recipients.size(), 1u);
    EXPECT_EQ(ada.heloArgs, "campaignd.example.org");
    EXPECT_EQ(ada.data, kBody);  // dot-stuffed on the wire, undone by the server
    const SavedMessage& bob = byRecipient.at("bob@example.net");
    EXPECT_EQ(bob.mailArgs.rfind("<>", 0), 0u) << bob.mailArgs;  // the null sender
    EXPECT_EQ(bob.data, second + "\r\n");  // the server sees a complete last line
}

TEST_F(Smtp, OneSessionIsOneConnectionForManyMessages) {
    SmtpSink sink;
    {
        auto session = open({{"URL", sink.url()}});
        std::vector<std::string> rcpts;
        for (int i = 0; i < 40; ++i) rcpts.push_back("r" + std::to_string(i) + "@example.org");
        for (int batch = 0; batch < 2; ++batch) {
            std::vector<OutgoingMessage> messages;
            for (int i = 0; i < 20; ++i)
                messages.push_back(message(std::uint64_t(batch * 20 + i), rcpts[std::size_t(batch * 20 + i)], kBody));
            const Sent sent = send(*session, messages);
            ASSERT_TRUE(sent.status.ok()) << sent.status.message;
            ASSERT_EQ(sent.results.size(), 20u);
            for (const auto& r : sent.results) EXPECT_EQ(r.outcome, DeliveryOutcome::Sent);
        }
        EXPECT_EQ(sink.counters().sessions, 0u);  // still open
        EXPECT_EQ(sink.counters().messages, 40u);
    }  // closing the session says QUIT
    ASSERT_TRUE(waitUntil([&] { return sink.counters().sessions == 1; }, 10s)) << sink.output();
    EXPECT_EQ(sink.counters().quits, 1u);
    EXPECT_EQ(sink.counters().messages, 40u);
    ASSERT_TRUE(sink.waitForMessages(40));
    EXPECT_EQ(sink.messages().size(), 40u);
}

TEST_F(Smtp, HardRejectAtRcptFailsTheRecipientWithTheServersWords) {
    SmtpSinkOptions options;
    options.hardReject = {"RCPT"};
    options.hardReply = "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown";
    SmtpSink sink(options);
    auto session = open({{"URL", sink.url()}});
    const Sent sent = send(*session, {message(1, "gone@example.org", kBody), message(2, "gone@example.org", kBody)});
    ASSERT_TRUE(sent.status.ok()) << sent.status.message;
    ASSERT_EQ(sent.results.size(), 2u);  // the second went through a new connection
    for (const auto& r : sent.results) {
        EXPECT_EQ(r.outcome, DeliveryOutcome::Failed);
        EXPECT_EQ(r.smtpCode, 550);
        EXPECT_EQ(r.enhancedStatus, "5.1.1");
        EXPECT_EQ(r.text, "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown "
                          "(in reply to RCPT TO)");
    }
    EXPECT_TRUE(waitUntil([&] { return sink.messages().empty(); }, 5s));  // nothing arrived
}

TEST_F(Smtp, SoftRejectAtRcptDefers) {
    SmtpSinkOptions options;
    options.softReject = {"RCPT"};
    options.softReply = "451 4.7.1 Greylisted, please try again later";
    SmtpSink sink(options);
    auto session = open({{"URL", sink.url()}});
    const Sent sent = send(*session, {message(1, "a@example.org", kBody), message(2, "b@example.org", kBody)});
    ASSERT_TRUE(sent.status.ok()) << sent.status.message;
    for (std::uint64_t token : {1u, 2u}) {
        const DeliveryResult& r = sent.of(token);
        EXPECT_EQ(r.outcome, DeliveryOutcome::Deferred);
        EXPECT_EQ(r.smtpCode, 451);
        EXPECT_EQ(r.enhancedStatus, "4.7.1");
        EXPECT_NE(r.text.find("Greylisted, please try again later"), std::string::npos) << r.text;
    }
}

TEST_F(Smtp, RejectAfterDataFailsAndTheConnectionCarriesOn) {
    SmtpSinkOptions options;
    options.hardReject = {"."};
    options.hardReply = "554 5.7.1 Message content rejected";
    SmtpSink sink(options);
    {
        auto session = open({{"URL", sink.url()}});
        const Sent sent = send(*session, {message(1, "a@example.org", kBody), message(2, "b@example.org", kBody)});
        ASSERT_TRUE(sent.status.ok()) << sent.status.message;
        for (std::uint64_t token : {1u, 2u}) {
            const DeliveryResult& r = sent.of(token);
            EXPECT_EQ(r.outcome, DeliveryOutcome::Failed);
            EXPECT_EQ(r.smtpCode, 554);
            EXPECT_EQ(r.enhancedStatus, "5.7.1");
            EXPECT_EQ(r.text, "554 5.7.1 Message content rejected (in reply to end of DATA)");
        }
    }
    ASSERT_TRUE(waitUntil([&] { return sink.counters().sessions >= 1; }, 10s));
    EXPECT_EQ(sink.counters().sessions, 1u);  // both on one connection
}

TEST_F(Smtp, ADroppedConnectionLeavesTheRestNotHandedOver) {
    SmtpSinkOptions options;
    options.dropAt = {"RCPT"};
    SmtpSink sink(options);
    auto session = open({{"URL", sink.url()}});
    const Sent sent = send(*session, {message(1, "a@example.org", kBody), message(2, "b@example.org", kBody),
                                      message(3, "c@example.org", kBody)});
    EXPECT_EQ(sent.status.status, TransportStatus::Connection);
    EXPECT_NE(sent.status.message.find(sink.endpoint().hostPort()), std::string::npos) << sent.status.message;
    ASSERT_EQ(sent.results.size(), 3u);
    for (const auto& r : sent.results) EXPECT_EQ(r.outcome, DeliveryOutcome::NotHandedOver) << r.text;
    EXPECT_TRUE(waitUntil([&] { return sink.messages().empty(); }, 5s));  // nothing arrived
}

TEST_F(Smtp, AConnectionLostAfterTheFinalDotIsUnknown) {
    SmtpSinkOptions options;
    options.dropAt = {"."};  // the server has the message, and closes without a verdict
    SmtpSink sink(options);
    auto session = open({{"URL", sink.url()}});
    const Sent sent = send(*session, {message(1, "a@example.org", kBody), message(2, "b@example.org", kBody)});
    EXPECT_EQ(sent.status.status, TransportStatus::Connection);
    EXPECT_EQ(sent.of(1).outcome, DeliveryOutcome::Unknown);
    EXPECT_NE(sent.of(1).text.find("lost after the message was sent"), std::string::npos) << sent.of(1).text;
    EXPECT_EQ(sent.of(2).outcome, DeliveryOutcome::NotHandedOver);
    // Why it must never be sent again: the server did receive it.
    ASSERT_TRUE(sink.waitForMessages(1));
    EXPECT_EQ(sink.messages().at(0).recipients.at(0), "a@example.org");
}

TEST_F(Smtp, A421ClosesTheSessionWithoutAResult) {
    SmtpSinkOptions options;
    options.close421At = {"RCPT"};
    SmtpSink sink(options);
    auto session = open({{"URL", sink.url()}});
    const Sent sent = send(*session, {message(1, "a@example.org", kBody)});
    EXPECT_EQ(sent.status.status, TransportStatus::Connection);
    EXPECT_NE(sent.status.message.find("421"), std::string::npos) << sent.status.message;
    EXPECT_EQ(sent.of(1).outcome, DeliveryOutcome::NotHandedOver);
}

TEST_F(Smtp, NothingListeningIsAConnectionFailure) {
    const Endpoint nowhere = freeLoopbackEndpoint();
    auto session = open({{"URL", "smtp://" + nowhere.hostPort()}, {"Timeout", "5"}});
    const Sent sent = send(*session, {message(1, "a@example.org", kBody)});
    EXPECT_EQ(sent.status.status, TransportStatus::Connection);
    EXPECT_NE(sent.status.message.find(nowhere.hostPort()), std::string::npos) << sent.status.message;
    EXPECT_EQ(sent.of(1).outcome, DeliveryOutcome::NotHandedOver);
}

TEST_F(Smtp, ASilentServerTimesOut) {
    SmtpSinkOptions options;
    // Silent at DATA, the last command of a pipelined group: smtp-sink answers the commands
    // that follow a delayed one at once, out of order, which no real server does.
    options.waitAt = {"DATA:60"};
    SmtpSink sink(options);
    auto session = open({{"URL", sink.url()}, {"Timeout", "1"}});
    const Sent sent = send(*session, {message(1, "a@example.org", kBody)});
    EXPECT_EQ(sent.status.status, TransportStatus::Connection);
    EXPECT_EQ(sent.of(1).outcome, DeliveryOutcome::NotHandedOver) << sent.of(1).text;
}

TEST_F(Smtp, TheServerGoesAwayAndComesBack) {
    SmtpSink sink;
    auto first = open({{"URL", sink.url()}});
    ASSERT_EQ(send(*first, {message(1, "a@example.org", kBody)}).of(1).outcome, DeliveryOutcome::Sent);
    sink.stop();
    const Sent during = send(*first, {message(2, "b@example.org", kBody)});
    EXPECT_EQ(during.status.status, TransportStatus::Connection);
    EXPECT_EQ(during.of(2).outcome, DeliveryOutcome::NotHandedOver);
    sink.start();
    auto second = open({{"URL", sink.url()}});  // what the daemon does after a failed session
    const Sent after = send(*second, {message(2, "b@example.org", kBody)});
    ASSERT_TRUE(after.status.ok()) << after.status.message;
    EXPECT_EQ(after.of(2).outcome, DeliveryOutcome::Sent);
    ASSERT_TRUE(sink.waitForMessages(2));
    EXPECT_EQ(sink.messages().size(), 2u);
}

TEST_F(Smtp, TlsRequiredButNotOfferedIsATlsFailure) {
    SmtpSink sink;  // smtp-sink offers no STARTTLS
    auto session = open({{"URL", sink.url()}, {"StartTLS", "required"}});
    const Sent sent = send(*session, {message(1, "a@example.org", kBody)});
    EXPECT_EQ(sent.status.status, TransportStatus::Tls);
    EXPECT_NE(sent.status.message.find("STARTTLS"), std::string::npos) << sent.status.message;
    EXPECT_EQ(sent.of(1).outcome, DeliveryOutcome::NotHandedOver);

    // smtps:// to a server that speaks plain SMTP: the handshake fails.
    auto implicit = open({{"URL", "smtps://" + sink.endpoint().hostPort()}, {"Timeout", "5"}});
    const Sent tls = send(*implicit, {message(1, "a@example.org", kBody)});
    EXPECT_EQ(tls.status.status, TransportStatus::Tls) << tls.status.message;
    EXPECT_EQ(tls.of(1).outcome, DeliveryOutcome::NotHandedOver);
    EXPECT_TRUE(waitUntil([&] { return sink.messages().empty(); }, 5s));  // nothing arrived

    // On loopback the default is opportunistic: the same server is fine without StartTLS=.
    auto plain = open({{"URL", sink.url()}});
    EXPECT_TRUE(send(*plain, {message(1, "a@example.org", kBody)}).status.ok());
}

TEST_F(Smtp, CredentialsButNoAuthOfferedSendsNothing) {
    SmtpSinkOptions options;
    options.advertiseAuth = false;
    SmtpSink sink(options);
    auto session = open({{"URL", sink.url()}, {"Username", "campaigns"}, {"PasswordFile", passwordFile()}});
    const Sent sent = send(*session, {message(1, "a@example.org", kBody)});
    EXPECT_EQ(sent.status.status, TransportStatus::Auth);
    EXPECT_NE(sent.status.message.find("offers no AUTH"), std::string::npos) << sent.status.message;
    EXPECT_EQ(sent.status.message.find(kPassword), std::string::npos);
    EXPECT_EQ(sent.of(1).outcome, DeliveryOutcome::NotHandedOver);
    EXPECT_EQ(sink.counters().messages, 0u);
    EXPECT_TRUE(waitUntil([&] { return sink.messages().empty(); }, 5s));  // nothing arrived
}

TEST_F(Smtp, RefusedCredentialsAreAnAuthFailure) {
    SmtpSinkOptions options;
    options.hardReject = {"AUTH"};
    options.hardReply = "535 5.7.8 Error: authentication failed";
    SmtpSink sink(options);
    auto session = open({{"URL", sink.url()}, {"Username", "campaigns"}, {"PasswordFile", passwordFile()}});
    const Sent sent = send(*session, {message(1, "a@example.org", kBody)});
    EXPECT_EQ(sent.status.status, TransportStatus::Auth);
    EXPECT_NE(sent.status.message.find("Username=campaigns"), std::string::npos) << sent.status.message;
    EXPECT_NE(sent.status.message.find("535 5.7.8"), std::string::npos) << sent.status.message;
    EXPECT_EQ(sent.status.message.find(kPassword), std::string::npos);
    EXPECT_EQ(sent.of(1).outcome, DeliveryOutcome::NotHandedOver);
    EXPECT_TRUE(waitUntil([&] { return sink.messages().empty(); }, 5s));  // nothing arrived
}

TEST_F(Smtp, ThePasswordComesFromASystemdCredential) {
    SmtpSinkOptions options;
    options.hardReject = {"AUTH"};
    SmtpSink sink(options);
    const std::map<std::string, std::string> settings{
        {"URL", sink.url()}, {"Username", "campaigns"}, {"PasswordCredential", "smtp-password"}};
    ::unsetenv("CREDENTIALS_DIRECTORY");
    auto [noDir, noDirText] = openError(settings);
    EXPECT_EQ(noDir, TransportStatus::Failed);
    EXPECT_NE(noDirText.find("CREDENTIALS_DIRECTORY"), std::string::npos) << noDirText;

    fs::create_directory(dir_ / "credentials");
    ::setenv("CREDENTIALS_DIRECTORY", (dir_ / "credentials").c_str(), 1);
    auto [missing, missingText] = openError(settings);
    EXPECT_EQ(missing, TransportStatus::Failed);
    EXPECT_NE(missingText.find((dir_ / "credentials" / "smtp-password").string()), std::string::npos) << missingText;

    writeFile(dir_ / "credentials" / "smtp-password", kPassword, fs::perms::owner_read);
    fs::permissions(dir_ / "credentials" / "smtp-password", fs::perms::owner_read);
    auto session = open(settings);  // read it: now the server is asked
    const Sent sent = send(*session, {message(1, "a@example.org", kBody)});
    ::unsetenv("CREDENTIALS_DIRECTORY");
    EXPECT_EQ(sent.status.status, TransportStatus::Auth) << sent.status.message;
    EXPECT_EQ(sent.status.message.find(kPassword), std::string::npos);
}

TEST_F(Smtp, BadSettingsAreRefusedNamingTheKey) {
    const std::string ok = "smtp://127.0.0.1:2525";
    const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases{
        {{}, "URL="},
        {{{"URL", "http://mail.example.org"}}, "URL="},
        {{{"URL", "smtp://"}}, "URL="},
        {{{"URL", "smtp://mail.example.org:99999"}}, "URL="},
        {{{"URL", "smtp://mail.example.org/helo"}}, "URL="},
        {{{"URL", "smtp://user:pw@mail.example.org"}}, "URL="},
        {{{"URL", ok}, {"StartTLS", "sometimes"}}, "StartTLS="},
        {{{"URL", "smtps://mail.example.org"}, {"StartTLS", "no"}}, "StartTLS="},
        {{{"URL", ok}, {"Timeout", "0"}}, "Timeout="},
        {{{"URL", ok}, {"Timeout", "ten"}}, "Timeout="},
        {{{"URL", ok}, {"Chunking", "maybe"}}, "Chunking="},
        {{{"URL", ok}, {"HeloName", "bad name"}}, "HeloName="},
        {{{"URL", ok}, {"Username", "u"}}, "Username="},
        {{{"URL", ok}, {"PasswordFile", passwordFile()}}, "PasswordFile="},
        {{{"URL", ok}, {"Username", "u"}, {"PasswordFile", "relative/file"}}, "PasswordFile="},
        {{{"URL", ok}, {"Username", "u"}, {"PasswordFile", (dir_ / "none").string()}}, "PasswordFile="},
        {{{"URL", "smtp://mail.example.org"}, {"StartTLS", "opportunistic"}, {"Username", "u"},
          {"PasswordFile", passwordFile()}},
         "StartTLS="},
        {{{"URL", ok}, {"Username", "u"}, {"PasswordFile", passwordFile()}, {"PasswordCredential", "x"}},
         "PasswordCredential="},
    };
    for (const auto& [settings, key] : cases) {
        auto [status, text] = openError(settings);
        EXPECT_EQ(status, TransportStatus::Failed) << key << ": " << text;
        EXPECT_NE(text.find(key), std::string::npos) << "expected " << key << " in: " << text;
        EXPECT_EQ(text.find("pw@"), std::string::npos) << text;
    }
    // A password file that others can read is refused, without showing its contents.
    auto [status, text] = openError({{"URL", ok}, {"Username", "u"},
                                     {"PasswordFile", passwordFile(fs::perms::owner_read | fs::perms::others_read)}});
    EXPECT_EQ(status, TransportStatus::Failed);
    EXPECT_NE(text.find("PasswordFile="), std::string::npos) << text;
    EXPECT_NE(text.find("others"), std::string::npos) << text;
    EXPECT_EQ(text.find(kPassword), std::string::npos) << text;
    // Group-readable is fine (root:campaignd 0640).
    auto [groupStatus, groupText] = openError(
        {{"URL", ok}, {"Username", "u"}, {"PasswordFile", passwordFile(fs::perms::owner_read | fs::perms::group_read)}});
    EXPECT_EQ(groupStatus, TransportStatus::Ok) << groupText;
}

// validate() (ABI 1.4) is open()'s own parser without the session: the same refusals with the
// same words, and the key to blame, so the daemon can point at its line at start-up.
TEST_F(Smtp, ValidateRefusesWhatOpenRefusesAndBlamesTheKey) {
    const std::string ok = "smtp://127.0.0.1:2525";
    struct Case {
        std::map<std::string, std::string> settings;
        std::string blamed;  // "" when a required key is missing
    };
    const std::vector<Case> cases{
        {{}, ""},
        {{{"StartTLS", "required"}}, ""},
        {{{"URL", "htp:/mail example.org:25"}}, "URL"},
        {{{"URL", "smtp://mail.example.org:99999"}}, "URL"},
        {{{"URL", "smtp://user:pw@mail.example.org"}}, "URL"},
        {{{"URL", ok}, {"StartTLS", "sometimes"}}, "StartTLS"},
        {{{"URL", "smtps://mail.example.org"}, {"StartTLS", "no"}}, "StartTLS"},
        {{{"URL", ok}, {"Timeout", "ten"}}, "Timeout"},
        {{{"URL", ok}, {"Chunking", "maybe"}}, "Chunking"},
        {{{"URL", ok}, {"HeloName", "bad name"}}, "HeloName"},
        {{{"URL", ok}, {"CAFile", "ca.pem"}}, "CAFile"},
        {{{"URL", ok}, {"Username", "u"}}, "Username"},
        {{{"URL", ok}, {"PasswordFile", passwordFile()}}, "PasswordFile"},
        {{{"URL", ok}, {"Username", "u"}, {"PasswordFile", (dir_ / "none").string()}}, "PasswordFile"},
        {{{"URL", "smtp://mail.example.org"}, {"StartTLS", "opportunistic"}, {"Username", "u"},
          {"PasswordFile", passwordFile()}},
         "StartTLS"},
        {{{"URL", ok}, {"Username", "u"}, {"PasswordCredential", "a/b"}}, "PasswordCredential"},
    };
    auto transport = host_->transport("smtp");
    ASSERT_TRUE(transport);
    for (const auto& c : cases) {
        const auto check = transport->validate("relay", c.settings);
        EXPECT_EQ(check.verdict, SettingsCheck::Verdict::BadSetting) << c.blamed << ": " << check.message;
        EXPECT_EQ(check.key, c.blamed) << check.message;
        const auto [status, text] = openError(c.settings);
        EXPECT_EQ(status, TransportStatus::Failed) << text;
        const std::string words = check.message.substr(check.message.find(": ") + 2);
        EXPECT_EQ(text, "transport relay (plugin smtp): " + words) << "open and validate say the same";
        EXPECT_EQ(text.find("pw@"), std::string::npos) << text;
    }
    // A password file that others can read: its key, and not its contents.
    const auto exposed = transport->validate(
        "relay", {{"URL", ok}, {"Username", "u"},
                  {"PasswordFile", passwordFile(fs::perms::owner_read | fs::perms::others_read)}});
    EXPECT_EQ(exposed.key, "PasswordFile");
    EXPECT_NE(exposed.message.find("others"), std::string::npos) << exposed.message;
    EXPECT_EQ(exposed.message.find(kPassword), std::string::npos) << exposed.message;
}

TEST_F(Smtp, ValidateAcceptsGoodSettingsWithoutAServer) {
    auto transport = host_->transport("smtp");
    ASSERT_TRUE(transport);
    // Nothing listens on port 1: validate connects to nothing, so it cannot tell, nor should it.
    const auto check = transport->validate(
        "relay", {{"URL", "smtp://127.0.0.1:1"}, {"StartTLS", "no"}, {"Username", "u"},
                  {"PasswordFile", passwordFile()}, {"Timeout", "5"}});
    EXPECT_EQ(check.verdict, SettingsCheck::Verdict::Valid) << check.message;
}

// The daemon keeps its own keys (Connections=, ...) to itself: a key the plugin does not know is
// a misspelling, refused and blamed, not ignored.
TEST_F(Smtp, AKeyThePluginDoesNotKnowIsRefused) {
    auto transport = host_->transport("smtp");
    ASSERT_TRUE(transport);
    const auto check = transport->validate("relay", {{"URL", "smtp://127.0.0.1:1"}, {"Usename", "u"}});
    EXPECT_EQ(check.verdict, SettingsCheck::Verdict::BadSetting);
    EXPECT_EQ(check.key, "Usename");
    EXPECT_NE(check.message.find("Usename= is not a setting of the smtp plugin (URL, StartTLS, Username"),
              std::string::npos)
        << check.message;
}

}  // namespace

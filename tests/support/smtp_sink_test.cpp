// smtp_sink_test.cpp: the SmtpSink fixture is what the SMTP transport tests and the crash test
// believe, so it is checked here with an independent client (the curl program): messages come
// back with their envelope and exact bytes, each fault switch produces its reply, the counters
// show connection reuse, stop() and start() keep the endpoint and the saved messages, and no
// smtp-sink outlives a test that dies.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include "support/network.h"
#include "support/process.h"
#include "support/smtp_sink.h"
#include "support/temp_dir.h"

namespace campaignd::test {
namespace {

class SmtpSinkTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
    }

    // Sends one message per entry of `rcpts` over ONE curl connection (curl reuses it for
    // several --url groups); returns curl's result with its protocol trace (-v) in err.
    RunResult curlSend(const SmtpSink& sink, const std::string& data,
                       const std::vector<std::vector<std::string>>& rcpts,
                       const std::string& from = "sender@example.org") {
        writeFile(dir_ / "message.eml", data);
        std::vector<std::string> argv{"curl", "-sS", "-v", "--max-time", "30"};
        bool first = true;
        for (const auto& group : rcpts) {
            if (!first) argv.push_back("--next");
            first = false;
            argv.insert(argv.end(), {"--url", sink.url(), "--mail-from", from});
            for (const auto& r : group) argv.insert(argv.end(), {"--mail-rcpt", r});
            argv.insert(argv.end(), {"--upload-file", (dir_ / "message.eml").string()});
        }
        return run(argv, {}, 60s);
    }

    TempDir dir_{"smtp-sink-test"};
};

const std::string kMessage =
    "From: Sender <sender@example.org>\r\n"
    "To: Ada <ada@example.org>\r\n"
    "Subject: Hello\r\n"
    "\r\n"
    "First line\r\n"
    ".A line that starts with a dot\r\n"
    "..two dots\r\n"
    "Last line\r\n";

TEST_F(SmtpSinkTest, SavesEnvelopeAndExactData) {
    SmtpSink sink;
    EXPECT_EQ(sink.endpoint().address.rfind("127.", 0), 0u);
    EXPECT_NE(sink.endpoint().address, "127.0.0.1");
    EXPECT_TRUE(isListening(sink.endpoint()));

    const RunResult r = curlSend(sink, kMessage, {{"ada@example.org", "bob@example.net"}});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    ASSERT_TRUE(sink.waitForMessages(1));
    const auto messages = sink.messages();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].sender, "sender@example.org");
    EXPECT_EQ(messages[0].mailArgs.rfind("<sender@example.org>", 0), 0u);
    EXPECT_EQ(messages[0].recipients, (std::vector<std::string>{"ada@example.org", "bob@example.net"}));
    EXPECT_FALSE(messages[0].heloArgs.empty());
    EXPECT_EQ(messages[0].data, kMessage);
}

TEST_F(SmtpSinkTest, CountersShowOneSessionForManyMessages) {
    SmtpSink sink;
    EXPECT_EQ(sink.counters().messages, 0u);
    const RunResult r = curlSend(sink, kMessage, {{"a@example.org"}, {"b@example.org"}, {"c@example.org"}});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    ASSERT_TRUE(waitUntil([&] { return sink.counters().sessions == 1; }, 10s)) << sink.output();
    EXPECT_EQ(sink.counters().messages, 3u);
    EXPECT_EQ(sink.counters().quits, 1u);
    ASSERT_TRUE(sink.waitForMessages(3));
    std::vector<std::string> recipients;
    for (const auto& m : sink.messages()) recipients.push_back(m.recipients.at(0));
    std::sort(recipients.begin(), recipients.end());
    EXPECT_EQ(recipients, (std::vector<std::string>{"a@example.org", "b@example.org", "c@example.org"}));
}

TEST_F(SmtpSinkTest, HardRejectAtRcptUsesTheChosenReply) {
    SmtpSinkOptions options;
    options.hardReject = {"RCPT"};
    options.hardReply = "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown";
    SmtpSink sink(options);
    const RunResult r = curlSend(sink, kMessage, {{"nobody@example.org"}});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("< 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown"),
              std::string::npos) << r.err;
    EXPECT_TRUE(waitUntil([&] { return sink.messages().empty(); }, 5s));
}

TEST_F(SmtpSinkTest, SoftRejectAtRcptAndRejectAfterData) {
    SmtpSinkOptions soft;
    soft.softReject = {"RCPT"};
    soft.softReply = "451 4.7.1 Greylisted, try again later";
    SmtpSink greylisting(soft);
    const RunResult r = curlSend(greylisting, kMessage, {{"a@example.org"}});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("< 451 4.7.1 Greylisted, try again later"), std::string::npos) << r.err;

    SmtpSinkOptions afterData;
    afterData.hardReject = {"."};
    afterData.hardReply = "554 5.7.1 Message content rejected";
    SmtpSink contentFilter(afterData);
    const RunResult d = curlSend(contentFilter, kMessage, {{"a@example.org"}});
    EXPECT_NE(d.exitCode, 0);
    EXPECT_NE(d.err.find("< 354"), std::string::npos) << d.err;
    EXPECT_NE(d.err.find("< 554 5.7.1 Message content rejected"), std::string::npos) << d.err;
}

TEST_F(SmtpSinkTest, DropAndClose421) {
    SmtpSinkOptions drop;
    drop.dropAt = {"MAIL"};
    SmtpSink dropping(drop);
    const RunResult r = curlSend(dropping, kMessage, {{"a@example.org"}});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("> MAIL FROM"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("< 250 2.1.0"), std::string::npos) << r.err;
    EXPECT_TRUE(waitUntil([&] { return dropping.messages().empty(); }, 5s));

    SmtpSinkOptions close;
    close.close421At = {"RCPT"};
    SmtpSink closing(close);
    const RunResult c = curlSend(closing, kMessage, {{"a@example.org"}});
    EXPECT_NE(c.exitCode, 0);
    EXPECT_NE(c.err.find("< 421"), std::string::npos) << c.err;
}

TEST_F(SmtpSinkTest, WithoutAuthTheEhloReplyOffersNone) {
    SmtpSinkOptions options;
    options.advertiseAuth = false;
    SmtpSink noAuth(options);
    const RunResult r = curlSend(noAuth, kMessage, {{"a@example.org"}});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err.find("AUTH"), std::string::npos) << r.err;

    SmtpSink withAuth;
    const RunResult a = curlSend(withAuth, kMessage, {{"a@example.org"}});
    EXPECT_NE(a.err.find("250-AUTH"), std::string::npos) << a.err;
}

TEST_F(SmtpSinkTest, StopAndStartKeepTheEndpointAndTheMessages) {
    SmtpSink sink;
    const Endpoint endpoint = sink.endpoint();
    ASSERT_EQ(curlSend(sink, kMessage, {{"before@example.org"}}).exitCode, 0);
    ASSERT_TRUE(sink.waitForMessages(1));

    sink.stop();
    EXPECT_FALSE(sink.running());
    EXPECT_FALSE(isListening(endpoint));
    const RunResult refused = curlSend(sink, kMessage, {{"during@example.org"}});
    EXPECT_NE(refused.exitCode, 0);

    sink.start();
    EXPECT_TRUE(sink.running());
    EXPECT_EQ(sink.endpoint().hostPort(), endpoint.hostPort());
    ASSERT_EQ(curlSend(sink, kMessage, {{"after@example.org"}}).exitCode, 0);
    ASSERT_TRUE(sink.waitForMessages(2));
    const auto messages = sink.messages();
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[0].recipients.at(0), "before@example.org");
    EXPECT_EQ(messages[1].recipients.at(0), "after@example.org");
}

TEST(SmtpSinkParse, SplitsRecordsFromData) {
    const SavedMessage m = SmtpSink::parseSaved(
        "X-Client-Addr: 127.0.0.1\n"
        "X-Client-Proto: ESMTP\n"
        "X-Helo-Args: client.example\n"
        "X-Mail-Args: <> BODY=8BITMIME\n"
        "X-Rcpt-Args: <a@example.org> NOTIFY=NEVER\n"
        "Received: from client.example ([127.0.0.1])\n"
        "\tby smtp-sink (smtp-sink) with ESMTP id 1234abcd;\n"
        "\tFri, 27 Nov 2026 23:58:03 +0000 (UTC)\n"
        "Subject: x\n"
        "\n"
        "body\n"
        "\n");
    EXPECT_EQ(m.heloArgs, "client.example");
    EXPECT_EQ(m.mailArgs, "<> BODY=8BITMIME");
    EXPECT_EQ(m.sender, "");
    EXPECT_EQ(m.recipients, std::vector<std::string>{"a@example.org"});
    EXPECT_EQ(m.data, "Subject: x\r\n\r\nbody\r\n");
}

TEST(SmtpSinkDeathTest, NoSinkOutlivesACrashedTest) {
    if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
    GTEST_FLAG_SET(death_test_style, "fast");
    TempDir dir;
    const auto pidFile = dir / "sink.pid";
    EXPECT_EXIT(
        {
            SmtpSink sink;
            // The sink's pid: the one process listening there, found by its command line.
            for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
                std::string cmdline;
                try {
                    cmdline = readFile(entry.path() / "cmdline");
                } catch (const std::exception&) {
                    continue;
                }
                if (cmdline.find("/usr/sbin/smtp-sink") == 0 && cmdline.find(sink.endpoint().hostPort()) != std::string::npos)
                    writeFile(pidFile, entry.path().filename().string());
            }
            writeFile(dir / "sink.dir", sink.messagesDirectory().parent_path().string());
            ::kill(::getpid(), SIGKILL);
        },
        ::testing::KilledBySignal(SIGKILL), "");
    const pid_t pid = pid_t(std::stol(readFile(pidFile)));
    EXPECT_TRUE(waitForProcessExit(pid, 15s));
    // ... and its directory (saved messages) goes too.
    const std::filesystem::path saved(readFile(dir / "sink.dir"));
    EXPECT_TRUE(waitUntil([&] { return !std::filesystem::exists(saved); }, 15s)) << saved;
}

}  // namespace
}  // namespace campaignd::test

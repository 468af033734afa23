// mail_server_test.cpp: the Postfix and Dovecot fixtures, checked with an independent client
// (the curl program): the mailbox profile delivers to listed mailboxes, bounces an unknown user
// with Postfix's DSN to the VERP sender's mailbox, and Dovecot serves that mailbox over IMAP;
// neither Postfix nor its SASL Dovecot outlives a test that dies.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>

#include "support/dovecot_server.h"
#include "support/postfix_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::test {
namespace {

TEST(PostfixServer, TheMailboxProfileDeliversBouncesWithADsnAndDovecotServesTheMailbox) {
    if (!PostfixServer::available(PostfixProfile::Mailbox) || !DovecotServer::available())
        GTEST_SKIP() << "needs root, postfix and dovecot";
    PostfixServer postfix(mailboxProfile("campaignd.test", {"bounces", "good"}));
    DovecotServer dovecot({{{"bounces@campaignd.test", "secret"}}, postfix.mailBase()});
    EXPECT_THROW(postfix.caFile(), std::logic_error) << "TLS is the relay profile's";
    EXPECT_NE(postfix.endpoint().address, "127.0.0.1");

    TempDir dir;
    writeFile(dir / "message.eml", "From: news@campaignd.test\r\nSubject: Hello\r\n\r\nBody.\r\n");
    const RunResult sent = run({"curl", "-sS", "--url", postfix.url(), "--mail-from", "bounces+1-x@campaignd.test",
                                "--mail-rcpt", "good@campaignd.test", "--mail-rcpt", "nobody@campaignd.test", "-T",
                                (dir / "message.eml").string()});
    ASSERT_EQ(sent.exitCode, 0) << sent.err;
    ASSERT_TRUE(waitUntil([&] { return postfix.deliveredFiles("good").size() == 1; }, 30s)) << postfix.log();
    EXPECT_NE(readFile(postfix.deliveredFiles("good").front()).find("Subject: Hello"), std::string::npos);
    ASSERT_TRUE(waitUntil([&] { return postfix.deliveredFiles("bounces").size() == 1; }, 30s)) << postfix.log();
    const std::string dsn = readFile(postfix.deliveredFiles("bounces").front());
    EXPECT_NE(dsn.find("report-type=delivery-status"), std::string::npos) << dsn;
    EXPECT_NE(dsn.find("nobody@campaignd.test"), std::string::npos) << dsn;

    const RunResult searched = run({"curl", "-sS", "-u", "bounces@campaignd.test:secret", dovecot.url("INBOX"), "-X",
                                    "SEARCH ALL"});
    EXPECT_EQ(searched.exitCode, 0) << searched.err << dovecot.log();
    EXPECT_NE(searched.out.find("* SEARCH 1"), std::string::npos) << searched.out;
    EXPECT_NE(run({"curl", "-sS", "-u", "bounces@campaignd.test:wrong", dovecot.url("INBOX"), "-X", "SEARCH ALL"})
                  .exitCode,
              0);
}

TEST(PostfixServerDeathTest, NeitherPostfixNorDovecotOutlivesACrashedTest) {
    if (!PostfixServer::available()) GTEST_SKIP() << "needs root, postfix, dovecot and openssl";
    GTEST_FLAG_SET(death_test_style, "fast");
    TempDir dir;
    const auto pids = dir / "pids";
    auto startAndDie = [&] {
        PostfixServer server(relayProfile({{"u", "p"}}));
        // Postfix's master and Dovecot's.
        writeFile(pids, std::to_string(server.masterPid()) + "\n" + std::to_string(server.saslServerPid()) + "\n");
        ::kill(::getpid(), SIGKILL);
    };
    EXPECT_EXIT(startAndDie(), ::testing::KilledBySignal(SIGKILL), "");
    std::istringstream in(readFile(pids));
    long master = 0, dovecot = 0;
    in >> master >> dovecot;
    ASSERT_GT(master, 0);
    ASSERT_GT(dovecot, 0);
    EXPECT_TRUE(waitForProcessExit(pid_t(master), 20s));
    EXPECT_TRUE(waitForProcessExit(pid_t(dovecot), 20s));
}

}  // namespace
}  // namespace campaignd::test

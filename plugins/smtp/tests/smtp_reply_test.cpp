// smtp_reply_test.cpp: the reader of server replies, on the shapes real servers send and on
// what a broken or hostile one could: multi-line replies, enhanced status codes or their
// absence, AUTH announcements, overlong text, lines that are not replies.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "smtp_reply.h"

namespace campaignd::smtp {
namespace {

TEST(SmtpReply, ParsesLinesAndTheirEnhancedStatus) {
    const auto line = parseReplyLine("550 5.1.1 <x@example.org>: User unknown\r\n");
    ASSERT_TRUE(line);
    EXPECT_EQ(line->code, 550);
    EXPECT_TRUE(line->last);
    EXPECT_EQ(line->text, "5.1.1 <x@example.org>: User unknown");
    EXPECT_EQ(enhancedStatus(line->text), "5.1.1");
    EXPECT_FALSE(parseReplyLine("250-PIPELINING")->last);
    EXPECT_TRUE(parseReplyLine("250")->last);
    EXPECT_EQ(parseReplyLine("250")->text, "");
    for (const char* bad : {"", "25", "abc", "650 x", "250x", "UGFzc3dvcmQ6", "2 50 x"})
        EXPECT_FALSE(parseReplyLine(bad)) << bad;
    EXPECT_EQ(enhancedStatus("4.7.1"), "4.7.1");
    EXPECT_EQ(enhancedStatus("2.0.0 Ok"), "2.0.0");
    EXPECT_EQ(enhancedStatus("5.7.123 x"), "5.7.123");
    for (const char* none : {"Ok", "3.1.1 x", "5.1 x", "5.1. x", "5.1.1x", "5.1111.1 x", "5..1 x", ""})
        EXPECT_EQ(enhancedStatus(none), "") << none;
}

TEST(SmtpReply, AnnouncesAuth) {
    EXPECT_TRUE(announcesAuth("AUTH PLAIN LOGIN"));
    EXPECT_TRUE(announcesAuth("auth=LOGIN"));
    EXPECT_TRUE(announcesAuth("AUTH"));
    EXPECT_FALSE(announcesAuth("AUTHENTICATE"));
    EXPECT_FALSE(announcesAuth("8BITMIME"));
}

TEST(SmtpReply, JoinsMultiLineRepliesAndBoundsTheText) {
    ReplyReader reader;
    EXPECT_FALSE(reader.take("451-4.7.1 Greylisted\r\n"));
    EXPECT_FALSE(reader.take("not a reply line"));
    EXPECT_TRUE(reader.take("451 4.7.1 try again later\r\n"));
    EXPECT_EQ(reader.code(), 451);
    EXPECT_STREQ(reader.enhanced(), "4.7.1");
    EXPECT_EQ(reader.text(), "4.7.1 Greylisted 4.7.1 try again later");
    // The next line starts a new reply.
    EXPECT_TRUE(reader.take("250 Ok"));
    EXPECT_EQ(reader.code(), 250);
    EXPECT_STREQ(reader.enhanced(), "");
    EXPECT_EQ(reader.text(), "Ok");

    reader.clear();
    const std::string flood(5000, 'x');
    for (int i = 0; i < 10; ++i) EXPECT_FALSE(reader.take("554-" + flood));
    EXPECT_TRUE(reader.take("554 end"));
    EXPECT_EQ(reader.text().size(), kMaxReplyText);
    EXPECT_FALSE(reader.complete() && reader.code() != 554);
}

}  // namespace
}  // namespace campaignd::smtp

namespace {

using campaignd::smtp::ExtensionReader;
using campaignd::smtp::ReplyStream;

TEST(SmtpReplyStream, CutsBytesIntoRepliesInOrderHoweverTheyArrive) {
    const std::string wire =
        "250 2.0.0 Ok: queued as 1\r\n250 2.1.0 Ok\r\n550-5.1.1 <gone@example.org>:\r\n"
        "550 5.1.1 User unknown\r\n354 End data with <CR><LF>.<CR><LF>\r\n";
    for (std::size_t chunk : {std::size_t(1), std::size_t(7), wire.size()}) {
        ReplyStream stream;
        std::vector<campaignd::smtp::Reply> got;
        for (std::size_t at = 0; at < wire.size(); at += chunk) {
            stream.feed(std::string_view(wire).substr(at, chunk));
            while (stream.ready()) got.push_back(stream.pop());
        }
        EXPECT_TRUE(stream.idle());
        ASSERT_EQ(got.size(), 4u) << chunk;
        EXPECT_EQ(got[0].code, 250);
        EXPECT_EQ(got[0].text, "2.0.0 Ok: queued as 1");
        EXPECT_EQ(got[1].enhanced, "2.1.0");
        EXPECT_EQ(got[2].code, 550);
        EXPECT_EQ(got[2].enhanced, "5.1.1");
        EXPECT_EQ(got[2].text, "5.1.1 <gone@example.org>: 5.1.1 User unknown");
        EXPECT_EQ(got[3].code, 354);
    }
}

TEST(SmtpReplyStream, IsNotIdleWithHalfALineAndBoundsAnEndlessOne) {
    ReplyStream stream;
    stream.feed("220 mx.test ESMTP\r\n250 ");
    ASSERT_TRUE(stream.ready());
    EXPECT_EQ(stream.pop().code, 220);
    EXPECT_FALSE(stream.idle());  // "250 " waits for its line end
    stream.feed(std::string(100000, 'x'));
    stream.feed("\r\n");
    ASSERT_TRUE(stream.ready());
    EXPECT_LE(stream.pop().text.size(), campaignd::smtp::kMaxReplyText);
    EXPECT_TRUE(stream.idle());
}

TEST(SmtpReplyStream, ReadsTheExtensionsOfAnEhloReply) {
    ReplyStream stream;
    ExtensionReader ehlo;
    stream.collectExtensions(&ehlo);
    stream.feed("250-mx.test greets you\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-starttls\r\n"
                "250-AUTH LOGIN PLAIN\r\n250-8BITMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n");
    ASSERT_TRUE(stream.ready());
    const auto& e = ehlo.extensions();
    EXPECT_TRUE(e.pipelining);
    EXPECT_TRUE(e.startTls);
    EXPECT_TRUE(e.auth);
    EXPECT_TRUE(e.authPlain);
    EXPECT_TRUE(e.authLogin);
    EXPECT_TRUE(e.eightBitMime);
    EXPECT_TRUE(e.chunking);
    EXPECT_EQ(e.size, 10240000u);

    ExtensionReader bare;  // the greeting line names the server; it is no keyword
    bare.line("PIPELINING");
    bare.line("AUTH=LOGIN");
    EXPECT_FALSE(bare.extensions().pipelining);
    EXPECT_FALSE(bare.extensions().chunking);
    EXPECT_TRUE(bare.extensions().authLogin);
}

}  // namespace

// smtp_reply_test.cpp: the reader of server replies, on the shapes real servers send and on
// what a broken or hostile one could: multi-line replies, enhanced status codes or their
// absence, AUTH announcements, overlong text, lines that are not replies.
#include <gtest/gtest.h>

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

// classify_test.cpp: the reason table on its own: specific enhanced codes decide, generic ones
// (x.0.0, 5.7.1, none) are refined by wording, and hard means userunknown/hostunknown/hasmoved.
#include "bounce/bounce_parser.h"

#include <gtest/gtest.h>

namespace {

using campaignd::bounce::classify;
using campaignd::bounce::isHard;
using campaignd::bounce::Reason;
using campaignd::bounce::reasonFromString;
using campaignd::bounce::toString;

TEST(Classify, SpecificCodesDecide) {
    EXPECT_EQ(classify("5.1.1", ""), Reason::userUnknown);
    EXPECT_EQ(classify("5.1.2", ""), Reason::hostUnknown);
    EXPECT_EQ(classify("5.2.2", ""), Reason::mailboxFull);
    EXPECT_EQ(classify("5.2.3", ""), Reason::mesgTooBig);
    EXPECT_EQ(classify("5.3.4", ""), Reason::mesgTooBig);
    EXPECT_EQ(classify("4.4.7", ""), Reason::expired);
    EXPECT_EQ(classify("5.4.4", ""), Reason::hostUnknown);
    EXPECT_EQ(classify("5.1.6", ""), Reason::hasMoved);
    EXPECT_EQ(classify("5.5.2", ""), Reason::syntaxError);
    EXPECT_EQ(classify("5.4.6", ""), Reason::networkError);
    EXPECT_EQ(classify("4.2.2", "quota"), Reason::mailboxFull);
    EXPECT_EQ(classify("2.0.0", "ok"), Reason::delivered);
}

TEST(Classify, Generic571IsRefinedByWording) {
    EXPECT_EQ(classify("5.7.1", "Message rejected as spam by Content Filtering"), Reason::spamDetected);
    EXPECT_EQ(classify("5.7.1", "Client host [192.0.2.9] blocked using zen.spamhaus.org"), Reason::blocked);
    EXPECT_EQ(classify("5.7.1", "Relaying denied"), Reason::noRelaying);
    EXPECT_EQ(classify("5.7.1", "Delivery not authorized, message refused due to policy"), Reason::policyViolation);
    EXPECT_EQ(classify("5.7.1", "Virus found in message"), Reason::virusDetected);
    EXPECT_EQ(classify("5.7.1", ""), Reason::rejected);
}

TEST(Classify, WordingWithoutCode) {
    EXPECT_EQ(classify("", "552 Mailbox full"), Reason::mailboxFull);
    EXPECT_EQ(classify("", "550 Requested action not taken: quota exceeded"), Reason::mailboxFull);
    EXPECT_EQ(classify("", "550 No such user here"), Reason::userUnknown);
    EXPECT_EQ(classify("5.0.0", "The domain does not exist"), Reason::hostUnknown);
    EXPECT_EQ(classify("", "Sorry, no mailbox here by that name"), Reason::userUnknown);
    EXPECT_EQ(classify("", "554 Your IP is listed at bl.example.net"), Reason::blocked);
    EXPECT_EQ(classify("", "something else entirely"), Reason::undefined);
    EXPECT_EQ(classify("4.0.0", "Connection timed out"), Reason::networkError);
}

TEST(Classify, HardOnlyForDeadAddresses) {
    for (int i = 0; i <= static_cast<int>(Reason::undefined); ++i) {
        auto r = static_cast<Reason>(i);
        bool expected = r == Reason::userUnknown || r == Reason::hostUnknown || r == Reason::hasMoved;
        EXPECT_EQ(isHard(r), expected) << toString(r);
        EXPECT_EQ(reasonFromString(toString(r)), r);
    }
    EXPECT_EQ(toString(Reason::userUnknown), "userunknown");
    EXPECT_EQ(toString(Reason::feedback), "feedback");
    EXPECT_FALSE(reasonFromString("nonsense"));
}

}  // namespace

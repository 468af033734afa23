// classify_test.cpp: the reason tables on their own, as Sisimai decides: specific enhanced codes,
// wording per reason (with the command it answered), server shapes, the leftovers, pseudo status
// codes; hard means userunknown/hostunknown/hasmoved/notaccept.
#include "bounce/bounce_parser.h"

#include <gtest/gtest.h>

namespace {

using campaignd::bounce::classify;
using campaignd::bounce::Outcome;
using campaignd::bounce::pseudoStatus;
using campaignd::bounce::smtpCommandIn;
using campaignd::bounce::isHard;
using campaignd::bounce::Reason;
using campaignd::bounce::reasonFromString;
using campaignd::bounce::toString;

TEST(Classify, SpecificCodesDecide) {
    EXPECT_EQ(classify("5.1.1", ""), Reason::userUnknown);
    EXPECT_EQ(classify("5.1.2", ""), Reason::hostUnknown);
    EXPECT_EQ(classify("5.2.2", ""), Reason::mailboxFull);
    EXPECT_EQ(classify("5.2.3", ""), Reason::exceedLimit);  // the administrative limit
    EXPECT_EQ(classify("5.3.4", ""), Reason::mesgTooBig);
    EXPECT_EQ(classify("4.4.7", ""), Reason::expired);
    EXPECT_EQ(classify("5.4.4", ""), Reason::hostUnknown);
    EXPECT_EQ(classify("5.1.6", ""), Reason::hasMoved);
    EXPECT_EQ(classify("5.2.1", ""), Reason::filtered);
    EXPECT_EQ(classify("5.4.6", ""), Reason::undefined);  // no reason of its own, and no words
    EXPECT_EQ(classify("4.2.2", "quota"), Reason::mailboxFull);
    EXPECT_EQ(classify("2.0.0", "ok"), Reason::delivered);
}

TEST(Classify, Generic571IsRefinedByWording) {
    EXPECT_EQ(classify("5.7.1", "Message rejected as spam by Content Filtering"), Reason::spamDetected);
    EXPECT_EQ(classify("5.7.1", "Client host [192.0.2.9] blocked using zen.spamhaus.org"), Reason::blocked);
    EXPECT_EQ(classify("5.7.1", "Relaying denied"), Reason::noRelaying);
    EXPECT_EQ(classify("5.7.1", "Message rejected: virus detected"), Reason::virusDetected);
    EXPECT_EQ(classify("5.7.1", ""), Reason::securityError);
}

TEST(Classify, WordingWithoutCode) {
    EXPECT_EQ(classify("", "552 Mailbox full"), Reason::mailboxFull);
    EXPECT_EQ(classify("", "550 Requested action not taken: quota exceeded"), Reason::mailboxFull);
    EXPECT_EQ(classify("5.0.0", "The domain does not exist"), Reason::hostUnknown);
    EXPECT_EQ(classify("", "554 Client host [192.0.2.1] blocked using bl.example.net"), Reason::blocked);
    EXPECT_EQ(classify("4.0.0", "Connection timed out"), Reason::expired);
}

// Sisimai's rule: "user unknown" names userunknown when it answered RCPT TO (or the status says
// 5.1.x); the same words after DATA, or where the command is unknown, are a filter's (filtered).
TEST(Classify, UserUnknownWordingDependsOnTheCommand) {
    Outcome o;
    o.status = "5.0.0";
    o.diagnostic = "550 No such user here";
    o.command = "RCPT";
    EXPECT_EQ(classify(o), Reason::userUnknown);
    o.command = "DATA";
    EXPECT_EQ(classify(o), Reason::filtered);
    o.command = "";
    EXPECT_EQ(classify(o), Reason::filtered);
    o.status = "5.1.1";
    EXPECT_EQ(classify(o), Reason::userUnknown);
}

TEST(Classify, ANegativePhraseVetoesItsReason) {
    // "address rejected" is rejected's wording, but not "recipient address rejected".
    EXPECT_EQ(classify("5.1.1", "550 5.1.1 <a@example.net>: Recipient address rejected: User unknown"),
              Reason::userUnknown);
    Outcome o;
    o.status = "5.0.0";
    o.diagnostic = "553 sender address rejected";
    o.command = "MAIL";
    EXPECT_EQ(classify(o), Reason::rejected);
}

TEST(Classify, ServerShapesDecide) {
    EXPECT_EQ(classify("", "Sorry, no mailbox here by that name. (#5.1.1)"), Reason::userUnknown);
    EXPECT_EQ(classify("", "retry timeout exceeded"), Reason::expired);
    EXPECT_EQ(classify("", "User not listed in Domino Directory"), Reason::userUnknown);
    EXPECT_EQ(classify("5.0.0", "Recipient user name info not unique. Several matches found in Domino Directory."),
              Reason::systemError);
}

TEST(Classify, LeftoversAreOnHoldOrExpired) {
    EXPECT_EQ(classify("", "something else entirely"), Reason::onHold);
    EXPECT_EQ(classify("", ""), Reason::undefined);
    Outcome o;
    o.diagnostic = "";
    o.delayed = true;
    EXPECT_EQ(classify(o), Reason::expired);
    o.diagnostic = "501 what?";
    o.smtpCode = 501;
    o.delayed = false;
    EXPECT_EQ(classify(o), Reason::syntaxError);
}

TEST(Classify, CommandAndPseudoStatus) {
    EXPECT_EQ(smtpCommandIn("host x said: 550 nope (in reply to RCPT TO command)"), "RCPT");
    EXPECT_EQ(smtpCommandIn("SMTP error from remote mail server after end of data: 554 no"), "DATA");
    EXPECT_EQ(smtpCommandIn("192.0.2.1 does not like recipient."), "RCPT");
    EXPECT_EQ(smtpCommandIn("550 no"), "");
    EXPECT_EQ(pseudoStatus(Reason::userUnknown, false), "5.0.911");
    EXPECT_EQ(pseudoStatus(Reason::userUnknown, true), "5.0.911");  // never a temporary one
    EXPECT_EQ(pseudoStatus(Reason::mailboxFull, true), "4.0.922");
    EXPECT_EQ(pseudoStatus(Reason::delivered, false), "");
}

TEST(Classify, HardOnlyForDeadAddresses) {
    for (int i = 0; i <= static_cast<int>(Reason::undefined); ++i) {
        auto r = static_cast<Reason>(i);
        bool expected = r == Reason::userUnknown || r == Reason::hostUnknown || r == Reason::hasMoved ||
                        r == Reason::notAccept;
        EXPECT_EQ(isHard(r), expected) << toString(r);
        EXPECT_EQ(reasonFromString(toString(r)), r);
    }
    EXPECT_EQ(toString(Reason::userUnknown), "userunknown");
    EXPECT_EQ(toString(Reason::feedback), "feedback");
    EXPECT_FALSE(reasonFromString("nonsense"));
}

}  // namespace

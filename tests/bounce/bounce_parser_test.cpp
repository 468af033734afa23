// bounce_parser_test.cpp: the parser on the corpus (corpus/*.eml, one message per server shape)
// and on damaged input. Each case asserts what the daemon will record: recipient, enhanced
// status, reason, hard/soft, action, and the campaign matching data where present.
#include "bounce/bounce_parser.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using namespace campaignd::bounce;

std::string corpus(const std::string& name) {
    std::ifstream in(std::string(BOUNCE_CORPUS_DIR) + "/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_FALSE(ss.str().empty()) << name;
    return ss.str();
}

void expectResult(const BounceResult& r, const std::string& recipient, const std::string& status,
                  Reason reason, bool hard, Action action = Action::failed) {
    EXPECT_EQ(r.recipient, recipient);
    EXPECT_EQ(r.status, status) << r.recipient;
    EXPECT_EQ(toString(r.reason), toString(reason)) << r.recipient << ": " << r.diagnostic;
    EXPECT_EQ(r.hard, hard) << r.recipient;
    EXPECT_EQ(toString(r.action), toString(action)) << r.recipient;
}

TEST(Corpus, PostfixDsnSingleRecipient) {
    ParsedMessage m = parseMessage(corpus("postfix-dsn-single.eml"));
    EXPECT_TRUE(m.isBounce);
    EXPECT_FALSE(m.isAutoReply);
    EXPECT_EQ(m.format, "rfc3464");
    EXPECT_EQ(m.error, "");
    ASSERT_EQ(m.results.size(), 1u);
    const BounceResult& r = m.results[0];
    expectResult(r, "nobody@example.net", "5.1.1", Reason::userUnknown, true);
    EXPECT_EQ(r.smtpCode, 550);
    EXPECT_EQ(r.remoteMta, "mx.example.net");
    EXPECT_EQ(r.diagnostic, "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in "
                            "virtual mailbox table");
    EXPECT_EQ(r.verpAddress, "bounces+42-k7d2m4xq9aabbccdd@bounces.example.org");
    EXPECT_EQ(r.originalMessageId, "<c42.r1001.1717488901@campaign.example.org>");
    EXPECT_EQ(r.campaignId, 42);
}

TEST(Corpus, PostfixDsnSeveralRecipients) {
    ParsedMessage m = parseMessage(corpus("postfix-dsn-multi.eml"));
    EXPECT_TRUE(m.isBounce);
    EXPECT_EQ(m.error, "");
    ASSERT_EQ(m.results.size(), 4u);
    expectResult(m.results[0], "gone@example.net", "5.1.1", Reason::userUnknown, true);
    expectResult(m.results[1], "full@example.com", "5.2.2", Reason::mailboxFull, false);
    expectResult(m.results[2], "listed@example.net", "5.7.1", Reason::blocked, false);
    expectResult(m.results[3], "later@example.com", "4.2.2", Reason::mailboxFull, false, Action::delayed);
    for (const BounceResult& r : m.results) {
        EXPECT_EQ(r.campaignId, 7) << "from the [CID:7] tag of the returned headers";
        EXPECT_EQ(r.originalMessageId, "<c7.batch3@campaign.example.org>");
        EXPECT_EQ(r.verpAddress, "bounces+7-aaaabbbbccccdddd2@bounces.example.org");
    }
}

TEST(Corpus, DelayedIsNotAFailure) {
    ParsedMessage m = parseMessage(corpus("delayed.eml"));
    EXPECT_TRUE(m.isBounce);
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "slow@example.net", "4.4.1", Reason::expired, false, Action::delayed);
    EXPECT_EQ(m.results[0].campaignId, 9);
}

TEST(Corpus, Qmail) {
    ParsedMessage m = parseMessage(corpus("qmail.eml"));
    EXPECT_TRUE(m.isBounce);
    EXPECT_EQ(m.format, "qmail");
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "someone@example.com", "5.1.1", Reason::userUnknown, true);
    EXPECT_EQ(m.results[0].campaignId, 12);
    EXPECT_EQ(m.results[0].originalMessageId, "<c12.r77@campaign.example.org>");
    EXPECT_EQ(m.results[0].verpAddress, "bounces+12-abcdefghijklmnop2@bounces.example.org");
}

TEST(Corpus, Exim) {
    ParsedMessage m = parseMessage(corpus("exim.eml"));
    EXPECT_TRUE(m.isBounce);
    EXPECT_FALSE(m.isAutoReply) << "Auto-Submitted on a bounce does not make it a vacation reply";
    EXPECT_EQ(m.format, "exim");
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "missing@example.net", "5.1.1", Reason::userUnknown, true);
    EXPECT_EQ(m.results[0].smtpCode, 550);
    EXPECT_EQ(m.results[0].remoteMta, "mx2.example.net");
    EXPECT_EQ(m.results[0].campaignId, 15);
    EXPECT_EQ(m.results[0].originalMessageId, "<c15.r3@campaign.example.org>");
}

TEST(Corpus, Sendmail) {
    ParsedMessage m = parseMessage(corpus("sendmail.eml"));
    EXPECT_EQ(m.format, "sendmail");
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "ghost@example.com", "5.1.1", Reason::userUnknown, true);
    EXPECT_EQ(m.results[0].campaignId, 21);
    EXPECT_EQ(m.results[0].verpAddress, "bounces+21-mmmmnnnnoooopppp2@bounces.example.org");
}

TEST(Corpus, Exchange) {
    ParsedMessage m = parseMessage(corpus("exchange.eml"));
    EXPECT_EQ(m.format, "exchange");
    ASSERT_EQ(m.results.size(), 1u) << "named twice, reported once";
    expectResult(m.results[0], "left.company@example.com", "5.1.1", Reason::userUnknown, true);
    EXPECT_EQ(m.results[0].campaignId, 33);
    EXPECT_EQ(m.results[0].originalMessageId, "<c33.r4@campaign.example.org>");
}

TEST(Corpus, Gmail) {
    ParsedMessage m = parseMessage(corpus("gmail.eml"));
    EXPECT_EQ(m.format, "gmail");
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "typo@example.net", "5.1.1", Reason::userUnknown, true);
    EXPECT_EQ(m.results[0].campaignId, 44);
}

TEST(Corpus, Yahoo) {
    ParsedMessage m = parseMessage(corpus("yahoo.eml"));
    EXPECT_EQ(m.format, "yahoo");
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "nouser@example.com", "5.0.910", Reason::filtered, false);
    EXPECT_EQ(m.results[0].smtpCode, 554);
    EXPECT_EQ(m.results[0].campaignId, 55);
}

TEST(Corpus, PostfixPlainText) {
    ParsedMessage m = parseMessage(corpus("postfix-plain.eml"));
    EXPECT_EQ(m.format, "postfix");
    ASSERT_EQ(m.results.size(), 2u);
    expectResult(m.results[0], "info@unknown-domain.example.com", "5.0.912", Reason::hostUnknown, true);
    expectResult(m.results[1], "fullbox@example.net", "5.2.2", Reason::mailboxFull, false);
    EXPECT_EQ(m.results[1].remoteMta, "mx.example.net");
    EXPECT_FALSE(m.results[0].campaignId);
}

TEST(Corpus, ArfComplaint) {
    ParsedMessage m = parseMessage(corpus("arf.eml"));
    EXPECT_FALSE(m.isBounce);
    EXPECT_TRUE(m.isComplaint);
    EXPECT_EQ(m.format, "arf");
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "annoyed@example.com", "", Reason::feedback, false, Action::complaint);
    EXPECT_EQ(m.results[0].campaignId, 77);
    EXPECT_EQ(m.results[0].verpAddress, "bounces+77-ppppqqqqrrrrssss2@bounces.example.org");
    EXPECT_EQ(m.results[0].originalMessageId, "<c77.r8@campaign.example.org>");
}

TEST(Corpus, AMicrosoftJmrpComplaintIsAComplaint) {
    ParsedMessage m = parseMessage(corpus("jmrp-complaint.eml"));
    EXPECT_TRUE(m.isComplaint);
    EXPECT_FALSE(m.isBounce);
    EXPECT_EQ(m.format, "jmrp");
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "hannah@hotmail.example", "", Reason::feedback, false, Action::complaint);
    EXPECT_EQ(m.results[0].originalMessageId, "<c42.r123.1733579000@campaign.example.org>");
    // The same shape from anyone else is no complaint.
    std::string other = corpus("jmrp-complaint.eml");
    other.replace(other.find("From: staff@hotmail.com"), 23, "From: staff@example.net");
    EXPECT_FALSE(parseMessage(other).isComplaint);
}

TEST(Corpus, AutoReplyIsNotABounce) {
    ParsedMessage m = parseMessage(corpus("autoreply.eml"));
    EXPECT_TRUE(m.isAutoReply);
    EXPECT_FALSE(m.isBounce);
    EXPECT_TRUE(m.results.empty());
    EXPECT_EQ(m.error, "");
}

// Issue 13 item 4: what is no bounce, one corpus message of each shape.
TEST(Corpus, AnAutoReplyByPrecedenceAloneIsNotABounce) {
    ParsedMessage m = parseMessage(corpus("autoreply-precedence.eml"));
    EXPECT_TRUE(m.isAutoReply);
    EXPECT_FALSE(m.isBounce);
    EXPECT_TRUE(m.results.empty());
}

TEST(Corpus, AChallengeResponseRequestIsNotABounce) {
    for (const char* name : {"challenge-tmda.eml", "challenge-human.eml"}) {
        SCOPED_TRACE(name);
        ParsedMessage m = parseMessage(corpus(name));
        EXPECT_TRUE(m.isChallenge);
        EXPECT_FALSE(m.isBounce);
        EXPECT_FALSE(m.isAutoReply) << "a challenge, not a vacation message (TMDA's says auto-replied too)";
        EXPECT_EQ(m.format, "challenge");
        EXPECT_TRUE(m.results.empty());
    }
}

TEST(Corpus, AReadReceiptIsNotABounce) {
    ParsedMessage m = parseMessage(corpus("mdn-receipt.eml"));
    EXPECT_TRUE(m.isReceipt);
    EXPECT_FALSE(m.isBounce);
    EXPECT_EQ(m.format, "mdn");
    EXPECT_TRUE(m.results.empty());
}

TEST(Corpus, ADsnReportingADeliveryIsAReceiptThatFailsNobody) {
    ParsedMessage m = parseMessage(corpus("dsn-delivered.eml"));
    EXPECT_TRUE(m.isReceipt);
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "fay@example.com", "2.0.0", Reason::delivered, false, Action::delivered);
    // A DSN with one failure among deliveries is a bounce, not a receipt.
    std::string mixed = corpus("dsn-delivered.eml");
    const std::string block = "Final-Recipient: rfc822; fay@example.com";
    mixed.insert(mixed.find(block), "Final-Recipient: rfc822; gone@example.com\nAction: failed\nStatus: 5.1.1\n\n");
    ParsedMessage failed = parseMessage(mixed);
    EXPECT_FALSE(failed.isReceipt);
    ASSERT_EQ(failed.results.size(), 2u);
    EXPECT_EQ(failed.results[0].action, Action::failed);
}

TEST(Malformed, MissingBoundaryIsGuessed) {
    ParsedMessage m = parseMessage(corpus("no-boundary.eml"));
    EXPECT_NE(m.error.find("boundary"), std::string::npos) << m.error;
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "lost@example.net", "5.1.1", Reason::userUnknown, true);
    EXPECT_EQ(m.results[0].campaignId, 88) << "[CID:88] in the notice's own subject";
}

TEST(Malformed, TruncatedMessage) {
    ParsedMessage m = parseMessage(corpus("truncated.eml"));
    EXPECT_TRUE(m.isBounce);
    EXPECT_NE(m.error.find("closing boundary"), std::string::npos) << m.error;
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "cut@example.net", "5.1.2", Reason::hostUnknown, true);
    EXPECT_EQ(m.results[0].campaignId, 99);
}

TEST(Malformed, InvalidUtf8AndNulBytes) {
    ParsedMessage m = parseMessage(corpus("invalid-utf8-nul.eml"));
    EXPECT_NE(m.error.find("NUL"), std::string::npos) << m.error;
    EXPECT_NE(m.error.find("invalid UTF-8"), std::string::npos) << m.error;
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "broken@example.com", "5.2.2", Reason::mailboxFull, false);
    EXPECT_EQ(m.results[0].diagnostic.find('\0'), std::string::npos);
}

TEST(Malformed, TenMegabyteAttachmentIsBoundedWork) {
    std::string raw = corpus("postfix-dsn-single.eml");
    // An attachment inside the returned message, 10 MB of base64, before the final boundary.
    std::string big = "--inner\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n";
    big.reserve(10u << 20);
    while (big.size() < (10u << 20)) big += std::string(76, 'A') + "\n";
    std::size_t end = raw.rfind("--4F1B2C0123.1717488902/mail.example.org--");
    ASSERT_NE(end, std::string::npos);
    raw.insert(end, big + "\n");
    auto start = std::chrono::steady_clock::now();
    ParsedMessage m = parseMessage(raw);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 2.0);
    EXPECT_NE(m.error.find("only the first"), std::string::npos) << m.error;
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "nobody@example.net", "5.1.1", Reason::userUnknown, true);
}

TEST(Malformed, GarbageNeverThrows) {
    for (std::string raw : {std::string(), std::string("\0\0\0", 3), std::string("no headers at all"),
                            std::string("Content-Type: multipart/mixed; boundary=x\n\n--x\n--x\n"),
                            std::string("Content-Type: message/rfc822\n\n"),
                            std::string(20000, ':'), std::string("Subject: =?x?Q?=ZZ?=\n\n[CID:]")}) {
        ParsedMessage m = parseMessage(raw);
        EXPECT_TRUE(m.results.empty());
    }
    // Every corpus message cut at every 97th byte: never throws, never crashes.
    for (const char* name : {"postfix-dsn-multi.eml", "exchange.eml", "arf.eml", "gmail.eml"}) {
        std::string raw = corpus(name);
        for (std::size_t n = 0; n < raw.size(); n += 97) {
            ParsedMessage m = parseMessage(std::string_view(raw).substr(0, n));
            (void)m;
        }
    }
}

TEST(Headers, DeeplyNestedMessagesStop) {
    std::string raw;
    for (int i = 0; i < 50; ++i) raw += "Content-Type: message/rfc822\n\n";
    raw += "Subject: deep\n\nbody\n";
    ParsedMessage m = parseMessage(raw);
    EXPECT_NE(m.error.find("nesting"), std::string::npos) << m.error;
}


// The shapes the Sisimai-like classifier added (issue 13): each as Sisimai 4.25 reads it.
TEST(Corpus, ServerShapesWithoutAStatusGetSisimaisPseudoStatus) {
    ParsedMessage m = parseMessage(corpus("qmail-no-code.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "left@example.com", "5.0.911", Reason::userUnknown, true);
    EXPECT_TRUE(m.results[0].statusDerived);

    m = parseMessage(corpus("domino.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "someone@notes.example.com", "5.0.911", Reason::userUnknown, true);

    m = parseMessage(corpus("exim-retry-timeout.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "away@example.net", "4.0.947", Reason::expired, false);
}

TEST(Corpus, ADelayWarningIsExpiredWhateverItsReplySays) {
    ParsedMessage m = parseMessage(corpus("exim-delay-warning.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "later@example.com", "4.0.947", Reason::expired, false, Action::delayed);
    EXPECT_EQ(m.results[0].smtpCommand, "DATA");
}

TEST(Corpus, MailboxUnavailableAfterDataIsAFilterNotADeadAddress) {
    ParsedMessage m = parseMessage(corpus("postfix-dsn-after-data.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "filtered@example.net", "5.0.0", Reason::filtered, false);
    EXPECT_EQ(m.results[0].smtpCommand, "DATA");
    EXPECT_FALSE(m.results[0].statusDerived);
}


TEST(Corpus, GmailDnsErrorIsAnUnknownHost) {
    ParsedMessage m = parseMessage(corpus("gmail-dns-error.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "someone@no-such-domain.example", "5.0.912", Reason::hostUnknown, true);
}

// A version number in a failure notice ("2.1.5") is neither a status nor a success.
TEST(Corpus, AVersionNumberIsNotADeliveryStatus) {
    ParsedMessage m = parseMessage(corpus("mailbox-size-version.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "big@example.org", "5.0.922", Reason::mailboxFull, false);
    EXPECT_EQ(m.results[0].diagnostic, "User mailbox exceeds allowed size (ExampleMail server 2.1.5)");
}


TEST(Corpus, AnMDaemonNoticeIsABounce) {
    ParsedMessage m = parseMessage(corpus("mdaemon.eml"));
    EXPECT_TRUE(m.isBounce);
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "nobody@mail.example.com", "5.0.910", Reason::filtered, false);
}

// "SMTP=a@b": the address is a@b, and the lines under it are its diagnostic.
TEST(Corpus, ExchangeNamesTheRecipientWithItsType) {
    ParsedMessage m = parseMessage(corpus("exchange-smtp-prefix.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "Gone.Person@corp.example.com", "5.0.911", Reason::userUnknown, true);
    EXPECT_EQ(m.results[0].diagnostic,
              "The e-mail account does not exist at the organization this message was sent to.");
}


TEST(Corpus, BlankLinesBeforeTheHeadersDoNotHideThem) {
    ParsedMessage m = parseMessage(corpus("leading-blank-lines.eml"));
    EXPECT_EQ(m.format, "rfc3464");
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "pasted@example.net", "5.1.1", Reason::userUnknown, true);
}


// "480-624-2500" in the notice is a telephone number, not a temporary 480 reply.
TEST(Corpus, ATelephoneNumberIsNotAReplyCode) {
    ParsedMessage m = parseMessage(corpus("phone-number.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "stuffed@mail.example.com", "5.0.922", Reason::mailboxFull, false);
    EXPECT_EQ(m.results[0].smtpCode, 0);
}


// Issue 13's agreement rules, one corpus message each (each as Sisimai 4.25 reads it).

// "SMTP error from remote server after RCPT command": the rejection answered RCPT TO, so a
// "user unknown" is the address, not a filter.
TEST(Corpus, AfterRcptCommandIsAnUnknownUserNotAFilter) {
    ParsedMessage m = parseMessage(corpus("exim-after-rcpt-command.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "nobody.here@example.net", "5.0.911", Reason::userUnknown, true);
    EXPECT_EQ(m.results[0].smtpCommand, "RCPT");
}

// Sendmail's and IMail's "Addressee unknown" at RCPT TO, whatever generic status comes with it.
TEST(Corpus, AddresseeUnknownIsAnUnknownUser) {
    ParsedMessage m = parseMessage(corpus("imail-addressee-unknown.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "moved.away@example.com", "5.3.0", Reason::userUnknown, true);
}

// Hotmail's "mailbox unavailable (n:n:n)" names an address it does not have, even with no
// command said (the same words after DATA from another server stay a filter).
TEST(Corpus, HotmailsMailboxUnavailableIsAnUnknownUser) {
    ParsedMessage m = parseMessage(corpus("hotmail-mailbox-unavailable.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "closed.account@mail.example.com", "5.5.0", Reason::userUnknown, true);
}

// A Diagnostic-Code of a filter's own type (not smtp) is no SMTP reply: "not pre-approved" is
// not read as a sender rejected at MAIL FROM; the 4.7 status says a security matter.
TEST(Corpus, AFiltersOwnDiagnosticTypeIsNotAnSmtpRejection) {
    ParsedMessage m = parseMessage(corpus("dsn-filter-diagnostic-type.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "careful.reader@example.com", "4.7.0", Reason::securityError, false);
}


// Notices of no known shape, found as Sisimai's fallback finds them: the recipient after a
// lead ("your message to", "Failed Recipient:", "You sent mail to") or on a line of its own,
// from a mailer daemon, a null sender or under a bounce subject; the quoted copy's addresses
// are not recipients.
TEST(Corpus, TheRecipientAfterALeadNotTheQuotedCopysAddress) {
    ParsedMessage m = parseMessage(corpus("text-lead-quota.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "full.box@example.com", "5.0.922", Reason::mailboxFull, false);
}

TEST(Corpus, ANullSendersNoticeIsABounceNotAnAutoReply) {
    ParsedMessage m = parseMessage(corpus("null-from-you-sent-mail.eml"));
    EXPECT_TRUE(m.isBounce);
    EXPECT_FALSE(m.isAutoReply);
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "not.a.user@example.net", "5.0.910", Reason::filtered, false);
}

TEST(Corpus, AFailedRecipientLeadUnderABounceSubject) {
    ParsedMessage m = parseMessage(corpus("failed-recipient-lead.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "left.us@example.com", "5.0.910", Reason::filtered, false);
}

TEST(Corpus, AMailerDaemonsAddressLinesWhateverItsSubject) {
    ParsedMessage m = parseMessage(corpus("mailer-daemon-address-lines.eml"));
    ASSERT_EQ(m.results.size(), 2u);
    expectResult(m.results[0], "gone.one@mail.example.cn", "5.0.901", Reason::onHold, false);
    expectResult(m.results[1], "gone.two@mail.example.cn", "5.0.901", Reason::onHold, false);
}

TEST(Corpus, ADsnWithoutRecipientFieldsIsReadFromItsText) {
    ParsedMessage m = parseMessage(corpus("dsn-without-recipient-fields.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "absent@example.fr", "5.0.901", Reason::onHold, false);
}


// "Your message reads (in part):" and "Unsent Message below" start the quoted copy: its
// addresses are not recipients.
TEST(Corpus, YourMessageReadsInPartStartsTheQuotedCopy) {
    ParsedMessage m = parseMessage(corpus("reads-in-part-marker.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "rossi@example.it", "5.0.910", Reason::filtered, false);
}

// A notice of no known shape for one recipient, with neither status nor reply: the reason is in
// its whole text ("No matches to nameserver query" under "Error Detail"), not only in the
// words beside the address.
TEST(Corpus, AnUnknownNoticeIsClassifiedOnItsWholeText) {
    ParsedMessage m = parseMessage(corpus("unknown-notice-whole-text.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "gone.away@example.edu", "5.0.910", Reason::filtered, false);
}


// message/xdelivery-status, an older spelling of the DSN type: its per-recipient fields are
// read, not the notice's text (which named the sender too).
TEST(Corpus, AnXDeliveryStatusPartIsADsn) {
    ParsedMessage m = parseMessage(corpus("xdelivery-status.eml"));
    EXPECT_EQ(m.format, "rfc3464");
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "reader@example.net", "5.9.8", Reason::spamDetected, false);
}


// A DSN recipient without a Diagnostic-Code: the words after its Status code, else what the
// notice's text says beside that address, are its diagnostic (not nothing, "undefined").
TEST(Corpus, TheWordsAfterTheStatusCodeAreTheDiagnostic) {
    ParsedMessage m = parseMessage(corpus("dsn-status-comment.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "quota.hit@mail.example.com", "5.0.0", Reason::mailboxFull, false);
}

TEST(Corpus, TheNoticesWordsBesideTheRecipientAreTheDiagnostic) {
    ParsedMessage m = parseMessage(corpus("dsn-words-beside-recipient.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "nobody@no-such-domain.example", "5.0.0", Reason::hostUnknown, true);
    EXPECT_EQ(m.results[0].diagnostic, "Domain does not exist");
}


// Mimecast's "554 email rejected due to security policies" is its virus (or spam signature)
// rejection, not a policy violation: the provider's own table decides (Sisimai's Rhost).
TEST(Corpus, AProvidersOwnRepliesAreReadByItsTable) {
    ParsedMessage m = parseMessage(corpus("mimecast-security-policies.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "guarded@corp.example.com", "5.0.0", Reason::virusDetected, false);
}


// Gmail's "(state 14)." says the other server refused the address at RCPT TO: an unknown
// user, hard, where the words alone ("Address unknown", no command) would be a filter.
TEST(Corpus, GmailsStateCodeSaysWhereTheOtherServerRefused) {
    ParsedMessage m = parseMessage(corpus("gmail-state-code.eml"));
    ASSERT_EQ(m.results.size(), 1u);
    expectResult(m.results[0], "left.firm@example.at", "5.0.911", Reason::userUnknown, true);
}

}  // namespace

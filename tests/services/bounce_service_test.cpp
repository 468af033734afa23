// bounce_service_test.cpp: BounceService against a real SQLite store: matching in order of
// trust (VERP, then the ledger's Message-ID, then X-Campaign-Id / [CID:N], else no campaign),
// one record per notice and address however often it comes, the actions (hard bounce
// suppresses, soft ones only at the limit, a complaint unsubscribes, a delay does nothing, a
// success notice resets the count, an auto-reply records nothing) taken only on notices that
// prove themselves (a valid VERP token or a ledger Message-ID; anything else is recorded with no
// effect unless ActOnUnmatched), at most kMaxResultsPerNotice results a notice, dry runs writing nothing,
// non-mail input refused, the sender's 5xx at RCPT, and the formula-safe CSV report; reading a
// notice from and writing the report to a caller's descriptor end when the job is cancelled.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "mail/verp.h"
#include "services/bounce_service.h"
#include "service_fixture.h"

namespace campaignd::services::test {
namespace {

struct Dsn {
    std::string noticeId = "<dsn-1@mx.example.net>";
    std::string recipient = "gone@example.net";
    std::string status = "5.1.1";
    std::string action = "failed";
    std::string diagnostic = "smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown";
    std::string envelope = "bounces@campaign.example.org";  // X-Postfix-Sender / Return-Path
    std::string messageId = "<unknown@campaign.example.org>";
    std::string campaignHeader;  // X-Campaign-Id value, if any
    std::string subject = "News";
};

std::string render(const Dsn& d) {
    return "Return-Path: <>\n"
           "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
           "Subject: Undelivered Mail Returned to Sender\n"
           "To: " + d.envelope + "\n"
           "Message-Id: " + d.noticeId + "\n"
           "MIME-Version: 1.0\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
           "\n"
           "--B\n"
           "Content-Type: text/plain\n\n"
           "Your message could not be delivered.\n\n"
           "--B\n"
           "Content-Type: message/delivery-status\n\n"
           "Reporting-MTA: dns; mx.example.net\n"
           "X-Postfix-Sender: rfc822; " + d.envelope + "\n\n"
           "Final-Recipient: rfc822; " + d.recipient + "\n"
           "Action: " + d.action + "\n"
           "Status: " + d.status + "\n"
           "Remote-MTA: dns; mx.example.net\n"
           "Diagnostic-Code: " + d.diagnostic + "\n\n"
           "--B\n"
           "Content-Type: message/rfc822\n\n"
           "Return-Path: <" + d.envelope + ">\n"
           "From: news@campaign.example.org\n"
           "To: " + d.recipient + "\n"
           "Subject: " + d.subject + "\n"
           "Message-ID: " + d.messageId + "\n" +
           (d.campaignHeader.empty() ? "" : "X-Campaign-Id: " + d.campaignHeader + "\n") +
           "\nHello\n"
           "--B--\n";
}

class BounceServiceTest : public ServiceTest {
protected:
    mail::VerpSettings verp() {
        mail::VerpSettings v;
        v.domain = "campaign.example.org";
        v.secret = "0123456789abcdef-test-secret";
        return mail::checkVerpSettings(v);
    }
    BounceSettings settings() {
        BounceSettings s;
        s.verp = verp();
        return s;
    }
    SubscriptionStatus statusOf(const std::string& email) { return recipients.get(email).status; }
    // Puts recipient r in campaign c's ledger as handed over with messageId (without angles).
    void sent(const Campaign& c, const Recipient& r, const std::string& messageId) {
        ASSERT_TRUE(store->attachRecipient(c.id, r.id));
        const auto claimed = store->claimBatch(c.id, "w", 1, now);
        ASSERT_EQ(claimed.size(), 1u);
        const storage::HandOver h{claimed[0].ledgerId, messageId};
        ASSERT_EQ(store->markHandedOver("w", std::span(&h, 1)).size(), 1u);
    }
    // A VERP address for (c, r) whose token's last character is changed: what a forger writes.
    std::string forgedVerp(Id c, Id r) {
        std::string a = mail::verpAddress(verp(), c, r);
        const auto at = a.find('@');
        a[at - 1] = a[at - 1] == 'a' ? 'b' : 'a';
        return a;
    }
    static std::string arf(const std::string& recipient, const std::string& messageId,
                           const std::string& noticeId = "<arf-1@isp.example>") {
        return "From: feedback@isp.example\nTo: abuse@campaign.example.org\nSubject: complaint\n"
               "Message-ID: " + noticeId + "\nMIME-Version: 1.0\n"
               "Content-Type: multipart/report; report-type=feedback-report; boundary=\"A\"\n\n"
               "--A\nContent-Type: text/plain\n\nA complaint.\n\n"
               "--A\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: t/1\nVersion: 1\n"
               "Original-Rcpt-To: " + recipient + "\n\n"
               "--A\nContent-Type: message/rfc822\n\nFrom: news@campaign.example.org\nTo: " + recipient + "\n"
               "Subject: News\nMessage-ID: " + messageId + "\n\nHi\n--A--\n";
    }

    BounceService bounces{*store, *store, *store, *store, clock, settings()};
};

TEST_F(BounceServiceTest, HardBounceMatchedByVerpSuppressesTheRecipient) {
    const Campaign c = draft();
    const Recipient r = person("gone@example.net");
    Dsn d;
    d.envelope = mail::verpAddress(verp(), c.id, r.id);
    d.campaignHeader = "999";  // less trusted, and wrong: VERP wins
    const BounceReport report = bounces.process(render(d), BounceSource::Imap, false);
    EXPECT_TRUE(report.isBounce);
    ASSERT_EQ(report.results.size(), 1u);
    const BounceOutcome& o = report.results[0];
    EXPECT_EQ(o.matchedBy, "verp");
    EXPECT_EQ(o.campaignId, c.id);
    EXPECT_EQ(o.recipientId, r.id);
    EXPECT_EQ(o.reason, "userunknown");
    EXPECT_TRUE(o.hard);
    EXPECT_TRUE(o.recorded);
    EXPECT_EQ(o.effect, "bounced");
    EXPECT_EQ(statusOf("gone@example.net"), SubscriptionStatus::Bounced);

    const auto stored = bounces.list({});
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].campaignId, c.id);
    EXPECT_EQ(stored[0].source, "imap");
    EXPECT_EQ(stored[0].noticeKey, "mid:<dsn-1@mx.example.net>");
    EXPECT_EQ(stored[0].messageId, "unknown@campaign.example.org");
}

TEST_F(BounceServiceTest, TheSameNoticeTwiceRecordsOnceAndActsOnce) {
    const Campaign c = draft();
    const Recipient r = person("full@example.net");
    Dsn d;
    d.recipient = "full@example.net";
    d.status = "5.2.2";
    d.diagnostic = "smtp; 552 5.2.2 mailbox full";
    d.envelope = mail::verpAddress(verp(), c.id, r.id);  // only a proven notice counts
    const std::string raw = render(d);
    EXPECT_EQ(bounces.process(raw, BounceSource::Imap, false).recorded, 1);
    const BounceReport again = bounces.process(raw, BounceSource::Ingest, false);
    EXPECT_EQ(again.recorded, 0);
    EXPECT_EQ(again.duplicates, 1);
    EXPECT_TRUE(again.results.at(0).duplicate);
    EXPECT_EQ(bounces.list({}).size(), 1u);
    EXPECT_EQ(store->findRecipient("full@example.net").value().status, SubscriptionStatus::Subscribed);
    // Counted once: two more distinct soft bounces reach the default limit of 3.
    d.noticeId = "<dsn-2@mx.example.net>";
    bounces.process(render(d), BounceSource::Imap, false);
    EXPECT_EQ(statusOf("full@example.net"), SubscriptionStatus::Subscribed);
    d.noticeId = "<dsn-3@mx.example.net>";
    const auto third = bounces.process(render(d), BounceSource::Imap, false);
    EXPECT_EQ(third.results.at(0).effect, "bounced");
    EXPECT_EQ(statusOf("full@example.net"), SubscriptionStatus::Bounced);
}

TEST_F(BounceServiceTest, ASuccessNoticeResetsTheSoftBounceCount) {
    const Campaign c = draft();
    const Recipient r = person("full@example.net");
    Dsn d;
    d.recipient = "full@example.net";
    d.envelope = mail::verpAddress(verp(), c.id, r.id);  // only a proven notice counts
    d.status = "4.2.2";
    d.action = "failed";
    d.diagnostic = "smtp; 452 4.2.2 mailbox full";
    for (int i = 0; i < 2; ++i) {
        d.noticeId = "<soft" + std::to_string(i) + "@mx>";
        bounces.process(render(d), BounceSource::Imap, false);
    }
    Dsn ok = d;
    ok.noticeId = "<delivered@mx>";
    ok.action = "delivered";
    ok.status = "2.0.0";
    ok.diagnostic = "smtp; 250 2.0.0 ok";
    EXPECT_EQ(bounces.process(render(ok), BounceSource::Imap, false).results.at(0).effect, "reset");
    for (int i = 2; i < 4; ++i) {
        d.noticeId = "<soft" + std::to_string(i) + "@mx>";
        bounces.process(render(d), BounceSource::Imap, false);
    }
    EXPECT_EQ(statusOf("full@example.net"), SubscriptionStatus::Subscribed)
        << "2 + 2 soft bounces with a delivery between are not 3 consecutive ones";
    d.noticeId = "<soft4@mx>";
    bounces.process(render(d), BounceSource::Imap, false);
    EXPECT_EQ(statusOf("full@example.net"), SubscriptionStatus::Bounced);
}

TEST_F(BounceServiceTest, MatchesByTheLedgersMessageIdThenByHeaderElseNoCampaign) {
    const Campaign c = draft();
    const Recipient r = person("ann@example.org");
    ASSERT_TRUE(store->attachRecipient(c.id, r.id));
    const auto claimed = store->claimBatch(c.id, "w", 1, now);
    ASSERT_EQ(claimed.size(), 1u);
    const storage::HandOver h{claimed[0].ledgerId, "c1.r1.x@campaign.example.org"};
    ASSERT_EQ(store->markHandedOver("w", std::span(&h, 1)).size(), 1u);

    Dsn byId;
    byId.recipient = "ann@example.org";
    byId.messageId = "<c1.r1.x@campaign.example.org>";
    const auto a = bounces.process(render(byId), BounceSource::Imap, false);
    EXPECT_EQ(a.results.at(0).matchedBy, "message-id");
    EXPECT_EQ(a.results.at(0).campaignId, c.id);
    EXPECT_EQ(a.results.at(0).recipientId, r.id);
    EXPECT_TRUE(a.results.at(0).acted) << "the ledger proves it";
    EXPECT_EQ(a.results.at(0).effect, "bounced");
    EXPECT_EQ(statusOf("ann@example.org"), SubscriptionStatus::Bounced);

    const Campaign other = draft("Other");
    Dsn byHeader;
    byHeader.noticeId = "<dsn-h@mx>";
    byHeader.recipient = "stranger@example.net";
    byHeader.subject = "Offers [CID:" + std::to_string(other.id) + "]";
    const auto b = bounces.process(render(byHeader), BounceSource::Imap, false);
    EXPECT_EQ(b.results.at(0).matchedBy, "header");
    EXPECT_EQ(b.results.at(0).campaignId, other.id);
    EXPECT_FALSE(b.results.at(0).recipientId) << "not a stored recipient";

    Dsn nothing;
    nothing.noticeId = "<dsn-n@mx>";
    nothing.campaignHeader = "4242";  // no such campaign: not trusted
    const auto n = bounces.process(render(nothing), BounceSource::Imap, false);
    EXPECT_EQ(n.results.at(0).matchedBy, "");
    EXPECT_FALSE(n.results.at(0).campaignId);
    EXPECT_TRUE(n.results.at(0).recorded) << "an unmatched bounce is still stored";
}

TEST_F(BounceServiceTest, DelaysAreRecordedWithoutActionAndDryRunsRecordNothing) {
    person("slow@example.net");
    Dsn d;
    d.recipient = "slow@example.net";
    d.action = "delayed";
    d.status = "4.4.1";
    d.diagnostic = "smtp; 421 4.4.1 connection timed out";
    const auto dry = bounces.process(render(d), BounceSource::Ingest, true);
    ASSERT_EQ(dry.results.size(), 1u);
    EXPECT_EQ(dry.results[0].action, "delayed");
    EXPECT_FALSE(dry.results[0].recorded);
    EXPECT_TRUE(bounces.list({}).empty()) << "a dry run records nothing";
    for (int i = 0; i < 5; ++i) {
        d.noticeId = "<delay" + std::to_string(i) + "@mx>";
        EXPECT_EQ(bounces.process(render(d), BounceSource::Imap, false).recorded, 1);
    }
    EXPECT_EQ(statusOf("slow@example.net"), SubscriptionStatus::Subscribed) << "delays never suppress";
    EXPECT_EQ(store->countSoftBounce(store->findRecipient("slow@example.net")->id, 100).softBounceCount, 1)
        << "and are not counted as soft bounces";
}

TEST_F(BounceServiceTest, ComplaintUnsubscribesAndAutoReplyRecordsNothing) {
    const Recipient r = person("annoyed@example.com");
    sent(draft(), r, "x@campaign.example.org");  // the report returns a message campaignd sent
    const auto c = bounces.process(arf("annoyed@example.com", "<x@campaign.example.org>"), BounceSource::Imap, false);
    EXPECT_TRUE(c.isComplaint);
    ASSERT_EQ(c.results.size(), 1u);
    EXPECT_EQ(c.results[0].action, "complaint");
    EXPECT_EQ(c.results[0].effect, "unsubscribed");
    EXPECT_EQ(statusOf("annoyed@example.com"), SubscriptionStatus::Unsubscribed);

    const std::string vacation =
        "From: ann@example.org\nTo: news@campaign.example.org\nSubject: Out of office\n"
        "Auto-Submitted: auto-replied\nX-Autoreply: yes\nMessage-ID: <v@example.org>\n\n"
        "I am on vacation until Monday.\n";
    const auto v = bounces.process(vacation, BounceSource::Imap, false);
    EXPECT_TRUE(v.isAutoReply);
    EXPECT_TRUE(v.results.empty());
    EXPECT_EQ(bounces.list({}).size(), 1u) << "only the complaint";
}

TEST_F(BounceServiceTest, ADsnWithAForgedVerpTokenChangesNobodyAndIsRecordedUnmatched) {
    const Campaign c = draft();
    const Recipient r = person("victim@example.net");
    Dsn d;
    d.recipient = "victim@example.net";
    d.envelope = forgedVerp(c.id, r.id);
    d.campaignHeader = std::to_string(c.id);  // a claim anyone can write
    const BounceReport report = bounces.process(render(d), BounceSource::Imap, false);
    ASSERT_EQ(report.results.size(), 1u);
    const BounceOutcome& o = report.results[0];
    EXPECT_NE(o.matchedBy, "verp");
    EXPECT_TRUE(o.recorded);
    EXPECT_FALSE(o.proven);
    EXPECT_FALSE(o.acted);
    EXPECT_EQ(o.effect, "");
    EXPECT_EQ(statusOf("victim@example.net"), SubscriptionStatus::Subscribed) << "a forged notice suppresses nobody";
    const auto stored = bounces.list({});
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_FALSE(stored[0].acted) << "listed as having had no effect";
    EXPECT_EQ(stored[0].recipientEmail, "victim@example.net");
    // Soft bounces are not counted either: three forged ones leave the count at 0.
    d.status = "4.2.2";
    d.diagnostic = "smtp; 452 4.2.2 mailbox full";
    for (int i = 0; i < 3; ++i) {
        d.noticeId = "<soft-forged" + std::to_string(i) + "@mx>";
        bounces.process(render(d), BounceSource::Imap, false);
    }
    EXPECT_EQ(statusOf("victim@example.net"), SubscriptionStatus::Subscribed);
    EXPECT_EQ(store->countSoftBounce(r.id, 100).softBounceCount, 1) << "only the test's own count";
}

TEST_F(BounceServiceTest, AComplaintWithNoMatchChangesNobody) {
    person("liked-it@example.com");
    const auto c = bounces.process(arf("liked-it@example.com", "<not-ours@elsewhere.example>"), BounceSource::Imap, false);
    ASSERT_EQ(c.results.size(), 1u);
    EXPECT_EQ(c.results[0].action, "complaint");
    EXPECT_FALSE(c.results[0].acted);
    EXPECT_TRUE(c.results[0].recorded);
    EXPECT_EQ(statusOf("liked-it@example.com"), SubscriptionStatus::Subscribed);
    ASSERT_EQ(bounces.list({}).size(), 1u);
    EXPECT_FALSE(bounces.list({})[0].acted);
}

TEST_F(BounceServiceTest, ActOnUnmatchedActsOnUnprovenNoticesAsBefore) {
    BounceSettings s = settings();
    s.actOnUnmatched = true;
    BounceService trusting{*store, *store, *store, *store, clock, s};
    const Campaign c = draft();
    const Recipient r = person("victim@example.net");
    person("annoyed@example.com");
    Dsn d;
    d.recipient = "victim@example.net";
    d.envelope = forgedVerp(c.id, r.id);
    const auto b = trusting.process(render(d), BounceSource::Imap, false);
    EXPECT_TRUE(b.results.at(0).acted);
    EXPECT_FALSE(b.results.at(0).proven);
    EXPECT_EQ(b.results.at(0).effect, "bounced");
    EXPECT_EQ(statusOf("victim@example.net"), SubscriptionStatus::Bounced);
    const auto a = trusting.process(arf("annoyed@example.com", "<not-ours@elsewhere.example>"), BounceSource::Imap, false);
    EXPECT_EQ(a.results.at(0).effect, "unsubscribed");
    EXPECT_EQ(statusOf("annoyed@example.com"), SubscriptionStatus::Unsubscribed);
    for (const BounceRecord& rec : trusting.list({})) EXPECT_TRUE(rec.acted);
}

TEST_F(BounceServiceTest, ANoticeWithMoreResultsThanTheBoundIsCut) {
    const std::size_t n = kMaxResultsPerNotice + 50;
    std::string blocks;
    for (std::size_t i = 0; i < n; ++i)
        blocks += "Final-Recipient: rfc822; r" + std::to_string(i) + "@example.net\nAction: failed\nStatus: 5.1.1\n"
                  "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n";
    const std::string raw =
        "Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.net\nSubject: Undelivered\nTo: bounces@campaign.example.org\n"
        "Message-Id: <many@mx.example.net>\nMIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
        "--B\nContent-Type: text/plain\n\nNot delivered.\n\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n" +
        blocks + "--B--\n";
    const BounceReport report = bounces.process(raw, BounceSource::Ingest, false);
    EXPECT_EQ(report.results.size(), kMaxResultsPerNotice);
    EXPECT_EQ(report.dropped, static_cast<std::int64_t>(n - kMaxResultsPerNotice));
    EXPECT_EQ(report.recorded, static_cast<std::int64_t>(kMaxResultsPerNotice));
    EXPECT_EQ(bounces.list({}).size(), kMaxResultsPerNotice);
}

TEST_F(BounceServiceTest, RefusesInputThatIsNotAMailMessage) {
    expectError(ErrorCode::InvalidArgument, "empty", [&] { bounces.process("", BounceSource::Ingest, false); });
    expectError(ErrorCode::InvalidArgument, "header field",
                [&] { bounces.process("%PDF-1.4\n1 0 obj\n", BounceSource::Ingest, false); });
    expectError(ErrorCode::InvalidArgument, "header field",
                [&] { bounces.process(std::string("\x89PNG\r\n\x1a\n", 8), BounceSource::Ingest, false); });
    expectError(ErrorCode::InvalidArgument, "MiB", [&] {
        bounces.process("Subject: x\n\n" + std::string(kMaxBounceMessageBytes, 'a'), BounceSource::Ingest, false);
    });
    // An mbox "From " line (pipe(8) flag F) before the header is fine.
    EXPECT_NO_THROW(bounces.process("From MAILER-DAEMON Mon Jan  1 00:00:00 2024\n" + render(Dsn{}),
                                    BounceSource::Ingest, true));
}

TEST_F(BounceServiceTest, ARejectionAtRcptIsClassifiedRecordedOnceAndActedOn) {
    const Campaign c = draft();
    const Recipient r = person("nouser@example.net");
    const auto o = bounces.recordRejection(c.id, r.id, r.email, 550, "5.1.1", "550 5.1.1 <nouser@example.net>: User unknown",
                                           "<m1@campaign.example.org>");
    EXPECT_EQ(o.reason, "userunknown");
    EXPECT_TRUE(o.hard);
    EXPECT_TRUE(o.recorded);
    EXPECT_TRUE(o.acted) << "the ledger matched it";
    EXPECT_EQ(statusOf("nouser@example.net"), SubscriptionStatus::Bounced);
    EXPECT_TRUE(bounces.recordRejection(c.id, r.id, r.email, 550, "5.1.1", "550 5.1.1 User unknown", "<m1@campaign.example.org>")
                    .duplicate);
    const auto list = bounces.list({});
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].source, "smtp");
    // A 4xx is a delay, never a suppression.
    const Recipient s = person("busy@example.net");
    const auto d = bounces.recordRejection(c.id, s.id, s.email, 450, "4.7.1", "450 4.7.1 try later", "<m2@campaign.example.org>");
    EXPECT_EQ(d.action, "delayed");
    EXPECT_FALSE(d.hard);
    EXPECT_EQ(statusOf("busy@example.net"), SubscriptionStatus::Subscribed);
}

// Issue 13 item 6: refused at RCPT (recorded by the sender) and then told again by a DSN for the
// same campaign and recipient: one bounce. The DSN is recorded, linked to the first, and does
// not count a second soft bounce.
TEST_F(BounceServiceTest, ADsnForARecipientRefusedAtRcptIsTheSameBounceNotASecond) {
    const Campaign c = draft();
    const Recipient r = person("full@example.net");
    sent(c, r, "m1@campaign.example.org");
    const auto atRcpt = bounces.recordRejection(c.id, r.id, r.email, 552, "5.2.2", "552 5.2.2 Mailbox full",
                                                "<m1@campaign.example.org>");
    ASSERT_TRUE(atRcpt.recorded);
    EXPECT_EQ(atRcpt.effect, "soft-bounce");

    Dsn d;
    d.recipient = r.email;
    d.status = "5.2.2";
    d.diagnostic = "smtp; 552 5.2.2 <full@example.net>: Mailbox full";
    d.messageId = "<m1@campaign.example.org>";
    const BounceReport dry = bounces.process(render(d), BounceSource::Imap, true);
    ASSERT_EQ(dry.results.size(), 1u);
    EXPECT_TRUE(dry.results[0].sameAs) << "a dry run says so too";
    const BounceReport report = bounces.process(render(d), BounceSource::Imap, false);
    ASSERT_EQ(report.results.size(), 1u);
    const BounceOutcome& o = report.results[0];
    EXPECT_EQ(o.matchedBy, "message-id");
    EXPECT_TRUE(o.recorded);
    EXPECT_TRUE(o.sameAs);
    EXPECT_EQ(o.effect, "");
    EXPECT_EQ(statusOf(r.email), SubscriptionStatus::Subscribed);
    EXPECT_EQ(store->countSoftBounce(r.id, 100).softBounceCount, 2)
        << "the same failure counted once (this call is the second count)";
    const auto list = bounces.list({});
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].source, "imap");
    EXPECT_EQ(list[0].sameAs, list[1].id);
    EXPECT_EQ(store->campaignSummary(c.id).bounces, 1);

    // Another recipient's DSN, with no rejection at sending, is a bounce of its own.
    const Recipient s = person("gone@example.net");
    sent(c, s, "m2@campaign.example.org");
    Dsn other;
    other.noticeId = "<dsn-2@mx.example.net>";
    other.messageId = "<m2@campaign.example.org>";
    const BounceReport second = bounces.process(render(other), BounceSource::Imap, false);
    ASSERT_EQ(second.results.size(), 1u);
    EXPECT_FALSE(second.results[0].sameAs);
    EXPECT_EQ(second.results[0].effect, "bounced");
    EXPECT_EQ(store->campaignSummary(c.id).bounces, 2);
}

TEST(BounceServiceRule, OnlyAFailureWithA5xxReplyIsARejection) {
    EXPECT_TRUE(BounceService::isRejection(true, 550, "5.1.1"));
    EXPECT_TRUE(BounceService::isRejection(true, 554, ""));
    EXPECT_TRUE(BounceService::isRejection(true, 0, "5.7.1")) << "no reply code, a permanent enhanced status";
    EXPECT_FALSE(BounceService::isRejection(true, 451, "4.7.1")) << "a 4xx that gave up is no bounce";
    EXPECT_FALSE(BounceService::isRejection(true, 451, "5.7.1")) << "the reply code wins over the status";
    EXPECT_FALSE(BounceService::isRejection(true, 0, "")) << "a render error is no rejection";
    EXPECT_FALSE(BounceService::isRejection(false, 550, "5.1.1")) << "only failed outcomes";
}

TEST_F(BounceServiceTest, TheCsvReportHasTheOriginalsColumnsAndIsFormulaSafe) {
    const Campaign c = draft();
    Dsn d;
    d.recipient = "x@example.net";
    d.diagnostic = "smtp; =HYPERLINK(\"http://evil\") 550 5.1.1 unknown";
    d.campaignHeader = std::to_string(c.id);
    bounces.process(render(d), BounceSource::Imap, false);
    const int fd = ::memfd_create("report", MFD_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(bounces.exportCsv(fd, {}), 1);
    std::string csv(4096, '\0');
    const auto n = ::pread(fd, csv.data(), csv.size(), 0);
    ::close(fd);
    ASSERT_GT(n, 0);
    csv.resize(static_cast<std::size_t>(n));
    EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
              "campaign,recipient_email,reason,processed_at,status,hard,action,diagnostic,remote_mta,message_id,source,matched_by,acted");
    const std::string row = csv.substr(csv.find("\r\n") + 2);
    EXPECT_EQ(row.rfind(std::to_string(c.id) + ",x@example.net,userunknown,2023-11-14T22:13:20Z,5.1.1,true,failed,", 0), 0u)
        << row;
    EXPECT_NE(row.find("\"'=HYPERLINK(\"\"http://evil\"\")"), std::string::npos)
        << "a diagnostic starting with = is neutralised: " << row;
}

// After `calls` questions, says stop.
StopRequested stopAfter(int calls) {
    auto asked = std::make_shared<std::atomic<int>>(0);
    return [asked, calls] { return ++*asked > calls; };
}

TEST_F(BounceServiceTest, ReadingANoticeEndsAtItsEndAtTheDeadlineOrWhenStopped) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    const std::string text = render(Dsn{});
    ASSERT_EQ(::write(p[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    // The writer keeps its end open: the deadline ends the wait, or a stop before it.
    expectError(ErrorCode::Failed, "in time", [&] { readBounceMessage(p[0], std::chrono::milliseconds(300)); });
    expectError(ErrorCode::Failed, "cancelled", [&] { readBounceMessage(p[0], std::chrono::seconds(30), stopAfter(2)); });
    ::close(p[1]);
    ::close(p[0]);
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    ASSERT_EQ(::write(p[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(p[1]);
    EXPECT_EQ(readBounceMessage(p[0], std::chrono::seconds(30), stopAfter(1000)), text);
    ::close(p[0]);
}

TEST_F(BounceServiceTest, TheCsvReportIntoAPipeNobodyReadsEndsWhenStopped) {
    const Campaign c = draft();
    for (int i = 0; i < 30; ++i) {
        Dsn d;
        d.noticeId = "<dsn-" + std::to_string(i) + "@mx.example.net>";
        d.recipient = "gone" + std::to_string(i) + "@example.net";
        d.campaignHeader = std::to_string(c.id);
        bounces.process(render(d), BounceSource::Imap, false);
    }
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    ASSERT_GT(::fcntl(p[1], F_SETPIPE_SZ, 4096), 0);  // smaller than the report
    expectError(ErrorCode::Failed, "cancelled", [&] { bounces.exportCsv(p[1], {}, stopAfter(20)); });
    ::close(p[0]);
    ::close(p[1]);
}

}  // namespace
}  // namespace campaignd::services::test

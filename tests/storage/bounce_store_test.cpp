// bounce_store_test.cpp: the Store's bounce records and suppression, on SQLite and PostgreSQL:
// a notice recorded once however often it is processed, every field read back, the hard-bounce
// and soft-bounce suppression rules as compare-and-set, a complaint unsubscribing, a suppressed
// recipient skipped by claimBatch and never attached again, the Message-ID lookup in the
// ledger, and the campaign summary's bounces by reason; what matched a record and whether it
// acted (schema 8), with the records of an older schema taken as having acted. (The PostgreSQL server is the binary's
// global environment, registered in store_test.cpp.)
#include <gtest/gtest.h>

#include "core/error.h"
#include "storage/migrations.h"
#include "storage/sql_store.h"
#include "storage/store.h"
#include "support/postgres_environment.h"
#include "support/temp_dir.h"

namespace campaignd::storage {
namespace {

using test::PostgresEnvironment;
using test::TempDir;

constexpr Usec kNow = 1'760'000'000'000'000;

class BounceStoreTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        url_ = GetParam() == "sqlite" ? "sqlite:" + (dir_ / "campaignd.sqlite").string()
                                      : PostgresEnvironment::server().createDatabase("bounces");
        store_ = openStore(url_);
    }

    SqlConnection& sql() { return dynamic_cast<SqlStore&>(*store_).connection(); }

    Id addCampaign(const std::string& name) {
        Campaign c;
        c.name = name;
        c.subject = "s";
        c.createdAt = c.updatedAt = kNow;
        return store_->insertCampaign(c);
    }

    Id addRecipient(const std::string& email) {
        Recipient r;
        r.email = email;
        r.createdAt = kNow;
        return store_->insertRecipient(r);
    }

    BounceRecord record(const std::string& key, const std::string& email, std::optional<Id> campaign = {},
                        std::string reason = "userunknown", std::string action = "failed") {
        BounceRecord b;
        b.campaignId = campaign;
        b.recipientEmail = email;
        b.statusCode = "5.1.1";
        b.reason = std::move(reason);
        b.hard = true;
        b.action = std::move(action);
        b.diagnostic = "550 5.1.1 <" + email + ">: User unknown";
        b.remoteMta = "mx.example.net";
        b.messageId = "c1.r1@campaign.example.org";
        b.source = "imap";
        b.noticeKey = key;
        b.processedAt = kNow;
        return b;
    }

    SubscriptionStatus statusOf(Id recipient) {
        const auto r = store_->findRecipientById(recipient);
        EXPECT_TRUE(r);
        return r ? r->status : SubscriptionStatus::Subscribed;
    }

    TempDir dir_{"campaignd-bounce-store-test"};
    std::string url_;
    std::unique_ptr<Store> store_;
};

TEST_P(BounceStoreTest, RecordsANoticeOncePerAddressAndReadsEveryFieldBack) {
    const Id c = addCampaign("c");
    const Id r = addRecipient("gone@example.net");
    BounceRecord b = record("mid:<dsn1@mx>", "gone@example.net", c);
    b.recipientId = r;
    const auto first = store_->insertBounce(b);
    ASSERT_TRUE(first);
    EXPECT_FALSE(store_->insertBounce(b)) << "the same notice for the same address records once";
    b.statusCode = "4.2.2";  // whatever else differs: the key decides
    EXPECT_FALSE(store_->insertBounce(b));
    EXPECT_TRUE(store_->insertBounce(record("mid:<dsn1@mx>", "other@example.net", c)))
        << "another recipient of the same report is another record";
    EXPECT_TRUE(store_->insertBounce(record("mid:<dsn2@mx>", "gone@example.net", c)))
        << "another notice about the same address is another record";
    // Records without a key (as version 1 wrote them) never collide.
    EXPECT_TRUE(store_->insertBounce(record("", "gone@example.net")));
    EXPECT_TRUE(store_->insertBounce(record("", "gone@example.net")));

    const auto all = store_->listBounces({});
    ASSERT_EQ(all.size(), 5u);
    const BounceRecord& got = all.back();  // newest first: the first insert is last
    EXPECT_EQ(got.id, *first);
    EXPECT_EQ(got.campaignId, c);
    EXPECT_EQ(got.recipientId, r);
    EXPECT_EQ(got.recipientEmail, "gone@example.net");
    EXPECT_EQ(got.statusCode, "5.1.1");
    EXPECT_EQ(got.reason, "userunknown");
    EXPECT_TRUE(got.hard);
    EXPECT_EQ(got.action, "failed");
    EXPECT_EQ(got.diagnostic, "550 5.1.1 <gone@example.net>: User unknown");
    EXPECT_EQ(got.remoteMta, "mx.example.net");
    EXPECT_EQ(got.messageId, "c1.r1@campaign.example.org");
    EXPECT_EQ(got.source, "imap");
    EXPECT_EQ(got.noticeKey, "mid:<dsn1@mx>");
    EXPECT_EQ(got.processedAt, kNow);
    EXPECT_FALSE(all.front().campaignId) << "unmatched bounces are stored with no campaign";
}

TEST_P(BounceStoreTest, WhatMatchedARecordAndWhetherItActedAreKept) {
    BounceRecord proven = record("mid:<p@mx>", "a@example.net");
    proven.matchedBy = "verp";
    proven.acted = true;
    BounceRecord unproven = record("mid:<u@mx>", "b@example.net");
    unproven.matchedBy = "header";
    unproven.acted = false;
    ASSERT_TRUE(store_->insertBounce(proven));
    ASSERT_TRUE(store_->insertBounce(unproven));
    const auto all = store_->listBounces({});
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].matchedBy, "header");
    EXPECT_FALSE(all[0].acted);
    EXPECT_EQ(all[1].matchedBy, "verp");
    EXPECT_TRUE(all[1].acted);
}

// A record written under schema 7 was acted on (the rule then): upgraded, it says so.
TEST_P(BounceStoreTest, RecordsOfSchema7AreTakenAsHavingActed) {
    store_.reset();
    const std::string url = GetParam() == "sqlite" ? "sqlite:" + (dir_ / "old.sqlite").string()
                                                   : PostgresEnvironment::server().createDatabase("bounces_old");
    {
        auto db = openSqlConnection(url);
        ASSERT_EQ(migrate(*db, 7), 7);
        db->exec("INSERT INTO bounce_records (recipient_email, status_code, reason, processed_at, notice_key)"
                 " VALUES ('old@example.net', '5.1.1', 'userunknown', $1, 'mid:<old@mx>')",
                 {kNow});
    }
    store_ = openStore(url);
    EXPECT_EQ(store_->schemaVersion(), kLatestSchemaVersion);
    const auto all = store_->listBounces({});
    ASSERT_EQ(all.size(), 1u);
    EXPECT_TRUE(all[0].acted);
    EXPECT_EQ(all[0].matchedBy, "");
}

// Schema 9: what the sending guard counts of a campaign: its hard bounces and complaints that
// were allowed to act, nothing of another campaign, no soft bounce, no record that did not act.
TEST_P(BounceStoreTest, CampaignBounceCountsAreTheActedHardBouncesAndComplaints) {
    const Id c1 = addCampaign("one");
    const Id c2 = addCampaign("two");
    EXPECT_EQ(store_->campaignBounceCounts(c1).hardBounces, 0);
    store_->insertBounce(record("k1", "a@example.net", c1));
    store_->insertBounce(record("k2", "b@example.net", c1));
    BounceRecord soft = record("k3", "c@example.net", c1, "mailboxfull");
    soft.hard = false;
    store_->insertBounce(soft);
    BounceRecord unproven = record("k4", "d@example.net", c1);
    unproven.acted = false;
    store_->insertBounce(unproven);
    BounceRecord complaint = record("k5", "e@example.net", c1, "feedback", "complaint");
    complaint.hard = false;
    store_->insertBounce(complaint);
    store_->insertBounce(record("k6", "f@example.net", c2));
    const CampaignBounceCounts counts = store_->campaignBounceCounts(c1);
    EXPECT_EQ(counts.hardBounces, 2);
    EXPECT_EQ(counts.complaints, 1);
    EXPECT_EQ(store_->campaignBounceCounts(c2).hardBounces, 1);
    EXPECT_EQ(store_->campaignBounceCounts(c2).complaints, 0);
}

// Schema 9: a campaign's guard state is kept (armed by default) and read back with it.
TEST_P(BounceStoreTest, TheSendingGuardStateIsKept) {
    const Id c = addCampaign("one");
    EXPECT_EQ(store_->findCampaign(c)->guard, BounceGuard::Armed);
    store_->setCampaignGuard(c, BounceGuard::Tripped);
    EXPECT_EQ(store_->findCampaign(c)->guard, BounceGuard::Tripped);
    store_->setCampaignGuard(c, BounceGuard::Off);
    EXPECT_EQ(store_->listCampaigns(std::nullopt).at(0).guard, BounceGuard::Off);
}

TEST_P(BounceStoreTest, ListFiltersByCampaignAndReason) {
    const Id c1 = addCampaign("one");
    const Id c2 = addCampaign("two");
    store_->insertBounce(record("k1", "a@example.net", c1, "userunknown"));
    store_->insertBounce(record("k2", "b@example.net", c1, "mailboxfull"));
    store_->insertBounce(record("k3", "c@example.net", c2, "mailboxfull"));
    store_->insertBounce(record("k4", "d@example.net", std::nullopt, "mailboxfull"));

    BounceFilter f;
    f.campaign = c1;
    EXPECT_EQ(store_->listBounces(f).size(), 2u);
    f.reason = "mailboxfull";
    const auto one = store_->listBounces(f);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].recipientEmail, "b@example.net");
    BounceFilter byReason;
    byReason.reason = "mailboxfull";
    EXPECT_EQ(store_->listBounces(byReason).size(), 3u);
    byReason.limit = 1;
    byReason.offset = 1;
    const auto page = store_->listBounces(byReason);
    ASSERT_EQ(page.size(), 1u);
    EXPECT_EQ(page[0].recipientEmail, "c@example.net");
}

TEST_P(BounceStoreTest, HardBounceSuppressesAndEveryLaterCampaignSkipsTheRecipient) {
    const Id gone = addRecipient("gone@example.net");
    const Id fine = addRecipient("fine@example.net");
    const Id g = store_->insertGroup("list", kNow);
    store_->addGroupMember(g, gone);
    store_->addGroupMember(g, fine);
    const Id running = addCampaign("running");
    ASSERT_EQ(store_->attachGroup(running, g), 2);

    const SuppressionChange ch = store_->markRecipientBounced(gone);
    EXPECT_EQ(ch.before, SubscriptionStatus::Subscribed);
    EXPECT_EQ(ch.after, SubscriptionStatus::Bounced);
    EXPECT_EQ(statusOf(gone), SubscriptionStatus::Bounced);
    EXPECT_EQ(store_->markRecipientBounced(gone).before, SubscriptionStatus::Bounced) << "idempotent";
    EXPECT_FALSE(store_->markRecipientBounced(9999).before) << "no such recipient";

    // Attached before it bounced: the claim skips it, saying why.
    const auto claimed = store_->claimBatch(running, "w", 10, kNow);
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(claimed[0].recipientId, fine);
    EXPECT_EQ(sql().query("SELECT status, last_error FROM campaign_recipients WHERE recipient_id = $1",
                          {gone}).at(0).text(1), "bounced");
    // A later campaign never attaches it, by group or by itself.
    const Id later = addCampaign("later");
    EXPECT_EQ(store_->attachGroup(later, g), 1);
    EXPECT_FALSE(store_->attachRecipient(later, gone));
    // Listed as bounced.
    RecipientFilter f;
    f.status = SubscriptionStatus::Bounced;
    const auto listed = store_->listRecipients(f);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].email, "gone@example.net");
}

TEST_P(BounceStoreTest, SoftBouncesSuppressOnlyAtTheLimitAndAResetStartsOver) {
    const Id r = addRecipient("full@example.net");
    auto ch = store_->countSoftBounce(r, 3);
    EXPECT_EQ(ch.softBounceCount, 1);
    EXPECT_EQ(ch.after, SubscriptionStatus::Subscribed) << "one soft bounce never suppresses";
    EXPECT_EQ(store_->countSoftBounce(r, 3).after, SubscriptionStatus::Subscribed);
    store_->resetSoftBounces(r);
    EXPECT_EQ(store_->countSoftBounce(r, 3).softBounceCount, 1) << "a reset starts the count over";
    EXPECT_EQ(store_->countSoftBounce(r, 3).after, SubscriptionStatus::Subscribed);
    ch = store_->countSoftBounce(r, 3);
    EXPECT_EQ(ch.softBounceCount, 3);
    EXPECT_EQ(ch.before, SubscriptionStatus::Subscribed);
    EXPECT_EQ(ch.after, SubscriptionStatus::Bounced);
    // An unsubscribed recipient is counted but stays unsubscribed.
    const Id u = addRecipient("quiet@example.net");
    store_->recordUnsubscribe(u, std::nullopt, UnsubscribeSource::Administrator, kNow);
    EXPECT_EQ(store_->countSoftBounce(u, 1).after, SubscriptionStatus::Unsubscribed);
    EXPECT_THROW(store_->countSoftBounce(r, 0), Error);
}

TEST_P(BounceStoreTest, AComplaintUnsubscribesEvenABouncedRecipient) {
    const Id r = addRecipient("annoyed@example.com");
    auto ch = store_->recordUnsubscribe(r, std::nullopt, UnsubscribeSource::Complaint, kNow);
    EXPECT_EQ(ch.before, SubscriptionStatus::Subscribed);
    EXPECT_TRUE(ch.changed);
    EXPECT_EQ(statusOf(r), SubscriptionStatus::Unsubscribed);
    const Id b = addRecipient("b@example.com");
    store_->markRecipientBounced(b);
    EXPECT_TRUE(store_->recordUnsubscribe(b, std::nullopt, UnsubscribeSource::Complaint, kNow).changed);
    EXPECT_EQ(statusOf(b), SubscriptionStatus::Unsubscribed);
}

TEST_P(BounceStoreTest, FindsTheLedgerRowByItsMessageId) {
    const Id c = addCampaign("c");
    const Id r = addRecipient("ann@example.org");
    ASSERT_TRUE(store_->attachRecipient(c, r));
    const auto claimed = store_->claimBatch(c, "w", 1, kNow);
    ASSERT_EQ(claimed.size(), 1u);
    const HandOver h{claimed[0].ledgerId, "c1.r1.abc@campaign.example.org"};
    ASSERT_EQ(store_->markHandedOver("w", std::span(&h, 1)).size(), 1u);

    const auto m = store_->findLedgerByMessageId("c1.r1.abc@campaign.example.org");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->ledgerId, claimed[0].ledgerId);
    EXPECT_EQ(m->campaignId, c);
    EXPECT_EQ(m->recipientId, r);
    EXPECT_EQ(m->email, "ann@example.org");
    EXPECT_FALSE(store_->findLedgerByMessageId("other@campaign.example.org"));
    EXPECT_FALSE(store_->findLedgerByMessageId(""));
}

TEST_P(BounceStoreTest, SummaryCountsBouncesByReasonWithoutDelays) {
    const Id c = addCampaign("c");
    const Id other = addCampaign("other");
    store_->insertBounce(record("k1", "a@example.net", c, "userunknown"));
    store_->insertBounce(record("k2", "b@example.net", c, "userunknown"));
    store_->insertBounce(record("k3", "c@example.net", c, "mailboxfull"));
    store_->insertBounce(record("k4", "d@example.net", c, "feedback", "complaint"));
    store_->insertBounce(record("k5", "e@example.net", c, "networkerror", "delayed"));
    store_->insertBounce(record("k6", "f@example.net", other, "blocked"));
    const CampaignSummary s = store_->campaignSummary(c);
    EXPECT_EQ(s.bounces, 4);
    using P = std::pair<std::string, std::int64_t>;
    EXPECT_EQ(s.bouncesByReason, (std::vector<P>{{"userunknown", 2}, {"feedback", 1}, {"mailboxfull", 1}}));
}

// Issue 13 item 6: a notice repeating the sender's own rejection at RCPT is kept, linked to it
// (same_as), and counted once in the campaign's summary.
TEST_P(BounceStoreTest, ARecordRepeatingASendingRejectionIsLinkedAndCountedOnce) {
    const Id c = addCampaign("c");
    const Id r = addRecipient("gone@example.net");
    EXPECT_FALSE(store_->findSendingRejection(c, r));
    BounceRecord atRcpt = record("smtp:c1.r1@campaign.example.org", "gone@example.net", c);
    atRcpt.recipientId = r;
    atRcpt.source = "smtp";
    const auto first = store_->insertBounce(atRcpt);
    ASSERT_TRUE(first);
    EXPECT_EQ(store_->findSendingRejection(c, r), first);
    EXPECT_FALSE(store_->findSendingRejection(c, addRecipient("other@example.net")));

    BounceRecord dsn = record("mid:<dsn1@mx>", "gone@example.net", c);
    dsn.recipientId = r;
    dsn.sameAs = store_->findSendingRejection(c, r);
    const auto second = store_->insertBounce(dsn);
    ASSERT_TRUE(second);
    const auto all = store_->listBounces({});
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].id, *second);
    EXPECT_EQ(all[0].sameAs, first) << "read back linked";
    EXPECT_FALSE(all[1].sameAs);
    const CampaignSummary summary = store_->campaignSummary(c);
    EXPECT_EQ(summary.bounces, 1) << "one failure, told twice";
}

// Issue 13 item 6: each fetch's outcome is kept, the newest kKeptBounceFetches of them.
TEST_P(BounceStoreTest, KeepsTheOutcomeOfTheBounceFetches) {
    EXPECT_FALSE(store_->lastBounceFetch());
    store_->recordBounceFetch({kNow, "ok", "", 3, 2});
    store_->recordBounceFetch({kNow + 1, "auth", "the IMAP server refused the login", 0, 0});
    const auto last = store_->lastBounceFetch();
    ASSERT_TRUE(last);
    EXPECT_EQ(last->finishedAt, kNow + 1);
    EXPECT_EQ(last->sourceStatus, "auth");
    EXPECT_EQ(last->error, "the IMAP server refused the login");
    EXPECT_EQ(last->fetched, 0);
    for (int i = 0; i < kKeptBounceFetches + 5; ++i) store_->recordBounceFetch({kNow + 2 + i, "ok", "", i, 0});
    EXPECT_EQ(sql().query("SELECT COUNT(*) FROM bounce_fetches").at(0).int64(0), kKeptBounceFetches);
    EXPECT_EQ(store_->lastBounceFetch()->finishedAt, kNow + 2 + kKeptBounceFetches + 4);
}

INSTANTIATE_TEST_SUITE_P(Backends, BounceStoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace campaignd::storage

// campaign_store_test.cpp: CampaignStore (campaign_store.h) on both backends, with the Store
// fixture (store_fixture.h): every field round-trips, status changes are compare-and-set, a
// campaign's counts come from the ledger's kept counters, due campaigns oldest first.
#include <vector>

#include "store_fixture.h"

namespace campaignd::storage {
namespace {

// ---- campaigns ----------------------------------------------------------------------------

TEST_P(StoreTest, CampaignRoundTripsEveryField) {
    Campaign c = campaign("Ünïcode 'quoted' \"name\"; DROP TABLE campaigns; --");
    c.subject = "Offer Zone [CID:18]";
    c.htmlContent = std::string(100'000, 'x') + "<p>€</p>";
    c.textContent = "plain text\nwith lines";
    c.fromAddress = "News <news@example.com>";
    c.scheduledTime = kNow + 1;
    c.status = CampaignStatus::Scheduled;
    c.statusReason = "scheduled by test";
    c.createdAt = kNow - 5;
    c.updatedAt = kNow - 4;
    c.recipientCount = 99;  // ignored on write
    const Id id = store_->insertCampaign(c);
    EXPECT_GT(id, 0);

    const auto found = store_->findCampaign(id);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, id);
    EXPECT_EQ(found->name, c.name);
    EXPECT_EQ(found->subject, c.subject);
    EXPECT_EQ(found->htmlContent, c.htmlContent);
    EXPECT_EQ(found->textContent, c.textContent);
    EXPECT_EQ(found->fromAddress, c.fromAddress);
    EXPECT_EQ(found->scheduledTime, c.scheduledTime);
    EXPECT_EQ(found->status, CampaignStatus::Scheduled);
    EXPECT_EQ(found->statusReason, c.statusReason);
    EXPECT_EQ(found->createdAt, kNow - 5);
    EXPECT_EQ(found->updatedAt, kNow - 4);
    EXPECT_EQ(found->recipientCount, 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaigns"), 1);  // the name was data, not SQL

    const Id unscheduled = addCampaign("no schedule");
    EXPECT_EQ(store_->findCampaign(unscheduled)->scheduledTime, std::nullopt);
    EXPECT_FALSE(store_->findCampaign(id + unscheduled + 1000));
}

TEST_P(StoreTest, UpdateCampaignChangesFieldsAndRefusesUnknownIds) {
    const Id id = addCampaign("draft one", CampaignStatus::Draft, kNow + 10);
    Campaign c = *store_->findCampaign(id);
    c.name = "renamed";
    c.subject = "new subject";
    c.htmlContent = "<p>new</p>";
    c.textContent = "new";
    c.fromAddress = "a@b.example";
    c.scheduledTime = std::nullopt;
    c.status = CampaignStatus::Cancelled;
    c.statusReason = "changed mind";
    c.createdAt = 1;  // not written
    c.updatedAt = kNow + 99;
    store_->updateCampaign(c);
    const auto found = store_->findCampaign(id);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->name, "renamed");
    EXPECT_EQ(found->subject, "new subject");
    EXPECT_EQ(found->htmlContent, "<p>new</p>");
    EXPECT_EQ(found->textContent, "new");
    EXPECT_EQ(found->fromAddress, "a@b.example");
    EXPECT_EQ(found->scheduledTime, std::nullopt);
    EXPECT_EQ(found->status, CampaignStatus::Cancelled);
    EXPECT_EQ(found->statusReason, "changed mind");
    EXPECT_EQ(found->createdAt, kNow);
    EXPECT_EQ(found->updatedAt, kNow + 99);

    c.id = id + 1000;
    EXPECT_EQ(errorCodeOf([&] { store_->updateCampaign(c); }), ErrorCode::NotFound);
}

TEST_P(StoreTest, ListCampaignsByIdWithOptionalStatusFilter) {
    const Id a = addCampaign("a", CampaignStatus::Scheduled, kNow);
    const Id b = addCampaign("b");
    const Id c = addCampaign("c", CampaignStatus::Scheduled, kNow - 1);
    std::vector<Id> all;
    for (const auto& x : store_->listCampaigns(std::nullopt)) all.push_back(x.id);
    EXPECT_EQ(all, (std::vector<Id>{a, b, c}));
    std::vector<Id> scheduled;
    for (const auto& x : store_->listCampaigns(CampaignStatus::Scheduled)) scheduled.push_back(x.id);
    EXPECT_EQ(scheduled, (std::vector<Id>{a, c}));
    EXPECT_TRUE(store_->listCampaigns(CampaignStatus::Completed).empty());
}

TEST_P(StoreTest, CampaignCountsComeFromTheLedger) {
    const Id c = addCampaign("counted");
    const Id r1 = addRecipient("r1@example.com");
    const Id r2 = addRecipient("r2@example.com");
    const Id r3 = addRecipient("r3@example.com");
    for (Id r : {r1, r2, r3}) ASSERT_TRUE(store_->attachRecipient(c, r));
    setDelivery(c, r1, DeliveryStatus::Sent);
    setDelivery(c, r2, DeliveryStatus::Failed, "550 5.1.1 User unknown");
    for (const Campaign& x : {*store_->findCampaign(c), store_->listCampaigns(std::nullopt).at(0)}) {
        EXPECT_EQ(x.recipientCount, 3);
        EXPECT_EQ(x.sentCount, 1);
        EXPECT_EQ(x.failedCount, 1);
        EXPECT_EQ(x.pendingCount, 1);
    }
}

TEST_P(StoreTest, DeleteCampaignTakesItsLedgerAndNothingElse) {
    const Id c = addCampaign("doomed");
    const Id other = addCampaign("other");
    const Id r = addRecipient("keep@example.com");
    ASSERT_TRUE(store_->attachRecipient(c, r));
    ASSERT_TRUE(store_->attachRecipient(other, r));
    sql().exec("INSERT INTO bounce_records (campaign_id, recipient_email, reason, status_code, processed_at)"
               " VALUES ($1, $2, $3, $4, $5)",
               {c, std::string("keep@example.com"), std::string("Mailbox unavailable"), std::string("5.1.1"), kNow});

    EXPECT_TRUE(store_->deleteCampaign(c));
    EXPECT_FALSE(store_->findCampaign(c));
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = $1", {c}), 0);
    EXPECT_EQ(store_->findCampaign(other)->recipientCount, 1);
    EXPECT_TRUE(store_->findRecipient("keep@example.com"));
    // The bounce stays, no longer tied to a campaign.
    EXPECT_EQ(count("SELECT COUNT(*) FROM bounce_records WHERE campaign_id IS NULL"), 1);
    EXPECT_FALSE(store_->deleteCampaign(c));
}

TEST_P(StoreTest, ChangeCampaignStatusIsACompareAndSet) {
    const Id id = addCampaign("cas", CampaignStatus::Scheduled, kNow);
    EXPECT_FALSE(store_->changeCampaignStatus(id, CampaignStatus::Draft, CampaignStatus::InProgress,
                                              "wrong from", kNow + 1));
    auto c = store_->findCampaign(id);
    EXPECT_EQ(c->status, CampaignStatus::Scheduled);
    EXPECT_EQ(c->statusReason, "");
    EXPECT_EQ(c->updatedAt, kNow);

    EXPECT_TRUE(store_->changeCampaignStatus(id, CampaignStatus::Scheduled, CampaignStatus::InProgress,
                                             "started by scheduler", kNow + 2));
    c = store_->findCampaign(id);
    EXPECT_EQ(c->status, CampaignStatus::InProgress);
    EXPECT_EQ(c->statusReason, "started by scheduler");
    EXPECT_EQ(c->updatedAt, kNow + 2);
    // A second scheduler racing for the same campaign loses.
    EXPECT_FALSE(store_->changeCampaignStatus(id, CampaignStatus::Scheduled, CampaignStatus::InProgress,
                                              "second", kNow + 3));
    EXPECT_FALSE(store_->changeCampaignStatus(id + 1000, CampaignStatus::InProgress,
                                              CampaignStatus::Completed, "", kNow));
}

TEST_P(StoreTest, DueCampaignsAreScheduledOnesAtOrBeforeNowOldestFirst) {
    const Id late = addCampaign("late", CampaignStatus::Scheduled, kNow - 10);
    const Id exact = addCampaign("exact", CampaignStatus::Scheduled, kNow);
    const Id future = addCampaign("future", CampaignStatus::Scheduled, kNow + 1);
    const Id oldest = addCampaign("oldest", CampaignStatus::Scheduled, kNow - 1000);
    const Id tie = addCampaign("tie with late", CampaignStatus::Scheduled, kNow - 10);
    addCampaign("draft in the past", CampaignStatus::Draft, kNow - 2000);
    addCampaign("paused in the past", CampaignStatus::Paused, kNow - 2000);
    addCampaign("scheduled without time", CampaignStatus::Scheduled);

    EXPECT_EQ(store_->dueCampaigns(kNow), (std::vector<Id>{oldest, late, tie, exact}));
    EXPECT_EQ(store_->dueCampaigns(kNow + 1), (std::vector<Id>{oldest, late, tie, exact, future}));
    EXPECT_EQ(store_->dueCampaigns(kNow - 1001), std::vector<Id>{});
    ASSERT_TRUE(store_->changeCampaignStatus(oldest, CampaignStatus::Scheduled, CampaignStatus::InProgress, "", kNow));
    EXPECT_EQ(store_->dueCampaigns(kNow), (std::vector<Id>{late, tie, exact}));
}

}  // namespace
}  // namespace campaignd::storage

// report_store_test.cpp: ReportStore (report_store.h) on both backends, with the Store fixture
// (store_fixture.h): the dashboard counts everything, a campaign's summary its rates and
// reasons. Outcomes are set through the fixture's setDelivery shortcut.
#include "store_fixture.h"

namespace campaignd::storage {
namespace {

// ---- reports ------------------------------------------------------------------------------

TEST_P(StoreTest, DashboardCountsEverything) {
    Dashboard empty = store_->dashboard();
    EXPECT_EQ(empty.totalRecipients, 0);
    ASSERT_EQ(empty.campaignsByStatus.size(), 6u);
    for (const auto& [status, n] : empty.campaignsByStatus) EXPECT_EQ(n, 0) << toString(status);

    const Id r1 = addRecipient("d1@example.com");
    const Id r2 = addRecipient("d2@example.com");
    const Id r3 = addRecipient("d3@example.com");
    addRecipient("d4@example.com", SubscriptionStatus::Unsubscribed);
    store_->insertGroup("g1", kNow);
    store_->insertGroup("g2", kNow);
    const Id c1 = addCampaign("c1", CampaignStatus::Completed);
    const Id c2 = addCampaign("c2", CampaignStatus::Scheduled, kNow);
    addCampaign("c3", CampaignStatus::Scheduled, kNow);
    addCampaign("c4");
    for (Id r : {r1, r2, r3}) ASSERT_TRUE(store_->attachRecipient(c1, r));
    ASSERT_TRUE(store_->attachRecipient(c2, r1));
    setDelivery(c1, r1, DeliveryStatus::Sent);
    setDelivery(c1, r2, DeliveryStatus::Sent);
    setDelivery(c1, r3, DeliveryStatus::Failed, "bounced");

    const Dashboard d = store_->dashboard();
    EXPECT_EQ(d.totalRecipients, 4);
    EXPECT_EQ(d.subscribedRecipients, 3);
    EXPECT_EQ(d.totalCampaigns, 4);
    EXPECT_EQ(d.totalGroups, 2);
    EXPECT_EQ(d.sent, 2);
    EXPECT_EQ(d.failed, 1);
    EXPECT_EQ(d.pending, 1);
    const std::vector<std::pair<CampaignStatus, std::int64_t>> expected{
        {CampaignStatus::Draft, 1},  {CampaignStatus::Scheduled, 2}, {CampaignStatus::InProgress, 0},
        {CampaignStatus::Paused, 0}, {CampaignStatus::Completed, 1}, {CampaignStatus::Cancelled, 0}};
    EXPECT_EQ(d.campaignsByStatus, expected);
}

TEST_P(StoreTest, CampaignSummaryReportsRatesAndReasons) {
    const Id c = addCampaign("report");
    std::vector<Id> rs;
    for (int i = 0; i < 7; ++i) {
        rs.push_back(addRecipient("s" + std::to_string(i) + "@example.com"));
        ASSERT_TRUE(store_->attachRecipient(c, rs.back()));
    }
    setDelivery(c, rs[0], DeliveryStatus::Sent);
    setDelivery(c, rs[1], DeliveryStatus::Sent);
    setDelivery(c, rs[2], DeliveryStatus::Failed, "Timeout");
    setDelivery(c, rs[3], DeliveryStatus::Failed, "Mailbox unavailable");
    setDelivery(c, rs[4], DeliveryStatus::Failed, "Mailbox unavailable");
    setDelivery(c, rs[5], DeliveryStatus::Failed, "Blocked");
    // rs[6] stays pending

    const CampaignSummary s = store_->campaignSummary(c);
    EXPECT_EQ(s.campaignId, c);
    EXPECT_EQ(s.total, 7);
    EXPECT_EQ(s.sent, 2);
    EXPECT_EQ(s.failed, 4);
    EXPECT_EQ(s.pending, 1);
    EXPECT_NEAR(s.successPercent, 200.0 / 7.0, 1e-9);
    const std::vector<std::pair<std::string, std::int64_t>> reasons{
        {"Mailbox unavailable", 2}, {"Blocked", 1}, {"Timeout", 1}};  // ties by reason
    EXPECT_EQ(s.failureReasons, reasons);

    const CampaignSummary none = store_->campaignSummary(addCampaign("empty"));
    EXPECT_EQ(none.total, 0);
    EXPECT_EQ(none.successPercent, 0.0);
    EXPECT_TRUE(none.failureReasons.empty());
}

}  // namespace
}  // namespace campaignd::storage

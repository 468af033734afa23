// sending_follow_test.cpp: SendingService in a cluster (several daemons on one database): the
// senders of this daemon follow the status another daemon gave a campaign (follow()), and a
// campaign completes only once nobody, on any daemon, has work left in it. The other daemon is
// played by the ledger's own calls under its worker name ("other:<campaign>:0"); this daemon's
// engine by a DeliveryControl that records what it was told.
#include <set>

#include "services/sending_service.h"

#include "service_fixture.h"

namespace campaignd::services::test {
namespace {

class RecordingDelivery : public DeliveryControl {
public:
    void check(const Campaign&) override {}
    void start(const Campaign& c) override {
        ++starts;
        runs.insert(c.id);
    }
    void stop(Id id) override {
        ++stops;
        runs.erase(id);
    }
    bool running(Id id) const override { return runs.count(id) > 0; }

    std::set<Id> runs;
    int starts = 0, stops = 0;
};

class SendingFollowTest : public ServiceTest {
protected:
    SendingFollowTest() {
        sending.addCompletionListener([this](const Campaign& c) { completed.push_back(c.id); });
    }

    // A campaign of `people` recipients, In Progress as another daemon's send() leaves it
    // (this daemon's senders were not told).
    Id sentElsewhere(int people) {
        const Campaign c = draft();
        recipients.createGroup("all");
        for (int i = 0; i < people; ++i) person("p" + std::to_string(i) + "@example.org", SubscriptionStatus::Subscribed, {"all"});
        campaigns.attach(c.id, {{"all"}, {}});
        campaigns.transition(c.id, CampaignStatus::InProgress);
        return c.id;
    }

    std::vector<Campaign> all() { return campaigns.list(std::nullopt); }

    RecordingDelivery delivery;
    SendingService sending{*store, campaigns, delivery};
    std::vector<Id> completed;
};

TEST_F(SendingFollowTest, ACampaignStartedElsewhereIsSentHereTooAndStopsWhenPausedElsewhere) {
    const Id id = sentElsewhere(3);
    sending.follow(all());
    EXPECT_TRUE(delivery.running(id));
    EXPECT_EQ(delivery.starts, 1);
    sending.follow(all());  // already running: not started twice
    EXPECT_EQ(delivery.starts, 1);

    campaigns.transition(id, CampaignStatus::Paused, "paused through another daemon");
    sending.follow(all());
    EXPECT_FALSE(delivery.running(id));
    EXPECT_EQ(delivery.stops, 1);
    sending.follow(all());  // paused: nothing starts
    EXPECT_EQ(delivery.starts, 1);
    EXPECT_TRUE(completed.empty());
}

TEST_F(SendingFollowTest, NoDaemonCompletesACampaignWhileAnotherHasRecipientsInFlight) {
    const Id id = sentElsewhere(2);
    // This daemon sent one; the other daemon holds the other, handed over, not yet recorded.
    const auto mine = store->claimBatch(id, "me:1:0", 1, kStart);
    const auto theirs = store->claimBatch(id, "other:1:0", 1, kStart);
    ASSERT_EQ(mine.size(), 1u);
    ASSERT_EQ(theirs.size(), 1u);
    const storage::HandOver mineOver{mine[0].ledgerId, "m1@example.org"};
    const storage::HandOver theirsOver{theirs[0].ledgerId, "t1@example.org"};
    ASSERT_EQ(store->markHandedOver("me:1:0", std::span(&mineOver, 1)).size(), 1u);
    ASSERT_EQ(store->markHandedOver("other:1:0", std::span(&theirsOver, 1)).size(), 1u);
    const storage::LedgerOutcome sent{mine[0].ledgerId, storage::LedgerOutcome::Kind::Sent, "", std::nullopt};
    store->recordOutcomes("me:1:0", std::span(&sent, 1), kStart);

    // This daemon's engine has nothing left to claim: it reports the run finished.
    sending.runFinished(id);
    EXPECT_EQ(campaigns.get(id).status, CampaignStatus::InProgress);
    EXPECT_TRUE(completed.empty());
    delivery.runs.clear();  // its run ended
    sending.follow(all());
    EXPECT_EQ(campaigns.get(id).status, CampaignStatus::InProgress) << "completed with a recipient in flight";

    // The other daemon records its outcome; the next look completes the campaign, once.
    const storage::LedgerOutcome theirsSent{theirs[0].ledgerId, storage::LedgerOutcome::Kind::Sent, "", std::nullopt};
    store->recordOutcomes("other:1:0", std::span(&theirsSent, 1), kStart);
    sending.follow(all());
    EXPECT_EQ(campaigns.get(id).status, CampaignStatus::Completed);
    EXPECT_EQ(completed, std::vector<Id>{id});
    sending.follow(all());
    sending.runFinished(id);
    EXPECT_EQ(completed, std::vector<Id>{id});
}

TEST_F(SendingFollowTest, TheLastRecipientsOfADaemonTakenOverBecomingUnknownCompleteTheCampaign) {
    const Id id = sentElsewhere(1);
    const auto theirs = store->claimBatch(id, "dead:1:0", 1, kStart);
    ASSERT_EQ(theirs.size(), 1u);
    const storage::HandOver over{theirs[0].ledgerId, "d1@example.org"};
    ASSERT_EQ(store->markHandedOver("dead:1:0", std::span(&over, 1)).size(), 1u);
    sending.follow(all());
    EXPECT_EQ(campaigns.get(id).status, CampaignStatus::InProgress);
    EXPECT_EQ(store->recoverInstance("dead").unknown, 1);  // the take-over
    sending.follow(all());
    EXPECT_EQ(campaigns.get(id).status, CampaignStatus::Completed);
    EXPECT_EQ(completed, std::vector<Id>{id});
    EXPECT_EQ(delivery.starts, 0);  // nothing was pending: nothing to send here
}

}  // namespace
}  // namespace campaignd::services::test

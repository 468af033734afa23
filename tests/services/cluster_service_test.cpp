// cluster_service_test.cpp: ClusterService on a real SQLite store (the storage role itself,
// and its concurrent take-over, are tested on both backends in tests/storage): the heartbeat,
// the take-over of a daemon silent for longer than the lease with its claims recovered as its
// restart would, and a taker that died before it recovered what it took over.
#include "services/cluster_service.h"

#include "service_fixture.h"

namespace campaignd::services::test {
namespace {

constexpr Usec kSecond = 1'000'000;
constexpr Usec kLease = 60 * kSecond;

class ClusterServiceTest : public ServiceTest {
protected:
    ClusterService member(const std::string& id) {
        return ClusterService(*store, *store, ClusterMember{id, "host", 1, kStart}, kLease, clock);
    }

    // A campaign In Progress with `n` recipients, one claimed and handed over by `worker` and
    // one claimed (not handed over) by it; the rest pending.
    Id campaignWithClaimsOf(const std::string& worker, int n) {
        const Campaign c = draft(worker);
        recipients.createGroup("g-" + worker);
        for (int i = 0; i < n; ++i)
            person(worker + std::to_string(i) + "@example.org", SubscriptionStatus::Subscribed, {"g-" + worker});
        campaigns.attach(c.id, {{"g-" + worker}, {}});
        campaigns.transition(c.id, CampaignStatus::InProgress);
        const auto claimed = store->claimBatch(c.id, worker + ":" + std::to_string(c.id) + ":0", 2, now);
        EXPECT_EQ(claimed.size(), 2u);
        const storage::HandOver over{claimed[0].ledgerId, worker + "@id"};
        EXPECT_EQ(store->markHandedOver(worker + ":" + std::to_string(c.id) + ":0", std::span(&over, 1)).size(), 1u);
        return c.id;
    }
};

TEST_F(ClusterServiceTest, ADaemonSilentLongerThanTheLeaseIsTakenOverAndItsClaimsRecovered) {
    auto me = member("me");
    auto dead = member("dead");
    dead.beat();
    me.beat();
    const Id id = campaignWithClaimsOf("dead", 4);
    now += kLease;  // exactly the lease: not yet
    dead.beat();
    now += kLease - kSecond;
    EXPECT_TRUE(me.beat().empty());
    EXPECT_EQ(campaigns.get(id).inFlightCount, 2);
    now += 2 * kSecond;  // silent for longer than the lease
    EXPECT_EQ(me.beat(), std::vector<std::string>{"dead"});
    const Campaign c = campaigns.get(id);
    EXPECT_EQ(c.inFlightCount, 0);
    EXPECT_EQ(c.unknownCount, 1);  // handed over, outcome never recorded
    EXPECT_EQ(c.pendingCount, 3);  // the claimed one is pending again, for whoever sends
    EXPECT_TRUE(me.beat().empty());  // once
    now += 10 * kSecond;
    bool listed = false;
    for (const auto& d : me.daemons()) {
        if (d.instanceId == "me") {
            EXPECT_EQ(d.lastSeen, now);  // the one answering is seen now
        }
        if (d.instanceId != "dead") continue;
        listed = true;
        EXPECT_EQ(d.takenOverBy, "me");
        EXPECT_EQ(d.lastSeen, kStart + kLease);  // its last beat
    }
    EXPECT_TRUE(listed);
}

TEST_F(ClusterServiceTest, ATakerThatDiedBeforeItsRecoveryIsTakenOverWithWhatItTookOver) {
    auto me = member("me");
    auto dead = member("dead");
    dead.beat();
    const Id id = campaignWithClaimsOf("dead", 3);
    now += kLease + kSecond;
    // "taker" marks the take-over and dies before recoverInstance: the store alone.
    ASSERT_EQ(store->takeOverSilent("taker", now - kLease, now), std::vector<std::string>{"dead"});
    member("taker").beat();
    EXPECT_EQ(campaigns.get(id).inFlightCount, 2);
    now += kLease + kSecond;
    me.beat();
    EXPECT_EQ(me.beat().size(), 0u);
    EXPECT_EQ(campaigns.get(id).inFlightCount, 0) << "the dead daemon's claims were left behind";
}

}  // namespace
}  // namespace campaignd::services::test

// cluster_store_test.cpp: the ClusterStore role (the daemons table) on both backends: the
// heartbeat row, and the take-over of a silent daemon, which exactly one of several concurrent
// takers wins.
#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "store_fixture.h"

namespace campaignd::storage {
namespace {

class ClusterStoreTest : public StoreTest {
protected:
    static DaemonRecord daemon(std::string id, Usec lastSeen) {
        DaemonRecord d;
        d.instanceId = std::move(id);
        d.host = "host-" + d.instanceId;
        d.pid = 4242;
        d.startedAt = kNow;
        d.lastSeen = lastSeen;
        return d;
    }
};

constexpr Usec kSecond = 1'000'000;

TEST_P(ClusterStoreTest, AHeartbeatInsertsThenRefreshesTheDaemonsRow) {
    EXPECT_TRUE(store_->listDaemons().empty());
    store_->heartbeat(daemon("b", kNow));
    store_->heartbeat(daemon("a", kNow));
    auto again = daemon("a", kNow + 5 * kSecond);
    again.pid = 7;
    store_->heartbeat(again);
    const auto all = store_->listDaemons();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].instanceId, "a");
    EXPECT_EQ(all[0].host, "host-a");
    EXPECT_EQ(all[0].pid, 7);
    EXPECT_EQ(all[0].startedAt, kNow);
    EXPECT_EQ(all[0].lastSeen, kNow + 5 * kSecond);
    EXPECT_EQ(all[0].takenOverBy, "");
    EXPECT_FALSE(all[0].takenOverAt);
    EXPECT_EQ(all[1].instanceId, "b");
}

TEST_P(ClusterStoreTest, OnlySilentDaemonsAreTakenOverOnceAndABeatClearsTheMark) {
    store_->heartbeat(daemon("alive", kNow + 10 * kSecond));
    store_->heartbeat(daemon("silent", kNow));
    store_->heartbeat(daemon("me", kNow));  // the taker itself is never taken over
    const Usec cutoff = kNow + 5 * kSecond;
    EXPECT_EQ(store_->takeOverSilent("me", cutoff, kNow + 11 * kSecond), std::vector<std::string>{"silent"});
    EXPECT_TRUE(store_->takeOverSilent("me", cutoff, kNow + 12 * kSecond).empty());  // already taken
    EXPECT_TRUE(store_->takeOverSilent("alive", cutoff, kNow + 12 * kSecond).size() == 1);  // "me" now
    const auto all = store_->listDaemons();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[2].instanceId, "silent");
    EXPECT_EQ(all[2].takenOverBy, "me");
    EXPECT_EQ(all[2].takenOverAt, kNow + 11 * kSecond);
    // Restarted with the same instance id: alive again, and can be taken over again later.
    store_->heartbeat(daemon("silent", kNow + 20 * kSecond));
    EXPECT_EQ(store_->listDaemons()[2].takenOverBy, "");
    EXPECT_EQ(store_->takeOverSilent("alive", kNow + 30 * kSecond, kNow + 31 * kSecond),
              std::vector<std::string>{"silent"});
}

TEST_P(ClusterStoreTest, OfTwoConcurrentTakersOnlyOneWinsEachSilentDaemon) {
    constexpr int kRounds = 20, kSilent = 5;
    for (int round = 0; round < kRounds; ++round) {
        const Usec base = kNow + round * 100 * kSecond;
        for (int i = 0; i < kSilent; ++i)
            store_->heartbeat(daemon("r" + std::to_string(round) + "-" + std::to_string(i), base));
        std::vector<std::string> won[2];
        std::string errors[2];
        std::atomic<int> ready{0};
        std::vector<std::thread> takers;
        for (int t = 0; t < 2; ++t)
            takers.emplace_back([&, t] {
                try {
                    auto store = openStore(url_);
                    ++ready;
                    while (ready.load() < 2) std::this_thread::yield();
                    won[t] = store->takeOverSilent("taker-" + std::to_string(t), base + kSecond, base + 2 * kSecond);
                } catch (const std::exception& e) {
                    errors[t] = e.what();
                }
            });
        for (auto& t : takers) t.join();
        EXPECT_EQ(errors[0], "");
        EXPECT_EQ(errors[1], "");
        std::set<std::string> all(won[0].begin(), won[0].end());
        for (const auto& id : won[1]) EXPECT_TRUE(all.insert(id).second) << id << " taken over twice";
        EXPECT_EQ(all.size(), std::size_t(kSilent)) << "round " << round;
        for (const auto& d : store_->listDaemons()) {
            if (!all.count(d.instanceId)) continue;
            const bool first = std::find(won[0].begin(), won[0].end(), d.instanceId) != won[0].end();
            EXPECT_EQ(d.takenOverBy, first ? "taker-0" : "taker-1");
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Backends, ClusterStoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace campaignd::storage

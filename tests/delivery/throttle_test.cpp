// throttle_test.cpp: the token bucket, the per-domain limiter and the backoff, with the time
// and the randomness injected, so every expectation is exact and nothing sleeps.
#include <gtest/gtest.h>

#include <thread>

#include "delivery/throttle.h"

namespace campaignd::delivery {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

struct FakeClock {
    TimePoint t{std::chrono::seconds(1000)};
    SteadyClock fn() {
        return [this] { return t; };
    }
};

TEST(TokenBucket, GrantsABurstOfOneSecondThenTheRate) {
    FakeClock clock;
    TokenBucket bucket(10, clock.fn());
    std::chrono::nanoseconds wait{};
    EXPECT_EQ(bucket.take(25, wait), 10u);  // a second's worth at once
    EXPECT_EQ(bucket.take(1, wait), 0u);
    EXPECT_EQ(wait, 100ms);  // one token every 100 ms
    clock.t += 250ms;
    EXPECT_EQ(bucket.take(5, wait), 2u);  // 2.5 tokens: two whole ones
    clock.t += 50ms;
    EXPECT_EQ(bucket.take(5, wait), 1u);  // the half left plus half a new one
    clock.t += 1h;
    EXPECT_EQ(bucket.take(100, wait), 10u);  // never more than the capacity
}

TEST(TokenBucket, OverAnyLongRunTheRateHolds) {
    FakeClock clock;
    TokenBucket bucket(7, clock.fn());
    std::size_t granted = 0;
    std::chrono::nanoseconds wait{};
    for (int step = 0; step < 10000; ++step) {  // 10 simulated seconds in 1 ms steps
        granted += bucket.take(1000, wait);
        clock.t += 1ms;
    }
    // 7 at the start (the burst), then 7 a second for 10 s.
    EXPECT_GE(granted, 70u);
    EXPECT_LE(granted, 77u);
}

TEST(TokenBucket, GivenBackTokensAreReusedButNeverOverfill) {
    FakeClock clock;
    TokenBucket bucket(2, clock.fn());
    std::chrono::nanoseconds wait{};
    EXPECT_EQ(bucket.take(2, wait), 2u);
    bucket.giveBack(1);
    EXPECT_EQ(bucket.take(2, wait), 1u);
    bucket.giveBack(50);
    EXPECT_EQ(bucket.take(50, wait), 2u);
}

TEST(TokenBucket, ZeroMeansUnlimited) {
    TokenBucket bucket(0);
    std::chrono::nanoseconds wait{};
    EXPECT_TRUE(bucket.unlimited());
    EXPECT_EQ(bucket.take(1'000'000, wait), 1'000'000u);
    EXPECT_EQ(wait, 0ns);
}

TEST(TokenBucket, SharedByThreadsGrantsNoMoreThanItHas) {
    FakeClock clock;  // time stands still: only the initial 100 exist
    TokenBucket bucket(100, clock.fn());
    std::atomic<std::size_t> granted{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            std::chrono::nanoseconds wait{};
            for (int j = 0; j < 1000; ++j) granted += bucket.take(1, wait);
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(granted.load(), 100u);
}

TEST(DomainLimiter, LimitsMessagesInFlightPerDomain) {
    DomainLimiter limiter(2);
    EXPECT_TRUE(limiter.tryAcquire("example.org"));
    EXPECT_TRUE(limiter.tryAcquire("example.org"));
    EXPECT_FALSE(limiter.tryAcquire("example.org"));
    EXPECT_TRUE(limiter.tryAcquire("example.com"));  // another domain is not held up
    EXPECT_EQ(limiter.inFlight("example.org"), 2u);
    limiter.release("example.org");
    EXPECT_TRUE(limiter.tryAcquire("example.org"));
    limiter.release("example.org");
    limiter.release("example.org");
    limiter.release("example.org");  // one too many: harmless
    EXPECT_EQ(limiter.inFlight("example.org"), 0u);
}

TEST(DomainLimiter, ZeroMeansUnlimited) {
    DomainLimiter limiter(0);
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.tryAcquire("example.org"));
}

TEST(RetryDelay, DoublesWithEqualJitterAndStopsAtTheCap) {
    const auto low = [] { return 0.0; };
    const auto high = [] { return 0.999999; };
    EXPECT_EQ(retryDelay(60s, 1, 6h, low), 30s);  // half the step at least
    EXPECT_NEAR(std::chrono::duration<double>(retryDelay(60s, 1, 6h, high)).count(), 60.0, 0.01);
    EXPECT_EQ(retryDelay(60s, 2, 6h, low), 60s);
    EXPECT_EQ(retryDelay(60s, 3, 6h, low), 120s);
    EXPECT_EQ(retryDelay(60s, 4, 6h, low), 240s);
    EXPECT_EQ(retryDelay(60s, 40, 6h, low), 3h);  // capped: half of 6 h at least
    EXPECT_LE(retryDelay(60s, 40, 6h, high), 6h);
    EXPECT_EQ(retryDelay(60s, 0, 6h, low), 30s);  // attempt 0 is treated as the first
}

TEST(ChunkSizer, StartsSmallThenFitsTheTargetToTheServersPace) {
    ChunkSizer sizer(250ms, 8);
    EXPECT_EQ(sizer.limit(100), 8u);  // nothing seen yet
    EXPECT_EQ(sizer.limit(3), 3u);
    EXPECT_EQ(sizer.limit(0), 0u);
    sizer.sent(8, 4ms);  // 0.5 ms a message: 500 fit in 250 ms
    EXPECT_EQ(sizer.limit(100), 100u);
    EXPECT_EQ(sizer.limit(1000), 500u);
}

TEST(ChunkSizer, ASlowServerGetsSmallCallsSoAPauseIsSeenWithinTheTarget) {
    ChunkSizer sizer(250ms, 8);
    sizer.sent(8, 4ms);
    for (int i = 0; i < 12; ++i) sizer.sent(sizer.limit(100), sizer.limit(100) * 200ms);  // 5 messages a second now
    EXPECT_EQ(sizer.limit(100), 1u);
    for (int i = 0; i < 12; ++i) sizer.sent(sizer.limit(100), sizer.limit(100) * 10ms);  // and faster again
    EXPECT_GE(sizer.limit(100), 20u);  // 25 fit, as the mean comes down to 10 ms
    EXPECT_LE(sizer.limit(100), 25u);
}

TEST(ChunkSizer, AnEmptyCallTeachesNothingAndAStoppedClockIsFast) {
    ChunkSizer sizer(250ms, 8);
    sizer.sent(0, 10s);
    EXPECT_EQ(sizer.limit(100), 8u);
    sizer.sent(10, 0ns);
    EXPECT_EQ(sizer.limit(100), 100u);
}

TEST(RecipientDomain, IsTheLowerCasedPartAfterTheLastAt) {
    EXPECT_EQ(recipientDomain("Ada@Example.ORG"), "example.org");
    EXPECT_EQ(recipientDomain("\"a@b\"@example.org"), "example.org");
    EXPECT_EQ(recipientDomain("nodomain"), "");
}

}  // namespace
}  // namespace campaignd::delivery

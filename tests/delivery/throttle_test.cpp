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

TEST(SessionWindow, StartsWithTheFirstThenFitsTheTargetToTheServersPace) {
    SessionWindow w(250ms, 16, 2);
    EXPECT_EQ(w.size(), 2u);  // nothing seen yet
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    w.submitted(t0, 0);
    w.answered(t0 + 10ms);  // a reply every 10 ms: 25 would fit, the cap is 16
    EXPECT_EQ(w.size(), 16u);
}

TEST(SessionWindow, ASlowServerGetsOneMessageInFlightSoAPauseWaitsOnlyForIt) {
    SessionWindow w(250ms, 16, 2);
    auto t = std::chrono::steady_clock::time_point{} + 1h;
    w.submitted(t, 0);
    for (int i = 0; i < 12; ++i) w.answered(t += 1s);  // one message a second
    EXPECT_EQ(w.size(), 1u);
    for (int i = 0; i < 20; ++i) w.answered(t += 25ms);  // and faster again
    EXPECT_GE(w.size(), 8u);
    EXPECT_LE(w.size(), 10u);
}

TEST(SessionWindow, TheTimeASessionWasIdleIsNotCountedAsTheServers) {
    SessionWindow w(250ms, 16, 2);
    auto t = std::chrono::steady_clock::time_point{} + 1h;
    w.submitted(t, 0);
    w.answered(t += 5ms);
    w.submitted(t += 10s, 0);  // idle for 10 s: the next reply's wait starts at this submit
    w.answered(t += 5ms);
    EXPECT_EQ(w.size(), 16u);
    w.submitted(t += 1ms, 3);  // busy: the wait goes on from the last reply
    w.answered(t += 5ms);
    EXPECT_EQ(w.size(), 16u);
}

TEST(RecipientDomain, IsTheLowerCasedPartAfterTheLastAt) {
    EXPECT_EQ(recipientDomain("Ada@Example.ORG"), "example.org");
    EXPECT_EQ(recipientDomain("\"a@b\"@example.org"), "example.org");
    EXPECT_EQ(recipientDomain("nodomain"), "");
}

}  // namespace
}  // namespace campaignd::delivery

// throttle.h: the delivery engine's throttles, as pure logic over an injected clock so tests
// need no sleeping: TokenBucket (MaxPerSecond=, shared by every session of a transport),
// DomainLimiter (MaxPerDomain=: messages in flight per recipient domain, over all sessions),
// retryDelay (exponential backoff with full jitter for 4xx deferrals and reconnects), and
// ChunkSizer (how many messages one call into the transport may carry).
// All but ChunkSizer (one per sending worker) are thread-safe. None of them sleeps: they say how long to wait; the caller waits in a
// way it can interrupt (pause and cancel take effect within a second).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace campaignd::delivery {

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

// A bucket of `ratePerSecond` tokens a second, holding at most max(1, ratePerSecond) (a
// second's worth: a burst never exceeds the configured rate over any whole second by more than
// that). Rate 0 means unlimited: take() grants everything at once.
class TokenBucket {
public:
    explicit TokenBucket(double ratePerSecond, SteadyClock clock = {});

    // Takes up to `want` whole tokens; returns how many were granted (0..want). When it grants
    // none, `wait` is set to how long until one token is there.
    std::size_t take(std::size_t want, std::chrono::nanoseconds& wait);
    // Gives back tokens taken but not used (never more than the bucket holds).
    void giveBack(std::size_t tokens);
    bool unlimited() const { return rate_ <= 0; }

private:
    void refill(std::chrono::steady_clock::time_point now);

    std::mutex mutex_;
    double rate_;
    double capacity_;
    double tokens_;
    SteadyClock clock_;
    std::chrono::steady_clock::time_point last_;
};

// Counts messages in flight per recipient domain; limit 0 means unlimited.
class DomainLimiter {
public:
    explicit DomainLimiter(unsigned limitPerDomain) : limit_(limitPerDomain) {}

    // Takes a slot for `domain` if fewer than the limit are in flight; false otherwise.
    bool tryAcquire(std::string_view domain);
    void release(std::string_view domain);
    std::size_t inFlight(std::string_view domain);
    bool unlimited() const { return limit_ == 0; }

private:
    std::mutex mutex_;
    unsigned limit_;
    std::map<std::string, unsigned, std::less<>> inFlight_;
};

// The delay before retry number `attempt` (1 = the first retry): a random value in
// [base * 2^(attempt-1) / 2, base * 2^(attempt-1)] ("equal jitter": never less than half the
// exponential step, so retries spread out but never bunch near zero), capped at `cap`.
// `random01` returns a value in [0, 1).
std::chrono::microseconds retryDelay(std::chrono::microseconds base, unsigned attempt,
                                     std::chrono::microseconds cap,
                                     const std::function<double()>& random01);

// How many messages one call into a transport session may carry so that the call returns
// within about `target`: the worker sees a stop (pause, cancel, shutdown) only between calls,
// so this bounds how long a pause waits for the transport, whether the server takes 5,000
// messages a second or 5. It learns the time per message from the calls it is told about (a
// weighted mean that follows a server slowing down or speeding up within a few calls) and,
// before it has seen one, allows `first`. Never less than 1: a single message takes as long as
// the transport's own Timeout= allows.
class ChunkSizer {
public:
    explicit ChunkSizer(std::chrono::nanoseconds target, std::size_t first = 1)
        : target_(std::chrono::duration<double>(target).count()), first_(first) {}

    // The most messages the next call should carry, out of `available` (>= 1 if available is).
    std::size_t limit(std::size_t available) const;
    // A call carried `messages` and took `took`.
    void sent(std::size_t messages, std::chrono::nanoseconds took);

private:
    double target_;            // seconds
    double perMessage_ = 0.0;  // seconds; 0: nothing seen yet
    std::size_t first_;
};

// The recipient's domain as the limiter counts it: the part after the last '@', lower-cased.
std::string recipientDomain(std::string_view address);

}  // namespace campaignd::delivery

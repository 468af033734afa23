// throttle.h: the delivery engine's throttles, as pure logic over an injected clock so tests
// need no sleeping: TokenBucket (MaxPerSecond=, shared by every session of a transport),
// DomainLimiter (MaxPerDomain=: messages in flight per recipient domain, over all sessions),
// retryDelay (exponential backoff with full jitter for 4xx deferrals and reconnects), and
// SessionWindow (how many messages one session keeps in flight).
// All but SessionWindow (one per session, on the engine's network thread) are thread-safe. None of them sleeps: they say how long to wait; the caller waits in a
// way it can interrupt (pause and cancel take effect within a second).
#pragma once

#include <algorithm>
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

// How many messages one session keeps in flight (submitted, no result yet): enough to keep a
// pipelining client's pipe full (the next message is there before the previous one's reply),
// few enough that the session's messages are answered within about `target`, which is what a
// pause or a cancel waits for, whether the server takes 5,000 messages a second or one. It
// learns the time between a session's replies while it is busy (a weighted mean that follows a
// server slowing down or speeding up within a few replies): size() = target / that, between 1
// and `max`; `first` before it has seen one.
class SessionWindow {
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    SessionWindow(std::chrono::nanoseconds target, std::size_t max, std::size_t first)
        : target_(std::chrono::duration<double>(target).count()), max_(std::max<std::size_t>(max, 1)),
          first_(std::max<std::size_t>(first, 1)) {}

    std::size_t size() const;
    // Messages were submitted at `now` while `inFlightBefore` were in flight: from an idle
    // session, the wait for the next reply starts now.
    void submitted(TimePoint now, std::size_t inFlightBefore);
    // A reply arrived at `now`.
    void answered(TimePoint now);

private:
    double target_;            // seconds
    std::size_t max_;
    std::size_t first_;
    double perReply_ = 0.0;    // seconds; 0: nothing seen yet
    bool seen_ = false;
    TimePoint last_{};
};

// The recipient's domain as the limiter counts it: the part after the last '@', lower-cased.
std::string recipientDomain(std::string_view address);

}  // namespace campaignd::delivery

// throttle.cpp: see throttle.h.
#include "delivery/throttle.h"

#include <algorithm>
#include <cmath>

namespace campaignd::delivery {

TokenBucket::TokenBucket(double ratePerSecond, SteadyClock clock)
    : rate_(ratePerSecond),
      capacity_(std::max(1.0, ratePerSecond)),
      tokens_(std::max(1.0, ratePerSecond)),
      clock_(clock ? std::move(clock) : SteadyClock([] { return std::chrono::steady_clock::now(); })),
      last_(clock_()) {}

void TokenBucket::refill(std::chrono::steady_clock::time_point now) {
    if (now <= last_) return;
    const double seconds = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(capacity_, tokens_ + seconds * rate_);
    last_ = now;
}

std::size_t TokenBucket::take(std::size_t want, std::chrono::nanoseconds& wait) {
    wait = std::chrono::nanoseconds(0);
    if (unlimited() || want == 0) return want;
    std::lock_guard lock(mutex_);
    refill(clock_());
    const auto whole = static_cast<std::size_t>(std::floor(tokens_));
    const std::size_t granted = std::min(want, whole);
    if (granted == 0) {
        const double missing = 1.0 - tokens_;
        wait = std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil(missing / rate_ * 1e9)));
        return 0;
    }
    tokens_ -= static_cast<double>(granted);
    return granted;
}

void TokenBucket::giveBack(std::size_t tokens) {
    if (unlimited() || tokens == 0) return;
    std::lock_guard lock(mutex_);
    tokens_ = std::min(capacity_, tokens_ + static_cast<double>(tokens));
}

bool DomainLimiter::tryAcquire(std::string_view domain) {
    if (unlimited()) return true;
    std::lock_guard lock(mutex_);
    auto it = inFlight_.find(domain);
    if (it == inFlight_.end()) it = inFlight_.emplace(std::string(domain), 0u).first;
    if (it->second >= limit_) return false;
    ++it->second;
    return true;
}

void DomainLimiter::release(std::string_view domain) {
    if (unlimited()) return;
    std::lock_guard lock(mutex_);
    const auto it = inFlight_.find(domain);
    if (it == inFlight_.end()) return;
    if (it->second <= 1) inFlight_.erase(it);  // the map holds only domains in flight
    else --it->second;
}

std::size_t DomainLimiter::inFlight(std::string_view domain) {
    std::lock_guard lock(mutex_);
    const auto it = inFlight_.find(domain);
    return it == inFlight_.end() ? 0 : it->second;
}

std::chrono::microseconds retryDelay(std::chrono::microseconds base, unsigned attempt,
                                     std::chrono::microseconds cap,
                                     const std::function<double()>& random01) {
    if (attempt == 0) attempt = 1;
    double step = static_cast<double>(base.count());
    for (unsigned i = 1; i < attempt && step < static_cast<double>(cap.count()); ++i) step *= 2;
    step = std::min(step, static_cast<double>(cap.count()));
    const double r = std::clamp(random01 ? random01() : 0.5, 0.0, 1.0);
    return std::chrono::microseconds(static_cast<std::int64_t>(step / 2 + r * step / 2));
}

std::string recipientDomain(std::string_view address) {
    const auto at = address.rfind('@');
    std::string domain(at == std::string_view::npos ? std::string_view() : address.substr(at + 1));
    for (char& c : domain)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return domain;
}

std::size_t SessionWindow::size() const {
    if (perReply_ <= 0.0) return seen_ ? max_ : first_;
    const double fits = target_ / perReply_;
    if (fits < 1.0) return 1;
    if (fits >= double(max_)) return max_;
    return static_cast<std::size_t>(fits);
}

void SessionWindow::submitted(TimePoint now, std::size_t inFlightBefore) {
    if (inFlightBefore == 0) last_ = now;
}

void SessionWindow::answered(TimePoint now) {
    const double each = std::max(0.0, std::chrono::duration<double>(now - last_).count());
    last_ = now;
    perReply_ = !seen_ ? each : 0.7 * perReply_ + 0.3 * each;
    seen_ = true;
}

}  // namespace campaignd::delivery

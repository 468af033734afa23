// sending_guard.h: the rule of the sending guard (issue 12 item 5), as pure functions: a
// campaign whose hard-bounce rate over its attempts, or whose complaint rate over its
// deliveries, passes its limit once the sample is large enough must stop sending. Rates are
// compared in whole parts per million, so "5%" means exactly 5% and nothing rounds a rate
// under its limit. It decides only; services/sending_guard counts and pauses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace campaignd::rules {

inline constexpr std::int64_t kPpmPerPercent = 10'000;

// [Sending] HardBounceLimit=, HardBounceMinimum=, ComplaintLimit=, ComplaintMinimum=. A limit
// or a minimum of 0 turns that check off.
struct GuardLimits {
    std::int64_t hardBounceLimitPpm = 5 * kPpmPerPercent;  // 5%
    std::int64_t hardBounceMinimum = 500;                  // attempts
    std::int64_t complaintLimitPpm = 3'000;                // 0.3%
    std::int64_t complaintMinimum = 1000;                  // delivered
};

// What a campaign has done so far. attempts: recipients with a final outcome from the
// transport (sent, failed or unknown); delivered: sent; hardBounces: hard bounces recorded for
// it that were allowed to act (a 5xx at RCPT, a DSN proven by VERP or the ledger); complaints:
// ARF complaints recorded for it that were allowed to act.
struct GuardTally {
    std::int64_t attempts = 0;
    std::int64_t delivered = 0;
    std::int64_t hardBounces = 0;
    std::int64_t complaints = 0;
};

// The reason to stop, one header-safe line naming the figures and the setting that was
// passed ("hard bounces 12 of 40 attempts (30%) passed HardBounceLimit=20% after
// HardBounceMinimum=10"), or nullopt when the campaign may go on.
std::optional<std::string> guardVerdict(const GuardLimits& limits, const GuardTally& tally);

// "5%", "0.3%", "5" (percent too), "0": parts per million, at most four decimals, from 0 to
// 100%. Throws Error(InvalidArgument) with a sentence otherwise.
std::int64_t parsePercent(std::string_view text);
// 50000 -> "5%", 3000 -> "0.3%", 125 -> "0.0125%".
std::string formatPpm(std::int64_t ppm);
// part/whole as a percentage with two decimals ("2.50%"); "-" when whole is 0.
std::string formatRate(std::int64_t part, std::int64_t whole);

}  // namespace campaignd::rules

// sending_guard.cpp: see sending_guard.h. Integer arithmetic only: a rate passes its limit
// when part * 1,000,000 > limit_ppm * whole (no floating-point rounding at the edge).
#include "rules/sending_guard.h"

#include <cstdio>

#include "core/error.h"

namespace campaignd::rules {
namespace {

bool passes(std::int64_t part, std::int64_t whole, std::int64_t limitPpm) {
    // Both sides stay far below 2^63 for any campaign size campaignd can hold (10^12 * 10^6).
    return part * 1'000'000 > limitPpm * whole;
}

std::string count(std::int64_t n) { return std::to_string(n); }

}  // namespace

std::optional<std::string> guardVerdict(const GuardLimits& limits, const GuardTally& tally) {
    if (limits.hardBounceLimitPpm > 0 && limits.hardBounceMinimum > 0 && tally.attempts >= limits.hardBounceMinimum &&
        passes(tally.hardBounces, tally.attempts, limits.hardBounceLimitPpm))
        return "hard bounces " + count(tally.hardBounces) + " of " + count(tally.attempts) + " attempts (" +
               formatRate(tally.hardBounces, tally.attempts) + ") passed HardBounceLimit=" +
               formatPpm(limits.hardBounceLimitPpm) + " after HardBounceMinimum=" + count(limits.hardBounceMinimum);
    if (limits.complaintLimitPpm > 0 && limits.complaintMinimum > 0 && tally.delivered >= limits.complaintMinimum &&
        passes(tally.complaints, tally.delivered, limits.complaintLimitPpm))
        return "complaints " + count(tally.complaints) + " of " + count(tally.delivered) + " delivered (" +
               formatRate(tally.complaints, tally.delivered) + ") passed ComplaintLimit=" +
               formatPpm(limits.complaintLimitPpm) + " after ComplaintMinimum=" + count(limits.complaintMinimum);
    return std::nullopt;
}

std::int64_t parsePercent(std::string_view text) {
    const auto bad = [&] {
        throw Error(ErrorCode::InvalidArgument,
                    "\"" + std::string(text) + "\" is not a percentage from 0 to 100 (e.g. 5% or 0.3%)");
    };
    std::string_view s = text;
    if (!s.empty() && s.back() == '%') s.remove_suffix(1);
    const auto dot = s.find('.');
    const std::string_view whole = s.substr(0, dot);
    const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    if (whole.empty() || whole.size() > 3 || fraction.size() > 4 || (dot != std::string_view::npos && fraction.empty()))
        bad();
    std::int64_t ppm = 0;
    for (const char c : whole) {
        if (c < '0' || c > '9') bad();
        ppm = ppm * 10 + (c - '0');
    }
    ppm *= kPpmPerPercent;
    std::int64_t scale = kPpmPerPercent / 10;
    for (const char c : fraction) {
        if (c < '0' || c > '9') bad();
        ppm += (c - '0') * scale;
        scale /= 10;
    }
    if (ppm > 100 * kPpmPerPercent) bad();
    return ppm;
}

std::string formatPpm(std::int64_t ppm) {
    std::string out = std::to_string(ppm / kPpmPerPercent);
    std::int64_t rest = ppm % kPpmPerPercent;
    if (rest != 0) {
        std::string digits = std::to_string(rest + kPpmPerPercent).substr(1);  // four digits
        while (!digits.empty() && digits.back() == '0') digits.pop_back();
        out += "." + digits;
    }
    return out + "%";
}

std::string formatRate(std::int64_t part, std::int64_t whole) {
    if (whole <= 0) return "-";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
    return buffer;
}

}  // namespace campaignd::rules

// send_progress.cpp: see send_progress.h.
#include "send_progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace campaignd::ctl {

std::optional<std::uint64_t> secondsLeft(const SendCounts& c) {
    const std::uint64_t left = c.pending + c.inFlight;
    if (left == 0) return 0;
    if (!(c.rate > 0.01)) return std::nullopt;
    return static_cast<std::uint64_t>(std::ceil(static_cast<double>(left) / c.rate));
}

std::string formatDuration(std::uint64_t s) {
    char buf[32];
    if (s < 60) std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                                     static_cast<unsigned long long>(s % 60));
    else std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                       static_cast<unsigned long long>(s % 3600 / 60));
    return buf;
}

std::string groupThousands(std::uint64_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

namespace {
std::string leftText(const SendCounts& c) {
    const auto left = secondsLeft(c);
    return left ? formatDuration(*left) + " left" : std::string("-- left");
}
}  // namespace

std::string progressBar(const SendCounts& c, std::size_t width) {
    const double fraction = c.total ? std::min(1.0, static_cast<double>(c.settled()) / static_cast<double>(c.total)) : 1.0;
    char pct[8];
    std::snprintf(pct, sizeof pct, "%3.0f%%", std::floor(fraction * 100));
    std::string text = std::string(pct) + "  sent " + groupThousands(c.sent) + "  failed " + groupThousands(c.failed);
    if (c.unknown) text += "  unknown " + groupThousands(c.unknown);
    if (c.skipped) text += "  skipped " + groupThousands(c.skipped);
    text += "  pending " + groupThousands(c.pending + c.inFlight) + "  " +
            groupThousands(static_cast<std::uint64_t>(std::llround(c.rate))) + " msg/s  " + leftText(c);
    // The bar takes what is left of the line, between 10 and 40 columns; none if too narrow.
    if (width > text.size() + 13) {
        const std::size_t bar = std::min<std::size_t>(40, width - text.size() - 3);
        const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(bar));
        text = "[" + std::string(filled, '#') + std::string(bar - filled, '.') + "] " + text;
    }
    if (text.size() > width) text.resize(width);
    return text;
}

std::string progressLine(const SendCounts& c) {
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.1f/s", c.rate);
    const auto left = secondsLeft(c);
    return "sent=" + std::to_string(c.sent) + " failed=" + std::to_string(c.failed) +
           " unknown=" + std::to_string(c.unknown) + " skipped=" + std::to_string(c.skipped) +
           " pending=" + std::to_string(c.pending) + " in_flight=" + std::to_string(c.inFlight) +
           " total=" + std::to_string(c.total) + " rate=" + rate +
           " left=" + (left ? formatDuration(*left) : std::string("unknown"));
}

}  // namespace campaignd::ctl

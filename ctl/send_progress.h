// send_progress.h: what `campaign watch` shows, as pure functions: the counts of a sending
// campaign, the rate, and the time left, as a bar for a terminal or a plain line for a log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace campaignd::ctl {

struct SendCounts {
    std::uint64_t total = 0;  // attached
    std::uint64_t sent = 0;
    std::uint64_t failed = 0;
    std::uint64_t pending = 0;
    std::uint64_t unknown = 0;
    std::uint64_t skipped = 0;
    std::uint64_t inFlight = 0;
    double rate = 0;  // outcomes per second

    // Everything with an outcome (sent, failed, unknown, skipped) of the total.
    std::uint64_t settled() const { return sent + failed + unknown + skipped; }
};

// Seconds until pending and in-flight are done at `rate`; nullopt when the rate is 0.
std::optional<std::uint64_t> secondsLeft(const SendCounts& c);
// "45s", "3m05s", "2h07m".
std::string formatDuration(std::uint64_t seconds);
// "12,345".
std::string groupThousands(std::uint64_t n);

// "[##########..........]  50%  sent 500  failed 3  pending 497  1,234 msg/s  12s left":
// one line for a terminal, at most `width` columns (the bar shrinks first).
std::string progressBar(const SendCounts& c, std::size_t width);
// "sent=500 failed=3 unknown=0 skipped=0 pending=497 in_flight=0 total=1000 rate=1234.0/s left=12s"
std::string progressLine(const SendCounts& c);

}  // namespace campaignd::ctl

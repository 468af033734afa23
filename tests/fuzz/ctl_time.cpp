// ctl_time.cpp: fuzzes campaignd-ctl's TIME parser, parseTime (ctl/time_format.h), under several
// time zones given as POSIX TZ rules (UTC; Berlin, New York and Lord Howe with their daylight-
// saving changes, Lord Howe's by 30 minutes; Kathmandu at +05:45), so no tzdata is read.
// Refusal is InvalidTime and nothing else. What is accepted must mean one instant: a time with
// an offset (or UTC/GMT) is the same in every zone and comes back from formatIsoUtc; a local time
// (with or without the zone's name) comes back from formatLocalTime as the same wall-clock minute
// that was typed, and what formatLocalTime writes parses back to that minute.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "time_format.h"

namespace {

using campaignd::fuzz::check;
namespace ctl = campaignd::ctl;

constexpr const char* kZones[] = {
    "UTC0",
    "CET-1CEST,M3.5.0,M10.5.0/3",
    "EST5EDT,M3.2.0,M11.1.0",
    "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
    "<+0545>-5:45",
};

std::optional<std::uint64_t> parse(std::string_view text) {
    try {
        return ctl::parseTime(text);
    } catch (const ctl::InvalidTime& e) {
        // what() quotes the text, so a NUL in it (impossible in argv) cuts the message short.
        check(text.find('\0') != std::string_view::npos ||
                  std::string_view(e.what()).find(ctl::kTimeFormsHelp) != std::string_view::npos,
              "a refusal names the accepted forms", e.what());
        return std::nullopt;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // Both forms start "YYYY-MM-DD", a separator and "HH:MM"; after that only an offset
    // brings a 'Z', '+' or '-', or the zone name UTC or GMT.
    const bool hasOffset = text.size() > 11 && (text.find_first_of("Zz+-", 11) != std::string_view::npos ||
                                                text.find("UTC", 11) != std::string_view::npos ||
                                                text.find("GMT", 11) != std::string_view::npos);
    std::optional<std::uint64_t> first;
    int refusals = 0;
    for (const char* zone : kZones) {
        ::setenv("TZ", zone, 1);
        const auto usec = parse(text);
        if (!usec) {
            ++refusals;
            continue;
        }
        check(text.size() >= 16, "an accepted time has at least \"YYYY-MM-DD HH:MM\"", text);
        if (hasOffset) {
            check(!first || *first == *usec, "a time with an offset is the same in every zone", text);
            first = usec;
            const std::string iso = ctl::formatIsoUtc(*usec);
            // 20 characters: a four-digit year; an offset can push 9999-12-31 into year 10000.
            if (*usec >= 1000000 && iso.size() == 20) {
                const auto back = parse(iso);
                check(back && *back == *usec - *usec % 1000000,
                      "formatIsoUtc gives back the same second", iso);
            }
        } else if (*usec != 0) {
            const std::string shown = ctl::formatLocalTime(*usec);
            check(shown.substr(0, 16) == text.substr(0, 16), "formatLocalTime gives back the wall-clock minute typed",
                  text);
            const auto back = parse(shown);
            check(back && *back == *usec - *usec % 60000000, "what formatLocalTime shows parses back to that minute",
                  shown);
        }
    }
    // A time with an offset does not depend on the zone: refused in every zone or in none.
    check(!hasOffset || !first || refusals == 0,
          "a time with an offset is refused in every zone or in none", text);
    return 0;
}

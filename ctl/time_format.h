// time_format.h: the times campaignd-ctl reads from its users and shows back. It accepts
// exactly two forms, ISO 8601 with an offset and "YYYY-MM-DD HH:MM[:SS] [ZONE]" in local time (TZ),
// and turns them into the bus form, microseconds since the epoch. It refuses anything else
// (with a message naming the accepted forms) rather than guessing what a date means.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace campaignd::ctl {

// A TIME a user typed that is not one of the accepted forms; what() says why and what to type.
class InvalidTime : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The accepted forms, for help texts and error messages.
inline constexpr std::string_view kTimeFormsHelp =
    "ISO 8601 with an offset (2026-12-01T09:00:00+01:00, 2026-12-01T08:00:00Z) or local time "
    "as \"YYYY-MM-DD HH:MM\" or \"YYYY-MM-DD HH:MM:SS\" (optionally followed by the local zone's name or "
    "an offset, as campaignd-ctl shows times: \"2026-12-01 09:00 CET\")";

// Microseconds since the epoch for TEXT. Local times use the current TZ; a local time that does
// not exist (skipped by a daylight-saving change) is refused. Throws InvalidTime.
std::uint64_t parseTime(std::string_view text);

// "YYYY-MM-DD HH:MM ZONE" in local time, ZONE the zone's name ("CET", "EDT") or, for a zone
// without one, its offset ("+0530"); parseTime reads it back. "-" for 0 (no time).
std::string formatLocalTime(std::uint64_t usecSinceEpoch);

// The same to the second ("YYYY-MM-DD HH:MM:SS ZONE"), for times a reader may compare with a
// server's log; "-" for 0.
std::string formatLocalTimeSeconds(std::uint64_t usecSinceEpoch);

// "2026-11-27T21:00:00Z" (UTC, whole seconds); "" for 0 (callers map that to null).
std::string formatIsoUtc(std::uint64_t usecSinceEpoch);

}  // namespace campaignd::ctl

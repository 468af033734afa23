// clock.cpp: the real-time clock and the one time format used in messages (ISO 8601, UTC).
#include "core/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace campaignd {

Usec systemNow() {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string formatUtc(Usec time) {
    // Floor division, so that times before the epoch format as the second they fall in.
    std::int64_t seconds = time / 1'000'000;
    if (time % 1'000'000 < 0) --seconds;
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) return std::to_string(time) + "us";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

}  // namespace campaignd

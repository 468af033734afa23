// clock.h: where the daemon reads the time, so that tests can set it.
#pragma once

#include <functional>
#include <string>

#include "core/model.h"

namespace campaignd {

using Clock = std::function<Usec()>;
// The system's real-time clock, in microseconds since the epoch.
Usec systemNow();
// A time as ISO 8601 in UTC, to the second: "2020-01-01T00:00:00Z".
std::string formatUtc(Usec time);

}  // namespace campaignd

// clock.h: where the services read the time, so that tests can set it.
#pragma once

#include <functional>

#include "core/model.h"

namespace campaignd::services {

using Clock = std::function<Usec()>;
// The system's real-time clock, in microseconds since the epoch.
Usec systemNow();

}  // namespace campaignd::services

// descriptor_io.h: writing to a descriptor a caller handed over (an errors file, an export), so
// that a reader who stops reading holds nobody but its own job. A pipe or socket is written only
// when poll() says it takes more, at most PIPE_BUF bytes at a time, so no write blocks; a regular
// file is written at once. While it waits it asks `stop` every 250 ms, and gives up after
// `idle` without progress.
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

namespace campaignd {

enum class WriteEnd {
    Written,   // all of it
    Stopped,   // stop() said so; part may have been written
    TimedOut,  // the descriptor took nothing for `idle`
};

// Throws std::system_error for a write error (EPIPE for a reader gone, ENOSPC, ...).
WriteEnd writeAllTo(int fd, std::string_view data, const std::function<bool()>& stop,
                    std::chrono::milliseconds idle = std::chrono::milliseconds::max());

}  // namespace campaignd

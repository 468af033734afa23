// descriptor_io.cpp: see descriptor_io.h.
#include "core/descriptor_io.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <system_error>

namespace campaignd {

WriteEnd writeAllTo(int fd, std::string_view data, const std::function<bool()>& stop,
                    std::chrono::milliseconds idle) {
    using SteadyClock = std::chrono::steady_clock;
    constexpr int kStepMs = 250;
    struct stat st {};
    const bool waitable = ::fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
    auto lastProgress = SteadyClock::now();
    while (!data.empty()) {
        std::size_t chunk = data.size();
        if (waitable) {
            pollfd p{fd, POLLOUT, 0};
            const int ready = ::poll(&p, 1, kStepMs);
            if (ready < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
            if (stop && stop()) return WriteEnd::Stopped;
            if (ready <= 0) {
                // In milliseconds: `idle` may be milliseconds::max(), which no finer unit holds.
                if (std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - lastProgress) >= idle)
                    return WriteEnd::TimedOut;
                continue;
            }
            chunk = std::min<std::size_t>(chunk, PIPE_BUF);
        }
        const ssize_t n = ::write(fd, data.data(), chunk);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            throw std::system_error(errno, std::generic_category(), "write");
        }
        data.remove_prefix(static_cast<std::size_t>(n));
        lastProgress = SteadyClock::now();
    }
    return WriteEnd::Written;
}

}  // namespace campaignd

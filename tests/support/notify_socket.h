// notify_socket.h: a private sd_notify socket for a daemon under test (its NOTIFY_SOCKET): a
// datagram socket bound at a path the test chooses. It keeps every message received, in order,
// so a test can wait for READY=1 and later see STATUS=... and STOPPING=1. Not thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace campaignd::test {

using namespace std::chrono_literals;

class NotifySocket {
public:
    // Binds (replacing a stale file at `path`); throws std::runtime_error if it cannot.
    explicit NotifySocket(std::filesystem::path path);
    ~NotifySocket();
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    const std::filesystem::path& path() const { return path_; }
    // Whether a message received so far contains `text` (reads what is queued, never blocks).
    bool received(std::string_view text);
    // Every message received so far, after collecting for `settle` what is still on its way.
    std::vector<std::string> messages(std::chrono::milliseconds settle = 50ms);

private:
    void receive(std::chrono::milliseconds wait);

    std::filesystem::path path_;
    int fd_ = -1;
    std::vector<std::string> messages_;
};

}  // namespace campaignd::test

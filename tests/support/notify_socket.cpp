// notify_socket.cpp: see notify_socket.h.
#include "support/notify_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace campaignd::test {

NotifySocket::NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
    std::filesystem::remove(path_);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.string().size() >= sizeof addr.sun_path) throw std::runtime_error("notify socket path too long: " + path_.string());
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (fd_ >= 0) ::close(fd_);
        throw std::runtime_error("cannot bind the notify socket " + path_.string() + ": " + std::strerror(errno));
    }
}

NotifySocket::~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
}

void NotifySocket::receive(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd pfd{fd_, POLLIN, 0};
        if (::poll(&pfd, 1, int(std::max<long>(left.count(), 0))) <= 0) return;
        char buf[4096];
        const auto len = ::recv(fd_, buf, sizeof buf, 0);
        if (len > 0) messages_.emplace_back(buf, std::size_t(len));
    }
}

bool NotifySocket::received(std::string_view text) {
    receive(0ms);
    for (const auto& m : messages_)
        if (m.find(text) != std::string::npos) return true;
    return false;
}

std::vector<std::string> NotifySocket::messages(std::chrono::milliseconds settle) {
    receive(settle);
    return messages_;
}

}  // namespace campaignd::test

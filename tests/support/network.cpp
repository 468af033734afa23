// network.cpp: random loopback addresses and bind-checked ports. Ports come from 20000-32767,
// below Linux's ephemeral range (32768-60999), so an outgoing connection's local port cannot
// take one between the check and the server's bind.
#include "support/network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <stdexcept>

namespace campaignd::test {
namespace {

std::mt19937& generator() {
    thread_local std::mt19937 gen{std::random_device{}() ^ std::uint32_t(::getpid())};
    return gen;
}

int randomBetween(int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(generator());
}

sockaddr_in socketAddress(const std::string& address, std::uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1)
        throw std::runtime_error("not an IPv4 address: " + address);
    return sa;
}

// Free for TCP (a listener) on that address, and not shadowed by a wildcard listener.
bool portIsFree(const std::string& address, std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const sockaddr_in sa = socketAddress(address, port);
    const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

std::uint16_t freePortOn(const std::string& address) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        const auto port = std::uint16_t(randomBetween(20000, 32767));
        if (portIsFree(address, port)) return port;
    }
    throw std::runtime_error("no free TCP port found on " + address);
}

Endpoint freeLoopbackEndpoint() {
    for (int attempt = 0; attempt < 20; ++attempt) {
        const int x = randomBetween(0, 255), y = randomBetween(0, 255), z = randomBetween(1, 254);
        if (x == 0 && y == 0 && z == 1) continue;
        const std::string address =
            "127." + std::to_string(x) + "." + std::to_string(y) + "." + std::to_string(z);
        try {
            return Endpoint{address, freePortOn(address)};
        } catch (const std::runtime_error&) {
        }
    }
    throw std::runtime_error("no free loopback endpoint found");
}

bool isListening(const Endpoint& endpoint) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const sockaddr_in sa = socketAddress(endpoint.address, endpoint.port);
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
    ::close(fd);
    return ok;
}

}  // namespace campaignd::test

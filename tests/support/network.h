// network.h: private loopback endpoints for servers a test starts. Each call picks a random
// 127.x.y.z (never 127.0.0.1, never .0 or .255) and a TCP port that nothing is bound to
// there, checked by binding it; parallel tests (and servers such as smtp-sink that bind with
// SO_REUSEPORT and would silently share a port) therefore never meet.
#pragma once

#include <cstdint>
#include <string>

namespace campaignd::test {

struct Endpoint {
    std::string address;  // "127.x.y.z"
    std::uint16_t port = 0;

    std::string hostPort() const { return address + ":" + std::to_string(port); }
};

// Throws std::runtime_error if no free port is found after many tries.
Endpoint freeLoopbackEndpoint();
// Another free port on an address already chosen (a second listener of the same fixture).
std::uint16_t freePortOn(const std::string& address);
// Whether a TCP listener accepts connections at the endpoint now.
bool isListening(const Endpoint& endpoint);

}  // namespace campaignd::test

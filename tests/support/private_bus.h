// private_bus.h: a dbus-daemon of a test's own, run as a GuardedServer (stopped with the object,
// or by its guard if the test dies): a session bus, or a system-type bus whose policy is
// default-deny (as Debian's system.conf) plus the policy files it is given (by default the
// project's systemd/org.campaignd.Campaignd1.conf), put in place before the bus starts. Its
// socket is in a private directory that clients run as other users (nobody) can reach.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/guarded_server.h"
#include "support/temp_dir.h"

namespace campaignd::test {

class PrivateBus {
public:
    enum class Kind { Session, System };
    // Throws std::runtime_error with what dbus-daemon said if it does not start.
    explicit PrivateBus(Kind kind, std::vector<std::filesystem::path> systemPolicies = {projectPolicy()});
    ~PrivateBus();
    PrivateBus(const PrivateBus&) = delete;
    PrivateBus& operator=(const PrivateBus&) = delete;

    // The project's own bus policy file (in the source tree).
    static std::filesystem::path projectPolicy();

    Kind kind() const { return kind_; }
    // Stops the bus daemon now (as a restart of dbus would), before the object dies.
    void stop();
    const std::string& address() const { return address_; }
    // The environment a client needs to find this bus (DBUS_*_BUS_ADDRESS, XDG_RUNTIME_DIR).
    std::map<std::string, std::string> clientEnv() const;

private:
    Kind kind_;
    TempDir dir_;
    std::string address_;
    std::unique_ptr<GuardedServer> server_;
};

}  // namespace campaignd::test

// private_bus.cpp: see private_bus.h. dbus-daemon runs in the foreground (no --fork) and prints
// its address on stdout once it listens; ready means the socket exists and the address line on
// stdout is complete.
#include "support/private_bus.h"

#include <sstream>
#include <stdexcept>

namespace campaignd::test {
namespace fs = std::filesystem;
namespace {

// A system-type bus as Debian's system.conf sets it up (default deny for method calls), with
// the policy files included the way /usr/share/dbus-1/system.d includes them.
std::string systemBusConfig(const fs::path& dir) {
    return R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=)" + (dir / "system_bus_socket").string() + R"(</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Peer"/>
  </policy>
  <includedir>)" + (dir / "system.d").string() + R"(</includedir>
</busconfig>
)";
}

}  // namespace

fs::path PrivateBus::projectPolicy() {
    return fs::path(CAMPAIGND_SOURCE_DIR) / "systemd" / "org.campaignd.Campaignd1.conf";
}

PrivateBus::PrivateBus(Kind kind, std::vector<fs::path> systemPolicies) : kind_(kind), dir_("campaignd-bus") {
    // Clients that run as another user (nobody) must reach the socket.
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec);
    fs::path socket;
    std::vector<std::string> argv{"dbus-daemon"};
    if (kind == Kind::Session) {
        socket = dir_ / "session_bus_socket";
        argv.push_back("--session");
        argv.push_back("--address=unix:path=" + socket.string());
    } else {
        socket = dir_ / "system_bus_socket";
        fs::create_directories(dir_ / "system.d");
        for (const auto& policy : systemPolicies) fs::copy_file(policy, dir_ / "system.d" / policy.filename());
        writeFile(dir_ / "system.conf", systemBusConfig(dir_.path()));
        argv.push_back("--config-file=" + (dir_ / "system.conf").string());
    }
    argv.insert(argv.end(), {"--nofork", "--print-address=1", "--nopidfile"});

    GuardedServerSpec spec;
    spec.name = "dbus-daemon in " + dir_.str();
    spec.argv = argv;
    spec.readyTimeout = 30s;
    spec.ready = [socket] { return fs::exists(socket); };
    server_ = std::make_unique<GuardedServer>(std::move(spec));
    // The address line on stdout (stderr may say things first, e.g. about unknown users).
    Process& process = server_->process();
    if (!waitUntil([&] { return process.out().find('\n') != std::string::npos || !process.running(); }, 10s) ||
        process.out().find('\n') == std::string::npos)
        throw std::runtime_error("dbus-daemon printed no address: " + server_->output());
    std::istringstream lines(process.out());
    std::getline(lines, address_);
}

PrivateBus::~PrivateBus() { stop(); }

void PrivateBus::stop() {
    if (server_) server_->stop(5s);
}

std::map<std::string, std::string> PrivateBus::clientEnv() const {
    if (kind_ == Kind::Session) return {{"DBUS_SESSION_BUS_ADDRESS", address_}, {"XDG_RUNTIME_DIR", dir_.str()}};
    return {{"DBUS_SYSTEM_BUS_ADDRESS", address_}};
}

}  // namespace campaignd::test

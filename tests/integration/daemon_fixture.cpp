// daemon_fixture.cpp: see daemon_fixture.h.
#include "daemon_fixture.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

namespace campaignd::test {
namespace fs = std::filesystem;

std::string campaigndBinary() { return CAMPAIGND_BINARY; }
std::string ctlBinary() { return CAMPAIGND_CTL_BINARY; }

namespace {

// A system-type bus as Debian's system.conf sets it up (default deny for method calls), with
// the project's policy file included the way /usr/share/dbus-1/system.d includes it.
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

PrivateBus::PrivateBus(Kind kind) : kind_(kind), dir_("campaignd-bus") {
    // Clients that run as another user (nobody) must reach the socket.
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                     fs::perms::group_exec | fs::perms::others_read |
                                     fs::perms::others_exec);
    std::vector<std::string> argv{"dbus-daemon"};
    if (kind == Kind::Session) {
        argv.push_back("--session");
        argv.push_back("--address=unix:path=" + (dir_ / "session_bus_socket").string());
    } else {
        fs::create_directories(dir_ / "system.d");
        fs::copy_file(fs::path(CAMPAIGND_SOURCE_DIR) / "systemd" / "org.campaignd.Campaignd1.conf",
                      dir_ / "system.d" / "org.campaignd.Campaignd1.conf");
        writeFile(dir_ / "system.conf", systemBusConfig(dir_.path()));
        argv.push_back("--config-file=" + (dir_ / "system.conf").string());
    }
    argv.insert(argv.end(), {"--print-address=1", "--print-pid=1", "--fork", "--nopidfile"});
    const auto r = run(argv, {}, 30s);
    std::istringstream lines(r.out);
    std::string pid;
    if (r.exitCode != 0 || !std::getline(lines, address_) || !std::getline(lines, pid))
        throw std::runtime_error("dbus-daemon did not start: " + r.err);
    pid_ = static_cast<pid_t>(std::stol(pid));
}

PrivateBus::~PrivateBus() { stop(); }

void PrivateBus::stop() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        waitForProcessExit(pid_, 5s);
        pid_ = -1;
    }
}

std::map<std::string, std::string> PrivateBus::clientEnv() const {
    if (kind_ == Kind::Session)
        return {{"DBUS_SESSION_BUS_ADDRESS", address_}, {"XDG_RUNTIME_DIR", dir_.str()}};
    return {{"DBUS_SYSTEM_BUS_ADDRESS", address_}};
}

Campaignd::Campaignd(const PrivateBus& bus, const TempDir& dir, const DaemonConfig& config)
    : bus_(bus), configPath_(dir / "campaignd.conf") {
    std::string text = "[Daemon]\nDatabase=" + config.database + "\nPluginDirectory=" +
                       (dir / "plugins").string() + "\nAdminEmail=admin@example.org\nStateDirectory=" +
                       (dir / "state").string() + "\n";
    if (!config.adminGroup.empty()) text += "AdminGroup=" + config.adminGroup + "\n";
    text += config.extra;
    writeFile(configPath_, text);

    const auto notifyPath = dir / ("notify-" + std::to_string(::getpid()) + "-" +
                                   std::to_string(reinterpret_cast<std::uintptr_t>(this) % 100000));
    fs::remove(notifyPath);
    notifyFd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, notifyPath.c_str(), sizeof(addr.sun_path) - 1);
    if (notifyFd_ < 0 || ::bind(notifyFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error("cannot bind the notify socket " + notifyPath.string());

    ProcessOptions options;
    options.env = bus.clientEnv();
    options.env["NOTIFY_SOCKET"] = notifyPath.string();
    options.unsetEnv = {"JOURNAL_STREAM"};
    std::vector<std::string> argv{campaigndBinary(), "--config", configPath_.string()};
    if (bus.kind() == PrivateBus::Kind::Session) argv.push_back("--user");
    process_ = std::make_unique<Process>(argv, options);
    if (!waitForNotification("READY=1", 30s)) {
        process_->stop();
        throw std::runtime_error("campaignd did not become ready; it said:\n" + process_->err());
    }
}

Campaignd::~Campaignd() {
    if (process_ && process_->running()) process_->stop();
    if (notifyFd_ >= 0) ::close(notifyFd_);
}

bool Campaignd::waitForNotification(const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        for (const auto& n : notifications_)
            if (n.find(text) != std::string::npos) return true;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd pfd{notifyFd_, POLLIN, 0};
        const int n = ::poll(&pfd, 1, static_cast<int>(std::min<long>(left.count(), 100)));
        if (n > 0) {
            char buf[4096];
            const auto len = ::recv(notifyFd_, buf, sizeof buf, 0);
            if (len > 0) notifications_.emplace_back(buf, static_cast<std::size_t>(len));
        } else if (process_ && !process_->running()) {
            return false;
        }
    }
}

std::vector<std::string> Campaignd::notifications() {
    waitForNotification("\x01never\x01", 50ms);  // drain what is queued
    return notifications_;
}

int Campaignd::stop() {
    const int status = process_->stop(10s);
    notifications();
    return status;
}

bool Campaignd::running() { return process_->running(); }

RunResult Campaignd::ctl(const std::vector<std::string>& args, std::optional<UserIds> as) const {
    std::vector<std::string> argv{ctlBinary()};
    if (bus_.kind() == PrivateBus::Kind::Session) argv.push_back("--user");
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.env = bus_.clientEnv();
    options.env["TZ"] = "UTC";
    if (as) {
        options.uid = as->uid;
        options.gid = as->gid;
    }
    return run(argv, options, 60s);
}

std::string Campaignd::ctlOk(const std::vector<std::string>& args) const {
    const auto r = ctl(args);
    std::string command = "campaignd-ctl";
    for (const auto& a : args) command += " " + a;
    EXPECT_EQ(r.exitCode, 0) << command << "\nstderr: " << r.err << "\nstdout: " << r.out;
    return r.out;
}

nlohmann::json Campaignd::ctlJson(std::vector<std::string> args) const {
    args.insert(args.begin(), "--json");
    const auto out = ctlOk(args);
    try {
        return nlohmann::json::parse(out);
    } catch (const nlohmann::json::exception&) {
        ADD_FAILURE() << "not JSON: " << out;
        return nlohmann::json::object();
    }
}

nlohmann::json Campaignd::ctlCampaign(int id) const { return ctlJson({"campaign", "show", std::to_string(id)}); }

RunResult Campaignd::busctl(const std::vector<std::string>& args, std::optional<UserIds> as) const {
    std::vector<std::string> argv{"busctl", "--address=" + bus_.address()};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    if (as) {
        options.uid = as->uid;
        options.gid = as->gid;
    }
    return run(argv, options, 60s);
}

}  // namespace campaignd::test

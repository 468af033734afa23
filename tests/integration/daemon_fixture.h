// daemon_fixture.h: the real campaignd on a private bus, driven as a user would drive it.
// PrivateBus starts a dbus-daemon of its own: a session bus, or a system-type bus whose policy
// is default-deny plus the project's own policy file (systemd/org.campaignd.Campaignd1.conf),
// on a socket in a private directory. Campaignd starts the built daemon against it with a
// config the test writes, waits for its sd_notify READY=1 on a notify socket of its own, and
// runs campaignd-ctl and busctl against it, optionally as another user; ctlOk/ctlJson/ctlCampaign
// are the one copy of "run campaignd-ctl and expect success" that every integration test uses
// (a failure there is a GoogleTest failure, not an exception). Everything started is stopped
// when the objects die.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::test {

class PrivateBus {
public:
    enum class Kind { Session, System };
    explicit PrivateBus(Kind kind);
    ~PrivateBus();
    PrivateBus(const PrivateBus&) = delete;
    PrivateBus& operator=(const PrivateBus&) = delete;

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
    pid_t pid_ = -1;
};

struct DaemonConfig {
    std::string database;            // "sqlite:..." or a postgresql:// URL
    std::string adminGroup;          // empty: the default ("campaignd")
    std::string extra;               // appended to the config file verbatim
};

class Campaignd {
public:
    // Writes the config into `dir` and starts the daemon; throws if it does not become ready.
    Campaignd(const PrivateBus& bus, const TempDir& dir, const DaemonConfig& config);
    ~Campaignd();
    Campaignd(const Campaignd&) = delete;
    Campaignd& operator=(const Campaignd&) = delete;

    // SIGTERM and wait; returns the exit status.
    int stop();
    bool running();
    Process& process() { return *process_; }
    // Every sd_notify message received so far, in order.
    std::vector<std::string> notifications();

    // campaignd-ctl ARGS (with --user on a session bus), optionally as another user.
    RunResult ctl(const std::vector<std::string>& args, std::optional<UserIds> as = {}) const;
    // campaignd-ctl ARGS expected to exit 0 (a test failure otherwise, naming the command with
    // its stderr and stdout); returns its stdout.
    std::string ctlOk(const std::vector<std::string>& args) const;
    // campaignd-ctl --json ARGS expected to exit 0, its stdout parsed; a test failure and an
    // empty object when it is not JSON.
    nlohmann::json ctlJson(std::vector<std::string> args) const;
    // campaignd-ctl --json campaign show ID.
    nlohmann::json ctlCampaign(int id) const;
    // busctl --address=... ARGS.
    RunResult busctl(const std::vector<std::string>& args, std::optional<UserIds> as = {}) const;

private:
    bool waitForNotification(const std::string& text, std::chrono::milliseconds timeout);

    const PrivateBus& bus_;
    std::filesystem::path configPath_;
    int notifyFd_ = -1;
    std::vector<std::string> notifications_;
    std::unique_ptr<Process> process_;
};

// The built binaries (from the build system).
std::string campaigndBinary();
std::string ctlBinary();

}  // namespace campaignd::test

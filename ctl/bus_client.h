// bus_client.h: campaignd-ctl's connection to campaignd: the system bus, or the session bus
// with --user (each honouring DBUS_SYSTEM_BUS_ADDRESS / DBUS_SESSION_BUS_ADDRESS), a method
// call time-out so a hung daemon cannot hang a script, proxies for the Manager and for one
// campaign by id, and runJob() to start a daemon job and wait for its JobFinished. It connects
// once, on first use; it does not retry or start the daemon.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <sdbus-c++/sdbus-c++.h>

#include "campaignd/dbus/Campaign_proxy.h"
#include "campaignd/dbus/Manager_proxy.h"
#include "presentation.h"

namespace campaignd::ctl {

inline constexpr const char* kServiceName = "org.campaignd.Campaignd1";
inline constexpr const char* kManagerPath = "/org/campaignd/Campaignd1";
inline constexpr int kCallTimeoutSeconds = 30;

class ManagerProxy final : public sdbus::ProxyInterfaces<org::campaignd::Campaignd1::Manager_proxy> {
public:
    explicit ManagerProxy(sdbus::IConnection& connection);
    ~ManagerProxy();

    // Set by a command that follows an import or a job; called while the connection is processed.
    std::function<void(std::uint64_t id, std::uint64_t rows, std::uint64_t bytes, double rate)> importProgress;
    std::function<void(std::uint64_t id, const std::string& state,
                       const std::map<std::string, sdbus::Variant>& summary)> importFinished;
    std::function<void(std::uint64_t id, const std::string& kind, const std::string& state,
                       const std::map<std::string, sdbus::Variant>& result)> jobFinished;

private:
    void onImportProgress(const uint64_t& id, const uint64_t& rows, const uint64_t& bytes,
                          const double& rowsPerSecond) override;
    void onImportFinished(const uint64_t& id, const std::string& state,
                          const std::map<std::string, sdbus::Variant>& summary) override;
    void onJobFinished(const uint64_t& id, const std::string& kind, const std::string& state,
                       const std::map<std::string, sdbus::Variant>& result) override;
};

class CampaignProxy final : public sdbus::ProxyInterfaces<org::campaignd::Campaignd1::Campaign_proxy> {
public:
    CampaignProxy(sdbus::IConnection& connection, std::string path);
    ~CampaignProxy();

    // Set by `campaign watch`; called while the connection is processed.
    std::function<void(std::uint64_t sent, std::uint64_t failed, std::uint64_t pending, std::uint64_t unknown,
                       std::uint64_t skipped, std::uint64_t inFlight, double rate)> progress;

private:
    void onProgress(const uint64_t& sent, const uint64_t& failed, const uint64_t& pending, const uint64_t& unknown,
                    const uint64_t& skipped, const uint64_t& inFlight, const double& rate) override;
};

class BusClient {
public:
    // Connects; a bus that cannot be reached throws CommandFailure with a sentence saying which.
    // Method calls time out after `timeout`.
    explicit BusClient(BusKind kind, std::chrono::milliseconds timeout = std::chrono::seconds(kCallTimeoutSeconds));
    // Whether campaignd owns its name on this bus now (asking the bus; starts nothing).
    bool daemonRunning();

    BusKind kind() const { return kind_; }
    ManagerProxy& manager() { return *manager_; }
    // The campaign object for ID (Manager.GetCampaign; NotFound propagates as sdbus::Error).
    std::unique_ptr<CampaignProxy> campaign(std::uint64_t id);
    std::unique_ptr<CampaignProxy> campaignAt(const std::string& path);
    // Waits up to `timeout` for bus traffic and dispatches it (signals to the proxies' handlers).
    void processFor(std::chrono::milliseconds timeout);
    // Runs a job: `start` makes the Manager call that returns its id (after JobFinished is
    // subscribed, so its end cannot be missed), then this waits for the job's JobFinished,
    // asking GetJob every second (a lost signal or a restarted daemon cannot hang it: that is a
    // CommandFailure). Returns the job's result when it completed; when it failed or was
    // cancelled, throws sdbus::Error with the job's error name and message, as the call itself
    // did when it was not a job.
    std::map<std::string, sdbus::Variant> runJob(const std::function<std::uint64_t()>& start);

private:
    BusKind kind_;
    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<ManagerProxy> manager_;
};

}  // namespace campaignd::ctl

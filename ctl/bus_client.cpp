// bus_client.cpp: see bus_client.h. The time-out is set on the connection, so it covers every
// call the generated proxies make, including property reads; a job's own wait has none (the
// daemon bounds its jobs, and GetJob every second notices a daemon that went away).
#include "bus_client.h"

#include <poll.h>

#include <chrono>
#include <optional>

#include "cli.h"
#include "variant_json.h"

namespace campaignd::ctl {

ManagerProxy::ManagerProxy(sdbus::IConnection& connection)
    : ProxyInterfaces(connection, kServiceName, kManagerPath)
{
    registerProxy();
}

ManagerProxy::~ManagerProxy()
{
    unregisterProxy();
}

void ManagerProxy::onImportProgress(const uint64_t& id, const uint64_t& rows, const uint64_t& bytes,
                                    const double& rowsPerSecond)
{
    if (importProgress) importProgress(id, rows, bytes, rowsPerSecond);
}

void ManagerProxy::onImportFinished(const uint64_t& id, const std::string& state,
                                    const std::map<std::string, sdbus::Variant>& summary)
{
    if (importFinished) importFinished(id, state, summary);
}

void ManagerProxy::onJobFinished(const uint64_t& id, const std::string& kind, const std::string& state,
                                 const std::map<std::string, sdbus::Variant>& result)
{
    if (jobFinished) jobFinished(id, kind, state, result);
}

CampaignProxy::CampaignProxy(sdbus::IConnection& connection, std::string path)
    : ProxyInterfaces(connection, kServiceName, std::move(path))
{
    registerProxy();
}

CampaignProxy::~CampaignProxy()
{
    unregisterProxy();
}

void CampaignProxy::onProgress(const uint64_t& sent, const uint64_t& failed, const uint64_t& pending,
                               const uint64_t& unknown, const uint64_t& skipped, const uint64_t& inFlight,
                               const double& rate)
{
    if (progress) progress(sent, failed, pending, unknown, skipped, inFlight, rate);
}

BusClient::BusClient(BusKind kind, std::chrono::milliseconds timeout) : kind_(kind)
{
    const char* which = kind == BusKind::User ? "session" : "system";
    try {
        connection_ = kind == BusKind::User ? sdbus::createSessionBusConnection()
                                            : sdbus::createSystemBusConnection();
        connection_->setMethodCallTimeout(timeout);
        manager_ = std::make_unique<ManagerProxy>(*connection_);
    } catch (const sdbus::Error& e) {
        throw CommandFailure(std::string("cannot connect to the ") + which + " bus: " +
                             (e.getMessage().empty() ? e.getName() : e.getMessage()));
    }
}

bool BusClient::daemonRunning()
{
    auto bus = sdbus::createProxy(*connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    bool has = false;
    bus->callMethod("NameHasOwner").onInterface("org.freedesktop.DBus").withArguments(std::string(kServiceName))
        .storeResultsTo(has);
    return has;
}

std::unique_ptr<CampaignProxy> BusClient::campaign(std::uint64_t id)
{
    sdbus::ObjectPath path = manager_->GetCampaign(id);
    return campaignAt(path);
}

std::unique_ptr<CampaignProxy> BusClient::campaignAt(const std::string& path)
{
    return std::make_unique<CampaignProxy>(*connection_, path);
}

void BusClient::processFor(std::chrono::milliseconds timeout)
{
    while (connection_->processPendingRequest()) {
    }
    const auto poll = connection_->getEventLoopPollData();
    pollfd fd{poll.fd, poll.events, 0};
    ::poll(&fd, 1, static_cast<int>(timeout.count()));
    while (connection_->processPendingRequest()) {
    }
}

std::map<std::string, sdbus::Variant> BusClient::runJob(const std::function<std::uint64_t()>& start)
{
    using Dict = std::map<std::string, sdbus::Variant>;
    using Clock = std::chrono::steady_clock;
    // The end may arrive before the call returns the id: keep every end seen.
    std::map<std::uint64_t, std::pair<std::string, Dict>> ended;
    manager_->jobFinished = [&](std::uint64_t id, const std::string&, const std::string& state, const Dict& result) {
        ended[id] = {state, result};
    };
    struct Unsubscribe {
        ManagerProxy& manager;
        ~Unsubscribe() { manager.jobFinished = nullptr; }
    } unsubscribe{*manager_};

    const std::uint64_t id = start();
    std::optional<std::pair<std::string, Dict>> finished;
    auto lastPoll = Clock::now();
    while (!finished) {
        if (const auto it = ended.find(id); it != ended.end()) {
            finished = it->second;
            break;
        }
        processFor(std::chrono::milliseconds(200));
        if (Clock::now() - lastPoll >= std::chrono::seconds(1)) {
            lastPoll = Clock::now();
            Dict job;
            try {
                job = manager_->GetJob(id);
            } catch (const sdbus::Error& e) {
                throw CommandFailure("the job was lost: campaignd stopped or restarted while it ran: " +
                                     (e.getMessage().empty() ? e.getName() : e.getMessage()));
            }
            const auto state = dictString(job, "state");
            if (state != "running") {
                Dict result;
                if (const auto r = job.find("result"); r != job.end() && r->second.containsValueOfType<Dict>())
                    result = r->second.get<Dict>();
                finished = std::make_pair(state, result);
            }
        }
    }
    const auto& [state, result] = *finished;
    if (state == "completed") return result;
    const auto name = dictString(result, "error_name", "org.campaignd.Campaignd1.Error.Failed");
    const auto message = dictString(result, "error", "the job " + state);
    throw sdbus::Error(name, message);
}

}  // namespace campaignd::ctl

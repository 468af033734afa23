// bus_client.cpp: see bus_client.h. The time-out is set on the connection, so it covers every
// call the generated proxies make, including property reads.
#include "bus_client.h"

#include <poll.h>

#include <chrono>

#include "cli.h"

namespace campaignd::ctl {

ManagerProxy::ManagerProxy(sdbus::IConnection& connection)
    : ProxyInterfaces(connection, kServiceName, kManagerPath)
{
    registerProxy();
}

std::map<std::string, sdbus::Variant> ManagerProxy::processBounces(std::chrono::seconds timeout)
{
    std::map<std::string, sdbus::Variant> summary;
    getProxy()
        .callMethod("ProcessBounces")
        .onInterface(INTERFACE_NAME)
        .withTimeout(timeout)
        .withArguments(std::map<std::string, sdbus::Variant>{})
        .storeResultsTo(summary);
    return summary;
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

BusClient::BusClient(BusKind kind) : kind_(kind)
{
    const char* which = kind == BusKind::User ? "session" : "system";
    try {
        connection_ = kind == BusKind::User ? sdbus::createSessionBusConnection()
                                            : sdbus::createSystemBusConnection();
        connection_->setMethodCallTimeout(std::chrono::seconds(kCallTimeoutSeconds));
        manager_ = std::make_unique<ManagerProxy>(*connection_);
    } catch (const sdbus::Error& e) {
        throw CommandFailure(std::string("cannot connect to the ") + which + " bus: " +
                             (e.getMessage().empty() ? e.getName() : e.getMessage()));
    }
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

}  // namespace campaignd::ctl

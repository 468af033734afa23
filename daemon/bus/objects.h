// objects.h: campaignd's bus objects. ManagerObject (/org/campaignd/Campaignd1) implements
// org.campaignd.Campaignd1.Manager and the ObjectManager; it owns one CampaignObject per
// campaign (/org/campaignd/Campaignd1/campaign/<id>) and keeps them in step with the services
// by being their CampaignObserver: a campaign's object appears when it is created, changes
// its properties (PropertiesChanged) when it changes, and goes when it is deleted. Handlers
// only parse arguments and call a service (access is checked before, from api_access.h, by
// the objects' own guarded()) (or start a job, manager_jobs.cpp, for
// anything that waits on the network or a caller's descriptor); the rules live in the services.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <sdbus-c++/sdbus-c++.h>

#include "bus/access.h"
#include "bus/guard.h"
#include "bus/variant_map.h"
#include "campaignd/dbus/Campaign_adaptor.h"
#include "campaignd/dbus/Manager_adaptor.h"
#include "plugin-host/plugin_host.h"
#include "services/bounce_service.h"
#include "services/campaign_service.h"
#include "services/dns_records.h"
#include "services/recipient_service.h"
#include "services/cluster_service.h"
#include "services/sending_service.h"
#include "storage/store.h"

namespace campaignd::bus {

inline constexpr const char* kServiceName = "org.campaignd.Campaignd1";
inline constexpr const char* kManagerPath = "/org/campaignd/Campaignd1";
std::string campaignPath(Id id);

struct DaemonInfo {
    std::string version;
    std::string backend;
    std::string database;  // without a password
    std::uint64_t schemaVersion = 0;
    Usec startedAt = 0;
    std::string bus;  // "system" or "user"
};

class BounceJobs;
class ImportJobs;
class JobRunner;

// What the bus objects call: every part exists before the objects are built (app::Daemon).
struct Services {
    services::CampaignService& campaigns;
    services::RecipientService& recipients;
    services::SendingService& sending;
    services::BounceService& bounces;  // on the bus thread's store: lists and the jobs' checks
    const AccessPolicy& access;
    const plugins::PluginHost& plugins;
    storage::Store& store;  // the bus thread's
    JobRunner& jobs;
    ImportJobs& imports;
    BounceJobs& bounceJobs;
    const services::DnsRecordSettings& dns;  // for DnsRecords, with the keys below
    const mail::DkimKeyring& dkim;
    services::ClusterService& cluster;  // the daemons sharing the database (GetStatus)
};

class CampaignObject final
    : public sdbus::AdaptorInterfaces<org::campaignd::Campaignd1::Campaign_adaptor,
                                      sdbus::ManagedObject_adaptor, sdbus::Properties_adaptor> {
public:
    CampaignObject(sdbus::IConnection& connection, Services& services, const Campaign& campaign);
    ~CampaignObject();

    // Takes the new state and emits PropertiesChanged for what differs.
    void refresh(const Campaign& campaign);
    // The Progress signal.
    void progress(const Campaign& campaign, double rate);

private:
    std::map<std::string, sdbus::Variant> Describe() override;
    std::map<std::string, sdbus::Variant> Update(const std::map<std::string, sdbus::Variant>& fields) override;
    void Delete() override;
    std::map<std::string, sdbus::Variant> Attach(const std::map<std::string, sdbus::Variant>& what) override;
    void Schedule(const uint64_t& time) override;
    void Unschedule() override;
    std::map<std::string, sdbus::Variant> GetSummary() override;
    std::tuple<std::vector<std::map<std::string, sdbus::Variant>>, uint64_t> ListRecipients(
        const std::map<std::string, sdbus::Variant>& filter) override;
    void Send() override;
    void Pause() override;
    void Resume() override;
    void ResumeEx(const uint64_t& flags) override;
    void Cancel() override;

    uint64_t Id() override;
    std::string Name() override;
    std::string Subject() override;
    std::string Status() override;
    std::string StatusReason() override;
    uint64_t ScheduledTime() override;
    uint64_t CreatedAt() override;
    uint64_t RecipientCount() override;
    uint64_t SentCount() override;
    uint64_t FailedCount() override;
    uint64_t PendingCount() override;
    uint64_t UnknownCount() override;
    uint64_t SkippedCount() override;
    uint64_t InFlightCount() override;

    services::SendingService& sending();

    // Every handler's body runs through this guarded(), which hides bus::guarded (guard.h) in
    // the class: it first checks the caller against the access table (api_access.h) for
    // METHOD, so no handler can forget the check, and a method the table does not list yet is
    // refused to all but administrators.
    template <typename F>
    auto guarded(const char* method, F&& body) -> decltype(body()) {
        return bus::guarded(method, [&]() -> decltype(body()) {
            checkAccess(method);
            return body();
        });
    }
    void checkAccess(const char* method);

    Services& services_;
    Campaign campaign_;
};

class ManagerObject final
    : public sdbus::AdaptorInterfaces<org::campaignd::Campaignd1::Manager_adaptor,
                                      sdbus::ObjectManager_adaptor, sdbus::Properties_adaptor>,
      public services::CampaignObserver {
public:
    ManagerObject(sdbus::IConnection& connection, boost::asio::io_context& io, Services& services,
                  DaemonInfo info);
    ~ManagerObject();

    // Publishes an object for every stored campaign (at start-up).
    void publishExisting();

    // services::CampaignObserver
    void campaignCreated(const Campaign& c) override;
    void campaignChanged(const Campaign& c) override;
    void campaignDeleted(campaignd::Id id) override;

    // Every campaign of the database, as read now (a cluster: other daemons create, change and
    // delete campaigns too): objects appear for new ones, go for deleted ones, and the others'
    // properties change (PropertiesChanged only for what changed).
    void follow(const std::vector<Campaign>& all);

    // Sending progress (from the engine, on the io thread): properties and the Progress signal.
    void campaignProgress(const Campaign& c, double rate);

private:
    std::string Version() override;
    std::map<std::string, sdbus::Variant> GetStatus() override;
    std::vector<std::map<std::string, sdbus::Variant>> ListPlugins() override;
    std::map<std::string, sdbus::Variant> GetDashboard() override;
    std::map<std::string, sdbus::Variant> GetAccess() override;
    std::map<std::string, sdbus::Variant> GetRecipientHistory(const std::string& email) override;
    std::string GetMetrics() override;
    std::vector<std::map<std::string, sdbus::Variant>> DnsRecords(const std::string& domain) override;
    std::tuple<std::string, std::vector<sdbus::Struct<std::string, uint64_t>>> SanitizeHtml(const std::string& html) override;
    std::tuple<uint64_t, sdbus::ObjectPath> CreateCampaign(const std::map<std::string, sdbus::Variant>& fields) override;
    std::tuple<uint64_t, sdbus::ObjectPath, std::map<std::string, sdbus::Variant>> CreateCampaignEx(
        const std::map<std::string, sdbus::Variant>& fields, const uint64_t& flags) override;
    std::vector<std::map<std::string, sdbus::Variant>> ListCampaigns(const std::map<std::string, sdbus::Variant>& filter) override;
    sdbus::ObjectPath GetCampaign(const uint64_t& id) override;
    std::vector<uint64_t> RunScheduled() override;
    std::tuple<std::vector<uint64_t>, std::vector<sdbus::Struct<uint64_t, std::string>>> RunScheduledEx(
        const uint64_t& flags) override;
    std::map<std::string, sdbus::Variant> AddRecipient(const std::string& email, const std::map<std::string, sdbus::Variant>& fields) override;
    std::map<std::string, sdbus::Variant> GetRecipient(const std::string& email) override;
    std::vector<std::map<std::string, sdbus::Variant>> ListRecipients(const std::map<std::string, sdbus::Variant>& filter) override;
    std::tuple<std::vector<std::map<std::string, sdbus::Variant>>, uint64_t> ListRecipientsEx(
        const std::map<std::string, sdbus::Variant>& filter) override;
    std::map<std::string, sdbus::Variant> UpdateRecipient(const std::string& email, const std::map<std::string, sdbus::Variant>& fields) override;
    void DeleteRecipient(const std::string& email) override;
    std::tuple<bool, std::map<std::string, sdbus::Variant>> UnsubscribeRecipient(
        const std::string& email, const std::map<std::string, sdbus::Variant>& options) override;
    std::map<std::string, sdbus::Variant> DeleteRecipientEx(const std::string& email,
                                                            const std::map<std::string, sdbus::Variant>& options) override;
    std::vector<std::map<std::string, sdbus::Variant>> ListSuppressions(
        const std::map<std::string, sdbus::Variant>& filter) override;
    std::tuple<bool, std::map<std::string, sdbus::Variant>> AddSuppression(const std::string& email) override;
    bool RemoveSuppression(const std::string& addressOrHash) override;
    std::map<std::string, sdbus::Variant> ImportSuppressions(const std::vector<std::string>& entries) override;
    std::map<std::string, sdbus::Variant> CreateGroup(const std::string& name) override;
    std::vector<std::map<std::string, sdbus::Variant>> ListGroups() override;
    void DeleteGroup(const std::string& name) override;
    uint64_t AddGroupMembers(const std::string& name, const std::vector<std::string>& emails) override;
    uint64_t RemoveGroupMembers(const std::string& name, const std::vector<std::string>& emails) override;
    // manager_jobs.cpp
    uint64_t ImportRecipients(const sdbus::UnixFd& file, const std::map<std::string, sdbus::Variant>& options) override;
    uint64_t ImportRecipientsData(const std::vector<uint8_t>& data, const std::map<std::string, sdbus::Variant>& options) override;
    std::map<std::string, sdbus::Variant> GetImport(const uint64_t& id) override;
    void CancelImport(const uint64_t& id) override;
    std::map<std::string, sdbus::Variant> GetJob(const uint64_t& id) override;
    void CancelJob(const uint64_t& id) override;
    uint64_t IngestBounce(const sdbus::UnixFd& message, const std::map<std::string, sdbus::Variant>& options) override;
    std::vector<std::map<std::string, sdbus::Variant>> ListBounces(const std::map<std::string, sdbus::Variant>& filter) override;
    uint64_t ExportBounces(const sdbus::UnixFd& file, const std::map<std::string, sdbus::Variant>& filter) override;
    uint64_t ProcessBounces(const std::map<std::string, sdbus::Variant>& options) override;

    // Every handler's body runs through this guarded(), which hides bus::guarded (guard.h) in
    // the class: it first checks the caller against the access table (api_access.h) for
    // METHOD, so no handler can forget the check, and a method the table does not list yet is
    // refused to all but administrators.
    template <typename F>
    auto guarded(const char* method, F&& body) -> decltype(body()) {
        return bus::guarded(method, [&]() -> decltype(body()) {
            checkAccess(method);
            return body();
        });
    }
    void checkAccess(const char* method);
    void requireAdmin(const char* action);
    // The uid of the caller of the call being handled; (uid_t)-1 when the bus does not say.
    uid_t callerUid();
    // ImportRecipients' work for either way of handing the file over (openFile returns the
    // descriptor the import reads, after the options were checked).
    uint64_t startImport(const char* method, const std::map<std::string, sdbus::Variant>& options,
                         const std::function<int()>& openFile);

    sdbus::IConnection& connection_;
    boost::asio::io_context& io_;
    Services& services_;
    DaemonInfo info_;
    std::map<campaignd::Id, std::unique_ptr<CampaignObject>> campaigns_;
};

// Reads the campaign fields of CreateCampaign / Campaign.Update.
services::CampaignFields readCampaignFields(const VariantMap& fields, const std::string& what,
                                            bool allowSchedule);

}  // namespace campaignd::bus

// objects.cpp: see objects.h.
#include "bus/objects.h"

#include <algorithm>
#include <set>

#include <boost/asio/post.hpp>

#include "bus/guard.h"
#include "core/error.h"
#include "core/log.h"
#include "core/metrics.h"
#include "rules/html_sanitizer.h"

namespace campaignd::bus {
namespace {

std::vector<VariantMap> mapAll(const auto& items, auto&& convert) {
    std::vector<VariantMap> out;
    out.reserve(items.size());
    for (const auto& item : items) out.push_back(convert(item));
    return out;
}

std::optional<Usec> toUsec(std::optional<std::uint64_t> t, const char* what) {
    if (!t) return std::nullopt;
    if (*t > static_cast<std::uint64_t>(INT64_MAX))
        throw Error(ErrorCode::InvalidArgument, std::string(what) + " is out of range");
    return static_cast<Usec>(*t);
}

// The caller against api_access.h; a method the table does not list is a bug (the test of the
// table catches it): refused to all but administrators.
void checkMethodAccess(const AccessPolicy& access, const sdbus::Message* message, std::string_view interface,
                       const char* method) {
    auto required = methodAccess(interface, method);
    if (!required) {
        log::error("a method missing from the access table (api_access.h) was called; only administrators may",
                   {{"METHOD", method}});
        required = Access::Admin;
    }
    access.require(message, *required, method);
}

}  // namespace

// A bus message is limited in size (128 MiB by default); recipients are listed in pages.
constexpr std::uint64_t kMaxRecipientsPerCall = 10000;

std::string campaignPath(campaignd::Id id) { return std::string(kManagerPath) + "/campaign/" + std::to_string(id); }

services::CampaignFields readCampaignFields(const VariantMap& fields, const std::string& what,
                                            bool allowSchedule) {
    FieldReader r(fields, what);
    services::CampaignFields f;
    f.name = r.string("name");
    f.subject = r.string("subject");
    f.htmlContent = r.string("html_content");
    f.textContent = r.string("text_content");
    f.fromAddress = r.string("from_address");
    f.transport = r.string("transport");
    f.subjectTag = r.boolean("subject_tag");
    if (allowSchedule) {
        const auto when = toUsec(r.uint64("scheduled_time"), "scheduled_time");
        if (when && *when != 0) f.scheduledTime = when;
    }
    r.finish();
    return f;
}

// ---------------------------------------------------------------------------------------------
// CampaignObject

CampaignObject::CampaignObject(sdbus::IConnection& connection, Services& services,
                               const Campaign& campaign)
    : AdaptorInterfaces(connection, campaignPath(campaign.id)),
      services_(services),
      campaign_(campaign) {
    registerAdaptor();
}

CampaignObject::~CampaignObject() { unregisterAdaptor(); }

void CampaignObject::refresh(const Campaign& c) {
    std::vector<std::string> changed;
    if (c.name != campaign_.name) changed.push_back("Name");
    if (c.subject != campaign_.subject) changed.push_back("Subject");
    if (c.status != campaign_.status) changed.push_back("Status");
    if (c.statusReason != campaign_.statusReason) changed.push_back("StatusReason");
    if (c.scheduledTime != campaign_.scheduledTime) changed.push_back("ScheduledTime");
    if (c.recipientCount != campaign_.recipientCount) changed.push_back("RecipientCount");
    if (c.sentCount != campaign_.sentCount) changed.push_back("SentCount");
    if (c.failedCount != campaign_.failedCount) changed.push_back("FailedCount");
    if (c.pendingCount != campaign_.pendingCount) changed.push_back("PendingCount");
    if (c.unknownCount != campaign_.unknownCount) changed.push_back("UnknownCount");
    if (c.skippedCount != campaign_.skippedCount) changed.push_back("SkippedCount");
    if (c.inFlightCount != campaign_.inFlightCount) changed.push_back("InFlightCount");
    campaign_ = c;
    if (!changed.empty())
        emitPropertiesChangedSignal(org::campaignd::Campaignd1::Campaign_adaptor::INTERFACE_NAME,
                                    changed);
}

void CampaignObject::checkAccess(const char* method) {
    checkMethodAccess(services_.access, getObject().getCurrentlyProcessedMessage(),
                      org::campaignd::Campaignd1::Campaign_adaptor::INTERFACE_NAME, method);
}

namespace {

// The campaign with how its messages would go out (the Describe keys of the XML).
VariantMap withAlignment(const Campaign& c, const services::CampaignService& campaigns) {
    VariantMap m = toVariantMap(c, true);
    if (const auto a = campaigns.alignment(c)) {
        m["from_domain"] = sdbus::Variant(a->fromDomain);
        m["envelope_domain"] = sdbus::Variant(a->envelopeDomain);
        m["dkim_domain"] = sdbus::Variant(a->dkimDomain);
        m["dkim_keys"] = sdbus::Variant(a->dkimKeys);
        m["spf_aligned"] = sdbus::Variant(a->spfAligned);
        m["dkim_aligned"] = sdbus::Variant(a->dkimAligned);
        m["warnings"] = sdbus::Variant(a->warnings());
    }
    return m;
}

}  // namespace

std::map<std::string, sdbus::Variant> CampaignObject::Describe() {
    return guarded("Describe", [&] { return withAlignment(services_.campaigns.get(campaign_.id), services_.campaigns); });
}

std::map<std::string, sdbus::Variant> CampaignObject::Update(const std::map<std::string, sdbus::Variant>& fields) {
    return guarded("Update", [&] {
        const auto f = readCampaignFields(fields, "Update fields", false);
        return withAlignment(services_.campaigns.update(campaign_.id, f), services_.campaigns);
    });
}

void CampaignObject::Delete() {
    guarded("Delete", [&] {
        services_.campaigns.remove(campaign_.id);
    });
}

std::map<std::string, sdbus::Variant> CampaignObject::Attach(const std::map<std::string, sdbus::Variant>& what) {
    return guarded("Attach", [&] {
        FieldReader r(what, "Attach");
        services::AttachRequest req;
        req.groups = r.strings("groups").value_or(std::vector<std::string>{});
        req.emails = r.strings("emails").value_or(std::vector<std::string>{});
        r.finish();
        if (req.groups.empty() && req.emails.empty())
            throw Error(ErrorCode::InvalidArgument, "Attach: name at least one group or address");
        const auto res = services_.campaigns.attach(campaign_.id, req);
        return VariantMap{
            {"attached", sdbus::Variant(static_cast<std::uint64_t>(res.attached))},
            {"already_attached", sdbus::Variant(static_cast<std::uint64_t>(res.alreadyAttached))},
            {"skipped_unsubscribed", sdbus::Variant(static_cast<std::uint64_t>(res.skippedUnsubscribed))},
            {"skipped_bounced", sdbus::Variant(static_cast<std::uint64_t>(res.skippedBounced))},
            {"recipient_count", sdbus::Variant(static_cast<std::uint64_t>(res.recipientCount))},
        };
    });
}

void CampaignObject::Schedule(const uint64_t& time) {
    guarded("Schedule", [&] {
        const auto when = toUsec(time, "time");
        if (!when || *when == 0) throw Error(ErrorCode::InvalidArgument, "Schedule: a time is required");
        services_.campaigns.schedule(campaign_.id, *when);
    });
}

void CampaignObject::Unschedule() {
    guarded("Unschedule", [&] {
        services_.campaigns.unschedule(campaign_.id);
    });
}

std::map<std::string, sdbus::Variant> CampaignObject::GetSummary() {
    return guarded("GetSummary", [&] { return toVariantMap(services_.campaigns.summary(campaign_.id)); });
}

std::tuple<std::vector<std::map<std::string, sdbus::Variant>>, uint64_t> CampaignObject::ListRecipients(
    const std::map<std::string, sdbus::Variant>& filter) {
    return guarded("ListRecipients", [&] {
        FieldReader r(filter, "ListRecipients filter");
        std::optional<SendState> state;
        if (const auto s = r.string("status"); s && !s->empty()) {
            state = parseSendState(*s);
            if (!state)
                throw Error(ErrorCode::InvalidArgument,
                            "ListRecipients: unknown status \"" + *s +
                                "\" (pending, in_flight, sent, failed, unknown, skipped)");
        }
        const auto limit = r.uint64("limit").value_or(services::CampaignService::kMaxRecipientsPerPage);
        const auto offset = r.uint64("offset").value_or(0);
        r.finish();
        const auto page = services_.campaigns.recipients(
            campaign_.id, state, static_cast<std::int64_t>(std::min<std::uint64_t>(limit, INT64_MAX)),
            static_cast<std::int64_t>(std::min<std::uint64_t>(offset, INT64_MAX)));
        return std::tuple{mapAll(page.recipients, [](const CampaignRecipient& x) { return toVariantMap(x); }),
                          static_cast<uint64_t>(page.total)};
    });
}

services::SendingService& CampaignObject::sending() { return services_.sending; }

void CampaignObject::Send() {
    guarded("Send", [&] {
        sending().send(campaign_.id);
    });
}

void CampaignObject::Pause() {
    guarded("Pause", [&] {
        sending().pause(campaign_.id);
    });
}

void CampaignObject::Resume() {
    guarded("Resume", [&] {
        sending().resume(campaign_.id);
    });
}

void CampaignObject::ResumeEx(const uint64_t& flags) {
    guarded("ResumeEx", [&] {
        constexpr uint64_t kForce = 1;
        if (flags & ~kForce) throw Error(ErrorCode::InvalidArgument, "ResumeEx: unknown flags (1 = force)");
        sending().resume(campaign_.id, (flags & kForce) != 0);
    });
}

void CampaignObject::Cancel() {
    guarded("Cancel", [&] {
        sending().cancel(campaign_.id);
    });
}

void CampaignObject::progress(const Campaign& c, double rate) {
    auto n = [](std::int64_t v) { return static_cast<uint64_t>(v > 0 ? v : 0); };
    emitProgress(n(c.sentCount), n(c.failedCount), n(c.pendingCount), n(c.unknownCount), n(c.skippedCount),
                 n(c.inFlightCount), rate);
}

uint64_t CampaignObject::Id() { return static_cast<uint64_t>(campaign_.id); }
std::string CampaignObject::Name() { return campaign_.name; }
std::string CampaignObject::Subject() { return campaign_.subject; }
std::string CampaignObject::Status() { return std::string(toString(campaign_.status)); }
std::string CampaignObject::StatusReason() { return campaign_.statusReason; }
uint64_t CampaignObject::ScheduledTime() { return toBusTime(campaign_.scheduledTime); }
uint64_t CampaignObject::CreatedAt() { return toBusTime(campaign_.createdAt); }
uint64_t CampaignObject::RecipientCount() { return static_cast<uint64_t>(campaign_.recipientCount); }
uint64_t CampaignObject::SentCount() { return static_cast<uint64_t>(campaign_.sentCount); }
uint64_t CampaignObject::FailedCount() { return static_cast<uint64_t>(campaign_.failedCount); }
uint64_t CampaignObject::PendingCount() { return static_cast<uint64_t>(campaign_.pendingCount); }
uint64_t CampaignObject::UnknownCount() { return static_cast<uint64_t>(campaign_.unknownCount); }
uint64_t CampaignObject::SkippedCount() { return static_cast<uint64_t>(campaign_.skippedCount); }
uint64_t CampaignObject::InFlightCount() { return static_cast<uint64_t>(campaign_.inFlightCount); }

// ---------------------------------------------------------------------------------------------
// ManagerObject

ManagerObject::ManagerObject(sdbus::IConnection& connection, boost::asio::io_context& io,
                             Services& services, DaemonInfo info)
    : AdaptorInterfaces(connection, kManagerPath),
      connection_(connection),
      io_(io),
      services_(services),
      info_(std::move(info)) {
    registerAdaptor();
    services_.campaigns.setObserver(this);
}

ManagerObject::~ManagerObject() {
    services_.campaigns.setObserver(nullptr);
    campaigns_.clear();
    unregisterAdaptor();
}

void ManagerObject::publishExisting() {
    for (const auto& c : services_.campaigns.list(std::nullopt))
        campaigns_[c.id] = std::make_unique<CampaignObject>(connection_, services_, c);
}

void ManagerObject::campaignCreated(const Campaign& c) {
    log::info("campaign created", {{"CAMPAIGN_ID", std::to_string(c.id)},
                                   {"CAMPAIGN_STATUS", std::string(toString(c.status))}});
    auto object = std::make_unique<CampaignObject>(connection_, services_, c);
    object->emitInterfacesAddedSignal();
    campaigns_[c.id] = std::move(object);
}

void ManagerObject::campaignChanged(const Campaign& c) {
    log::debug("campaign changed", {{"CAMPAIGN_ID", std::to_string(c.id)},
                                    {"CAMPAIGN_STATUS", std::string(toString(c.status))}});
    if (const auto it = campaigns_.find(c.id); it != campaigns_.end()) it->second->refresh(c);
}

void ManagerObject::campaignDeleted(campaignd::Id id) {
    log::info("campaign deleted", {{"CAMPAIGN_ID", std::to_string(id)}});
    const auto it = campaigns_.find(id);
    if (it == campaigns_.end()) return;
    it->second->emitInterfacesRemovedSignal();
    // The object may be the one whose Delete() is running right now: destroy it only after
    // that call has returned.
    std::shared_ptr<CampaignObject> doomed(std::move(it->second));
    campaigns_.erase(it);
    boost::asio::post(io_, [doomed] {});
}

void ManagerObject::follow(const std::vector<Campaign>& all) {
    std::set<campaignd::Id> present;
    for (const Campaign& c : all) {
        present.insert(c.id);
        if (const auto it = campaigns_.find(c.id); it != campaigns_.end()) {
            it->second->refresh(c);
            continue;
        }
        log::debug("campaign created through another daemon", {{"CAMPAIGN_ID", std::to_string(c.id)}});
        auto object = std::make_unique<CampaignObject>(connection_, services_, c);
        object->emitInterfacesAddedSignal();
        campaigns_[c.id] = std::move(object);
    }
    std::vector<campaignd::Id> gone;
    for (const auto& [id, object] : campaigns_)
        if (!present.count(id)) gone.push_back(id);
    for (const campaignd::Id id : gone) campaignDeleted(id);
}

void ManagerObject::campaignProgress(const Campaign& c, double rate) {
    const auto it = campaigns_.find(c.id);
    if (it == campaigns_.end()) return;
    it->second->refresh(c);
    it->second->progress(c, rate);
}

void ManagerObject::checkAccess(const char* method) {
    checkMethodAccess(services_.access, getObject().getCurrentlyProcessedMessage(),
                      org::campaignd::Campaignd1::Manager_adaptor::INTERFACE_NAME, method);
}

void ManagerObject::requireAdmin(const char* action) {
    services_.access.requireAdmin(getObject().getCurrentlyProcessedMessage(), action);
}

std::string ManagerObject::Version() { return info_.version; }

std::map<std::string, sdbus::Variant> ManagerObject::GetStatus() {
    return guarded("GetStatus", [&] {
        VariantMap status{
            {"version", sdbus::Variant(info_.version)},
            {"backend", sdbus::Variant(info_.backend)},
            {"database", sdbus::Variant(info_.database)},
            {"schema_version", sdbus::Variant(info_.schemaVersion)},
            {"started_at", sdbus::Variant(toBusTime(info_.startedAt))},
            {"bus", sdbus::Variant(info_.bus)},
            {"instance_id", sdbus::Variant(services_.cluster.self().instanceId)},
        };
        // The daemons sharing the database, this one included, and when each last beat.
        std::vector<VariantMap> daemons;
        for (const auto& d : services_.cluster.daemons()) {
            VariantMap m{{"instance_id", sdbus::Variant(d.instanceId)},
                         {"host", sdbus::Variant(d.host)},
                         {"pid", sdbus::Variant(static_cast<std::uint64_t>(d.pid))},
                         {"started_at", sdbus::Variant(toBusTime(d.startedAt))},
                         {"last_seen", sdbus::Variant(toBusTime(d.lastSeen))},
                         {"this", sdbus::Variant(d.instanceId == services_.cluster.self().instanceId)}};
            if (!d.takenOverBy.empty()) {
                m["taken_over_by"] = sdbus::Variant(d.takenOverBy);
                if (d.takenOverAt) m["taken_over_at"] = sdbus::Variant(toBusTime(*d.takenOverAt));
            }
            daemons.push_back(std::move(m));
        }
        status["daemons"] = sdbus::Variant(daemons);
        if (const auto fetch = services_.bounces.lastFetch()) {
            status["last_bounce_fetch_at"] = sdbus::Variant(toBusTime(fetch->finishedAt));
            status["last_bounce_fetch_status"] = sdbus::Variant(fetch->sourceStatus);
            status["last_bounce_fetch_error"] = sdbus::Variant(fetch->error);
            status["last_bounce_fetch_fetched"] = sdbus::Variant(static_cast<std::uint64_t>(fetch->fetched));
            status["last_bounce_fetch_recorded"] = sdbus::Variant(static_cast<std::uint64_t>(fetch->recorded));
        }
        return status;
    });
}

std::vector<std::map<std::string, sdbus::Variant>> ManagerObject::ListPlugins() {
    return guarded("ListPlugins", [&] {
        std::vector<VariantMap> out;
        for (const auto& p : services_.plugins.plugins()) out.push_back(toVariantMap(p));
        return out;
    });
}

std::map<std::string, sdbus::Variant> ManagerObject::GetDashboard() {
    return guarded("GetDashboard", [&] { return toVariantMap(services_.campaigns.dashboard()); });
}

std::map<std::string, sdbus::Variant> ManagerObject::GetAccess() {
    return guarded("GetAccess", [&] {
        const auto g = services_.access.grants(getObject().getCurrentlyProcessedMessage());
        return VariantMap{{"uid", sdbus::Variant(static_cast<std::uint64_t>(g.uid))},
                          {"may_change", sdbus::Variant(g.change)},
                          {"may_read_personal", sdbus::Variant(g.personal)},
                          {"admin_group", sdbus::Variant(services_.access.adminGroup())},
                          {"reader_group", sdbus::Variant(services_.access.readerGroup())}};
    });
}

// Open to every caller (api_access.h), as GetDashboard is: it carries counts, campaign ids and
// configuration names, nothing personal, and campaignd-metrics.socket serves the same text to
// whoever can connect to 127.0.0.1:9525, i.e. any local user; refusing the bus call would hide
// nothing. The pending recipients per campaign come from the kept counters at the call.
std::string ManagerObject::GetMetrics() {
    return guarded("GetMetrics", [&] {
        metrics::GaugeFamily pending{"campaignd_campaign_recipients_pending",
                                     "Recipients still to be sent of each in-progress or paused campaign "
                                     "(pending and in flight), by campaign id and status",
                                     {}};
        for (const CampaignStatus status : {CampaignStatus::InProgress, CampaignStatus::Paused}) {
            for (const Campaign& c : services_.campaigns.list(status)) {
                pending.samples.push_back({{{"campaign_id", std::to_string(c.id)},
                                            {"status", std::string(toString(c.status))}},
                                           static_cast<double>(c.pendingCount + c.inFlightCount)});
            }
        }
        return metrics::exposition({pending});
    });
}

std::vector<std::map<std::string, sdbus::Variant>> ManagerObject::DnsRecords(const std::string& domain) {
    return guarded("DnsRecords", [&] {
        std::vector<VariantMap> out;
        for (const auto& r : services::dnsRecords(services_.dns, services_.dkim, domain)) out.push_back(toVariantMap(r));
        return out;
    });
}

std::tuple<std::string, std::vector<sdbus::Struct<std::string, uint64_t>>> ManagerObject::SanitizeHtml(
    const std::string& html) {
    return guarded("SanitizeHtml", [&] {
        rules::SanitizedHtml result = rules::sanitizeHtmlReporting(html);
        std::vector<sdbus::Struct<std::string, uint64_t>> removed;
        for (auto& r : result.removed) removed.emplace_back(std::move(r.what), static_cast<uint64_t>(r.count));
        return std::make_tuple(std::move(result.html), std::move(removed));
    });
}

std::tuple<uint64_t, sdbus::ObjectPath> ManagerObject::CreateCampaign(const std::map<std::string, sdbus::Variant>& fields) {
    return guarded("CreateCampaign", [&] {
        const auto c = services_.campaigns.create(readCampaignFields(fields, "CreateCampaign fields", true));
        return std::tuple<uint64_t, sdbus::ObjectPath>(static_cast<uint64_t>(c.id),
                                                       sdbus::ObjectPath(campaignPath(c.id)));
    });
}

std::tuple<uint64_t, sdbus::ObjectPath, std::map<std::string, sdbus::Variant>> ManagerObject::CreateCampaignEx(
    const std::map<std::string, sdbus::Variant>& fields, const uint64_t& flags) {
    return guarded("CreateCampaignEx", [&] {
        if (flags != 0) throw Error(ErrorCode::InvalidArgument, "CreateCampaignEx: flags must be 0");
        const auto c = services_.campaigns.create(readCampaignFields(fields, "CreateCampaignEx fields", true));
        return std::tuple<uint64_t, sdbus::ObjectPath, std::map<std::string, sdbus::Variant>>(
            static_cast<uint64_t>(c.id), sdbus::ObjectPath(campaignPath(c.id)), withAlignment(c, services_.campaigns));
    });
}

std::vector<std::map<std::string, sdbus::Variant>> ManagerObject::ListCampaigns(const std::map<std::string, sdbus::Variant>& filter) {
    return guarded("ListCampaigns", [&] {
        FieldReader r(filter, "ListCampaigns filter");
        std::optional<CampaignStatus> status;
        if (const auto s = r.string("status")) {
            status = parseCampaignStatus(*s);
            if (!status)
                throw Error(ErrorCode::InvalidArgument,
                            "ListCampaigns: unknown status \"" + *s +
                                "\" (draft, scheduled, in_progress, paused, completed, cancelled)");
        }
        r.finish();
        return mapAll(services_.campaigns.list(status), [](const Campaign& c) { return toVariantMap(c, false); });
    });
}

sdbus::ObjectPath ManagerObject::GetCampaign(const uint64_t& id) {
    return guarded("GetCampaign", [&] {
        if (id == 0 || id > static_cast<uint64_t>(INT64_MAX) || !campaigns_.count(static_cast<campaignd::Id>(id)))
            throw Error(ErrorCode::NotFound, "no campaign with id " + std::to_string(id));
        return sdbus::ObjectPath(campaignPath(static_cast<campaignd::Id>(id)));
    });
}

std::vector<uint64_t> ManagerObject::RunScheduled() {
    return guarded("RunScheduled", [&] {
        std::vector<uint64_t> out;
        for (const auto id : services_.sending.runScheduled().started) out.push_back(static_cast<uint64_t>(id));
        return out;
    });
}

std::tuple<std::vector<uint64_t>, std::vector<sdbus::Struct<uint64_t, std::string>>> ManagerObject::RunScheduledEx(
    const uint64_t& flags) {
    return guarded("RunScheduledEx", [&] {
        if (flags != 0) throw Error(ErrorCode::InvalidArgument, "RunScheduledEx: unknown flags " + std::to_string(flags));
        const auto run = services_.sending.runScheduled();
        std::vector<uint64_t> started(run.started.begin(), run.started.end());
        std::vector<sdbus::Struct<uint64_t, std::string>> notStarted;
        for (const auto& [id, why] : run.notStarted) notStarted.emplace_back(static_cast<uint64_t>(id), why);
        return std::tuple{std::move(started), std::move(notStarted)};
    });
}

std::map<std::string, sdbus::Variant> ManagerObject::AddRecipient(const std::string& email, const std::map<std::string, sdbus::Variant>& fields) {
    return guarded("AddRecipient", [&] {
        FieldReader r(fields, "AddRecipient fields");
        services::RecipientFields f;
        f.name = r.string("name");
        const auto groups = r.strings("groups").value_or(std::vector<std::string>{});
        r.finish();
        return toVariantMap(services_.recipients.add(email, f, groups));
    });
}

std::map<std::string, sdbus::Variant> ManagerObject::GetRecipient(const std::string& email) {
    return guarded("GetRecipient", [&] { return toVariantMap(services_.recipients.get(email)); });
}

std::map<std::string, sdbus::Variant> ManagerObject::GetRecipientHistory(const std::string& email) {
    return guarded("GetRecipientHistory", [&] {
        const Recipient r = services_.recipients.get(email);
        const RecipientHistory h = services_.campaigns.recipientHistory(r.id);
        const auto campaigns = mapAll(h.campaigns, [](const RecipientCampaignEntry& e) {
            return VariantMap{{"campaign_id", sdbus::Variant(static_cast<std::uint64_t>(e.campaignId))},
                              {"campaign_name", sdbus::Variant(e.campaignName)},
                              {"status", sdbus::Variant(e.status)},
                              {"outcome_at", sdbus::Variant(static_cast<std::uint64_t>(std::max<Usec>(0, e.outcomeAt)))},
                              {"reason", sdbus::Variant(e.reason)},
                              {"attempts", sdbus::Variant(static_cast<std::uint64_t>(std::max<std::int64_t>(0, e.attempts)))},
                              {"message_id", sdbus::Variant(e.messageId)}};
        });
        const auto unsubscribes = mapAll(h.unsubscribes, [](const UnsubscribeRecord& u) {
            return VariantMap{{"campaign_id", sdbus::Variant(static_cast<std::uint64_t>(u.campaignId.value_or(0)))},
                              {"source", sdbus::Variant(std::string(toString(u.source)))},
                              {"unsubscribed_at", sdbus::Variant(static_cast<std::uint64_t>(std::max<Usec>(0, u.at)))}};
        });
        return VariantMap{{"campaigns", sdbus::Variant(campaigns)},
                          {"bounces", sdbus::Variant(mapAll(h.bounces, [](const BounceRecord& b) { return toVariantMap(b); }))},
                          {"unsubscribes", sdbus::Variant(unsubscribes)}};
    });
}

namespace {

// ListRecipients' and ListRecipientsEx's filter (`method` names the call in errors).
storage::RecipientFilter recipientFilter(const std::map<std::string, sdbus::Variant>& filter, const std::string& method) {
    FieldReader r(filter, method + " filter");
    storage::RecipientFilter f;
    f.group = r.string("group");
    f.status = r.subscriptionStatus("status", method);
    f.search = r.string("search");
    const auto page = r.page(kMaxRecipientsPerCall, method);
    f.limit = page.limit;
    f.offset = page.offset;
    r.finish();
    return f;
}

}  // namespace

std::vector<std::map<std::string, sdbus::Variant>> ManagerObject::ListRecipients(const std::map<std::string, sdbus::Variant>& filter) {
    return guarded("ListRecipients", [&] {
        return mapAll(services_.recipients.list(recipientFilter(filter, "ListRecipients")),
                      [](const Recipient& x) { return toVariantMap(x); });
    });
}

std::tuple<std::vector<std::map<std::string, sdbus::Variant>>, uint64_t> ManagerObject::ListRecipientsEx(
    const std::map<std::string, sdbus::Variant>& filter) {
    return guarded("ListRecipientsEx", [&] {
        const auto page = services_.recipients.listPage(recipientFilter(filter, "ListRecipientsEx"));
        return std::tuple{mapAll(page.recipients, [](const Recipient& x) { return toVariantMap(x); }),
                          static_cast<uint64_t>(std::max<std::int64_t>(0, page.total))};
    });
}

std::map<std::string, sdbus::Variant> ManagerObject::UpdateRecipient(const std::string& email, const std::map<std::string, sdbus::Variant>& fields) {
    return guarded("UpdateRecipient", [&] {
        FieldReader r(fields, "UpdateRecipient fields");
        services::RecipientFields f;
        f.name = r.string("name");
        f.status = r.subscriptionStatus("status", "UpdateRecipient");
        r.finish();
        return toVariantMap(services_.recipients.update(email, f));
    });
}

void ManagerObject::DeleteRecipient(const std::string& email) {
    guarded("DeleteRecipient", [&] {
        services_.recipients.remove(email);
    });
}

std::tuple<bool, std::map<std::string, sdbus::Variant>> ManagerObject::UnsubscribeRecipient(
    const std::string& email, const std::map<std::string, sdbus::Variant>& options) {
    return guarded("UnsubscribeRecipient", [&] {
        requireAdmin("UnsubscribeRecipient");
        FieldReader r(options, "UnsubscribeRecipient options");
        std::optional<campaignd::Id> campaign;
        if (const auto id = r.uint64("campaign_id"); id && *id != 0) {
            if (*id > static_cast<std::uint64_t>(INT64_MAX))
                throw Error(ErrorCode::InvalidArgument, "UnsubscribeRecipient: campaign_id is out of range");
            campaign = static_cast<campaignd::Id>(*id);
        }
        r.finish();
        Recipient recipient;
        const auto outcome =
            services_.recipients.unsubscribe(email, campaign, UnsubscribeSource::Administrator, &recipient);
        return std::tuple<bool, VariantMap>(outcome.changed, toVariantMap(recipient));
    });
}

std::map<std::string, sdbus::Variant> ManagerObject::DeleteRecipientEx(
    const std::string& email, const std::map<std::string, sdbus::Variant>& options) {
    return guarded("DeleteRecipientEx", [&] {
        requireAdmin("DeleteRecipientEx");
        FieldReader r(options, "DeleteRecipientEx options");
        const bool forget = r.boolean("forget").value_or(false);
        r.finish();
        const auto outcome = services_.recipients.remove(email, forget);
        auto n = [](std::int64_t v) { return sdbus::Variant(static_cast<std::uint64_t>(v > 0 ? v : 0)); };
        return VariantMap{
            {"deleted", sdbus::Variant(outcome.recipientDeleted)},
            {"suppressed", sdbus::Variant(outcome.suppression.has_value())},
            {"suppression_reason", sdbus::Variant(outcome.suppression ? outcome.suppression->reason : std::string())},
            {"suppressed_at", sdbus::Variant(toBusTime(outcome.suppression ? outcome.suppression->since : 0))},
            {"ledger_rows_erased", n(outcome.erased.ledgerRows)},
            {"bounce_records_erased", n(outcome.erased.bounceRecords)},
        };
    });
}

std::vector<std::map<std::string, sdbus::Variant>> ManagerObject::ListSuppressions(
    const std::map<std::string, sdbus::Variant>& filter) {
    return guarded("ListSuppressions", [&] {
        FieldReader r(filter, "ListSuppressions filter");
        const auto page = r.page(kMaxRecipientsPerCall, "ListSuppressions");
        r.finish();
        return mapAll(services_.recipients.listSuppressions(page.limit, page.offset),
                      [](const SuppressionEntry& e) { return toVariantMap(e); });
    });
}

std::tuple<bool, std::map<std::string, sdbus::Variant>> ManagerObject::AddSuppression(const std::string& email) {
    return guarded("AddSuppression", [&] {
        requireAdmin("AddSuppression");
        const auto [entry, added] = services_.recipients.addSuppression(email);
        return std::tuple<bool, VariantMap>(added, toVariantMap(entry));
    });
}

bool ManagerObject::RemoveSuppression(const std::string& addressOrHash) {
    return guarded("RemoveSuppression", [&] {
        requireAdmin("RemoveSuppression");
        return services_.recipients.removeSuppression(addressOrHash);
    });
}

std::map<std::string, sdbus::Variant> ManagerObject::ImportSuppressions(const std::vector<std::string>& entries) {
    return guarded("ImportSuppressions", [&] {
        requireAdmin("ImportSuppressions");
        if (entries.size() > kMaxRecipientsPerCall)
            throw Error(ErrorCode::InvalidArgument, "ImportSuppressions: at most " +
                                                        std::to_string(kMaxRecipientsPerCall) + " entries per call");
        const auto result = services_.recipients.importSuppressions(entries);
        std::vector<sdbus::Struct<std::uint64_t, std::string>> invalid;
        for (const auto& [index, why] : result.invalid) invalid.emplace_back(static_cast<std::uint64_t>(index), why);
        return VariantMap{
            {"added", sdbus::Variant(static_cast<std::uint64_t>(result.added))},
            {"already_listed", sdbus::Variant(static_cast<std::uint64_t>(result.alreadyListed))},
            {"invalid", sdbus::Variant(invalid)},
        };
    });
}

std::map<std::string, sdbus::Variant> ManagerObject::CreateGroup(const std::string& name) {
    return guarded("CreateGroup", [&] {
        return toVariantMap(services_.recipients.createGroup(name));
    });
}

std::vector<std::map<std::string, sdbus::Variant>> ManagerObject::ListGroups() {
    return guarded("ListGroups", [&] {
        return mapAll(services_.recipients.listGroups(), [](const Group& g) { return toVariantMap(g); });
    });
}

void ManagerObject::DeleteGroup(const std::string& name) {
    guarded("DeleteGroup", [&] {
        services_.recipients.deleteGroup(name);
    });
}

uint64_t ManagerObject::AddGroupMembers(const std::string& name, const std::vector<std::string>& emails) {
    return guarded("AddGroupMembers", [&] {
        return static_cast<uint64_t>(services_.recipients.addToGroup(name, emails));
    });
}

uint64_t ManagerObject::RemoveGroupMembers(const std::string& name, const std::vector<std::string>& emails) {
    return guarded("RemoveGroupMembers", [&] {
        return static_cast<uint64_t>(services_.recipients.removeFromGroup(name, emails));
    });
}

// ImportRecipients, GetImport, CancelImport, GetJob, CancelJob and the bounce methods: see
// manager_jobs.cpp.

}  // namespace campaignd::bus

// variant_map.cpp: see variant_map.h.
#include "bus/variant_map.h"

#include <fcntl.h>

#include <algorithm>

#include <sdbus-c++/Types.h>

#include "core/error.h"

namespace campaignd::bus {

FieldReader::FieldReader(const VariantMap& fields, std::string what)
    : fields_(fields), what_(std::move(what)) {}

const sdbus::Variant* FieldReader::take(const std::string& key, const char* signature) {
    const auto it = fields_.find(key);
    if (it == fields_.end()) return nullptr;
    read_.insert(key);
    if (it->second.peekValueType() != signature)
        throw Error(ErrorCode::InvalidArgument, what_ + ": \"" + key + "\" must have type '" +
                                                    signature + "', not '" +
                                                    it->second.peekValueType() + "'");
    return &it->second;
}

std::optional<std::string> FieldReader::string(const std::string& key) {
    if (const auto* v = take(key, "s")) return v->get<std::string>();
    return std::nullopt;
}

std::optional<std::uint64_t> FieldReader::uint64(const std::string& key) {
    if (const auto* v = take(key, "t")) return v->get<std::uint64_t>();
    return std::nullopt;
}

FieldReader::Page FieldReader::page(std::uint64_t most, const std::string& method) {
    Page p;
    const auto limit = uint64("limit").value_or(most);
    if (limit > most)
        throw Error(ErrorCode::InvalidArgument, method + ": limit " + std::to_string(limit) + " is more than " +
                                                    std::to_string(most) + " per call; page with offset");
    p.limit = static_cast<std::int64_t>(limit);
    if (const auto offset = uint64("offset")) p.offset = static_cast<std::int64_t>(std::min<std::uint64_t>(*offset, INT64_MAX));
    return p;
}

std::optional<SubscriptionStatus> FieldReader::subscriptionStatus(const std::string& key, const std::string& method) {
    const auto word = string(key);
    if (!word) return std::nullopt;
    if (const auto status = parseSubscriptionStatus(*word)) return status;
    throw Error(ErrorCode::InvalidArgument,
                method + ": unknown " + key + " \"" + *word + "\" (subscribed, unsubscribed, bounced)");
}

std::optional<std::vector<std::string>> FieldReader::strings(const std::string& key) {
    if (const auto* v = take(key, "as")) return v->get<std::vector<std::string>>();
    return std::nullopt;
}

std::optional<bool> FieldReader::boolean(const std::string& key) {
    if (const auto* v = take(key, "b")) return v->get<bool>();
    return std::nullopt;
}

std::optional<int> FieldReader::fd(const std::string& key) {
    const auto* v = take(key, "h");
    if (!v) return std::nullopt;
    const int fd = ::fcntl(v->get<sdbus::UnixFd>().get(), F_DUPFD_CLOEXEC, 3);
    if (fd < 0) throw Error(ErrorCode::Failed, what_ + ": cannot take the descriptor \"" + key + "\"");
    return fd;
}

void FieldReader::finish() const {
    for (const auto& [key, value] : fields_) {
        if (!read_.count(key))
            throw Error(ErrorCode::InvalidArgument, what_ + ": unknown key \"" + key + "\"");
    }
}

std::uint64_t toBusTime(std::optional<Usec> t) { return t ? toBusTime(*t) : 0; }
std::uint64_t toBusTime(Usec t) { return t > 0 ? static_cast<std::uint64_t>(t) : 0; }

namespace {
std::uint64_t count(std::int64_t n) { return n > 0 ? static_cast<std::uint64_t>(n) : 0; }
}  // namespace

VariantMap toVariantMap(const Campaign& c, bool withContent) {
    VariantMap m{
        {"id", sdbus::Variant(static_cast<std::uint64_t>(c.id))},
        {"name", sdbus::Variant(c.name)},
        {"subject", sdbus::Variant(c.subject)},
        {"from_address", sdbus::Variant(c.fromAddress)},
        {"status", sdbus::Variant(std::string(toString(c.status)))},
        {"status_reason", sdbus::Variant(c.statusReason)},
        {"bounce_guard", sdbus::Variant(std::string(toString(c.guard)))},
        {"scheduled_time", sdbus::Variant(toBusTime(c.scheduledTime))},
        {"created_at", sdbus::Variant(toBusTime(c.createdAt))},
        {"updated_at", sdbus::Variant(toBusTime(c.updatedAt))},
        {"recipient_count", sdbus::Variant(count(c.recipientCount))},
        {"sent_count", sdbus::Variant(count(c.sentCount))},
        {"failed_count", sdbus::Variant(count(c.failedCount))},
        {"pending_count", sdbus::Variant(count(c.pendingCount))},
        {"unknown_count", sdbus::Variant(count(c.unknownCount))},
        {"skipped_count", sdbus::Variant(count(c.skippedCount))},
        {"in_flight_count", sdbus::Variant(count(c.inFlightCount))},
        {"transport", sdbus::Variant(c.transport)},
        {"subject_tag", sdbus::Variant(c.subjectTag)},
    };
    if (withContent) {
        m.emplace("html_content", sdbus::Variant(c.htmlContent));
        m.emplace("text_content", sdbus::Variant(c.textContent));
    }
    return m;
}

VariantMap toVariantMap(const Recipient& r) {
    VariantMap m{
        {"id", sdbus::Variant(static_cast<std::uint64_t>(r.id))},
        {"email", sdbus::Variant(r.email)},
        {"name", sdbus::Variant(r.name)},
        {"status", sdbus::Variant(std::string(toString(r.status)))},
        {"created_at", sdbus::Variant(toBusTime(r.createdAt))},
        {"groups", sdbus::Variant(r.groups)},
    };
    if (r.unsubscribe) {
        m["unsubscribed_at"] = sdbus::Variant(toBusTime(r.unsubscribe->at));
        m["unsubscribe_source"] = sdbus::Variant(std::string(toString(r.unsubscribe->source)));
        m["unsubscribe_campaign_id"] = sdbus::Variant(static_cast<std::uint64_t>(r.unsubscribe->campaignId.value_or(0)));
    }
    return m;
}

VariantMap toVariantMap(const SuppressionEntry& e) {
    return {
        {"hash", sdbus::Variant(e.addressHash)},
        {"reason", sdbus::Variant(e.reason)},
        {"suppressed_at", sdbus::Variant(toBusTime(e.since))},
        {"email", sdbus::Variant(e.email)},
    };
}

VariantMap toVariantMap(const Group& g) {
    return {
        {"id", sdbus::Variant(static_cast<std::uint64_t>(g.id))},
        {"name", sdbus::Variant(g.name)},
        {"created_at", sdbus::Variant(toBusTime(g.createdAt))},
        {"member_count", sdbus::Variant(count(g.memberCount))},
    };
}

namespace {
// The sending guard's figures of each campaign, as GetSummary has them.
std::vector<VariantMap> guardRates(const std::vector<CampaignRates>& rates) {
    std::vector<VariantMap> out;
    for (const auto& r : rates)
        out.push_back({{"id", sdbus::Variant(static_cast<std::uint64_t>(r.campaignId))},
                       {"name", sdbus::Variant(r.name)},
                       {"status", sdbus::Variant(std::string(toString(r.status)))},
                       {"bounce_guard", sdbus::Variant(std::string(toString(r.guard)))},
                       {"attempts", sdbus::Variant(count(r.attempts))},
                       {"delivered", sdbus::Variant(count(r.delivered))},
                       {"hard_bounces", sdbus::Variant(count(r.hardBounces))},
                       {"complaints", sdbus::Variant(count(r.complaints))}});
    return out;
}
}  // namespace

namespace {
// Reason and count pairs as a(st).
std::vector<sdbus::Struct<std::string, std::uint64_t>> reasonCounts(const std::vector<std::pair<std::string, std::int64_t>>& in) {
    std::vector<sdbus::Struct<std::string, std::uint64_t>> out;
    for (const auto& [reason, n] : in) out.emplace_back(reason, count(n));
    return out;
}

// Minutes as a(ttttt): the minute's start (microseconds since the epoch), sent, failed,
// unknown, deferred.
std::vector<sdbus::Struct<std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t>> minutes(
    const std::vector<MinuteActivity>& in) {
    std::vector<sdbus::Struct<std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t>> out;
    for (const MinuteActivity& m : in)
        out.emplace_back(count(m.minuteStart), count(m.sent), count(m.failed), count(m.unknown), count(m.deferred));
    return out;
}
}  // namespace

VariantMap toVariantMap(const Dashboard& d) {
    std::map<std::string, std::uint64_t> byStatus;
    for (const auto& [status, n] : d.campaignsByStatus) byStatus[std::string(toString(status))] = count(n);
    return {
        {"total_recipients", sdbus::Variant(count(d.totalRecipients))},
        {"subscribed_recipients", sdbus::Variant(count(d.subscribedRecipients))},
        {"total_campaigns", sdbus::Variant(count(d.totalCampaigns))},
        {"total_groups", sdbus::Variant(count(d.totalGroups))},
        {"sent", sdbus::Variant(count(d.sent))},
        {"failed", sdbus::Variant(count(d.failed))},
        {"pending", sdbus::Variant(count(d.pending))},
        {"unknown", sdbus::Variant(count(d.unknown))},
        {"skipped", sdbus::Variant(count(d.skipped))},
        {"in_flight", sdbus::Variant(count(d.inFlight))},
        {"campaigns_by_status", sdbus::Variant(byStatus)},
        {"unsubscribes", sdbus::Variant(count(d.unsubscribes))},
        {"unsubscribes_30d", sdbus::Variant(count(d.unsubscribesRecent))},
        {"suppressed", sdbus::Variant(count(d.suppressed))},
        {"guard_rates", sdbus::Variant(guardRates(d.rates))},
        {"bounces_by_reason", sdbus::Variant(reasonCounts(d.bouncesByReason))},
        {"per_minute", sdbus::Variant(minutes(d.perMinute))},
    };
}

VariantMap toVariantMap(const CampaignSummary& s) {
    return {
        {"campaign_id", sdbus::Variant(static_cast<std::uint64_t>(s.campaignId))},
        {"total", sdbus::Variant(count(s.total))},
        {"sent", sdbus::Variant(count(s.sent))},
        {"failed", sdbus::Variant(count(s.failed))},
        {"pending", sdbus::Variant(count(s.pending))},
        {"unknown", sdbus::Variant(count(s.unknown))},
        {"skipped", sdbus::Variant(count(s.skipped))},
        {"in_flight", sdbus::Variant(count(s.inFlight))},
        {"success_percent", sdbus::Variant(s.successPercent)},
        {"failure_reasons", sdbus::Variant(reasonCounts(s.failureReasons))},
        {"bounces", sdbus::Variant(count(s.bounces))},
        {"bounces_by_reason", sdbus::Variant(reasonCounts(s.bouncesByReason))},
        {"unsubscribes", sdbus::Variant(count(s.unsubscribes))},
        {"unsubscribe_percent", sdbus::Variant(s.unsubscribePercent)},
        {"bounce_guard", sdbus::Variant(std::string(toString(s.rates.guard)))},
        {"attempts", sdbus::Variant(count(s.rates.attempts))},
        {"delivered", sdbus::Variant(count(s.rates.delivered))},
        {"hard_bounces", sdbus::Variant(count(s.rates.hardBounces))},
        {"complaints", sdbus::Variant(count(s.rates.complaints))},
    };
}

VariantMap toVariantMap(const BounceRecord& b) {
    return {
        {"id", sdbus::Variant(static_cast<std::uint64_t>(b.id))},
        {"campaign_id", sdbus::Variant(static_cast<std::uint64_t>(b.campaignId.value_or(0)))},
        {"recipient", sdbus::Variant(b.recipientEmail)},
        {"status", sdbus::Variant(b.statusCode)},
        {"reason", sdbus::Variant(b.reason)},
        {"hard", sdbus::Variant(b.hard)},
        {"action", sdbus::Variant(b.action)},
        {"diagnostic", sdbus::Variant(b.diagnostic)},
        {"remote_mta", sdbus::Variant(b.remoteMta)},
        {"message_id", sdbus::Variant(b.messageId)},
        {"source", sdbus::Variant(b.source)},
        {"processed_at", sdbus::Variant(toBusTime(b.processedAt))},
        {"matched_by", sdbus::Variant(b.matchedBy)},
        {"acted", sdbus::Variant(b.acted)},
        {"same_as", sdbus::Variant(static_cast<std::uint64_t>(b.sameAs.value_or(0)))},
    };
}

VariantMap toVariantMap(const CampaignRecipient& r) {
    return {
        {"email", sdbus::Variant(r.email)},
        {"name", sdbus::Variant(r.name)},
        {"status", sdbus::Variant(std::string(toString(r.state)))},
        {"reply", sdbus::Variant(r.reply)},
        {"outcome_at", sdbus::Variant(toBusTime(r.at))},
        {"attempts", sdbus::Variant(static_cast<std::uint64_t>(std::max<std::int64_t>(r.attempts, 0)))},
    };
}

VariantMap toVariantMap(const plugins::PluginInfo& p) {
    return {
        {"name", sdbus::Variant(p.name)},
        {"file", sdbus::Variant(p.path.string())},
        {"version", sdbus::Variant(p.version)},
        {"description", sdbus::Variant(p.description)},
        {"state", sdbus::Variant(std::string(plugins::toString(p.state)))},
        {"error", sdbus::Variant(p.error)},
        {"capabilities", sdbus::Variant(p.capabilities)},
    };
}

VariantMap toVariantMap(const services::DnsRecord& r) {
    VariantMap m{
        {"domain", sdbus::Variant(r.domain)},
        {"purpose", sdbus::Variant(r.purpose)},
        {"name", sdbus::Variant(r.name)},
        {"type", sdbus::Variant(r.type)},
        {"value", sdbus::Variant(r.value)},
        {"strings", sdbus::Variant(r.strings)},
        {"comment", sdbus::Variant(r.comment)},
        {"envelope_domain", sdbus::Variant(r.envelopeDomain)},
    };
    if (r.purpose == "dkim") {
        m["selector"] = sdbus::Variant(r.selector);
        m["algorithm"] = sdbus::Variant(r.algorithm);
        m["public_key"] = sdbus::Variant(r.publicKey);
    }
    if (r.purpose == "spf") m["relays"] = sdbus::Variant(r.relays);
    return m;
}

}  // namespace campaignd::bus

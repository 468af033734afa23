// variant_map.h: entities and options as a{sv}, the bus API's one way to carry records.
// FieldReader reads caller-supplied fields with type checks and refuses unknown keys (so a
// typo is an InvalidArgument, not a silently ignored option); the to*Map functions are the
// one place that decides the keys each entity has on the bus (snake_case, as in JSON).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <sdbus-c++/Types.h>

#include "core/model.h"
#include "plugin-host/plugin_host.h"
#include "services/dns_records.h"

namespace campaignd::bus {

using VariantMap = std::map<std::string, sdbus::Variant>;

class FieldReader {
public:
    // `what` names the argument in errors ("CreateCampaign fields").
    FieldReader(const VariantMap& fields, std::string what);

    std::optional<std::string> string(const std::string& key);
    std::optional<std::uint64_t> uint64(const std::string& key);
    std::optional<std::vector<std::string>> strings(const std::string& key);
    std::optional<bool> boolean(const std::string& key);
    // A descriptor passed as 'h', duplicated (close-on-exec) so the caller owns it.
    std::optional<int> fd(const std::string& key);
    // A page of a listing: "limit" (default and at most `most`; more is refused, naming `method`)
    // and "offset" (0 when not given; clamped to the int64 range).
    struct Page {
        std::int64_t limit = 0;
        std::int64_t offset = 0;
    };
    Page page(std::uint64_t most, const std::string& method);
    // A subscription status word (subscribed, unsubscribed, bounced); another is refused,
    // naming `method`.
    std::optional<SubscriptionStatus> subscriptionStatus(const std::string& key, const std::string& method);
    // Throws Error(InvalidArgument) naming the first key that was not read.
    void finish() const;

private:
    const sdbus::Variant* take(const std::string& key, const char* signature);

    const VariantMap& fields_;
    std::string what_;
    std::set<std::string> read_;
};

// Microseconds on the bus are unsigned; campaignd's are signed with "none" as absent.
std::uint64_t toBusTime(std::optional<Usec> t);
std::uint64_t toBusTime(Usec t);

VariantMap toVariantMap(const Campaign& c, bool withContent);
// With unsubscribed_at, unsubscribe_source and unsubscribe_campaign_id when r.unsubscribe is set.
VariantMap toVariantMap(const Recipient& r);
VariantMap toVariantMap(const SuppressionEntry& e);  // hash, reason, suppressed_at, email
VariantMap toVariantMap(const Group& g);
VariantMap toVariantMap(const Dashboard& d);
VariantMap toVariantMap(const CampaignSummary& s);
VariantMap toVariantMap(const BounceRecord& b);
VariantMap toVariantMap(const CampaignRecipient& r);
// One plugin file as ListPlugins shows it: name, file, version, description, state, error,
// capabilities.
VariantMap toVariantMap(const plugins::PluginInfo& p);
// One record as DnsRecords returns it (see the XML): the dkim and spf keys only for those.
VariantMap toVariantMap(const services::DnsRecord& r);

}  // namespace campaignd::bus

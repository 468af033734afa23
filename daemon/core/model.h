// model.h: campaignd's domain types, as the storage, the services and the bus share them.
// Plain values only: no behaviour beyond naming the states. Times are microseconds since the
// Unix epoch (UTC), the unit the bus API uses; ids are the database's positive integers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace campaignd {

using Id = std::int64_t;
using Usec = std::int64_t;

enum class CampaignStatus { Draft, Scheduled, InProgress, Paused, Completed, Cancelled };
enum class SubscriptionStatus { Subscribed, Unsubscribed };
// One send-ledger row's state (storage/store.h has the transitions):
//   pending      not yet claimed, or deferred for a retry (next_attempt_at);
//   sending      claimed by a sender, not handed to a transport yet (safe to send again);
//   handed_over  given to the transport, outcome not recorded yet (never send again);
//   sent, failed final outcomes from the transport (failed also for render errors);
//   unknown      was handed_over when its sender died: the server may have it, never resent;
//   skipped      not sent on purpose: unsubscribed or deleted at send time, or cancelled.
enum class DeliveryStatus { Pending, Sending, HandedOver, Sent, Failed, Unknown, Skipped };

// Tokens used on the bus, in JSON and in the database ("in_progress", "subscribed", ...).
std::string_view toString(CampaignStatus);
std::string_view toString(SubscriptionStatus);
std::string_view toString(DeliveryStatus);
// A person's label for a campaign status ("In Progress").
std::string_view displayName(CampaignStatus);
std::optional<CampaignStatus> parseCampaignStatus(std::string_view token);
std::optional<SubscriptionStatus> parseSubscriptionStatus(std::string_view token);
std::optional<DeliveryStatus> parseDeliveryStatus(std::string_view token);

struct Campaign {
    Id id = 0;
    std::string name;
    std::string subject;
    std::string htmlContent;  // sanitised before it is stored
    std::string textContent;  // empty: derived from the HTML when sending
    std::string fromAddress;  // empty: the configured default sender
    std::string transport;    // a [Transport NAME] of the config; empty: the default transport
    bool subjectTag = true;   // prefix the subject with "[CID:<id>]"
    std::optional<Usec> scheduledTime;
    CampaignStatus status = CampaignStatus::Draft;
    std::string statusReason;
    Usec createdAt = 0;
    Usec updatedAt = 0;
    // Read-only, maintained by the storage from the send ledger. Every attached recipient is
    // in exactly one of them: recipientCount == sent + failed + unknown + skipped + pending +
    // inFlight. pendingCount is status pending only (deferred retries included); inFlight is
    // sending + handed_over (claimed by a sender right now).
    std::int64_t recipientCount = 0;
    std::int64_t sentCount = 0;
    std::int64_t failedCount = 0;
    std::int64_t pendingCount = 0;
    std::int64_t unknownCount = 0;
    std::int64_t skippedCount = 0;
    std::int64_t inFlightCount = 0;
};

struct Recipient {
    Id id = 0;
    std::string email;  // normalised: local part as given, domain in lower-case A-label form
    std::string name;
    SubscriptionStatus status = SubscriptionStatus::Subscribed;
    Usec createdAt = 0;
    std::vector<std::string> groups;  // names, sorted; filled by reads
};

struct Group {
    Id id = 0;
    std::string name;
    Usec createdAt = 0;
    std::int64_t memberCount = 0;
};

struct BounceRecord {
    Id id = 0;
    std::optional<Id> campaignId;
    std::string recipientEmail;
    std::string reason;
    std::string statusCode;
    Usec processedAt = 0;
};

struct Dashboard {
    std::int64_t totalRecipients = 0;
    std::int64_t subscribedRecipients = 0;
    std::int64_t totalCampaigns = 0;
    std::int64_t totalGroups = 0;
    std::int64_t sent = 0;
    std::int64_t failed = 0;
    std::int64_t pending = 0;
    std::int64_t unknown = 0;
    std::int64_t skipped = 0;
    std::int64_t inFlight = 0;  // sending + handed_over
    std::vector<std::pair<CampaignStatus, std::int64_t>> campaignsByStatus;
};

// The original design's campaign summary report.
struct CampaignSummary {
    Id campaignId = 0;
    std::int64_t total = 0;
    std::int64_t sent = 0;
    std::int64_t failed = 0;
    std::int64_t pending = 0;
    std::int64_t unknown = 0;
    std::int64_t skipped = 0;
    std::int64_t inFlight = 0;  // sending + handed_over; total is the sum of all six
    double successPercent = 0.0;  // sent / total * 100, 0 when total is 0
    std::vector<std::pair<std::string, std::int64_t>> failureReasons;  // most frequent first
};

}  // namespace campaignd

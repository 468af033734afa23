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
// Bounced: suppressed by bounce processing (a hard bounce, or SoftBounceLimit consecutive soft
// ones). Like unsubscribed, never attached to or sent by a campaign; an administrator can
// subscribe the recipient again.
enum class SubscriptionStatus { Subscribed, Unsubscribed, Bounced };
// One send-ledger row's state (storage/send_ledger.h has the transitions):
//   pending      not yet claimed, or deferred for a retry (next_attempt_at);
//   sending      claimed by a sender, not handed to a transport yet (safe to send again);
//   handed_over  given to the transport, outcome not recorded yet (never send again);
//   sent, failed final outcomes from the transport (failed also for render errors);
//   unknown      was handed_over when its sender died: the server may have it, never resent;
//   skipped      not sent on purpose: unsubscribed or deleted at send time, or cancelled.
enum class DeliveryStatus { Pending, Sending, HandedOver, Sent, Failed, Unknown, Skipped };
// A recipient's state in a campaign as people see it (the counts, `campaign recipients`): the
// ledger's states with sending and handed_over together as in_flight.
enum class SendState { Pending, InFlight, Sent, Failed, Unknown, Skipped };
// How an unsubscribe came about, recorded with it (tokens "one-click" (RFC 8058 POST), "page"
// (the unsubscribe page's button), "mailto" (a mail to UnsubscribeMailto=), "complaint" (an
// abuse report), "administrator" (campaignd-ctl / the bus), "import" (an import row saying
// unsubscribed that unsubscribed a stored recipient)).
enum class UnsubscribeSource { OneClick, Page, Mailto, Complaint, Administrator, Import };
// The sending guard's hold on a campaign (services/sending_guard.h): armed (watched while it
// sends), tripped (the guard paused it; only a forced resume sends again), off (resumed with
// --force: not watched again for the rest of the campaign).
enum class BounceGuard { Armed, Tripped, Off };

// Tokens used on the bus, in JSON and in the database ("in_progress", "subscribed", ...).
std::string_view toString(CampaignStatus);
std::string_view toString(SubscriptionStatus);
std::string_view toString(DeliveryStatus);
// A person's label for a campaign status ("In Progress").
std::string_view displayName(CampaignStatus);
std::optional<CampaignStatus> parseCampaignStatus(std::string_view token);
std::optional<SubscriptionStatus> parseSubscriptionStatus(std::string_view token);
std::optional<DeliveryStatus> parseDeliveryStatus(std::string_view token);
// "pending", "in_flight", "sent", "failed", "unknown", "skipped".
std::string_view toString(SendState);
std::optional<SendState> parseSendState(std::string_view token);
SendState sendStateOf(DeliveryStatus status);
std::string_view toString(UnsubscribeSource);
std::optional<UnsubscribeSource> parseUnsubscribeSource(std::string_view token);
// "armed", "tripped", "off".
std::string_view toString(BounceGuard);
std::optional<BounceGuard> parseBounceGuard(std::string_view token);

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
    BounceGuard guard = BounceGuard::Armed;  // written only by CampaignService::transition
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

// One recorded unsubscribe: when, how, and from which campaign (if one was named and still
// exists). It names no address: the recipient's id (empty once the recipient is deleted).
struct UnsubscribeRecord {
    Id id = 0;
    std::optional<Id> recipientId;
    std::optional<Id> campaignId;
    UnsubscribeSource source = UnsubscribeSource::Administrator;
    Usec at = 0;
};

// An entry of the suppression list: a keyed hash of an address that must never be subscribed
// again (mail/address_hash.h), why, and since when. It holds no readable address; `email` is
// filled by reads when a current recipient has the address (else "").
struct SuppressionEntry {
    std::string addressHash;  // 64 lower-case hex digits
    std::string reason;       // "unsubscribed", "bounced", "complaint", "administrator", "import"
    Usec since = 0;
    std::string email;
};

struct Recipient {
    Id id = 0;
    std::string email;  // normalised: local part as given, domain in lower-case A-label form
    std::string name;
    SubscriptionStatus status = SubscriptionStatus::Subscribed;
    Usec createdAt = 0;
    std::vector<std::string> groups;  // names, sorted; filled by reads
    // The latest recorded unsubscribe while the status is unsubscribed (filled by
    // RecipientService::get only; empty for one unsubscribed before records were kept).
    std::optional<UnsubscribeRecord> unsubscribe;
};

struct Group {
    Id id = 0;
    std::string name;
    Usec createdAt = 0;
    std::int64_t memberCount = 0;
};

// One delivery notice result (a bounce, a delay, a complaint, a 5xx at RCPT), as recorded.
// The same notice processed twice records once: (noticeKey, the address) is unique.
struct BounceRecord {
    Id id = 0;
    std::optional<Id> campaignId;   // empty when nothing matched it to a campaign
    std::optional<Id> recipientId;  // empty when the address is not a stored recipient
    std::string recipientEmail;     // the address the notice names
    std::string statusCode;         // enhanced status "5.1.1", or ""
    std::string reason;             // the bounce-reason vocabulary: "userunknown", ...
    bool hard = false;
    std::string action;             // "failed", "delayed", "complaint", "delivered", ...
    std::string diagnostic;         // the server's words
    std::string remoteMta;
    std::string messageId;          // the returned message's Message-ID, or ""
    std::string source;             // "imap", "ingest" or "smtp"
    std::string noticeKey;          // the notice's identity: "mid:<Message-ID>" or "sha256:<hex>"
    Usec processedAt = 0;
    // What tied it to its recipient: "verp", "message-id", "ledger", "header" or "".
    std::string matchedBy;
    // Whether it was allowed to change its recipient (a valid VERP token or the send ledger
    // matched it, or [Bounces] ActOnUnmatched=yes); false: recorded only, for a person to judge.
    bool acted = true;
    // The record this one repeats: a notice (a DSN) for a failure the sender already recorded
    // when the server refused the recipient at RCPT (source "smtp"), for the same campaign and
    // recipient. Such a record is kept for its detail, but counted and acted on only once.
    std::optional<Id> sameAs;
};

// One recipient of a campaign with its outcome: a send-ledger row as people read it.
struct CampaignRecipient {
    Id ledgerId = 0;
    std::string email;  // the address the row was attached with (and sent to)
    std::string name;   // the recipient's name now; "" if none, or the recipient was deleted
    SendState state = SendState::Pending;
    // Why it is in its state: failed, the server's final reply (or the render error); unknown
    // and skipped, what is known; pending and in_flight, the last deferral's reply if it was
    // tried before; "" for sent.
    std::string reply;
    // When it reached its state: sent, failed, unknown, skipped; pending after a deferral, when
    // it was deferred; in_flight, when it was claimed. Empty: never tried, or not recorded
    // (rows of a database older than schema version 6).
    std::optional<Usec> at;
    std::int64_t attempts = 0;  // transport attempts (deferrals included)
};

// One page of a campaign's recipients and how many match the filter in all.
struct CampaignRecipientPage {
    std::vector<CampaignRecipient> recipients;
    std::int64_t total = 0;
};

// A campaign's figures for the sending guard's two rates, as reports show them: hard bounces
// over attempts (sent + failed + unknown), complaints over delivered (sent). Hard bounces and
// complaints are the records allowed to act (see services/sending_guard.h).
struct CampaignRates {
    Id campaignId = 0;
    std::string name;
    CampaignStatus status = CampaignStatus::Draft;
    BounceGuard guard = BounceGuard::Armed;
    std::int64_t attempts = 0;
    std::int64_t delivered = 0;
    std::int64_t hardBounces = 0;
    std::int64_t complaints = 0;
};

// The ledger outcomes recorded in one minute, of every campaign (the dashboard's messages per
// minute). deferred: given back to pending for a later attempt (a 4xx, a broken connection).
struct MinuteActivity {
    Usec minuteStart = 0;  // the minute's first microsecond since the epoch
    std::int64_t sent = 0, failed = 0, unknown = 0, deferred = 0;
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
    std::int64_t unsubscribes = 0;        // recorded unsubscribes, all time
    std::int64_t unsubscribesRecent = 0;  // of them, in the last 30 days
    std::int64_t suppressed = 0;          // entries on the suppression list
    // The sending guard's rates of the campaigns sending or paused now, by id.
    std::vector<CampaignRates> rates;
    // Every campaign's bounces (failures and complaints) by reason, most frequent first.
    std::vector<std::pair<std::string, std::int64_t>> bouncesByReason;
    // The last 24 hours' outcomes per minute, oldest first; minutes without any left out.
    std::vector<MinuteActivity> perMinute;
};

// What became of one recipient: each campaign's ledger row for them, their bounce records and
// their recorded unsubscribes, newest first (GetRecipientHistory).
struct RecipientCampaignEntry {
    Id campaignId = 0;
    std::string campaignName;
    std::string status;      // the ledger's: pending, sending, handed_over, sent, failed, unknown, skipped
    Usec outcomeAt = 0;      // 0: no outcome yet
    std::string reason;      // the failure, or the last deferral or skip; "" when none
    std::int64_t attempts = 0;
    std::string messageId;
};
struct RecipientHistory {
    std::vector<RecipientCampaignEntry> campaigns;
    std::vector<BounceRecord> bounces;
    std::vector<UnsubscribeRecord> unsubscribes;
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
    // Bounce records of the campaign (failures and complaints; delays and success notices
    // not counted), by reason, most frequent first.
    std::int64_t bounces = 0;
    std::vector<std::pair<std::string, std::int64_t>> bouncesByReason;
    // Recorded unsubscribes attributed to this campaign, and their rate: unsubscribes / sent *
    // 100 (0 when nothing was sent).
    std::int64_t unsubscribes = 0;
    double unsubscribePercent = 0.0;
    // The sending guard's figures (CampaignRates: attempts, delivered, hard bounces and
    // complaints allowed to act) and its state.
    CampaignRates rates;
};

}  // namespace campaignd

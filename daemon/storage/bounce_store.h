// bounce_store.h: the bounces role of storage: bounce records (one per notice and address,
// never twice), the ledger row a notice's Message-ID points back to, and the suppression a
// bounce or complaint applies to its recipient. Promises each suppression change as one
// compare-and-set statement, safe against concurrent bounces for the same recipient. Errors
// as in store.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "storage/transactional.h"

namespace campaignd::storage {

inline constexpr std::int64_t kKeptBounceFetches = 100;

struct BounceFilter {
    std::optional<Id> campaign;
    std::optional<Id> recipient;  // a stored recipient's records
    std::optional<std::string> reason;  // a reason word ("userunknown")
    std::optional<std::int64_t> limit;
    std::int64_t offset = 0;
};

// A send-ledger row found by the Message-ID it was sent with.
struct LedgerMatch {
    Id ledgerId = 0;
    Id campaignId = 0;
    std::optional<Id> recipientId;  // empty if the recipient was deleted since
    std::string email;              // the address it was sent to
};

// What the sending guard counts of a campaign's bounce records: those allowed to act
// (acted), hard bounces and complaints.
struct CampaignBounceCounts {
    std::int64_t hardBounces = 0;
    std::int64_t complaints = 0;
};

// What a bounce did to its recipient (the suppression calls below).
struct SuppressionChange {
    std::optional<SubscriptionStatus> before;  // empty: no such recipient
    std::optional<SubscriptionStatus> after;
    std::int64_t softBounceCount = 0;  // after the change
};

// One run of the bounce source (Manager.ProcessBounces), as it ended.
struct BounceFetchRecord {
    Usec finishedAt = 0;
    std::string sourceStatus;  // "ok", "auth", "tls", "connection", "failed"
    std::string error;         // "" when it went well; else what went wrong, for a person
    std::int64_t fetched = 0;
    std::int64_t recorded = 0;
};

class BounceStore : public virtual Transactional {
public:
    // Stores one record and returns its id, or nullopt when a record of the same notice for
    // the same address exists (noticeKey, recipientEmail): nothing is changed then. Records
    // without a noticeKey never collide.
    virtual std::optional<Id> insertBounce(const BounceRecord& b) = 0;
    virtual std::vector<BounceRecord> listBounces(const BounceFilter& filter) = 0;  // newest first
    // The failure the sender recorded at sending (source "smtp", action "failed") for this
    // campaign and recipient, the first one; nullopt if none.
    virtual std::optional<Id> findSendingRejection(Id campaign, Id recipient) = 0;
    // Keeps the outcome of a fetch (the newest kKeptBounceFetches are kept) / the last one.
    virtual void recordBounceFetch(const BounceFetchRecord& fetch) = 0;
    virtual std::optional<BounceFetchRecord> lastBounceFetch() = 0;
    // The ledger row whose message_id is messageId (without angle brackets), if any.
    virtual std::optional<LedgerMatch> findLedgerByMessageId(std::string_view messageId) = 0;
    // Suppression, each one compare-and-set statement (safe against concurrent bounces):
    //   markRecipientBounced    subscribed -> bounced
    //   countSoftBounce         soft_bounce_count + 1; subscribed -> bounced when it reaches
    //                           limit (limit >= 1)
    //   resetSoftBounces        soft_bounce_count = 0 (evidence of a delivery)
    // (A complaint unsubscribes through SuppressionStore::recordUnsubscribe, which records it.)
    virtual SuppressionChange markRecipientBounced(Id recipient) = 0;
    virtual SuppressionChange countSoftBounce(Id recipient, std::int64_t limit) = 0;
    virtual void resetSoftBounces(Id recipient) = 0;
    // The campaign's acted-on hard bounces and complaints: one indexed read (campaign_id), for
    // the sending guard when it starts watching a campaign and for reports, never per message.
    virtual CampaignBounceCounts campaignBounceCounts(Id campaign) = 0;
};

}  // namespace campaignd::storage

// report_store.h: the reports role of storage: the dashboard, a campaign's summary, its failed
// and unknown ledger rows, and its recipients with their outcomes, read only. Promises counts
// from the kept counters (a read costs the same for ten recipients as for a million; only
// failure reasons group ledger rows) and pages in ledger id order read through an index (a page
// never reads the rest of the ledger, except the rows an offset skips). Errors as in store.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"

namespace campaignd::storage {

// A failed or unknown ledger row, for the report's list of failures.
struct LedgerProblem {
    Id ledgerId = 0;
    std::string email;   // the address the row was attached with
    std::string name;    // the recipient's name now; "" if none, or the recipient was deleted
    DeliveryStatus status = DeliveryStatus::Failed;  // Failed or Unknown
    std::string reason;  // fail_reason (failed), or what is known (unknown: last_error)
    std::int64_t attempts = 0;
};

// Which of a campaign's recipients to list, and which page of them.
struct CampaignRecipientFilter {
    std::optional<SendState> state;  // empty: all of them
    std::int64_t limit = 0;          // at most this many (0: none, only the total)
    std::int64_t offset = 0;         // after skipping this many
};

class ReportStore {
public:
    virtual ~ReportStore() = default;

    virtual Dashboard dashboard() = 0;
    // The recipient's ledger rows (with their campaign's name), bounce records and recorded
    // unsubscribes, newest first; each list bounded by `limit`.
    virtual RecipientHistory recipientHistory(Id recipient, std::int64_t limit) = 0;
    // Recorded unsubscribes at or after `since` (the dashboard's recent count).
    virtual std::int64_t unsubscribesSince(Usec since) = 0;
    // The outcomes recorded per minute from the minute holding `since` on, every campaign's
    // summed, oldest first; minutes without any left out. Reads the kept per-minute figures
    // (outcome_minutes), never the ledger: at most two days of rows, whatever its size.
    virtual std::vector<MinuteActivity> activitySince(Usec since) = 0;
    virtual CampaignSummary campaignSummary(Id campaign) = 0;
    // The campaign's failed and unknown ledger rows with a ledger id above afterLedgerId, by
    // ledger id, at most limit of them: page through with the last one's ledgerId.
    virtual std::vector<LedgerProblem> campaignProblems(Id campaign, Id afterLedgerId, std::size_t limit) = 0;
    // The campaign's recipients in the filter's state, ordered by the ledger's status token
    // (failed, handed_over, pending, sending, sent, skipped, unknown), then by ledger id (the
    // order they were attached), one page of them, and how many are in that state in all (from the kept
    // counters). While the campaign sends, the total is read just before the page, so the two
    // may differ by the rows that moved in between. An unknown campaign has none.
    virtual CampaignRecipientPage campaignRecipients(Id campaign, const CampaignRecipientFilter& filter) = 0;
};

}  // namespace campaignd::storage

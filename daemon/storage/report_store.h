// report_store.h: the reports role of storage: the dashboard, a campaign's summary and its
// failed and unknown ledger rows, read only. Promises counts from the kept counters (a read
// costs the same for ten recipients as for a million; only failure reasons group ledger rows)
// and pages of problems in ledger id order. Errors as in store.h.
#pragma once

#include <cstddef>
#include <cstdint>
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

class ReportStore {
public:
    virtual ~ReportStore() = default;

    virtual Dashboard dashboard() = 0;
    // Recorded unsubscribes at or after `since` (the dashboard's recent count).
    virtual std::int64_t unsubscribesSince(Usec since) = 0;
    virtual CampaignSummary campaignSummary(Id campaign) = 0;
    // The campaign's failed and unknown ledger rows with a ledger id above afterLedgerId, by
    // ledger id, at most limit of them: page through with the last one's ledgerId.
    virtual std::vector<LedgerProblem> campaignProblems(Id campaign, Id afterLedgerId, std::size_t limit) = 0;
};

}  // namespace campaignd::storage

// suppression_store.h: the unsubscribe-and-suppression role of storage: every unsubscribe
// recorded (when, how, from which campaign), the suppression list that outlives a deleted
// recipient (keyed hashes of addresses, never an address), and the erasure of an address from
// the history tables. Promises an unsubscribe as one compare-and-set with its record in one
// transaction (a second one changes nothing and records nothing), and an erasure that leaves
// counts intact. It computes no hash: the services hash (mail/address_hash.h) and hand them
// over. Errors as in store.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "storage/transactional.h"

namespace campaignd::storage {

// What recordUnsubscribe did.
struct UnsubscribeChange {
    std::optional<SubscriptionStatus> before;  // empty: no such recipient (nothing done)
    bool changed = false;                      // the status became unsubscribed just now
    std::optional<UnsubscribeRecord> record;   // the latest record (the new one if changed)
};

// What eraseAddress changed (rows kept, their address and free text blanked).
struct ErasedRows {
    std::int64_t ledgerRows = 0;
    std::int64_t bounceRecords = 0;
};

class SuppressionStore : public virtual Transactional {
public:
    // In one transaction: the recipient's status becomes unsubscribed unless it is already
    // (compare-and-set, safe against concurrent unsubscribes), and only then a record with
    // `campaign` (dropped if no such campaign exists), `source` and `at` is stored.
    virtual UnsubscribeChange recordUnsubscribe(Id recipient, std::optional<Id> campaign, UnsubscribeSource source,
                                                Usec at) = 0;
    // The recipient's latest record, if any.
    virtual std::optional<UnsubscribeRecord> lastUnsubscribe(Id recipient) = 0;

    // The suppression list, by address hash. insertSuppression keeps an existing entry as it
    // is and returns false; `recipient` links a current recipient who has the address (its
    // address then shows in lists; the link goes when the recipient is deleted).
    virtual bool insertSuppression(const SuppressionEntry& entry, std::optional<Id> recipient) = 0;
    virtual std::optional<SuppressionEntry> findSuppression(std::string_view addressHash) = 0;
    virtual bool deleteSuppression(std::string_view addressHash) = 0;
    // By hash; at most limit (>= 0) after offset.
    virtual std::vector<SuppressionEntry> listSuppressions(std::int64_t limit, std::int64_t offset) = 0;

    // Erasure: every send-ledger row and bounce record of `recipient` or of `email` (compared
    // case-insensitively, ASCII) keeps its counts but loses the address ("[erased]"), and any
    // occurrence of the address or of `name` (if 4 characters or more) in its free text
    // (fail_reason, last_error; diagnostic, remote_mta, message_id and the notice's key) is
    // replaced by "[erased]". The recipient row itself
    // is deleteRecipient's. In one transaction.
    virtual ErasedRows eraseAddress(std::optional<Id> recipient, std::string_view email, std::string_view name) = 0;
};

}  // namespace campaignd::storage

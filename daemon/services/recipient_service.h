// recipient_service.h: the business rules for recipients and groups (the original design's
// recipients.services): address validation and normalisation, one person stored once
// (case-insensitively), subscription status, group membership, and the suppression list: a
// recipient deleted after they unsubscribed, bounced or complained leaves a keyed hash of the
// address (mail/address_hash.h) that no add or import gets past, and an erasure (remove with
// forget) takes the address and name out of the history too. The CSV importer uses the same
// validation functions (rules/validation.h). Unsubscribing goes through UnsubscribeService.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/model.h"
#include "core/clock.h"
#include "services/unsubscribe_service.h"
#include "storage/recipient_store.h"
#include "storage/suppression_store.h"

namespace campaignd::services {

struct RecipientFields {
    std::optional<std::string> name;
    std::optional<SubscriptionStatus> status;
};

// What remove() did.
struct RemoveOutcome {
    bool recipientDeleted = false;
    // The entry the removal left (or found) on the suppression list, if the person had
    // unsubscribed, bounced or complained.
    std::optional<SuppressionEntry> suppression;
    storage::ErasedRows erased;  // with forget
};

// A page of recipients and how many match in all.
struct RecipientPage {
    std::vector<Recipient> recipients;
    std::int64_t total = 0;
};

// What importSuppressions() did.
struct SuppressionImport {
    std::int64_t added = 0;
    std::int64_t alreadyListed = 0;
    std::vector<std::pair<std::size_t, std::string>> invalid;  // index in the input, why
};

class RecipientService {
public:
    // The roles must be views of one store. `suppressionSecret`: the key of the address hashes
    // (the daemon's VERP secret); non-empty.
    RecipientService(storage::RecipientStore& recipients, storage::SuppressionStore& suppression, Clock clock,
                     std::string suppressionSecret);

    // Validates and normalises the address; AlreadyExists if stored in any case; InvalidState
    // if it is on the suppression list (the message says since when, why, and how to lift
    // it). Every group must exist (NotFound; nothing stored then). The name must be header-safe.
    Recipient add(const std::string& email, const RecipientFields& fields,
                  const std::vector<std::string>& groups);
    // NotFound; InvalidArgument if malformed. With the standing unsubscribe record when
    // unsubscribed.
    Recipient get(const std::string& email);
    // NotFound for an unknown group; InvalidArgument for a search that is not UTF-8 or longer
    // than kMaxSearchBytes.
    std::vector<Recipient> list(const storage::RecipientFilter& filter);
    // list() and how many recipients the filter matches in all (for paging).
    RecipientPage listPage(const storage::RecipientFilter& filter);
    static constexpr std::size_t kMaxSearchBytes = 1000;
    // A status of unsubscribed goes through UnsubscribeService as "administrator"; subscribed
    // is refused (InvalidState) while the address is on the suppression list.
    Recipient update(const std::string& email, const RecipientFields& fields);
    // UnsubscribeService::unsubscribe for an address (NotFound if not stored); the recipient as
    // stored afterwards comes back in `recipient`.
    UnsubscribeOutcome unsubscribe(const std::string& email, std::optional<Id> campaign, UnsubscribeSource how,
                                   Recipient* recipient = nullptr);
    // The same by id, for callers that hold a recipient id (a token names one): exactly
    // UnsubscribeService::unsubscribe on this service's store.
    UnsubscribeOutcome unsubscribe(Id recipient, std::optional<Id> campaign, UnsubscribeSource how) {
        return unsubscribes_.unsubscribe(recipient, campaign, how);
    }
    // Deletes the recipient; one who unsubscribed, bounced or complained leaves a suppression
    // entry. Refused (InvalidState) while a campaign that includes the recipient is in
    // progress. With forget, in the same transaction, the address and name also leave the
    // send ledger and the bounce records (storage::SuppressionStore::eraseAddress); an address
    // no longer stored as a recipient may still be forgotten (NotFound if nothing has it).
    RemoveOutcome remove(const std::string& email, bool forget = false);

    // The suppression list. add: an address (reason "administrator"; a stored recipient who has
    // it is unsubscribed as "administrator" too); returns the entry and whether it is new.
    // remove: by address or by hash; false if not listed. import: addresses or hashes, each
    // entry on its own (invalid ones are reported, the others added, reason "import").
    std::vector<SuppressionEntry> listSuppressions(std::int64_t limit, std::int64_t offset);
    std::pair<SuppressionEntry, bool> addSuppression(const std::string& email);
    bool removeSuppression(const std::string& addressOrHash);
    SuppressionImport importSuppressions(const std::vector<std::string>& entries);
    // The hash of a (valid) address.
    std::string addressHash(const std::string& email) const;

    Group createGroup(const std::string& name);  // AlreadyExists
    std::vector<Group> listGroups();
    void deleteGroup(const std::string& name);  // NotFound
    // All-or-nothing: NotFound for the group or the first unknown address, nothing changed.
    std::int64_t addToGroup(const std::string& group, const std::vector<std::string>& emails);
    std::int64_t removeFromGroup(const std::string& group, const std::vector<std::string>& emails);

private:
    Recipient require(const std::string& email);
    Group requireGroup(const std::string& name);
    storage::RecipientFilter checkedFilter(const storage::RecipientFilter& filter);
    void refuseSuppressed(const std::string& normalizedEmail);
    std::optional<std::string> suppressionReason(const Recipient& r);

    storage::RecipientStore& recipients_;
    storage::SuppressionStore& suppression_;
    Clock clock_;
    std::string secret_;
    UnsubscribeService unsubscribes_;
};

}  // namespace campaignd::services

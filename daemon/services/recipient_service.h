// recipient_service.h: the business rules for recipients and groups (the original design's
// recipients.services): address validation and normalisation, one person stored once
// (case-insensitively), subscription status, and group membership. The CSV importer uses the
// same validation functions (rules/validation.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/clock.h"
#include "storage/recipient_store.h"

namespace campaignd::services {

struct RecipientFields {
    std::optional<std::string> name;
    std::optional<SubscriptionStatus> status;
};

class RecipientService {
public:
    RecipientService(storage::RecipientStore& recipients, Clock clock);

    // Validates and normalises the address; AlreadyExists if stored in any case. Every group
    // must exist (NotFound; nothing stored then). The name must be header-safe.
    Recipient add(const std::string& email, const RecipientFields& fields,
                  const std::vector<std::string>& groups);
    Recipient get(const std::string& email);  // NotFound; InvalidArgument if malformed
    std::vector<Recipient> list(const storage::RecipientFilter& filter);  // NotFound for an unknown group
    Recipient update(const std::string& email, const RecipientFields& fields);
    // Refused (InvalidState) while a campaign that includes the recipient is in progress.
    void remove(const std::string& email);

    Group createGroup(const std::string& name);  // AlreadyExists
    std::vector<Group> listGroups();
    void deleteGroup(const std::string& name);  // NotFound
    // All-or-nothing: NotFound for the group or the first unknown address, nothing changed.
    std::int64_t addToGroup(const std::string& group, const std::vector<std::string>& emails);
    std::int64_t removeFromGroup(const std::string& group, const std::vector<std::string>& emails);

private:
    Recipient require(const std::string& email);
    Group requireGroup(const std::string& name);

    storage::RecipientStore& recipients_;
    Clock clock_;
};

}  // namespace campaignd::services

// recipient_store.h: the recipients-and-groups role of storage: people by address (unique
// case-insensitively), their groups and memberships, and counting who a set of groups reaches.
// It promises nothing about sending: attaching people to a campaign is the ledger's
// (send_ledger.h), suppression after a bounce the bounce role's (bounce_store.h). Errors as in
// store.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "storage/transactional.h"

namespace campaignd::storage {

struct RecipientFilter {
    std::optional<std::string> group;  // only members of this group (by name)
    std::optional<SubscriptionStatus> status;
    // Only those whose address or name contains this text, case-insensitively (as the
    // database's lower() folds: ASCII on SQLite); its % and _ are plain characters. Empty: all.
    std::optional<std::string> search;
    std::optional<std::int64_t> limit;
    std::int64_t offset = 0;
};

// Distinct people, by whether they are subscribed (countPeople).
struct PeopleCount {
    std::int64_t subscribed = 0;
    std::int64_t unsubscribed = 0;
    std::int64_t bounced = 0;
};

class RecipientStore : public virtual Transactional {
public:
    // Recipients. Addresses are unique case-insensitively (the store keys them by their
    // lower-case form); `email` is expected already normalised by the services.
    virtual Id insertRecipient(const Recipient& r) = 0;
    virtual std::optional<Recipient> findRecipient(std::string_view email) = 0;
    virtual std::optional<Recipient> findRecipientById(Id id) = 0;
    virtual std::vector<Recipient> listRecipients(const RecipientFilter& filter) = 0;  // by address
    // How many recipients the filter matches in all (its limit and offset are ignored).
    virtual std::int64_t countRecipients(const RecipientFilter& filter) = 0;
    virtual void updateRecipient(const Recipient& r) = 0;  // name and status, by id
    // With its pending ledger rows; sent and failed rows stay as history without it.
    virtual bool deleteRecipient(Id id) = 0;
    // Whether the recipient is attached to a campaign that is in progress.
    virtual bool recipientInActiveCampaign(Id id) = 0;

    // Groups. Names are unique as given (case-sensitive).
    virtual Id insertGroup(std::string_view name, Usec createdAt) = 0;
    virtual std::optional<Group> findGroup(std::string_view name) = 0;
    virtual std::vector<Group> listGroups() = 0;  // by name
    virtual bool deleteGroup(Id id) = 0;
    virtual bool addGroupMember(Id group, Id recipient) = 0;     // false if already a member
    virtual bool removeGroupMember(Id group, Id recipient) = 0;  // false if not a member

    // The distinct recipients who are members of any of `groups` or are one of `recipients`,
    // counted by whether they are subscribed, without reading them out (a group may have
    // millions of members). Ids that do not exist count nothing.
    virtual PeopleCount countPeople(std::span<const Id> groups, std::span<const Id> recipients) = 0;
};

}  // namespace campaignd::storage

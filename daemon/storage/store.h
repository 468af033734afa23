// store.h: the storage interface campaignd's services use, and the factory that opens a
// backend from a Database= URL. Two backends implement it with the same behaviour: SQLite
// (Poco::Data::SQLite) and PostgreSQL (libpqxx). Opening a store applies the versioned schema
// migrations. Every query is parameterised; no value is ever spliced into SQL text.
//
// Errors: a unique address or name that is taken throws Error(AlreadyExists); a lost or
// failing database throws Error(Failed) with the backend's message. Finders return nullopt
// rather than throwing. A store is used from one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace campaignd::storage {

struct RecipientFilter {
    std::optional<std::string> group;  // only members of this group (by name)
    std::optional<SubscriptionStatus> status;
    std::optional<std::int64_t> limit;
    std::int64_t offset = 0;
};

class Store {
public:
    virtual ~Store() = default;

    // "sqlite" or "postgresql"; the location without any password.
    virtual std::string backendName() const = 0;
    virtual std::string location() const = 0;
    virtual int schemaVersion() = 0;

    // Runs fn in one transaction: committed when fn returns, rolled back when it throws (the
    // exception propagates). A call inside fn joins the outer transaction.
    virtual void transaction(const std::function<void()>& fn) = 0;

    // Campaigns. The counts (recipient, sent, failed, pending) are computed from the ledger
    // on every read; writes ignore them.
    virtual Id insertCampaign(const Campaign& c) = 0;
    virtual void updateCampaign(const Campaign& c) = 0;  // name, subject, contents, from, schedule, status, reason, updated_at
    virtual std::optional<Campaign> findCampaign(Id id) = 0;
    virtual std::vector<Campaign> listCampaigns(std::optional<CampaignStatus> status) = 0;  // by id
    virtual bool deleteCampaign(Id id) = 0;  // with its ledger; false if there was none
    // Compare-and-set on the status: true if the campaign was in `from` and is now in `to`.
    virtual bool changeCampaignStatus(Id id, CampaignStatus from, CampaignStatus to,
                                      std::string_view reason, Usec now) = 0;
    // Scheduled campaigns whose time is at or before `now`, oldest first.
    virtual std::vector<Id> dueCampaigns(Usec now) = 0;

    // Recipients. Addresses are unique case-insensitively (the store keys them by their
    // lower-case form); `email` is expected already normalised by the services.
    virtual Id insertRecipient(const Recipient& r) = 0;
    virtual std::optional<Recipient> findRecipient(std::string_view email) = 0;
    virtual std::vector<Recipient> listRecipients(const RecipientFilter& filter) = 0;  // by address
    virtual void updateRecipient(const Recipient& r) = 0;  // name and status, by id
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

    // The send ledger (CampaignRecipient). Attaching adds pending rows for subscribed
    // recipients not already attached; returns how many rows were added.
    virtual std::int64_t attachGroup(Id campaign, Id group) = 0;
    virtual bool attachRecipient(Id campaign, Id recipient) = 0;

    // Reports.
    virtual Dashboard dashboard() = 0;
    virtual CampaignSummary campaignSummary(Id campaign) = 0;
};

// Opens "sqlite:PATH" (the file and its directory are created as needed) or a
// "postgresql://..." / "postgres://..." URL (libpq syntax; a password is better given
// through PGPASSFILE or a credential than in the URL). Applies pending migrations.
// Throws Error(InvalidArgument) for an unknown scheme, Error(Failed) if it cannot connect.
std::unique_ptr<Store> openStore(const std::string& url);

}  // namespace campaignd::storage

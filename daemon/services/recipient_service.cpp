// recipient_service.cpp: the recipient and group rules. Every address goes through
// normalizeEmail and every name through the header check before the store sees it; lookups
// use the normalised address (the store compares case-insensitively). Changes that touch
// several rows (add with groups, group membership) are all-or-nothing in one transaction:
// every group and address is resolved before the first row changes.
#include "services/recipient_service.h"

#include <cctype>

#include "core/error.h"
#include "mail/address_hash.h"
#include "rules/validation.h"

namespace campaignd::services {
namespace {

std::string quoted(std::string_view s) { return "\"" + rules::quoteForMessage(s) + "\""; }

[[noreturn]] void recipientNotFound(std::string_view email) {
    throw Error(ErrorCode::NotFound, "recipient " + quoted(email) + " does not exist");
}

std::string checkName(const std::string& name) { return rules::normalizeRecipientName(name); }

}  // namespace

RecipientService::RecipientService(storage::RecipientStore& recipients, storage::SuppressionStore& suppression,
                                   Clock clock, std::string suppressionSecret)
    : recipients_(recipients),
      suppression_(suppression),
      clock_(clock ? std::move(clock) : Clock(systemNow)),
      secret_(std::move(suppressionSecret)),
      unsubscribes_(suppression, clock_) {
    if (secret_.empty()) throw Error(ErrorCode::InvalidArgument, "the suppression list needs a secret");
}

std::string RecipientService::addressHash(const std::string& email) const {
    return mail::suppressionHash(secret_, rules::normalizeEmail(email));
}

void RecipientService::refuseSuppressed(const std::string& normalizedEmail) {
    const auto entry = suppression_.findSuppression(mail::suppressionHash(secret_, normalizedEmail));
    if (!entry) return;
    throw Error(ErrorCode::InvalidState,
                "the address " + quoted(normalizedEmail) + " is on the suppression list since " +
                    formatUtc(entry->since) + " because " + entry->reason +
                    "; it is never subscribed again unless an administrator lifts that "
                    "(campaignd-ctl suppression remove ADDRESS)");
}

// Why deleting `r` leaves a suppression entry, if it does: the person unsubscribed (or
// complained) or their address bounced.
std::optional<std::string> RecipientService::suppressionReason(const Recipient& r) {
    switch (r.status) {
        case SubscriptionStatus::Subscribed: return std::nullopt;
        case SubscriptionStatus::Bounced: return "bounced";
        case SubscriptionStatus::Unsubscribed: {
            const auto record = suppression_.lastUnsubscribe(r.id);
            if (record && record->source == UnsubscribeSource::Complaint) return "complaint";
            return "unsubscribed";
        }
    }
    return std::nullopt;
}

Recipient RecipientService::add(const std::string& email, const RecipientFields& fields,
                                const std::vector<std::string>& groups) {
    Recipient r;
    r.email = rules::normalizeEmail(email);
    if (fields.name) r.name = checkName(*fields.name);
    if (fields.status) r.status = *fields.status;
    std::vector<std::string> groupNames;
    for (const std::string& g : groups) groupNames.push_back(rules::normalizeGroupName(g));

    Recipient stored;
    recipients_.transaction([&] {
        std::vector<Group> found;
        for (const std::string& g : groupNames) found.push_back(requireGroup(g));
        if (std::optional<Recipient> existing = recipients_.findRecipient(r.email))
            throw Error(ErrorCode::AlreadyExists,
                        "recipient " + quoted(r.email) + " already exists (as " + quoted(existing->email) + ")");
        refuseSuppressed(r.email);
        r.createdAt = clock_();
        r.id = recipients_.insertRecipient(r);
        for (const Group& g : found) recipients_.addGroupMember(g.id, r.id);
        stored = require(r.email);
    });
    return stored;
}

Recipient RecipientService::get(const std::string& email) {
    Recipient r = require(email);
    if (r.status == SubscriptionStatus::Unsubscribed) r.unsubscribe = suppression_.lastUnsubscribe(r.id);
    return r;
}

// The filter checked, its group resolved to the stored name (NotFound for an unknown one).
storage::RecipientFilter RecipientService::checkedFilter(const storage::RecipientFilter& filter) {
    storage::RecipientFilter f = filter;
    if (f.limit && *f.limit < 0) throw Error(ErrorCode::InvalidArgument, "limit is negative");
    if (f.offset < 0) throw Error(ErrorCode::InvalidArgument, "offset is negative");
    if (f.group) f.group = requireGroup(*f.group).name;
    if (f.search) {
        rules::checkUtf8("the search", *f.search);
        if (f.search->size() > kMaxSearchBytes)
            throw Error(ErrorCode::InvalidArgument,
                        "the search is longer than " + std::to_string(kMaxSearchBytes) + " bytes");
    }
    return f;
}

std::vector<Recipient> RecipientService::list(const storage::RecipientFilter& filter) {
    return recipients_.listRecipients(checkedFilter(filter));
}

RecipientPage RecipientService::listPage(const storage::RecipientFilter& filter) {
    RecipientPage page;
    // One transaction: on SQLite one snapshot, so the total counts the rows the page was read
    // from; PostgreSQL's READ COMMITTED reads each statement afresh, so an import committed
    // between the two may be counted without being on the page (the next page has it).
    recipients_.transaction([&] {
        const storage::RecipientFilter f = checkedFilter(filter);
        page.recipients = recipients_.listRecipients(f);
        page.total = recipients_.countRecipients(f);
    });
    return page;
}

Recipient RecipientService::update(const std::string& email, const RecipientFields& fields) {
    const std::string normalized = rules::normalizeEmail(email);
    std::optional<std::string> name;
    if (fields.name) name = checkName(*fields.name);
    Recipient stored;
    recipients_.transaction([&] {
        Recipient r = require(normalized);
        if (name) r.name = *name;
        const bool unsubscribe = fields.status == SubscriptionStatus::Unsubscribed;
        if (fields.status && !unsubscribe) {
            if (*fields.status == SubscriptionStatus::Subscribed && r.status != SubscriptionStatus::Subscribed)
                refuseSuppressed(r.email);
            r.status = *fields.status;
        }
        recipients_.updateRecipient(r);
        if (unsubscribe) unsubscribes_.unsubscribe(r.id, std::nullopt, UnsubscribeSource::Administrator);
        stored = get(normalized);
    });
    return stored;
}

UnsubscribeOutcome RecipientService::unsubscribe(const std::string& email, std::optional<Id> campaign,
                                                 UnsubscribeSource how, Recipient* recipient) {
    const std::string normalized = rules::normalizeEmail(email);
    UnsubscribeOutcome outcome;
    recipients_.transaction([&] {
        outcome = unsubscribes_.unsubscribe(require(normalized).id, campaign, how);
        if (recipient) *recipient = get(normalized);
    });
    return outcome;
}

RemoveOutcome RecipientService::remove(const std::string& email, bool forget) {
    const std::string normalized = rules::normalizeEmail(email);
    const std::string hash = mail::suppressionHash(secret_, normalized);
    RemoveOutcome outcome;
    recipients_.transaction([&] {
        outcome = {};
        const std::optional<Recipient> r = recipients_.findRecipient(normalized);
        if (!r && !forget) recipientNotFound(normalized);
        if (r && recipients_.recipientInActiveCampaign(r->id))
            throw Error(ErrorCode::InvalidState,
                        "recipient " + quoted(r->email) +
                            " is in a campaign that is in progress; pause or cancel that campaign first");
        if (r) {
            if (const auto reason = suppressionReason(*r))
                suppression_.insertSuppression(SuppressionEntry{hash, *reason, clock_(), {}}, std::nullopt);
        }
        if (forget) outcome.erased = suppression_.eraseAddress(r ? std::optional<Id>(r->id) : std::nullopt,
                                                               r ? r->email : normalized, r ? r->name : "");
        if (r) {
            if (!recipients_.deleteRecipient(r->id)) recipientNotFound(r->email);
            outcome.recipientDeleted = true;
        } else if (outcome.erased.ledgerRows == 0 && outcome.erased.bounceRecords == 0) {
            throw Error(ErrorCode::NotFound, "nothing is stored about " + quoted(normalized));
        }
        outcome.suppression = suppression_.findSuppression(hash);
    });
    return outcome;
}

std::vector<SuppressionEntry> RecipientService::listSuppressions(std::int64_t limit, std::int64_t offset) {
    if (limit < 0 || offset < 0) throw Error(ErrorCode::InvalidArgument, "limit and offset must not be negative");
    return suppression_.listSuppressions(limit, offset);
}

std::pair<SuppressionEntry, bool> RecipientService::addSuppression(const std::string& email) {
    const std::string normalized = rules::normalizeEmail(email);
    const std::string hash = mail::suppressionHash(secret_, normalized);
    std::pair<SuppressionEntry, bool> result;
    recipients_.transaction([&] {
        const std::optional<Recipient> r = recipients_.findRecipient(normalized);
        std::optional<Id> id;
        if (r) id = r->id;
        result.second = suppression_.insertSuppression(SuppressionEntry{hash, "administrator", clock_(), {}}, id);
        if (r && r->status != SubscriptionStatus::Unsubscribed)
            unsubscribes_.unsubscribe(r->id, std::nullopt, UnsubscribeSource::Administrator);
        result.first = *suppression_.findSuppression(hash);
    });
    return result;
}

bool RecipientService::removeSuppression(const std::string& addressOrHash) {
    std::string hash;
    if (mail::isSuppressionHash(addressOrHash)) {
        for (const char c : addressOrHash) hash.push_back(char(std::tolower(static_cast<unsigned char>(c))));
    } else {
        hash = mail::suppressionHash(secret_, rules::normalizeEmail(addressOrHash));
    }
    return suppression_.deleteSuppression(hash);
}

SuppressionImport RecipientService::importSuppressions(const std::vector<std::string>& entries) {
    SuppressionImport result;
    const Usec now = clock_();
    recipients_.transaction([&] {
        result = {};
        for (std::size_t i = 0; i < entries.size(); ++i) {
            std::string hash;
            std::optional<Id> recipient;
            if (mail::isSuppressionHash(entries[i])) {
                for (const char c : entries[i]) hash.push_back(char(std::tolower(static_cast<unsigned char>(c))));
            } else {
                std::string normalized;
                try {
                    normalized = rules::normalizeEmail(entries[i]);
                } catch (const Error& e) {
                    result.invalid.emplace_back(i, e.what());
                    continue;
                }
                hash = mail::suppressionHash(secret_, normalized);
                if (const auto r = recipients_.findRecipient(normalized)) {
                    recipient = r->id;
                    if (r->status != SubscriptionStatus::Unsubscribed)
                        unsubscribes_.unsubscribe(r->id, std::nullopt, UnsubscribeSource::Administrator);
                }
            }
            if (suppression_.insertSuppression(SuppressionEntry{hash, "import", now, {}}, recipient))
                ++result.added;
            else
                ++result.alreadyListed;
        }
    });
    return result;
}

Group RecipientService::createGroup(const std::string& rawName) {
    const std::string name = rules::normalizeGroupName(rawName);
    Group stored;
    recipients_.transaction([&] {
        if (recipients_.findGroup(name))
            throw Error(ErrorCode::AlreadyExists, "group " + quoted(name) + " already exists");
        recipients_.insertGroup(name, clock_());
        stored = requireGroup(name);
    });
    return stored;
}

std::vector<Group> RecipientService::listGroups() { return recipients_.listGroups(); }

void RecipientService::deleteGroup(const std::string& name) {
    recipients_.transaction([&] {
        const Group g = requireGroup(name);
        if (!recipients_.deleteGroup(g.id))
            throw Error(ErrorCode::NotFound, "group " + quoted(g.name) + " does not exist");
    });
}

std::int64_t RecipientService::addToGroup(const std::string& group, const std::vector<std::string>& emails) {
    std::vector<std::string> normalized;
    for (const std::string& e : emails) normalized.push_back(rules::normalizeEmail(e));
    std::int64_t added = 0;
    recipients_.transaction([&] {
        const Group g = requireGroup(group);
        std::vector<Id> ids;
        for (const std::string& e : normalized) ids.push_back(require(e).id);
        for (Id id : ids)
            if (recipients_.addGroupMember(g.id, id)) ++added;
    });
    return added;
}

std::int64_t RecipientService::removeFromGroup(const std::string& group, const std::vector<std::string>& emails) {
    std::vector<std::string> normalized;
    for (const std::string& e : emails) normalized.push_back(rules::normalizeEmail(e));
    std::int64_t removed = 0;
    recipients_.transaction([&] {
        const Group g = requireGroup(group);
        std::vector<Id> ids;
        for (const std::string& e : normalized) ids.push_back(require(e).id);
        for (Id id : ids)
            if (recipients_.removeGroupMember(g.id, id)) ++removed;
    });
    return removed;
}

Recipient RecipientService::require(const std::string& email) {
    const std::string normalized = rules::normalizeEmail(email);
    std::optional<Recipient> r = recipients_.findRecipient(normalized);
    if (!r) recipientNotFound(normalized);
    return *r;
}

Group RecipientService::requireGroup(const std::string& rawName) {
    const std::string name = rules::normalizeGroupName(rawName);
    std::optional<Group> g = recipients_.findGroup(name);
    if (!g) throw Error(ErrorCode::NotFound, "group " + quoted(name) + " does not exist");
    return *g;
}

}  // namespace campaignd::services

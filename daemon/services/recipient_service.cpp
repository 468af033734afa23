// recipient_service.cpp: the recipient and group rules. Every address goes through
// normalizeEmail and every name through the header check before the store sees it; lookups
// use the normalised address (the store compares case-insensitively). Changes that touch
// several rows (add with groups, group membership) are all-or-nothing in one transaction:
// every group and address is resolved before the first row changes.
#include "services/recipient_service.h"

#include "core/error.h"
#include "rules/validation.h"

namespace campaignd::services {
namespace {

std::string quoted(std::string_view s) { return "\"" + rules::quoteForMessage(s) + "\""; }

[[noreturn]] void recipientNotFound(std::string_view email) {
    throw Error(ErrorCode::NotFound, "recipient " + quoted(email) + " does not exist");
}

std::string checkName(const std::string& name) { return rules::normalizeRecipientName(name); }

}  // namespace

RecipientService::RecipientService(storage::RecipientStore& recipients, Clock clock)
    : recipients_(recipients), clock_(clock ? std::move(clock) : Clock(systemNow)) {}

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
        r.createdAt = clock_();
        r.id = recipients_.insertRecipient(r);
        for (const Group& g : found) recipients_.addGroupMember(g.id, r.id);
        stored = require(r.email);
    });
    return stored;
}

Recipient RecipientService::get(const std::string& email) { return require(email); }

std::vector<Recipient> RecipientService::list(const storage::RecipientFilter& filter) {
    storage::RecipientFilter f = filter;
    if (f.limit && *f.limit < 0) throw Error(ErrorCode::InvalidArgument, "limit is negative");
    if (f.offset < 0) throw Error(ErrorCode::InvalidArgument, "offset is negative");
    if (f.group) f.group = requireGroup(*f.group).name;
    return recipients_.listRecipients(f);
}

Recipient RecipientService::update(const std::string& email, const RecipientFields& fields) {
    const std::string normalized = rules::normalizeEmail(email);
    std::optional<std::string> name;
    if (fields.name) name = checkName(*fields.name);
    Recipient stored;
    recipients_.transaction([&] {
        Recipient r = require(normalized);
        if (name) r.name = *name;
        if (fields.status) r.status = *fields.status;
        recipients_.updateRecipient(r);
        stored = require(normalized);
    });
    return stored;
}

void RecipientService::remove(const std::string& email) {
    recipients_.transaction([&] {
        const Recipient r = require(email);
        if (recipients_.recipientInActiveCampaign(r.id))
            throw Error(ErrorCode::InvalidState,
                        "recipient " + quoted(r.email) +
                            " is in a campaign that is in progress; pause or cancel that campaign first");
        if (!recipients_.deleteRecipient(r.id)) recipientNotFound(r.email);
    });
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

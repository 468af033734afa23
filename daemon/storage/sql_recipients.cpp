// sql_recipients.cpp: RecipientStore over SQL (sql_store.h): recipients keyed by emailKey,
// groups, memberships, and countPeople counted in the database. A search is a substring of the
// address or the name, its LIKE wildcards escaped. A recipient's group names come
// with it (two queries for any page size). Deleting a recipient drops its pending ledger rows
// and their kept counters in one transaction. Every value travels as a parameter.
#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "rules/validation.h"
#include "storage/sql_store.h"
#include "storage/sql_values.h"

namespace campaignd::storage {
namespace {

constexpr const char* kRecipientSelect =
    "SELECT r.id, r.email, r.name, r.status, r.created_at FROM recipients r";

Recipient recipientFrom(const SqlRow& row) {
    Recipient r;
    r.id = row.int64(0);
    r.email = row.text(1);
    r.name = row.text(2);
    r.status = subscriptionStatusOf(row, 3);
    r.createdAt = row.int64(4);
    return r;
}

constexpr const char* kGroupSelect =
    "SELECT g.id, g.name, g.created_at,"
    " (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id)"
    " FROM recipient_groups g";

Group groupFrom(const SqlRow& row) {
    return Group{row.int64(0), row.text(1), row.int64(2), row.int64(3)};
}

constexpr const char* kMemberGroupNames =
    "SELECT gm.recipient_id, g.name FROM group_members gm"
    " JOIN recipient_groups g ON g.id = gm.group_id";

}  // namespace

// ---- recipients ---------------------------------------------------------------------------

Id SqlStore::insertRecipient(const Recipient& r) {
    // ON CONFLICT instead of catching a unique violation: no error is raised, so a caller
    // inside a transaction (a CSV import skipping duplicates) can carry on, on both backends.
    const SqlRows rows = query(
        "INSERT INTO recipients (email, email_key, name, status, created_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email_key) DO NOTHING RETURNING id",
        {r.email, rules::emailKey(r.email), r.name, token(r.status), r.createdAt});
    if (rows.empty())
        throw Error(ErrorCode::AlreadyExists, "recipient " + r.email + " already exists");
    return rows.front().int64(0);
}

std::vector<std::string> SqlStore::groupsOf(Id recipient) {
    std::vector<std::string> names;
    for (const SqlRow& row : query(std::string(kMemberGroupNames) + " WHERE gm.recipient_id = $1", {recipient}))
        names.push_back(row.text(1));
    std::sort(names.begin(), names.end());
    return names;
}

std::optional<Recipient> SqlStore::findRecipient(std::string_view email) {
    const SqlRows rows = query(std::string(kRecipientSelect) + " WHERE r.email_key = $1", {rules::emailKey(email)});
    if (rows.empty()) return std::nullopt;
    Recipient r = recipientFrom(rows.front());
    r.groups = groupsOf(r.id);
    return r;
}

std::optional<Recipient> SqlStore::findRecipientById(Id id) {
    const SqlRows rows = query(std::string(kRecipientSelect) + " WHERE r.id = $1", {id});
    if (rows.empty()) return std::nullopt;
    Recipient r = recipientFrom(rows.front());
    r.groups = groupsOf(r.id);
    return r;
}

namespace {

// The user's text as a LIKE pattern matching it anywhere: its own % _ and \ escaped (ESCAPE
// '\'), so "100%" finds "100%" and not everything.
std::string containsPattern(std::string_view text) {
    std::string out = "%";
    for (const char c : text) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out + "%";
}

// The WHERE text of a filter (no ORDER BY, LIMIT or OFFSET), its values appended to params.
std::string recipientWhere(const RecipientFilter& filter, SqlParams& params) {
    std::string where = " WHERE 1 = 1";
    if (filter.group) {
        params.emplace_back(*filter.group);
        where += " AND r.id IN (SELECT gm.recipient_id FROM group_members gm"
                 " JOIN recipient_groups g ON g.id = gm.group_id WHERE g.name = $" +
                 std::to_string(params.size()) + ")";
    }
    if (filter.status) {
        params.push_back(token(*filter.status));
        where += " AND r.status = $" + std::to_string(params.size());
    }
    if (filter.search && !filter.search->empty()) {
        // A substring anywhere in the address or the name: no index helps, so this scans the
        // recipients table (a page and its count of a million recipients: about a second on
        // SQLite, 0.6 s on PostgreSQL, BENCHMARKS.md "Recipient search"; acceptable for a
        // search typed by a person). An index for it (pg_trgm, an FTS5 trigram table) would
        // need a schema migration, which this change does not make. Both sides go through
        // the database's lower(), so the comparison is the same whatever the backend's LIKE
        // does with case: ASCII letters on SQLite, the locale's letters on PostgreSQL.
        params.emplace_back(containsPattern(*filter.search));
        const std::string n = std::to_string(params.size());
        where += " AND (lower(r.email) LIKE lower($" + n + ") ESCAPE '\\' OR lower(r.name) LIKE lower($" + n +
                 ") ESCAPE '\\')";
    }
    return where;
}

}  // namespace

std::vector<Recipient> SqlStore::listRecipients(const RecipientFilter& filter) {
    if (filter.limit && *filter.limit < 0)
        throw Error(ErrorCode::InvalidArgument, "the limit must not be negative");
    if (filter.offset < 0) throw Error(ErrorCode::InvalidArgument, "the offset must not be negative");

    // The page, as a WHERE ... ORDER BY ... LIMIT text used twice: for the rows, and as the
    // id set whose group names the second query fetches (two queries for any page size).
    SqlParams params;
    std::string page = recipientWhere(filter, params);
    params.emplace_back(filter.limit.value_or(std::numeric_limits<std::int64_t>::max()));
    page += " ORDER BY r.email_key LIMIT $" + std::to_string(params.size());
    params.emplace_back(filter.offset);
    page += " OFFSET $" + std::to_string(params.size());

    std::vector<Recipient> out;
    std::map<Id, std::size_t> index;
    for (const SqlRow& row : query(std::string(kRecipientSelect) + page, params)) {
        index.emplace(row.int64(0), out.size());
        out.push_back(recipientFrom(row));
    }
    if (out.empty()) return out;
    const SqlRows memberships = query(std::string(kMemberGroupNames) +
                                          " WHERE gm.recipient_id IN (SELECT r.id FROM recipients r" + page + ")",
                                      params);
    for (const SqlRow& row : memberships)
        if (auto it = index.find(row.int64(0)); it != index.end())
            out[it->second].groups.push_back(row.text(1));
    for (Recipient& r : out) std::sort(r.groups.begin(), r.groups.end());
    return out;
}

std::int64_t SqlStore::countRecipients(const RecipientFilter& filter) {
    SqlParams params;
    const std::string where = recipientWhere(filter, params);
    return query("SELECT COUNT(*) FROM recipients r" + where, params).front().int64(0);
}

void SqlStore::updateRecipient(const Recipient& r) {
    // Subscribed again (by an administrator): the soft bounces counted so far are forgotten.
    const std::int64_t n = exec("UPDATE recipients SET name = $2, status = $3,"
                                " soft_bounce_count = CASE WHEN $3 = 'subscribed' AND status <> 'subscribed'"
                                " THEN 0 ELSE soft_bounce_count END WHERE id = $1",
                                {r.id, r.name, token(r.status)});
    if (n == 0) throw Error(ErrorCode::NotFound, "recipient " + std::to_string(r.id) + " does not exist");
}

bool SqlStore::deleteRecipient(Id id) {
    // Pending ledger rows go (nobody left to send to); sent and failed rows stay as history,
    // their recipient_id set to NULL by the foreign key.
    bool deleted = false;
    transaction([&] {
        // At most one row per campaign (UNIQUE (campaign_id, recipient_id)).
        CountDeltas deltas;
        for (const ChangedRows& c : changedRows(
                 "DELETE FROM campaign_recipients WHERE recipient_id = $1 AND status = 'pending'", {id})) {
            deltas[c.campaign].total -= c.rows;
            deltas[c.campaign].pending -= c.rows;
        }
        addCounts(0, deltas);
        deleted = exec("DELETE FROM recipients WHERE id = $1", {id}) > 0;
    });
    return deleted;
}

bool SqlStore::recipientInActiveCampaign(Id id) {
    return !query("SELECT 1 FROM campaign_recipients l JOIN campaigns c ON c.id = l.campaign_id"
                  " WHERE l.recipient_id = $1 AND c.status = 'in_progress' LIMIT 1",
                  {id})
                .empty();
}

// ---- groups -------------------------------------------------------------------------------

Id SqlStore::insertGroup(std::string_view name, Usec createdAt) {
    const SqlRows rows = query(
        "INSERT INTO recipient_groups (name, created_at) VALUES ($1, $2)"
        " ON CONFLICT (name) DO NOTHING RETURNING id",
        {std::string(name), createdAt});
    if (rows.empty())
        throw Error(ErrorCode::AlreadyExists, "group '" + std::string(name) + "' already exists");
    return rows.front().int64(0);
}

std::optional<Group> SqlStore::findGroup(std::string_view name) {
    const SqlRows rows = query(std::string(kGroupSelect) + " WHERE g.name = $1", {std::string(name)});
    if (rows.empty()) return std::nullopt;
    return groupFrom(rows.front());
}

std::vector<Group> SqlStore::listGroups() {
    std::vector<Group> out;
    for (const SqlRow& row : query(std::string(kGroupSelect) + " ORDER BY g.name")) out.push_back(groupFrom(row));
    return out;
}

bool SqlStore::deleteGroup(Id id) {
    return exec("DELETE FROM recipient_groups WHERE id = $1", {id}) > 0;
}

bool SqlStore::addGroupMember(Id group, Id recipient) {
    return exec("INSERT INTO group_members (group_id, recipient_id) VALUES ($1, $2)"
                " ON CONFLICT (group_id, recipient_id) DO NOTHING",
                {group, recipient}) == 1;
}

bool SqlStore::removeGroupMember(Id group, Id recipient) {
    return exec("DELETE FROM group_members WHERE group_id = $1 AND recipient_id = $2",
                {group, recipient}) == 1;
}

// ---- counting people ----------------------------------------------------------------------

PeopleCount SqlStore::countPeople(std::span<const Id> groups, std::span<const Id> recipients) {
    PeopleCount n;
    if (groups.empty() && recipients.empty()) return n;
    SqlParams params;
    std::string where;
    if (!groups.empty()) {
        for (const Id g : groups) params.emplace_back(g);
        where = "r.id IN (SELECT gm.recipient_id FROM group_members gm WHERE gm.group_id IN (" +
                placeholders(1, groups.size()) + "))";
    }
    if (!recipients.empty()) {
        const std::size_t first = params.size() + 1;
        for (const Id r : recipients) params.emplace_back(r);
        where += (where.empty() ? "" : " OR ") + std::string("r.id IN (") + placeholders(first, recipients.size()) + ")";
    }
    for (const SqlRow& row : query("SELECT r.status, COUNT(*) FROM recipients r WHERE " + where + " GROUP BY r.status",
                                   params)) {
        switch (subscriptionStatusOf(row, 0)) {
            case SubscriptionStatus::Subscribed: n.subscribed = row.int64(1); break;
            case SubscriptionStatus::Unsubscribed: n.unsubscribed = row.int64(1); break;
            case SubscriptionStatus::Bounced: n.bounced = row.int64(1); break;
        }
    }
    return n;
}

}  // namespace campaignd::storage

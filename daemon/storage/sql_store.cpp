// sql_store.cpp: Store over SQL, once for both backends. Every value travels as a
// parameter; the only text ever composed is fixed SQL fragments chosen by which filters are
// present. A campaign's counts are kept in campaign_counts beside the send ledger, changed in
// the same transaction as the ledger rows they count (see "kept counters" below), and read
// from there, not recounted.
#include "storage/sql_store.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>

#include "core/error.h"
#include "core/log.h"
#include "storage/migrations.h"
#include "storage/recipient_import.h"

namespace campaignd::storage {
namespace {

SqlValue nullable(const std::optional<std::int64_t>& v) {
    if (v) return *v;
    return std::monostate{};
}

SqlValue token(CampaignStatus s) { return std::string(toString(s)); }
SqlValue token(SubscriptionStatus s) { return std::string(toString(s)); }

CampaignStatus campaignStatusOf(const SqlRow& row, std::size_t column) {
    const std::string t = row.text(column);
    if (auto s = parseCampaignStatus(t)) return *s;
    throw Error(ErrorCode::Failed, "database: unknown campaign status '" + t + "'");
}

SubscriptionStatus subscriptionStatusOf(const SqlRow& row, std::size_t column) {
    const std::string t = row.text(column);
    if (auto s = parseSubscriptionStatus(t)) return *s;
    throw Error(ErrorCode::Failed, "database: unknown subscription status '" + t + "'");
}

constexpr std::array kAllCampaignStatuses{CampaignStatus::Draft,     CampaignStatus::Scheduled,
                                          CampaignStatus::InProgress, CampaignStatus::Paused,
                                          CampaignStatus::Completed,  CampaignStatus::Cancelled};

// The ledger counts are sums over the campaign's few campaign_counts slots (a primary key
// range of at most 1 + kWorkerCounterSlots rows each), whatever the size of its ledger.
#define CAMPAIGND_KEPT_COUNT(column) \
    " (SELECT SUM(k." column ") FROM campaign_counts k WHERE k.campaign_id = c.id),"
constexpr const char* kCampaignSelect =
    "SELECT c.id, c.name, c.subject, c.html_content, c.text_content, c.from_address,"
    " c.scheduled_time, c.status, c.status_reason, c.created_at, c.updated_at,"
    CAMPAIGND_KEPT_COUNT("total") CAMPAIGND_KEPT_COUNT("sent") CAMPAIGND_KEPT_COUNT("failed")
    CAMPAIGND_KEPT_COUNT("pending") CAMPAIGND_KEPT_COUNT("unknown") CAMPAIGND_KEPT_COUNT("skipped")
    CAMPAIGND_KEPT_COUNT("in_flight")
    " c.transport, c.subject_tag"
    " FROM campaigns c";
#undef CAMPAIGND_KEPT_COUNT

Campaign campaignFrom(const SqlRow& row) {
    Campaign c;
    c.id = row.int64(0);
    c.name = row.text(1);
    c.subject = row.text(2);
    c.htmlContent = row.text(3);
    c.textContent = row.text(4);
    c.fromAddress = row.text(5);
    c.scheduledTime = row.optionalInt64(6);
    c.status = campaignStatusOf(row, 7);
    c.statusReason = row.text(8);
    c.createdAt = row.int64(9);
    c.updatedAt = row.int64(10);
    c.recipientCount = row.int64(11);
    c.sentCount = row.int64(12);
    c.failedCount = row.int64(13);
    c.pendingCount = row.int64(14);
    c.unknownCount = row.int64(15);
    c.skippedCount = row.int64(16);
    c.inFlightCount = row.int64(17);
    c.transport = row.text(18);
    c.subjectTag = row.int64(19) != 0;
    return c;
}

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

// "$first, $first+1, ..." for `count` parameters: generated text, never a value.
std::string placeholders(std::size_t first, std::size_t count) {
    std::string s;
    for (std::size_t i = 0; i < count; ++i) s += (i ? ", $" : "$") + std::to_string(first + i);
    return s;
}

constexpr const char* kMemberGroupNames =
    "SELECT gm.recipient_id, g.name FROM group_members gm"
    " JOIN recipient_groups g ON g.id = gm.group_id";

}  // namespace

std::string emailKey(std::string_view email) {
    std::string key(email);
    for (char& ch : key)
        if (ch >= 'A' && ch <= 'Z') ch = char(ch - 'A' + 'a');
    return key;
}

int ledgerCounterSlot(std::string_view worker) {
    // FNV-1a: stable across processes and builds (std::hash is not), so every daemon spreads
    // its workers the same way; any spread is correct, since reads sum the slots.
    std::uint32_t h = 2166136261u;
    for (const char ch : worker) {
        h ^= std::uint8_t(ch);
        h *= 16777619u;
    }
    return 1 + int(h % kWorkerCounterSlots);
}

SqlStore::SqlStore(std::unique_ptr<SqlConnection> db) : db_(std::move(db)) { migrate(*db_); }

std::string SqlStore::backendName() const { return db_->backendName(); }
std::string SqlStore::location() const { return db_->location(); }
int SqlStore::schemaVersion() { return currentSchemaVersion(*db_); }

// Runs one statement; inside a transaction, a failure marks it aborted, as PostgreSQL does,
// so that SQLite behaves the same.
template <typename F>
auto SqlStore::statement(F&& run) -> decltype(run()) {
    if (aborted_)
        throw Error(ErrorCode::Failed,
                    "database: the transaction is aborted by an earlier error; it must be rolled back");
    try {
        return run();
    } catch (const Error&) {
        if (depth_ > 0) aborted_ = true;
        throw;
    }
}

SqlRows SqlStore::query(std::string_view sql, const SqlParams& params) {
    return statement([&] { return db_->query(sql, params); });
}

std::int64_t SqlStore::exec(std::string_view sql, const SqlParams& params) {
    return statement([&] { return db_->exec(sql, params); });
}

void SqlStore::rollbackToSavepoint(const std::string& name) noexcept {
    try {
        db_->exec("ROLLBACK TO SAVEPOINT " + name);
        db_->exec("RELEASE SAVEPOINT " + name);
        aborted_ = false;  // the savepoint restored a usable transaction
    } catch (const Error&) {
        aborted_ = true;  // the outer level cannot commit now
    }
}

void SqlStore::transaction(const std::function<void()>& fn) { transactionWith(false, fn); }

// On PostgreSQL the ledger's transactions lock rows that others lock too: the claims (which
// skip locked rows, so never wait), a worker's hand-over and outcomes (its own rows), and a
// cancel or a recovery (every pending or sending row of a campaign, in whatever order the
// server scans them, and it keeps the lock of a row it waited for and then passed over). Two of
// them can then wait for each other; the server breaks the cycle after deadlock_timeout by
// aborting one, which runs again here. Five attempts: a cycle needs an unlucky overlap, and
// the same one again is unlikely; the fifth failure is reported like any database error.
void SqlStore::ledgerTransaction(bool relaxed, const std::function<void()>& fn) {
    constexpr int kAttempts = 5;
    for (int attempt = 1;; ++attempt) {
        try {
            transactionWith(relaxed, fn);
            return;
        } catch (const TransientError& e) {
            if (attempt == kAttempts) throw;
            log::info(std::string("ledger transaction aborted by the database; running it again: ") + e.what(),
                      {{"ATTEMPT", std::to_string(attempt)}});
        }
    }
}

void SqlStore::transactionWith(bool relaxed, const std::function<void()>& fn) {
    const Error abortedError(ErrorCode::Failed,
                             "database: the transaction was rolled back after an earlier error");
    if (depth_ == 0) {
        if (relaxed) db_->beginRelaxed();
        else db_->begin();
        depth_ = 1;
        aborted_ = false;
        try {
            fn();
        } catch (...) {
            depth_ = 0;
            aborted_ = false;
            db_->rollback();
            throw;
        }
        depth_ = 0;
        if (aborted_) {
            aborted_ = false;
            db_->rollback();
            throw abortedError;
        }
        db_->commit();  // on failure the driver has rolled back and throws
        return;
    }

    // Savepoint names are generated here, never taken from input.
    const std::string name = "campaignd_sp" + std::to_string(depth_);
    exec("SAVEPOINT " + name);
    ++depth_;
    try {
        fn();
    } catch (...) {
        --depth_;
        rollbackToSavepoint(name);
        throw;
    }
    --depth_;
    if (aborted_) {
        rollbackToSavepoint(name);
        throw abortedError;
    }
    exec("RELEASE SAVEPOINT " + name);
}

// ---- kept counters ------------------------------------------------------------------------
// campaign_counts (migration 5) holds per campaign the number of ledger rows in each state, so
// that reading a campaign costs the same for ten recipients as for a million. The rule: every
// statement below that inserts, deletes or moves ledger rows between counted states adds the
// deltas of the rows it actually changed (its row count, or what RETURNING names) to
// campaign_counts in the same transaction. So at every committed moment each count equals the
// recount, and total == pending + in_flight + sent + failed + unknown + skipped. in_flight is
// sending and handed_over together: markHandedOver, the hot path's durable commit, changes no
// count and writes no counter.
// Deltas go to one row per (campaign, slot): a sending worker's own slot (ledgerCounterSlot),
// else 0, so that the workers of several daemons committing claims and outcomes for the same
// campaign at once do not queue behind one row lock on PostgreSQL. One upsert per campaign per
// transaction, in campaign id order (so two transactions touching several campaigns' slot 0
// lock them in the same order); no triggers, which would cost a statement per ledger row.

bool SqlStore::CountDelta::empty() const {
    return total == 0 && pending == 0 && inFlight == 0 && sent == 0 && failed == 0 && unknown == 0 &&
           skipped == 0;
}

void SqlStore::addCounts(int slot, const CountDeltas& deltas) {
    for (const auto& [campaign, d] : deltas) {
        if (d.empty()) continue;
        exec("INSERT INTO campaign_counts (campaign_id, slot, total, pending, in_flight, sent, failed, unknown, skipped)"
             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
             " ON CONFLICT (campaign_id, slot) DO UPDATE SET"
             " total = campaign_counts.total + excluded.total,"
             " pending = campaign_counts.pending + excluded.pending,"
             " in_flight = campaign_counts.in_flight + excluded.in_flight,"
             " sent = campaign_counts.sent + excluded.sent,"
             " failed = campaign_counts.failed + excluded.failed,"
             " unknown = campaign_counts.unknown + excluded.unknown,"
             " skipped = campaign_counts.skipped + excluded.skipped",
             {campaign, std::int64_t(slot), d.total, d.pending, d.inFlight, d.sent, d.failed, d.unknown,
              d.skipped});
    }
}

// Runs an UPDATE or DELETE of campaign_recipients (given without RETURNING) and says how many
// rows it changed per campaign and per value of `kind`, an SQL expression over the changed row
// (fixed text of the caller's). PostgreSQL counts in the server (a data-modifying WITH), so a
// million changed rows cost no transfer; SQLite, which has no UPDATE inside WITH, returns one
// row per changed row: callers use this there only for statements that change a bounded
// number of rows (rows in flight, one recipient's rows).
std::vector<SqlStore::ChangedRows> SqlStore::changedRows(const std::string& statement, const SqlParams& params,
                                                         std::string_view kind) {
    std::vector<ChangedRows> out;
    const std::string returning = " RETURNING campaign_id, " + std::string(kind);
    if (db_->dialect() == SqlDialect::PostgreSQL) {
        for (const SqlRow& row : query("WITH changed (campaign_id, kind) AS (" + statement + returning +
                                           ") SELECT campaign_id, kind, COUNT(*) FROM changed"
                                           " GROUP BY campaign_id, kind ORDER BY campaign_id, kind",
                                       params))
            out.push_back(ChangedRows{row.int64(0), row.int64(1), row.int64(2)});
        return out;
    }
    std::map<std::pair<Id, std::int64_t>, std::int64_t> tally;
    for (const SqlRow& row : query(statement + returning, params)) ++tally[{row.int64(0), row.int64(1)}];
    for (const auto& [key, rows] : tally) out.push_back(ChangedRows{key.first, key.second, rows});
    return out;
}

// ---- campaigns ----------------------------------------------------------------------------

Id SqlStore::insertCampaign(const Campaign& c) {
    const SqlRows rows = query(
        "INSERT INTO campaigns (name, subject, html_content, text_content, from_address,"
        " scheduled_time, status, status_reason, created_at, updated_at, transport, subject_tag)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        {c.name, c.subject, c.htmlContent, c.textContent, c.fromAddress, nullable(c.scheduledTime),
         token(c.status), c.statusReason, c.createdAt, c.updatedAt, c.transport,
         std::int64_t(c.subjectTag ? 1 : 0)});
    if (rows.empty()) throw Error(ErrorCode::Failed, "database: INSERT returned no id");
    return rows.front().int64(0);
}

void SqlStore::updateCampaign(const Campaign& c) {
    const std::int64_t n = exec(
        "UPDATE campaigns SET name = $2, subject = $3, html_content = $4, text_content = $5,"
        " from_address = $6, scheduled_time = $7, status = $8, status_reason = $9, updated_at = $10,"
        " transport = $11, subject_tag = $12"
        " WHERE id = $1",
        {c.id, c.name, c.subject, c.htmlContent, c.textContent, c.fromAddress,
         nullable(c.scheduledTime), token(c.status), c.statusReason, c.updatedAt, c.transport,
         std::int64_t(c.subjectTag ? 1 : 0)});
    if (n == 0) throw Error(ErrorCode::NotFound, "campaign " + std::to_string(c.id) + " does not exist");
}

std::optional<Campaign> SqlStore::findCampaign(Id id) {
    const SqlRows rows = query(std::string(kCampaignSelect) + " WHERE c.id = $1", {id});
    if (rows.empty()) return std::nullopt;
    return campaignFrom(rows.front());
}

std::vector<Campaign> SqlStore::listCampaigns(std::optional<CampaignStatus> status) {
    const SqlRows rows =
        status ? query(std::string(kCampaignSelect) + " WHERE c.status = $1 ORDER BY c.id", {token(*status)})
               : query(std::string(kCampaignSelect) + " ORDER BY c.id");
    std::vector<Campaign> out;
    out.reserve(rows.size());
    for (const SqlRow& row : rows) out.push_back(campaignFrom(row));
    return out;
}

bool SqlStore::deleteCampaign(Id id) {
    // The ledger and its counters go with it (ON DELETE CASCADE); bounce records keep a NULL
    // campaign.
    return exec("DELETE FROM campaigns WHERE id = $1", {id}) > 0;
}

bool SqlStore::changeCampaignStatus(Id id, CampaignStatus from, CampaignStatus to,
                                    std::string_view reason, Usec now) {
    // One statement: the compare and the set cannot be separated by another writer.
    return exec("UPDATE campaigns SET status = $3, status_reason = $4, updated_at = $5"
                " WHERE id = $1 AND status = $2",
                {id, token(from), token(to), std::string(reason), now}) == 1;
}

std::vector<Id> SqlStore::dueCampaigns(Usec now) {
    const SqlRows rows = query(
        "SELECT id FROM campaigns WHERE status = 'scheduled' AND scheduled_time <= $1"
        " ORDER BY scheduled_time, id",
        {now});
    std::vector<Id> out;
    out.reserve(rows.size());
    for (const SqlRow& row : rows) out.push_back(row.int64(0));
    return out;
}

// ---- recipients ---------------------------------------------------------------------------

Id SqlStore::insertRecipient(const Recipient& r) {
    // ON CONFLICT instead of catching a unique violation: no error is raised, so a caller
    // inside a transaction (a CSV import skipping duplicates) can carry on, on both backends.
    const SqlRows rows = query(
        "INSERT INTO recipients (email, email_key, name, status, created_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email_key) DO NOTHING RETURNING id",
        {r.email, emailKey(r.email), r.name, token(r.status), r.createdAt});
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
    const SqlRows rows = query(std::string(kRecipientSelect) + " WHERE r.email_key = $1", {emailKey(email)});
    if (rows.empty()) return std::nullopt;
    Recipient r = recipientFrom(rows.front());
    r.groups = groupsOf(r.id);
    return r;
}

std::vector<Recipient> SqlStore::listRecipients(const RecipientFilter& filter) {
    if (filter.limit && *filter.limit < 0)
        throw Error(ErrorCode::InvalidArgument, "the limit must not be negative");
    if (filter.offset < 0) throw Error(ErrorCode::InvalidArgument, "the offset must not be negative");

    // The page, as a WHERE ... ORDER BY ... LIMIT text used twice: for the rows, and as the
    // id set whose group names the second query fetches (two queries for any page size).
    SqlParams params;
    std::string page = " WHERE 1 = 1";
    if (filter.group) {
        params.emplace_back(*filter.group);
        page += " AND r.id IN (SELECT gm.recipient_id FROM group_members gm"
                " JOIN recipient_groups g ON g.id = gm.group_id WHERE g.name = $" +
                std::to_string(params.size()) + ")";
    }
    if (filter.status) {
        params.push_back(token(*filter.status));
        page += " AND r.status = $" + std::to_string(params.size());
    }
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

// ---- the send ledger ----------------------------------------------------------------------

std::int64_t SqlStore::attachGroup(Id campaign, Id group) {
    std::int64_t added = 0;
    transaction([&] {
        // The WHERE clause is required by SQLite's parser for INSERT ... SELECT ... ON CONFLICT.
        added = exec("INSERT INTO campaign_recipients (campaign_id, recipient_id, recipient_email, status)"
                     " SELECT CAST($1 AS BIGINT), r.id, r.email, 'pending'"
                     " FROM group_members gm JOIN recipients r ON r.id = gm.recipient_id"
                     " WHERE gm.group_id = $2 AND r.status = 'subscribed'"
                     " ON CONFLICT (campaign_id, recipient_id) DO NOTHING",
                     {campaign, group});
        addCounts(0, {{campaign, CountDelta{.total = added, .pending = added}}});
    });
    return added;
}

Store::PeopleCount SqlStore::countPeople(std::span<const Id> groups, std::span<const Id> recipients) {
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
    for (const SqlRow& row : query("SELECT CASE WHEN r.status = 'subscribed' THEN 1 ELSE 0 END, COUNT(*)"
                                   " FROM recipients r WHERE " + where + " GROUP BY 1",
                                   params))
        (row.int64(0) == 1 ? n.subscribed : n.notSubscribed) = row.int64(1);
    return n;
}

bool SqlStore::attachRecipient(Id campaign, Id recipient) {
    std::int64_t added = 0;
    transaction([&] {
        added = exec("INSERT INTO campaign_recipients (campaign_id, recipient_id, recipient_email, status)"
                     " SELECT CAST($1 AS BIGINT), r.id, r.email, 'pending' FROM recipients r"
                     " WHERE r.id = $2 AND r.status = 'subscribed'"
                     " ON CONFLICT (campaign_id, recipient_id) DO NOTHING",
                     {campaign, recipient});
        addCounts(0, {{campaign, CountDelta{.total = added, .pending = added}}});
    });
    return added == 1;
}

// ---- the send ledger's sending side --------------------------------------------------------
// Every statement below is a compare-and-set on the row's status (and, for a worker's own
// rows, claimed_by): the WHERE clause names the state the transition starts from, so a row
// that another worker, a cancel or the recovery has moved meanwhile is not touched, and the
// count of changed rows tells the caller what happened.

void SqlStore::requireOwnTransaction(const char* what) const {
    if (depth_ > 0)
        throw Error(ErrorCode::Failed,
                    std::string("database: ") + what + " commits on its own and cannot run inside transaction()");
}

std::vector<ClaimedRecipient> SqlStore::claimBatch(Id campaign, std::string_view worker,
                                                   std::size_t limit, Usec now) {
    requireOwnTransaction("claimBatch");
    if (worker.empty()) throw Error(ErrorCode::InvalidArgument, "a claiming worker needs a name");
    std::vector<ClaimedRecipient> out;
    if (limit == 0) return out;
    // PostgreSQL: the subquery locks the rows it picks and skips rows another transaction has
    // locked, so two claimers never pick the same row and never wait for each other; the
    // lock is held until this transaction commits, when the rows are no longer pending.
    // SQLite: BEGIN IMMEDIATE already makes this transaction the only writer.
    const std::string lock = db_->dialect() == SqlDialect::PostgreSQL ? " FOR UPDATE SKIP LOCKED" : "";
    const std::string claimSql =
        "UPDATE campaign_recipients SET status = 'sending', claimed_by = $3, claimed_at = $2"
        " WHERE status = 'pending' AND id IN (SELECT id FROM campaign_recipients"
        " WHERE campaign_id = $1 AND status = 'pending'"
        " AND (next_attempt_at IS NULL OR next_attempt_at <= $2)"
        " ORDER BY id LIMIT $4" + lock + ") RETURNING id";
    constexpr std::size_t kRound = 500;  // bounds the id lists below (parameter limits)
    ledgerTransaction(true, [&] {
        out.clear();
        CountDelta delta;
        while (out.size() < limit) {
            const std::size_t want = std::min(kRound, limit - out.size());
            const SqlRows claimed = query(claimSql, {campaign, now, std::string(worker), std::int64_t(want)});
            if (claimed.empty()) break;
            delta.pending -= std::int64_t(claimed.size());
            delta.inFlight += std::int64_t(claimed.size());
            SqlParams ids;
            for (const SqlRow& row : claimed) ids.emplace_back(row.int64(0));
            const std::string list = placeholders(1, ids.size());
            // Who they are now: unsubscribed or deleted since they were attached -> skipped,
            // by the ids seen here (what is returned and what is skipped never overlap).
            SqlParams skip;
            for (const SqlRow& row : query("SELECT l.id, l.recipient_id, l.recipient_email, r.name, r.status, l.attempts"
                                           " FROM campaign_recipients l LEFT JOIN recipients r ON r.id = l.recipient_id"
                                           " WHERE l.id IN (" + list + ") ORDER BY l.id",
                                           ids)) {
                if (row.isNull(1) || row.isNull(4) || row.text(4) != toString(SubscriptionStatus::Subscribed))
                    skip.emplace_back(row.int64(0));
                else
                    out.push_back(ClaimedRecipient{row.int64(0), row.int64(1), row.text(2), row.text(3), row.int64(5)});
            }
            if (!skip.empty()) {
                const std::int64_t skipped =
                    exec("UPDATE campaign_recipients SET status = 'skipped', claimed_by = NULL, claimed_at = NULL,"
                         " last_error = CASE WHEN recipient_id IS NULL THEN 'recipient deleted'"
                         " WHEN (SELECT r.status FROM recipients r WHERE r.id = campaign_recipients.recipient_id)"
                         " = 'bounced' THEN 'bounced' ELSE 'unsubscribed' END"
                         " WHERE status = 'sending' AND id IN (" + placeholders(1, skip.size()) + ")",
                         skip);
                delta.inFlight -= skipped;
                delta.skipped += skipped;
            }
            if (claimed.size() < want) break;  // nothing more is due
        }
        addCounts(ledgerCounterSlot(worker), {{campaign, delta}});
    });
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.ledgerId < b.ledgerId; });
    return out;
}

std::vector<Id> SqlStore::markHandedOver(std::string_view worker, std::span<const HandOver> items) {
    requireOwnTransaction("markHandedOver");
    for (const HandOver& item : items)
        if (item.messageId.empty())
            throw Error(ErrorCode::InvalidArgument,
                        "ledger row " + std::to_string(item.ledgerId) + " has no Message-ID");
    std::vector<Id> moved;
    if (items.empty()) return moved;
    // QUEUE SAFETY. This commit is the line between "may be sent again" and "never sent
    // again". The sender calls the transport only for the ids returned here, and only after
    // this function returns, i.e. after the commit is durable: SQLite commits a WAL frame with
    // synchronous=FULL (fsync before COMMIT returns), and on PostgreSQL SET LOCAL
    // synchronous_commit = on makes COMMIT wait for the WAL flush even if the server or the
    // database default says otherwise. So once a message may have reached a server, the
    // database says handed_over, whatever crashes next; recoverInterrupted turns that into
    // unknown, never pending. A crash before the commit leaves sending, and no message left.
    // sending and handed_over are both counted in_flight: no counter changes here.
    ledgerTransaction(false, [&] {
        moved.clear();
        if (db_->dialect() == SqlDialect::PostgreSQL) exec("SET LOCAL synchronous_commit TO on");
        for (const HandOver& item : items)
            if (exec("UPDATE campaign_recipients SET status = 'handed_over', message_id = $3"
                     " WHERE id = $1 AND status = 'sending' AND claimed_by = $2",
                     {item.ledgerId, std::string(worker), item.messageId}) == 1)
                moved.push_back(item.ledgerId);
    });
    return moved;
}

std::int64_t SqlStore::recordOutcomes(std::string_view worker, std::span<const DeliveryOutcome> outcomes,
                                      Usec now) {
    requireOwnTransaction("recordOutcomes");
    std::int64_t applied = 0;
    if (outcomes.empty()) return applied;
    const std::string who(worker);
    ledgerTransaction(true, [&] {
        applied = 0;
        // Every outcome leaves in_flight (sending or handed_over) for one final or pending state;
        // RETURNING names the campaign of a row that moved (ids may span campaigns).
        CountDeltas deltas;
        const auto moved = [&](const SqlRows& rows, std::int64_t CountDelta::*to) {
            for (const SqlRow& row : rows) {
                CountDelta& d = deltas[row.int64(0)];
                d.inFlight -= 1;
                d.*to += 1;
                ++applied;
            }
        };
        for (const DeliveryOutcome& o : outcomes) {
            switch (o.kind) {
            case DeliveryOutcome::Kind::Sent:
                moved(query("UPDATE campaign_recipients SET status = 'sent', sent_at = $3,"
                            " attempts = attempts + 1"
                            " WHERE id = $1 AND claimed_by = $2 AND status = 'handed_over' RETURNING campaign_id",
                            {o.ledgerId, who, now}),
                      &CountDelta::sent);
                break;
            case DeliveryOutcome::Kind::Failed:
                // From sending: failed before any transport saw it (render error), no attempt.
                moved(query("UPDATE campaign_recipients SET status = 'failed', fail_reason = $3,"
                            " attempts = attempts + CASE WHEN status = 'handed_over' THEN 1 ELSE 0 END"
                            " WHERE id = $1 AND claimed_by = $2 AND status IN ('handed_over', 'sending')"
                            " RETURNING campaign_id",
                            {o.ledgerId, who, o.reason}),
                      &CountDelta::failed);
                break;
            case DeliveryOutcome::Kind::Deferred:
                // The server refused it (4xx) or the connection failed before it accepted the
                // message: sending it again later is safe, under a new Message-ID.
                moved(query("UPDATE campaign_recipients SET status = 'pending', attempts = attempts + 1,"
                            " next_attempt_at = $3, last_error = $4, message_id = NULL,"
                            " claimed_by = NULL, claimed_at = NULL"
                            " WHERE id = $1 AND claimed_by = $2 AND status = 'handed_over' RETURNING campaign_id",
                            {o.ledgerId, who, nullable(o.nextAttemptAt), o.reason}),
                      &CountDelta::pending);
                break;
            case DeliveryOutcome::Kind::Unknown:
                // The transport cannot say whether the server took it (a plugin's UNKNOWN, a
                // broken session after the data went out): final, never sent again.
                moved(query("UPDATE campaign_recipients SET status = 'unknown', last_error = $3,"
                            " attempts = attempts + 1"
                            " WHERE id = $1 AND claimed_by = $2 AND status = 'handed_over' RETURNING campaign_id",
                            {o.ledgerId, who, o.reason}),
                      &CountDelta::unknown);
                break;
            }
        }
        addCounts(ledgerCounterSlot(worker), deltas);
    });
    return applied;
}

RecoveredClaims SqlStore::recoverInterrupted(std::optional<std::string_view> worker) {
    requireOwnTransaction("recoverInterrupted");
    RecoveredClaims r;
    const std::string only = worker ? " AND claimed_by = $1" : "";
    const SqlParams params = worker ? SqlParams{std::string(*worker)} : SqlParams{};
    ledgerTransaction(false, [&] {
        r = {};
        // Only rows in flight change here: a bounded number, whatever the ledgers' size.
        CountDeltas deltas;
        // handed_over: the message may be at the server (the crash came after the durable
        // hand-over, before the outcome's commit). Sending it again could duplicate it, so
        // it is final: unknown, Message-ID kept for matching against the server's logs.
        for (const ChangedRows& c :
             changedRows("UPDATE campaign_recipients SET status = 'unknown',"
                         " last_error = 'interrupted after the hand-over to the transport; outcome unknown'"
                         " WHERE status = 'handed_over'" + only,
                         params)) {
            deltas[c.campaign].inFlight -= c.rows;
            deltas[c.campaign].unknown += c.rows;
            r.unknown += c.rows;
        }
        // sending: markHandedOver never committed, so no transport ever saw it.
        for (const ChangedRows& c :
             changedRows("UPDATE campaign_recipients SET status = 'pending', claimed_by = NULL, claimed_at = NULL"
                         " WHERE status = 'sending'" + only,
                         params)) {
            deltas[c.campaign].inFlight -= c.rows;
            deltas[c.campaign].pending += c.rows;
            r.released += c.rows;
        }
        addCounts(worker ? ledgerCounterSlot(*worker) : 0, deltas);
    });
    return r;
}

std::int64_t SqlStore::releaseClaims(Id campaign, std::string_view worker) {
    requireOwnTransaction("releaseClaims");
    std::int64_t released = 0;
    ledgerTransaction(false, [&] {
        released = exec("UPDATE campaign_recipients SET status = 'pending', claimed_by = NULL, claimed_at = NULL"
                        " WHERE campaign_id = $1 AND status = 'sending' AND claimed_by = $2",
                        {campaign, std::string(worker)});
        addCounts(ledgerCounterSlot(worker), {{campaign, CountDelta{.pending = released, .inFlight = -released}}});
    });
    return released;
}

std::int64_t SqlStore::cancelPending(Id campaign) {
    requireOwnTransaction("cancelPending");
    CountDelta delta;
    ledgerTransaction(false, [&] {
        delta = {};
        if (db_->dialect() == SqlDialect::PostgreSQL) {
            // One statement, as before counters were kept: a row a worker claims or releases
            // while this runs is re-checked by PostgreSQL against both states, so none escapes.
            // Which state a row left shows in claimed_by, which this leaves as it was: a
            // pending row never carries a claim (every move to pending clears it), a sending
            // row always does (claimBatch refuses an empty worker name).
            for (const ChangedRows& c :
                 changedRows("UPDATE campaign_recipients SET status = 'skipped', last_error = 'campaign cancelled'"
                             " WHERE campaign_id = $1 AND status IN ('pending', 'sending')",
                             {campaign}, "CASE WHEN claimed_by IS NULL THEN 0 ELSE 1 END")) {
                (c.kind == 0 ? delta.pending : delta.inFlight) -= c.rows;
                delta.skipped += c.rows;
            }
        } else {
            // SQLite: this transaction holds the only write lock, so two statements see the
            // same ledger as one would, and their row counts split the states.
            const std::int64_t pending = exec("UPDATE campaign_recipients SET status = 'skipped',"
                                              " last_error = 'campaign cancelled'"
                                              " WHERE campaign_id = $1 AND status = 'pending'",
                                              {campaign});
            const std::int64_t sending = exec("UPDATE campaign_recipients SET status = 'skipped',"
                                              " last_error = 'campaign cancelled'"
                                              " WHERE campaign_id = $1 AND status = 'sending'",
                                              {campaign});
            delta = CountDelta{.pending = -pending, .inFlight = -sending, .skipped = pending + sending};
        }
        addCounts(0, {{campaign, delta}});
    });
    return delta.skipped;
}

bool SqlStore::campaignHasWorkLeft(Id campaign) {
    return !query("SELECT 1 FROM campaign_recipients WHERE campaign_id = $1"
                  " AND status IN ('pending', 'sending', 'handed_over') LIMIT 1",
                  {campaign})
                .empty();
}

// ---- bounces ------------------------------------------------------------------------------

namespace {

constexpr const char* kBounceSelect =
    "SELECT b.id, b.campaign_id, b.recipient_id, b.recipient_email, b.status_code, b.reason, b.hard,"
    " b.action, b.diagnostic, b.remote_mta, b.message_id, b.source, b.notice_key, b.processed_at"
    " FROM bounce_records b";

BounceRecord bounceFrom(const SqlRow& row) {
    BounceRecord b;
    b.id = row.int64(0);
    b.campaignId = row.optionalInt64(1);
    b.recipientId = row.optionalInt64(2);
    b.recipientEmail = row.text(3);
    b.statusCode = row.text(4);
    b.reason = row.text(5);
    b.hard = row.int64(6) != 0;
    b.action = row.text(7);
    b.diagnostic = row.text(8);
    b.remoteMta = row.text(9);
    b.messageId = row.text(10);
    b.source = row.text(11);
    b.noticeKey = row.text(12);
    b.processedAt = row.int64(13);
    return b;
}

}  // namespace

std::optional<Id> SqlStore::insertBounce(const BounceRecord& b) {
    // ON CONFLICT on the unique (notice_key, recipient_email) index: a notice seen again (a
    // second fetch after a crash before \Seen, a second ingestion) records nothing and raises
    // no error, so the caller's transaction carries on, on both backends.
    SqlValue key = b.noticeKey.empty() ? SqlValue(std::monostate{}) : SqlValue(b.noticeKey);
    const SqlRows rows = query(
        "INSERT INTO bounce_records (campaign_id, recipient_id, recipient_email, status_code, reason,"
        " hard, action, diagnostic, remote_mta, message_id, source, notice_key, processed_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        " ON CONFLICT (notice_key, recipient_email) DO NOTHING RETURNING id",
        {nullable(b.campaignId), nullable(b.recipientId), b.recipientEmail, b.statusCode, b.reason,
         std::int64_t(b.hard ? 1 : 0), b.action, b.diagnostic, b.remoteMta, b.messageId, b.source,
         key, b.processedAt});
    if (rows.empty()) return std::nullopt;
    return rows.front().int64(0);
}

std::vector<BounceRecord> SqlStore::listBounces(const BounceFilter& filter) {
    if (filter.limit && *filter.limit < 0)
        throw Error(ErrorCode::InvalidArgument, "the limit must not be negative");
    if (filter.offset < 0) throw Error(ErrorCode::InvalidArgument, "the offset must not be negative");
    SqlParams params;
    std::string where = " WHERE 1 = 1";
    if (filter.campaign) {
        params.emplace_back(*filter.campaign);
        where += " AND b.campaign_id = $" + std::to_string(params.size());
    }
    if (filter.reason) {
        params.emplace_back(*filter.reason);
        where += " AND b.reason = $" + std::to_string(params.size());
    }
    params.emplace_back(filter.limit.value_or(std::numeric_limits<std::int64_t>::max()));
    where += " ORDER BY b.id DESC LIMIT $" + std::to_string(params.size());
    params.emplace_back(filter.offset);
    where += " OFFSET $" + std::to_string(params.size());
    std::vector<BounceRecord> out;
    for (const SqlRow& row : query(std::string(kBounceSelect) + where, params)) out.push_back(bounceFrom(row));
    return out;
}

std::optional<LedgerMatch> SqlStore::findLedgerByMessageId(std::string_view messageId) {
    if (messageId.empty()) return std::nullopt;
    const SqlRows rows = query("SELECT id, campaign_id, recipient_id, recipient_email FROM campaign_recipients"
                               " WHERE message_id = $1 ORDER BY id LIMIT 1",
                               {std::string(messageId)});
    if (rows.empty()) return std::nullopt;
    const SqlRow& row = rows.front();
    return LedgerMatch{row.int64(0), row.int64(1), row.optionalInt64(2), row.text(3)};
}

std::optional<Recipient> SqlStore::findRecipientById(Id id) {
    const SqlRows rows = query(std::string(kRecipientSelect) + " WHERE r.id = $1", {id});
    if (rows.empty()) return std::nullopt;
    Recipient r = recipientFrom(rows.front());
    r.groups = groupsOf(r.id);
    return r;
}

SuppressionChange SqlStore::changeSubscription(Id recipient, const std::function<void()>& change) {
    SuppressionChange c;
    auto read = [&](std::optional<SubscriptionStatus>& into) {
        const SqlRows rows = query("SELECT status, soft_bounce_count FROM recipients WHERE id = $1", {recipient});
        if (rows.empty()) return false;
        into = subscriptionStatusOf(rows.front(), 0);
        c.softBounceCount = rows.front().int64(1);
        return true;
    };
    transaction([&] {
        if (!read(c.before)) return;
        change();
        read(c.after);
    });
    return c;
}

SuppressionChange SqlStore::markRecipientBounced(Id recipient) {
    return changeSubscription(recipient, [&] {
        exec("UPDATE recipients SET status = 'bounced' WHERE id = $1 AND status = 'subscribed'", {recipient});
    });
}

SuppressionChange SqlStore::countSoftBounce(Id recipient, std::int64_t limit) {
    if (limit < 1) throw Error(ErrorCode::InvalidArgument, "the soft bounce limit must be at least 1");
    return changeSubscription(recipient, [&] {
        // One statement: the count and the compare-and-set on the status cannot be separated
        // by a concurrent bounce for the same recipient.
        exec("UPDATE recipients SET soft_bounce_count = soft_bounce_count + 1,"
             " status = CASE WHEN status = 'subscribed' AND soft_bounce_count + 1 >= $2"
             " THEN 'bounced' ELSE status END"
             " WHERE id = $1",
             {recipient, limit});
    });
}

void SqlStore::resetSoftBounces(Id recipient) {
    exec("UPDATE recipients SET soft_bounce_count = 0 WHERE id = $1 AND soft_bounce_count <> 0", {recipient});
}

SuppressionChange SqlStore::unsubscribeRecipient(Id recipient) {
    return changeSubscription(recipient, [&] {
        exec("UPDATE recipients SET status = 'unsubscribed' WHERE id = $1 AND status <> 'unsubscribed'",
             {recipient});
    });
}

// ---- reports ------------------------------------------------------------------------------

Dashboard SqlStore::dashboard() {
    Dashboard d;
    const SqlRows totals = query(
        "SELECT (SELECT COUNT(*) FROM recipients),"
        " (SELECT COUNT(*) FROM recipients WHERE status = 'subscribed'),"
        " (SELECT COUNT(*) FROM campaigns),"
        " (SELECT COUNT(*) FROM recipient_groups),"
        " s.sent, s.failed, s.pending, s.unknown, s.skipped, s.in_flight"
        // The kept counters of every campaign: a few rows per campaign, not every ledger row.
        " FROM (SELECT SUM(sent) AS sent, SUM(failed) AS failed, SUM(pending) AS pending,"
        " SUM(unknown) AS unknown, SUM(skipped) AS skipped, SUM(in_flight) AS in_flight"
        " FROM campaign_counts) s");
    if (!totals.empty()) {
        const SqlRow& row = totals.front();
        d.totalRecipients = row.int64(0);
        d.subscribedRecipients = row.int64(1);
        d.totalCampaigns = row.int64(2);
        d.totalGroups = row.int64(3);
        d.sent = row.int64(4);
        d.failed = row.int64(5);
        d.pending = row.int64(6);
        d.unknown = row.int64(7);
        d.skipped = row.int64(8);
        d.inFlight = row.int64(9);
    }
    std::map<std::string, std::int64_t> byToken;
    for (const SqlRow& row : query("SELECT status, COUNT(*) FROM campaigns GROUP BY status"))
        byToken[row.text(0)] = row.int64(1);
    // Every status, in the enum's order, zeros included: a stable shape for clients.
    for (CampaignStatus s : kAllCampaignStatuses) {
        auto it = byToken.find(std::string(toString(s)));
        d.campaignsByStatus.emplace_back(s, it == byToken.end() ? 0 : it->second);
    }
    return d;
}

CampaignSummary SqlStore::campaignSummary(Id campaign) {
    CampaignSummary s;
    s.campaignId = campaign;
    // The counts from the kept counters; only the failure reasons below group ledger rows.
    const SqlRows counts = query("SELECT SUM(total), SUM(sent), SUM(failed), SUM(pending), SUM(unknown),"
                                 " SUM(skipped), SUM(in_flight) FROM campaign_counts WHERE campaign_id = $1",
                                 {campaign});
    if (!counts.empty()) {
        const SqlRow& row = counts.front();
        s.total = row.int64(0);
        s.sent = row.int64(1);
        s.failed = row.int64(2);
        s.pending = row.int64(3);
        s.unknown = row.int64(4);
        s.skipped = row.int64(5);
        s.inFlight = row.int64(6);
    }
    s.successPercent = s.total == 0 ? 0.0 : double(s.sent) * 100.0 / double(s.total);
    for (const SqlRow& row : query("SELECT fail_reason, COUNT(*) FROM campaign_recipients"
                                   " WHERE campaign_id = $1 AND status = 'failed' GROUP BY fail_reason",
                                   {campaign}))
        s.failureReasons.emplace_back(row.text(0), row.int64(1));
    // Most frequent first; ties byte-wise by reason, the same on both backends.
    const auto byCount = [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    };
    std::sort(s.failureReasons.begin(), s.failureReasons.end(), byCount);
    // Bounces: failures and complaints; a delay or a success notice is not a bounce.
    for (const SqlRow& row : query("SELECT reason, COUNT(*) FROM bounce_records"
                                   " WHERE campaign_id = $1 AND action IN ('failed', 'complaint')"
                                   " GROUP BY reason",
                                   {campaign})) {
        s.bouncesByReason.emplace_back(row.text(0), row.int64(1));
        s.bounces += row.int64(1);
    }
    std::sort(s.bouncesByReason.begin(), s.bouncesByReason.end(), byCount);
    return s;
}

std::vector<LedgerProblem> SqlStore::campaignProblems(Id campaign, Id afterLedgerId, std::size_t limit) {
    std::vector<LedgerProblem> out;
    if (limit == 0) return out;
    for (const SqlRow& row : query("SELECT l.id, l.recipient_email, COALESCE(r.name, ''), l.status,"
                                   " CASE WHEN l.fail_reason <> '' THEN l.fail_reason ELSE l.last_error END,"
                                   " l.attempts"
                                   " FROM campaign_recipients l LEFT JOIN recipients r ON r.id = l.recipient_id"
                                   " WHERE l.campaign_id = $1 AND l.status IN ('failed', 'unknown') AND l.id > $2"
                                   " ORDER BY l.id LIMIT $3",
                                   {campaign, afterLedgerId, static_cast<std::int64_t>(limit)})) {
        LedgerProblem p;
        p.ledgerId = row.int64(0);
        p.email = row.text(1);
        p.name = row.text(2);
        p.status = row.text(3) == toString(DeliveryStatus::Unknown) ? DeliveryStatus::Unknown : DeliveryStatus::Failed;
        p.reason = row.text(4);
        p.attempts = row.int64(5);
        out.push_back(std::move(p));
    }
    return out;
}

// ---- bulk import --------------------------------------------------------------------------

std::unique_ptr<RecipientImport> SqlStore::beginImport(const ImportOptions& options) {
    if (depth_ > 0)
        throw Error(ErrorCode::Failed, "database: an import cannot run inside transaction()");
    return beginRecipientImport(*db_, options);
}

// ---- opening ------------------------------------------------------------------------------

std::unique_ptr<Store> openStore(const std::string& url) {
    return std::make_unique<SqlStore>(openSqlConnection(url));
}

}  // namespace campaignd::storage

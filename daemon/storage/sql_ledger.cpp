// sql_ledger.cpp: SendLedger over SQL (sql_store.h; the contract is send_ledger.h's).
// Every transition is a compare-and-set on the row's state (and claim owner); every one that
// moves rows between counted states adds its deltas to the kept counters in the same
// transaction; markHandedOver's commit waits for the disk (QUEUE SAFETY below), the claims and
// outcomes do not; conflicts the database aborts are run again (ledgerTransaction).
#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "storage/sql_store.h"
#include "storage/sql_values.h"

namespace campaignd::storage {

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
        // Which groups a campaign has (its List-Id comes from them), whether or not anyone new
        // was attached.
        exec("INSERT INTO campaign_groups (campaign_id, group_id) VALUES ($1, $2)"
             " ON CONFLICT (campaign_id, group_id) DO NOTHING",
             {campaign, group});
    });
    return added;
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
    // PostgreSQL: the picking query locks the rows it picks and skips rows another transaction
    // has locked, so two claimers never pick the same row and never wait for each other; the
    // lock is held until this transaction commits, when the rows are no longer pending. It is
    // a MATERIALIZED CTE, run exactly once: as a subquery of the UPDATE, the planner may run it
    // again for each row it joins (a plan chosen from the table's size and width: adding a
    // column to the ledger was enough), and every run skips the rows the earlier ones claimed
    // (updated by this very statement), so LIMIT n claimed more than n rows.
    // SQLite: BEGIN IMMEDIATE already makes this transaction the only writer.
    const std::string pick =
        "SELECT id FROM campaign_recipients WHERE campaign_id = $1 AND status = 'pending'"
        " AND (next_attempt_at IS NULL OR next_attempt_at <= $2) ORDER BY id LIMIT $4";
    const std::string update =
        "UPDATE campaign_recipients SET status = 'sending', claimed_by = $3, claimed_at = $2"
        " WHERE status = 'pending' AND id IN ";
    const std::string claimSql =
        db_->dialect() == SqlDialect::PostgreSQL
            ? "WITH picked AS MATERIALIZED (" + pick + " FOR UPDATE SKIP LOCKED) " + update +
                  "(SELECT id FROM picked) RETURNING id"
            : update + "(" + pick + ") RETURNING id";
    constexpr std::size_t kRound = 512;  // bounds the id lists below (parameter limits); a batchShape
    ledgerTransaction(true, [&] {
        out.clear();
        CountDelta delta;
        while (out.size() < limit) {
            const std::size_t want = std::min(kRound, limit - out.size());
            const SqlRows claimed = query(claimSql, {campaign, now, std::string(worker), std::int64_t(want)});
            if (claimed.empty()) break;
            delta.pending -= std::int64_t(claimed.size());
            delta.inFlight += std::int64_t(claimed.size());
            // The list in a batchShape (the last id repeated), so that few statements are prepared.
            SqlParams ids;
            const std::size_t shape = batchShape(claimed.size(), kRound);
            for (std::size_t i = 0; i < shape; ++i) ids.emplace_back(claimed[std::min(i, claimed.size() - 1)].int64(0));
            const std::string list = placeholders(1, shape);
            // Who they are now: unsubscribed or deleted since they were attached -> skipped,
            // by the ids seen here (what is returned and what is skipped never overlap).
            SqlParams skip{now};
            for (const SqlRow& row : query("SELECT l.id, l.recipient_id, l.recipient_email, r.name, r.status, l.attempts"
                                           " FROM campaign_recipients l LEFT JOIN recipients r ON r.id = l.recipient_id"
                                           " WHERE l.id IN (" + list + ") ORDER BY l.id",
                                           ids)) {
                if (row.isNull(1) || row.isNull(4) || row.text(4) != toString(SubscriptionStatus::Subscribed))
                    skip.emplace_back(row.int64(0));
                else
                    out.push_back(ClaimedRecipient{row.int64(0), row.int64(1), row.text(2), row.text(3), row.int64(5)});
            }
            if (skip.size() > 1) {
                const std::int64_t skipped =
                    exec("UPDATE campaign_recipients SET status = 'skipped', claimed_by = NULL, claimed_at = NULL,"
                         " outcome_at = $1, last_error = CASE WHEN recipient_id IS NULL THEN 'recipient deleted'"
                         " WHEN (SELECT r.status FROM recipients r WHERE r.id = campaign_recipients.recipient_id)"
                         " = 'bounced' THEN 'bounced' ELSE 'unsubscribed' END"
                         " WHERE status = 'sending' AND id IN (" + placeholders(2, skip.size() - 1) + ")",
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
    return handOverAndRecord(worker, items, {}, 0);
}

std::int64_t SqlStore::recordOutcomes(std::string_view worker, std::span<const LedgerOutcome> outcomes,
                                      Usec now) {
    requireOwnTransaction("recordOutcomes");
    std::int64_t applied = 0;
    if (outcomes.empty()) return applied;
    ledgerTransaction(true, [&] { applied = applyOutcomes(worker, outcomes, now); });
    return applied;
}

std::vector<Id> SqlStore::handOverAndRecord(std::string_view worker, std::span<const HandOver> items,
                                            std::span<const LedgerOutcome> outcomes, Usec now) {
    requireOwnTransaction("handOverAndRecord");
    for (const HandOver& item : items)
        if (item.messageId.empty())
            throw Error(ErrorCode::InvalidArgument,
                        "ledger row " + std::to_string(item.ledgerId) + " has no Message-ID");
    if (items.empty()) {
        recordOutcomes(worker, outcomes, now);
        return {};
    }
    // QUEUE SAFETY. This commit is the line between "may be sent again" and "never sent
    // again". The sender calls the transport only for the ids returned here, and only after
    // this function returns, i.e. after the commit is durable: SQLite commits a WAL frame with
    // synchronous=FULL (fsync before COMMIT returns), and on PostgreSQL SET LOCAL
    // synchronous_commit = on makes COMMIT wait for the WAL flush even if the server or the
    // database default says otherwise. So once a message may have reached a server, the
    // database says handed_over, whatever crashes next; recoverInterrupted turns that into
    // unknown, never pending. A crash before the commit leaves sending, and no message left.
    // sending and handed_over are both counted in_flight: no counter changes here. The
    // outcomes that came with it are recorded in the same transaction (all or nothing), so the
    // sender's steady state costs one commit per step, not two.
    // The rows move in statements of up to kBatch (batchShape), by a join on their ids.
    constexpr std::size_t kBatch = 256;
    std::vector<Id> changed;  // the rows the statements moved, in no particular order
    ledgerTransaction(false, [&] {
        changed.clear();
        if (db_->dialect() == SqlDialect::PostgreSQL) exec("SET LOCAL synchronous_commit TO on");
        applyOutcomes(worker, outcomes, now);
        for (std::size_t first = 0; first < items.size();) {
            const std::size_t left = items.size() - first, n = batchShape(left, kBatch);
            SqlParams params{std::string(worker)};
            params.reserve(1 + 2 * n);
            std::string values;
            for (std::size_t i = 0; i < n; ++i) {
                const HandOver& item = items[first + std::min(i, left - 1)];
                params.emplace_back(item.ledgerId);
                params.emplace_back(item.messageId);
                values += (i ? ", (CAST($" : "(CAST($") + std::to_string(2 * i + 2) + " AS BIGINT), $" +
                          std::to_string(2 * i + 3) + ")";
            }
            for (const SqlRow& row :
                 query("UPDATE campaign_recipients SET status = 'handed_over', message_id = h.column2"
                       " FROM (VALUES " + values + ") AS h"
                       " WHERE campaign_recipients.id = h.column1 AND campaign_recipients.status = 'sending'"
                       " AND campaign_recipients.claimed_by = $1 RETURNING campaign_recipients.id",
                       params))
                changed.push_back(row.int64(0));
            first += std::min(left, n);
        }
    });
    // In the order given (the contract): a row not moved (cancelled, recovered) is left out.
    std::sort(changed.begin(), changed.end());
    std::vector<Id> moved;
    for (const HandOver& item : items)
        if (std::binary_search(changed.begin(), changed.end(), item.ledgerId)) moved.push_back(item.ledgerId);
    return moved;
}

std::int64_t SqlStore::applyOutcomes(std::string_view worker, std::span<const LedgerOutcome> outcomes, Usec now) {
    std::int64_t applied = 0;
    if (outcomes.empty()) return applied;
    const std::string who(worker);
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
    // The common outcome, sent, in statements of up to kBatch ids (batchShape); the others,
    // each with its own reason, a statement each.
    constexpr std::size_t kBatch = 256;
    std::vector<Id> sent;
    for (const LedgerOutcome& o : outcomes)
        if (o.kind == LedgerOutcome::Kind::Sent) sent.push_back(o.ledgerId);
    for (std::size_t first = 0; first < sent.size();) {
        const std::size_t left = sent.size() - first, n = batchShape(left, kBatch);
        SqlParams params{who, now};
        params.reserve(2 + n);
        for (std::size_t i = 0; i < n; ++i) params.emplace_back(sent[first + std::min(i, left - 1)]);
        moved(query("UPDATE campaign_recipients SET status = 'sent', sent_at = $2, outcome_at = $2,"
                    " attempts = attempts + 1 WHERE claimed_by = $1 AND status = 'handed_over'"
                    " AND id IN (" + placeholders(3, n) + ") RETURNING campaign_id",
                    params),
              &CountDelta::sent);
        first += std::min(left, n);
    }
    for (const LedgerOutcome& o : outcomes) {
        switch (o.kind) {
        case LedgerOutcome::Kind::Sent:
            break;  // above
        case LedgerOutcome::Kind::Failed:
            // From sending: failed before any transport saw it (render error), no attempt.
            moved(query("UPDATE campaign_recipients SET status = 'failed', fail_reason = $3, outcome_at = $4,"
                        " attempts = attempts + CASE WHEN status = 'handed_over' THEN 1 ELSE 0 END"
                        " WHERE id = $1 AND claimed_by = $2 AND status IN ('handed_over', 'sending')"
                        " RETURNING campaign_id",
                        {o.ledgerId, who, o.reason, now}),
                  &CountDelta::failed);
            break;
        case LedgerOutcome::Kind::Deferred:
            // The server refused it (4xx) or the connection failed before it accepted the
            // message: sending it again later is safe, under a new Message-ID.
            moved(query("UPDATE campaign_recipients SET status = 'pending', attempts = attempts + 1,"
                        " next_attempt_at = $3, last_error = $4, outcome_at = $5, message_id = NULL,"
                        " claimed_by = NULL, claimed_at = NULL"
                        " WHERE id = $1 AND claimed_by = $2 AND status = 'handed_over' RETURNING campaign_id",
                        {o.ledgerId, who, nullable(o.nextAttemptAt), o.reason, now}),
                  &CountDelta::pending);
            break;
        case LedgerOutcome::Kind::Unknown:
            // The transport cannot say whether the server took it (a plugin's UNKNOWN, a
            // broken session after the data went out): final, never sent again.
            moved(query("UPDATE campaign_recipients SET status = 'unknown', last_error = $3, outcome_at = $4,"
                        " attempts = attempts + 1"
                        " WHERE id = $1 AND claimed_by = $2 AND status = 'handed_over' RETURNING campaign_id",
                        {o.ledgerId, who, o.reason, now}),
                  &CountDelta::unknown);
            break;
        }
    }
    addCounts(ledgerCounterSlot(worker), deltas);
    addActivity(ledgerCounterSlot(worker), now, deltas);
    return applied;
}

RecoveredClaims SqlStore::recoverInterrupted(std::optional<std::string_view> worker) {
    requireOwnTransaction("recoverInterrupted");
    if (!worker) return recoverClaims("", {}, 0);
    return recoverClaims(" AND claimed_by = $1", {std::string(*worker)}, ledgerCounterSlot(*worker));
}

RecoveredClaims SqlStore::recoverInstance(std::string_view instanceId) {
    requireOwnTransaction("recoverInstance");
    if (instanceId.empty() || instanceId.find(':') != std::string_view::npos)
        throw Error(ErrorCode::InvalidArgument, "instance id \"" + std::string(instanceId) + "\" is empty or holds ':'");
    // A prefix compared with substr, not LIKE: an instance id may hold '%' or '_'.
    const std::string prefix = std::string(instanceId) + ":";
    return recoverClaims(" AND substr(claimed_by, 1, length(CAST($1 AS TEXT))) = $1", {prefix},
                         ledgerCounterSlot(prefix));
}

RecoveredClaims SqlStore::recoverClaims(const std::string& only, const SqlParams& params, int counterSlot) {
    RecoveredClaims r;
    ledgerTransaction(false, [&] {
        r = {};
        // Only rows in flight change here: a bounded number, whatever the ledgers' size.
        CountDeltas deltas;
        // handed_over: the message may be at the server (the crash came after the durable
        // hand-over, before the outcome's commit). Sending it again could duplicate it, so
        // it is final: unknown, Message-ID kept for matching against the server's logs. Its
        // time is the claim's, just before the hand-over: the outcome itself is unknowable.
        // Grouped by the minute of that time: the messages per minute count them there.
        for (const ChangedRows& c :
             changedRows("UPDATE campaign_recipients SET status = 'unknown', outcome_at = claimed_at,"
                         " last_error = 'interrupted after the hand-over to the transport; outcome unknown'"
                         " WHERE status = 'handed_over'" + only,
                         params, "claimed_at - claimed_at % 60000000")) {
            deltas[c.campaign].inFlight -= c.rows;
            deltas[c.campaign].unknown += c.rows;
            r.unknown += c.rows;
            addActivity(counterSlot, c.kind, {{c.campaign, CountDelta{.unknown = c.rows}}});
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
        addCounts(counterSlot, deltas);
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

std::int64_t SqlStore::cancelPending(Id campaign, Usec now) {
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
                 changedRows("UPDATE campaign_recipients SET status = 'skipped', last_error = 'campaign cancelled',"
                             " outcome_at = $2 WHERE campaign_id = $1 AND status IN ('pending', 'sending')",
                             {campaign, now}, "CASE WHEN claimed_by IS NULL THEN 0 ELSE 1 END")) {
                (c.kind == 0 ? delta.pending : delta.inFlight) -= c.rows;
                delta.skipped += c.rows;
            }
        } else {
            // SQLite: this transaction holds the only write lock, so two statements see the
            // same ledger as one would, and their row counts split the states.
            const std::int64_t pending = exec("UPDATE campaign_recipients SET status = 'skipped',"
                                              " last_error = 'campaign cancelled', outcome_at = $2"
                                              " WHERE campaign_id = $1 AND status = 'pending'",
                                              {campaign, now});
            const std::int64_t sending = exec("UPDATE campaign_recipients SET status = 'skipped',"
                                              " last_error = 'campaign cancelled', outcome_at = $2"
                                              " WHERE campaign_id = $1 AND status = 'sending'",
                                              {campaign, now});
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

}  // namespace campaignd::storage

// sql_store.cpp: SqlStore's own machinery, once for both backends: opening, statements, nested
// transactions with savepoints (a failed statement aborts its level, on SQLite as on
// PostgreSQL), and the kept counters every ledger change updates in the same transaction. The
// roles' SQL lives beside it, one file per role (sql_campaigns.cpp ... sql_reports.cpp).
#include "storage/sql_store.h"

#include <chrono>
#include <map>

#include "core/error.h"
#include "core/metrics.h"
#include "storage/bulk_import.h"
#include "storage/migrations.h"

namespace campaignd::storage {

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

SqlStore::SqlStore(std::unique_ptr<SqlConnection> db) : db_(std::move(db)), backend_(db_->backendName()) {
    migrate(*db_);
}

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

void SqlStore::transactionWith(bool relaxed, const std::function<void()>& fn) {
    const Error abortedError(ErrorCode::Failed,
                             "database: the transaction was rolled back after an earlier error");
    if (depth_ == 0) {
        // The metric's time runs from BEGIN (its wait for a lock included) to the end of
        // COMMIT or ROLLBACK, whichever way the transaction ends.
        const auto began = std::chrono::steady_clock::now();
        struct Timed {
            const std::chrono::steady_clock::time_point began;
            const std::string& backend;
            ~Timed() {
                metrics::databaseTransaction(
                    backend, std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
            }
        } timed{began, backend_};
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

// ---- bulk import --------------------------------------------------------------------------

std::unique_ptr<RecipientImport> SqlStore::beginImport(const BulkImportOptions& options) {
    if (depth_ > 0)
        throw Error(ErrorCode::Failed, "database: an import cannot run inside transaction()");
    return beginRecipientImport(*db_, options);
}

// ---- opening ------------------------------------------------------------------------------

std::unique_ptr<Store> openStore(const std::string& url) {
    return std::make_unique<SqlStore>(openSqlConnection(url));
}

}  // namespace campaignd::storage

// sql_activity.cpp: the ledger's outcomes per minute (outcome_minutes, schema 12), for the
// dashboard's messages per minute. Promises: recordOutcomes (and handOverAndRecord) adds its
// outcomes to the minute of its `now` in its own transaction, recovery its unknowns to the
// minute of their claim (a rolled-back outcome counts nowhere), one upsert per
// campaign per call, never a statement per outcome; reads never touch the ledger. Refuses to
// keep history: rows older than two days are deleted, at most once a minute per store.
#include <string>
#include <vector>

#include "storage/sql_store.h"

namespace campaignd::storage {
namespace {

constexpr Usec kMinute = 60'000'000;
constexpr Usec kKept = Usec{2} * 24 * 60 * kMinute;  // two days: the dashboard shows one

// The first microsecond of the minute holding t (floor, also before the epoch).
Usec minuteOf(Usec t) { return t - ((t % kMinute) + kMinute) % kMinute; }

}  // namespace

// Called inside recordOutcomes' transaction with the deltas it already computed: an outcome
// moves a row from in flight to sent, failed, unknown, or back to pending (deferred). The
// worker's counter slot keeps concurrent workers of one campaign off one row lock on
// PostgreSQL, as campaign_counts does; deltas come in campaign id order, so two transactions
// lock their rows in the same order.
void SqlStore::addActivity(int slot, Usec now, const CountDeltas& deltas) {
    const Usec minute = minuteOf(now);
    if (minute != activityPrunedAt_) {
        // A new minute for this store: delete what has aged out, through the primary key's
        // prefix. If the transaction rolls back, the next minute deletes it.
        exec("DELETE FROM outcome_minutes WHERE minute_start < $1", {minute - kKept});
        activityPrunedAt_ = minute;
    }
    for (const auto& [campaign, d] : deltas) {
        if (d.sent == 0 && d.failed == 0 && d.unknown == 0 && d.pending == 0) continue;
        exec("INSERT INTO outcome_minutes (minute_start, campaign_id, slot, sent, failed, unknown, deferred)"
             " VALUES ($1, $2, $3, $4, $5, $6, $7)"
             " ON CONFLICT (minute_start, campaign_id, slot) DO UPDATE SET"
             " sent = outcome_minutes.sent + excluded.sent,"
             " failed = outcome_minutes.failed + excluded.failed,"
             " unknown = outcome_minutes.unknown + excluded.unknown,"
             " deferred = outcome_minutes.deferred + excluded.deferred",
             {minute, campaign, std::int64_t(slot), d.sent, d.failed, d.unknown, d.pending});
    }
}

std::vector<MinuteActivity> SqlStore::activitySince(Usec since) {
    std::vector<MinuteActivity> out;
    for (const SqlRow& row : query("SELECT minute_start, SUM(sent), SUM(failed), SUM(unknown), SUM(deferred)"
                                   " FROM outcome_minutes WHERE minute_start >= $1"
                                   " GROUP BY minute_start ORDER BY minute_start",
                                   {minuteOf(since)})) {
        MinuteActivity m{row.int64(0), row.int64(1), row.int64(2), row.int64(3), row.int64(4)};
        if (m.sent != 0 || m.failed != 0 || m.unknown != 0 || m.deferred != 0) out.push_back(m);
    }
    return out;
}

}  // namespace campaignd::storage

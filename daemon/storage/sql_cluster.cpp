// sql_cluster.cpp: SqlStore's ClusterStore role (cluster_store.h), the daemons table. The
// take-over is a compare-and-set per silent row (UPDATE ... WHERE the row is still silent and
// not taken over), so of two takers that read the same silent row only one UPDATE changes it:
// on PostgreSQL the second waits for the first's row lock and re-checks the condition (READ
// COMMITTED), on SQLite writers take turns.
#include "storage/sql_store.h"

namespace campaignd::storage {

void SqlStore::heartbeat(const DaemonRecord& self) {
    exec("INSERT INTO daemons (instance_id, host, pid, started_at, last_seen) VALUES ($1, $2, $3, $4, $5)"
         " ON CONFLICT (instance_id) DO UPDATE SET host = excluded.host, pid = excluded.pid,"
         " started_at = excluded.started_at, last_seen = excluded.last_seen,"
         " taken_over_by = NULL, taken_over_at = NULL",
         {self.instanceId, self.host, self.pid, self.startedAt, self.lastSeen});
}

std::vector<DaemonRecord> SqlStore::listDaemons() {
    std::vector<DaemonRecord> out;
    for (const SqlRow& row : query("SELECT instance_id, host, pid, started_at, last_seen, taken_over_by,"
                                   " taken_over_at FROM daemons ORDER BY instance_id")) {
        DaemonRecord d;
        d.instanceId = row.text(0);
        d.host = row.text(1);
        d.pid = row.int64(2);
        d.startedAt = row.int64(3);
        d.lastSeen = row.int64(4);
        d.takenOverBy = row.text(5);
        d.takenOverAt = row.optionalInt64(6);
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<std::string> SqlStore::takeOverSilent(std::string_view taker, Usec silentSince, Usec now) {
    std::vector<std::string> won;
    const SqlRows silent = query("SELECT instance_id, last_seen FROM daemons WHERE last_seen < $1"
                                 " AND taken_over_by IS NULL AND instance_id <> $2 ORDER BY instance_id",
                                 {silentSince, std::string(taker)});
    for (const SqlRow& row : silent) {
        const std::string id = row.text(0);
        // Still silent since we looked (same last_seen) and nobody took it meanwhile.
        if (exec("UPDATE daemons SET taken_over_by = $1, taken_over_at = $2"
                 " WHERE instance_id = $3 AND last_seen = $4 AND taken_over_by IS NULL",
                 {std::string(taker), now, id, row.int64(1)}) == 1)
            won.push_back(id);
    }
    return won;
}

}  // namespace campaignd::storage

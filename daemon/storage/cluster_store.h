// cluster_store.h: the cluster role of storage (table daemons): every campaignd sharing one
// database keeps a heartbeat row (instance id, host, pid, started, last seen), and a daemon
// whose heartbeat stopped is taken over by exactly one of the others: the take-over is one
// atomic UPDATE of the silent daemon's row, so of several daemons that try at once one wins and
// the others see nothing to do. What the winner then does with the silent daemon's claims
// (SendLedger::recoverInstance) is the services' business. Errors as in store.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "storage/transactional.h"

namespace campaignd::storage {

// One daemon that shares (or shared) the database.
struct DaemonRecord {
    std::string instanceId;  // the prefix of its workers' claimed_by ("<instance id>:...")
    std::string host;
    std::int64_t pid = 0;
    Usec startedAt = 0;
    Usec lastSeen = 0;
    // Set when another daemon took it over after its heartbeat stopped (cleared when it beats
    // again, e.g. after a restart with the same instance id).
    std::string takenOverBy;
    std::optional<Usec> takenOverAt;
};

class ClusterStore : public virtual Transactional {
public:
    // Inserts or refreshes the daemon's row: host, pid, started and last seen as given; a
    // take-over mark is cleared (the daemon is alive again).
    virtual void heartbeat(const DaemonRecord& self) = 0;
    // Every daemon row, by instance id.
    virtual std::vector<DaemonRecord> listDaemons() = 0;
    // Takes over every daemon other than `taker` whose last heartbeat is older than
    // `silentSince` and that nobody took over yet: marks it taken over by `taker` at `now` in
    // one UPDATE per row, compare-and-set on its last seen and mark, and returns the instance
    // ids this call marked. Two takers at the same moment get disjoint results.
    virtual std::vector<std::string> takeOverSilent(std::string_view taker, Usec silentSince, Usec now) = 0;
};

}  // namespace campaignd::storage

// cluster_service.h: several campaignd daemons on one PostgreSQL database (issue 14 item 4).
// Each daemon beats a heartbeat into the daemons table every second; one that has been silent
// for longer than [Sending] ClaimLease= is taken over by exactly one of the others (an atomic
// UPDATE of its row: storage/cluster_store.h), which then does what the silent daemon's own
// restart would have done: SendLedger::recoverInstance of its instance id (its claimed rows not
// handed over go back to pending and are sent by whoever runs the campaign, its handed-over
// rows not recorded become unknown, never resent). It refuses to take over itself, and a
// daemon taken over by mistake (silent but alive) loses nothing but those outcomes: its later
// hand-overs and outcomes are refused by the ledger's compare-and-sets. Call on the io thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "storage/cluster_store.h"
#include "storage/send_ledger.h"

namespace campaignd::services {

struct ClusterMember {
    std::string instanceId;  // the engine's: the prefix of its workers' claimed_by
    std::string host;
    std::int64_t pid = 0;
    Usec startedAt = 0;
};

class ClusterService {
public:
    ClusterService(storage::ClusterStore& daemons, storage::SendLedger& ledger, ClusterMember self, Usec claimLease,
                   Clock clock);

    // This daemon's heartbeat; then every daemon silent for longer than the lease that this
    // one wins is taken over and its claims recovered. Returns the instance ids taken over.
    // The daemons the silent ones had taken over are recovered again with them (a taker that
    // died between its mark and its recovery). Throws Error(Failed) from the database (the
    // next beat tries again; a take-over whose recovery failed is recovered by the dead
    // daemon's own restart, or with the daemon that took it over once that one falls silent).
    std::vector<std::string> beat();
    // Every daemon sharing the database, by instance id (this one included, last seen now).
    std::vector<storage::DaemonRecord> daemons();
    const ClusterMember& self() const { return self_; }

private:
    storage::ClusterStore& daemons_;
    storage::SendLedger& ledger_;
    ClusterMember self_;
    Usec lease_;
    Clock clock_;
};

}  // namespace campaignd::services

// cluster_service.cpp: see cluster_service.h. The order is what keeps a take-over safe: the
// row is marked first (only one daemon wins it), then the claims are recovered; recovery is a
// compare-and-set on each row's state and owner, so it is harmless even if run twice.
#include "services/cluster_service.h"

#include <algorithm>

#include "core/log.h"

namespace campaignd::services {

ClusterService::ClusterService(storage::ClusterStore& daemons, storage::SendLedger& ledger, ClusterMember self,
                               Usec claimLease, Clock clock)
    : daemons_(daemons), ledger_(ledger), self_(std::move(self)), lease_(claimLease), clock_(std::move(clock)) {}

std::vector<std::string> ClusterService::beat() {
    const Usec now = clock_();
    storage::DaemonRecord me;
    me.instanceId = self_.instanceId;
    me.host = self_.host;
    me.pid = self_.pid;
    me.startedAt = self_.startedAt;
    me.lastSeen = now;
    daemons_.heartbeat(me);
    const auto won = daemons_.takeOverSilent(self_.instanceId, now - lease_, now);
    if (won.empty()) return won;
    // A silent daemon may itself have died between marking a take-over and recovering it:
    // what it took over is recovered again with it (recovery of rows already recovered
    // changes nothing), following the chain of take-overs.
    std::vector<std::string> recover = won;
    const auto rows = daemons_.listDaemons();
    for (std::size_t i = 0; i < recover.size(); ++i)
        for (const auto& d : rows)
            if (d.takenOverBy == recover[i] &&
                std::find(recover.begin(), recover.end(), d.instanceId) == recover.end())
                recover.push_back(d.instanceId);
    for (const auto& silent : recover) {
        const auto recovered = ledger_.recoverInstance(silent);
        if (recovered.unknown + recovered.released > 0 ||
            std::find(won.begin(), won.end(), silent) != won.end())
            log::notice("took over a silent daemon's claims", {{"INSTANCE_ID", silent},
                                                               {"UNKNOWN", std::to_string(recovered.unknown)},
                                                               {"RELEASED", std::to_string(recovered.released)}});
    }
    return won;
}

std::vector<storage::DaemonRecord> ClusterService::daemons() {
    auto all = daemons_.listDaemons();
    // The daemon answering is seen now, whenever it last beat (a lone SQLite daemon beats once).
    for (auto& d : all)
        if (d.instanceId == self_.instanceId) d.lastSeen = std::max(d.lastSeen, clock_());
    return all;
}

}  // namespace campaignd::services

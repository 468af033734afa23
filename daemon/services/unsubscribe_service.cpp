// unsubscribe_service.cpp: see unsubscribe_service.h. The rule is storage's compare-and-set
// (SuppressionStore::recordUnsubscribe); this adds the clock and the NotFound.
#include "services/unsubscribe_service.h"

#include <string>

#include "core/error.h"
#include "core/metrics.h"

namespace campaignd::services {

UnsubscribeService::UnsubscribeService(storage::SuppressionStore& store, Clock clock)
    : store_(store), clock_(clock ? std::move(clock) : Clock(systemNow)) {}

UnsubscribeOutcome UnsubscribeService::unsubscribe(Id recipient, std::optional<Id> campaign, UnsubscribeSource how) {
    const storage::UnsubscribeChange change = store_.recordUnsubscribe(recipient, campaign, how, clock_());
    if (!change.before) throw Error(ErrorCode::NotFound, "recipient " + std::to_string(recipient) + " does not exist");
    // Counted when the change is made; a caller's transaction that rolls back afterwards (rare:
    // a database failure) leaves the counter one ahead.
    if (change.changed) metrics::unsubscribed(toString(how));
    return UnsubscribeOutcome{change.changed, change.record};
}

}  // namespace campaignd::services

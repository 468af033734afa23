// sending_guard.h: the campaign that stops itself (issue 12 item 5). While a campaign sends,
// the guard keeps its tally (attempts and deliveries from the engine's recorded outcomes, hard
// bounces and complaints from the bounce rules as they record them) in memory, so counting
// costs an addition per outcome, never a query. When the tally passes a limit
// (rules::guardVerdict) it calls `trip` once for that campaign; the sending rules pause it.
// A campaign's tally is read from the store (its kept ledger counters and one count of its
// bounce records) each time watching starts: when it starts sending, when it is resumed, and
// when the daemon starts again and it goes on sending, so a restart loses nothing. Only armed
// campaigns are watched. Bounce records that were not allowed to act (a notice that did not
// prove itself, see bounce_service.h) are not counted: a forged notice cannot stop a campaign.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/model.h"
#include "rules/sending_guard.h"
#include "services/bounce_service.h"
#include "storage/bounce_store.h"

namespace campaignd::services {

class SendingGuard {
public:
    // Called at most once per watch of a campaign, on the thread that reported the outcome or
    // bounce that passed the limit, outside the guard's lock. Must not throw; should post the
    // pause to the thread the sending rules run on.
    using Trip = std::function<void(Id campaign, const std::string& reason)>;

    // `counts` is read only by watch(), on the caller's thread (the io thread).
    SendingGuard(rules::GuardLimits limits, storage::BounceStore& counts, Trip trip);

    // Starts watching an In Progress campaign whose guard is armed (others: stops watching it),
    // its tally read afresh from the store; trips at once if the tally already passes a limit.
    void watch(const Campaign& campaign);
    void unwatch(Id campaign);

    // From any thread. Outcomes: final transport outcomes recorded for the campaign (attempts:
    // sent + failed + unknown; delivered: sent). A bounce counts when it was recorded, allowed
    // to act and names a watched campaign: a hard bounce, or a complaint.
    void outcomes(Id campaign, std::int64_t attempts, std::int64_t delivered);
    void bounceRecorded(const BounceOutcome& bounce);

    // The tally of a watched campaign, else nullopt.
    std::optional<rules::GuardTally> tally(Id campaign) const;
    const rules::GuardLimits& limits() const { return limits_; }

private:
    struct Watched {
        rules::GuardTally tally;
        bool tripped = false;
    };
    template <typename Change>
    void update(Id campaign, Change&& change);

    rules::GuardLimits limits_;
    storage::BounceStore& counts_;
    Trip trip_;
    mutable std::mutex mutex_;
    std::map<Id, Watched> watched_;
};

}  // namespace campaignd::services

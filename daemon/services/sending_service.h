// sending_service.h: the rules for sending a campaign (issue 3, items 4 and 6): Send starts a
// draft or scheduled campaign now; RunScheduled starts every scheduled campaign whose time has
// come (the original run_scheduled_campaigns); Pause, Resume and Cancel; the engine's reports
// (no work left: Completed, then the completion listeners; a transport failure that needs a
// person: Paused with the reason). Every status change goes through CampaignService::transition
// (the one table of legal transitions, a compare-and-set in the store); the engine only runs
// senders and is told to start and stop through DeliveryControl. Call on one thread (the io
// thread): it uses the daemon's main store. Several daemons may share the database: each one
// follows the others' status changes (follow()), and a campaign completes on whichever daemon
// finds no work left first (the transition is a compare-and-set, so exactly once).
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/model.h"
#include "services/campaign_service.h"
#include "services/sending_guard.h"
#include "storage/send_ledger.h"

namespace campaignd::services {

// What the sending rules need from the delivery engine.
class DeliveryControl {
public:
    virtual ~DeliveryControl() = default;
    // Throws Error (InvalidArgument, with a sentence) if the campaign cannot be sent: unknown
    // transport, transport plugin not running, a template that does not compile.
    virtual void check(const Campaign& campaign) = 0;
    virtual void start(const Campaign& campaign) = 0;  // same errors
    virtual void stop(Id campaign) = 0;
    // Whether this daemon runs (or is still stopping) the campaign's senders.
    virtual bool running(Id campaign) const = 0;
};

// Called once per campaign that completes, after the status change committed (the report
// mailer hooks in here). Must not throw; an exception is logged and dropped.
using CompletionListener = std::function<void(const Campaign& completed)>;

class SendingService {
public:
    SendingService(storage::SendLedger& ledger, CampaignService& campaigns, DeliveryControl& delivery);

    void addCompletionListener(CompletionListener listener);
    // The sending guard, told when each campaign starts and stops sending (none: no guard).
    void setGuard(SendingGuard* guard) { guard_ = guard; }

    // Draft or Scheduled -> In Progress, and sending starts. InvalidState otherwise, or when
    // nobody is attached; InvalidArgument when it cannot be sent (nothing changes then).
    Campaign send(Id id);
    // Starts every Scheduled campaign whose time has come. One that cannot be sent goes to
    // Paused with the reason ("could not start: ...") and is logged; the others still start.
    struct ScheduledRun {
        std::vector<Id> started;
        std::vector<std::pair<Id, std::string>> notStarted;  // and why
    };
    ScheduledRun runScheduled();
    // In Progress -> Paused: no hand-over after the senders see it (within a second).
    Campaign pause(Id id, const std::string& reason = "paused by an administrator");
    // Paused -> In Progress, and sending goes on where it stopped. A campaign the sending guard
    // paused is refused (InvalidState, saying why and how to force it) unless `force`; a forced
    // resume turns the guard off for the rest of the campaign (whatever paused it).
    Campaign resume(Id id, bool force = false);
    // Draft, Scheduled, In Progress or Paused -> Cancelled; every recipient not yet handed to
    // the transport becomes skipped ("campaign cancelled"), so the counts still add up.
    Campaign cancel(Id id);

    // From the engine (io thread).
    void runFinished(Id id);  // no work left: In Progress -> Completed, listeners told
    void transportNeedsAttention(Id id, const std::string& reason);  // -> Paused with the reason
    // From the sending guard (posted to the io thread): an In Progress campaign whose guard is
    // armed -> Paused with "bounce guard: <reason>", its guard tripped; logged as a warning.
    void guardTripped(Id id, const std::string& reason);
    // At start-up, after the engine's recovery: campaigns left In Progress go on sending.
    void resumeInterrupted();
    // A cluster (several daemons on one database; see cluster_service.h): makes this daemon's
    // senders follow what the database says of every campaign, whichever daemon changed it.
    // An In Progress campaign with pending recipients that this daemon does not run starts
    // here too; one it runs that is no longer In Progress (paused, cancelled, completed or
    // deleted through another daemon) stops here; an In Progress campaign with no work left
    // on any daemon (nothing pending, nothing in flight) and no run here completes. Called
    // with every campaign of the database (on the io thread, every second and on a notice).
    void follow(const std::vector<Campaign>& all);

private:
    // In Progress -> Completed and the listeners, unless another daemon completed it first.
    void complete(Id id);

    storage::SendLedger& ledger_;
    CampaignService& campaigns_;
    DeliveryControl& delivery_;
    std::vector<CompletionListener> listeners_;
    SendingGuard* guard_ = nullptr;
    std::set<Id> cannotFollow_;  // In Progress campaigns this daemon failed to start in follow()
};

}  // namespace campaignd::services

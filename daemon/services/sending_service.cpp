// sending_service.cpp: see sending_service.h. The order in each rule is what keeps it safe:
// send() checks that the campaign can be sent before its status changes, so a refusal changes
// nothing; pause() and cancel() change the status first and then stop the senders, so a
// sender that is slow to stop can hand over nothing new (cancelPending makes its claimed rows
// skipped, and markHandedOver refuses rows it no longer holds).
#include "services/sending_service.h"

#include "core/error.h"
#include "core/log.h"

namespace campaignd::services {

using S = CampaignStatus;

SendingService::SendingService(storage::SendLedger& ledger, CampaignService& campaigns, DeliveryControl& delivery)
    : ledger_(ledger), campaigns_(campaigns), delivery_(delivery) {}

void SendingService::addCompletionListener(CompletionListener listener) {
    listeners_.push_back(std::move(listener));
}

Campaign SendingService::send(Id id) {
    const Campaign c = campaigns_.get(id);
    if (c.status != S::Draft && c.status != S::Scheduled)
        throw Error(ErrorCode::InvalidState,
                    "campaign " + std::to_string(id) + " is " + std::string(displayName(c.status)) +
                        "; only a draft or scheduled campaign can be sent" +
                        (c.status == S::Paused ? " (resume it instead)" : ""));
    // Sending nobody would complete the campaign at once (and mail a "0 of 0" report), after
    // which nobody could be attached any more: almost certainly a forgotten attach.
    if (c.recipientCount == 0)
        throw Error(ErrorCode::InvalidState, "campaign " + std::to_string(id) +
                                                 " has nobody attached; attach a group or recipients first "
                                                 "(campaign attach)");
    delivery_.check(c);
    const Campaign started = campaigns_.transition(id, S::InProgress);
    try {
        delivery_.start(started);
    } catch (const std::exception& e) {
        return campaigns_.transition(id, S::Paused, std::string("cannot start sending: ") + e.what());
    }
    if (guard_) guard_->watch(started);
    log::info("campaign sending", {{"CAMPAIGN_ID", std::to_string(id)},
                                   {"RECIPIENTS", std::to_string(started.recipientCount)}});
    return started;
}

SendingService::ScheduledRun SendingService::runScheduled() {
    ScheduledRun run;
    for (const Id id : campaigns_.dueCampaigns()) {
        try {
            send(id);
            run.started.push_back(id);
        } catch (const Error& e) {
            // Left scheduled, it would be tried (and fail) every minute with nothing to show for
            // it but the journal: paused with the reason, it says on its status what is wrong.
            const std::string reason = std::string("could not start: ") + e.what();
            log::warning("scheduled campaign not started: " + std::string(e.what()),
                         {{"CAMPAIGN_ID", std::to_string(id)}});
            try {
                campaigns_.transition(id, S::Paused, reason);
            } catch (const Error& changed) {  // cancelled or unscheduled meanwhile: leave it so
                log::info(std::string("scheduled campaign changed meanwhile: ") + changed.what(),
                          {{"CAMPAIGN_ID", std::to_string(id)}});
            }
            run.notStarted.emplace_back(id, e.what());
        }
    }
    return run;
}

Campaign SendingService::pause(Id id, const std::string& reason) {
    const Campaign paused = campaigns_.transition(id, S::Paused, reason);
    if (guard_) guard_->unwatch(id);
    delivery_.stop(id);
    log::info("campaign paused", {{"CAMPAIGN_ID", std::to_string(id)}, {"REASON", reason}});
    return paused;
}

Campaign SendingService::resume(Id id, bool force) {
    const Campaign c = campaigns_.get(id);
    if (c.status != S::Paused)
        throw Error(ErrorCode::InvalidState, "campaign " + std::to_string(id) + " is " +
                                                 std::string(displayName(c.status)) + "; only a paused campaign can be resumed");
    if (c.guard == BounceGuard::Tripped && !force)
        throw Error(ErrorCode::InvalidState,
                    "campaign " + std::to_string(id) + " was paused by the " + c.statusReason +
                        "; its list may be bad: clean it, or resume with --force to send anyway (the guard "
                        "then stays off for the rest of this campaign)");
    if (c.recipientCount == 0)  // paused by the scheduler before anything was attached
        throw Error(ErrorCode::InvalidState, "campaign " + std::to_string(id) + " has nobody attached");
    delivery_.check(c);
    const Campaign resumed =
        campaigns_.transition(id, S::InProgress, {}, force ? std::optional(BounceGuard::Off) : std::nullopt);
    try {
        delivery_.start(resumed);
    } catch (const std::exception& e) {
        return campaigns_.transition(id, S::Paused, std::string("cannot start sending: ") + e.what());
    }
    if (guard_) guard_->watch(resumed);
    log::info(force ? "campaign resumed with --force; the sending guard is off for it" : "campaign resumed",
              {{"CAMPAIGN_ID", std::to_string(id)}});
    return resumed;
}

Campaign SendingService::cancel(Id id) {
    const Campaign cancelled = campaigns_.transition(id, S::Cancelled, "cancelled by an administrator");
    if (guard_) guard_->unwatch(id);
    delivery_.stop(id);
    const auto skipped = ledger_.cancelPending(id, cancelled.updatedAt);
    log::info("campaign cancelled", {{"CAMPAIGN_ID", std::to_string(id)}, {"SKIPPED", std::to_string(skipped)}});
    return campaigns_.countsChanged(id);
}

void SendingService::runFinished(Id id) {
    const Campaign c = campaigns_.get(id);
    if (c.status != S::InProgress) return;  // paused or cancelled meanwhile
    if (ledger_.campaignHasWorkLeft(id)) {
        // A retry became pending after the senders looked, or another daemon sharing the
        // database still has recipients in flight (whose outcome may be a retry): carry on.
        delivery_.start(c);
        return;
    }
    complete(id);
}

void SendingService::complete(Id id) {
    Campaign done;
    try {
        done = campaigns_.transition(id, S::Completed);
    } catch (const Error& e) {
        // Another daemon sharing the database completed (or paused) it between our read and
        // the compare-and-set: it tells the listeners, not us.
        if (e.code() != ErrorCode::InvalidState) throw;
        log::debug(std::string("campaign changed before it could complete: ") + e.what(),
                   {{"CAMPAIGN_ID", std::to_string(id)}});
        return;
    }
    if (guard_) guard_->unwatch(id);
    log::info("campaign completed", {{"CAMPAIGN_ID", std::to_string(id)},
                                     {"SENT", std::to_string(done.sentCount)},
                                     {"FAILED", std::to_string(done.failedCount)},
                                     {"UNKNOWN", std::to_string(done.unknownCount)},
                                     {"SKIPPED", std::to_string(done.skippedCount)}});
    for (const auto& listener : listeners_) {
        try {
            listener(done);
        } catch (const std::exception& e) {
            log::error(std::string("a completion listener failed: ") + e.what(), {{"CAMPAIGN_ID", std::to_string(id)}});
        }
    }
}

void SendingService::transportNeedsAttention(Id id, const std::string& reason) {
    const Campaign c = campaigns_.get(id);
    if (c.status != S::InProgress) return;
    // Status reasons are one header-safe line.
    std::string line;
    for (char ch : reason) line += (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ? ' ' : ch;
    if (line.size() > 900) {
        std::size_t n = 900;
        while (n > 0 && (static_cast<unsigned char>(line[n]) & 0xC0) == 0x80) --n;  // whole UTF-8 characters
        line.resize(n);
    }
    pause(id, line);
}

void SendingService::guardTripped(Id id, const std::string& reason) {
    const Campaign c = campaigns_.get(id);
    if (c.status != S::InProgress || c.guard != BounceGuard::Armed) return;  // changed meanwhile
    const std::string why = "sending guard: " + reason;
    try {
        campaigns_.transition(id, S::Paused, why, BounceGuard::Tripped);
    } catch (const Error& e) {  // paused or cancelled in between
        log::info(std::string("sending guard: campaign changed meanwhile: ") + e.what(), {{"CAMPAIGN_ID", std::to_string(id)}});
        return;
    }
    if (guard_) guard_->unwatch(id);
    delivery_.stop(id);
    log::warning("campaign paused by the sending guard: " + reason,
                 {{"CAMPAIGN_ID", std::to_string(id)}, {"REASON", why}});
}

void SendingService::follow(const std::vector<Campaign>& all) {
    for (const Campaign& c : all) {
        const bool here = delivery_.running(c.id);
        if (c.status != S::InProgress) {
            if (here) {
                if (guard_) guard_->unwatch(c.id);
                delivery_.stop(c.id);
                // Changed through another daemon, or through this one while its run stops.
                log::debug("campaign no longer in progress: stopping its senders here",
                           {{"CAMPAIGN_ID", std::to_string(c.id)},
                            {"CAMPAIGN_STATUS", std::string(toString(c.status))}});
            }
            continue;
        }
        if (here) continue;
        if (c.pendingCount > 0) {
            try {
                delivery_.start(c);
                if (guard_) guard_->watch(c);
                cannotFollow_.erase(c.id);
                log::info("campaign sending here too", {{"CAMPAIGN_ID", std::to_string(c.id)}});
            } catch (const std::exception& e) {
                // This daemon cannot send it (its transport is not configured here, ...): the
                // others still do. Said once per campaign, not every second.
                if (cannotFollow_.insert(c.id).second)
                    log::warning(std::string("cannot take part in sending: ") + e.what(),
                                 {{"CAMPAIGN_ID", std::to_string(c.id)}});
            }
        } else if (c.inFlightCount == 0 && !ledger_.campaignHasWorkLeft(c.id)) {
            complete(c.id);  // e.g. the last recipients of a daemon taken over became unknown
        }
    }
    // A campaign deleted through another daemon is not sending (only one that is not can be
    // deleted), so no run here can be left without its campaign.
}

void SendingService::resumeInterrupted() {
    for (const Campaign& c : campaigns_.list(S::InProgress)) {
        try {
            delivery_.start(c);
            if (guard_) guard_->watch(c);
            log::info("campaign sending again after a restart", {{"CAMPAIGN_ID", std::to_string(c.id)}});
        } catch (const std::exception& e) {
            log::warning(std::string("cannot go on sending after a restart: ") + e.what(),
                         {{"CAMPAIGN_ID", std::to_string(c.id)}});
            try {
                campaigns_.transition(c.id, S::Paused, std::string("cannot start sending: ") + e.what());
            } catch (const std::exception&) {
            }
        }
    }
}

}  // namespace campaignd::services

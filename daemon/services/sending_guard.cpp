// sending_guard.cpp: see sending_guard.h. The lock covers only the tally; the trip is called
// after it is released, so a trip that posts work elsewhere can never wait on the guard.
#include "services/sending_guard.h"

#include "core/log.h"

namespace campaignd::services {

SendingGuard::SendingGuard(rules::GuardLimits limits, storage::BounceStore& counts, Trip trip)
    : limits_(limits), counts_(counts), trip_(std::move(trip)) {}

void SendingGuard::watch(const Campaign& campaign) {
    if (campaign.status != CampaignStatus::InProgress || campaign.guard != BounceGuard::Armed) {
        unwatch(campaign.id);
        return;
    }
    rules::GuardTally tally;
    tally.attempts = campaign.sentCount + campaign.failedCount + campaign.unknownCount;
    tally.delivered = campaign.sentCount;
    const storage::CampaignBounceCounts bounces = counts_.campaignBounceCounts(campaign.id);
    tally.hardBounces = bounces.hardBounces;
    tally.complaints = bounces.complaints;
    {
        std::lock_guard lock(mutex_);
        watched_[campaign.id] = Watched{tally, false};
    }
    update(campaign.id, [](rules::GuardTally&) {});
}

void SendingGuard::unwatch(Id campaign) {
    std::lock_guard lock(mutex_);
    watched_.erase(campaign);
}

void SendingGuard::outcomes(Id campaign, std::int64_t attempts, std::int64_t delivered) {
    if (attempts == 0 && delivered == 0) return;
    update(campaign, [&](rules::GuardTally& t) {
        t.attempts += attempts;
        t.delivered += delivered;
    });
}

void SendingGuard::bounceRecorded(const BounceOutcome& bounce) {
    if (!bounce.recorded || !bounce.acted || !bounce.campaignId) return;
    const bool complaint = bounce.action == "complaint";
    if (!complaint && !bounce.hard) return;
    update(*bounce.campaignId, [&](rules::GuardTally& t) { ++(complaint ? t.complaints : t.hardBounces); });
}

std::optional<rules::GuardTally> SendingGuard::tally(Id campaign) const {
    std::lock_guard lock(mutex_);
    const auto it = watched_.find(campaign);
    if (it == watched_.end()) return std::nullopt;
    return it->second.tally;
}

template <typename Change>
void SendingGuard::update(Id campaign, Change&& change) {
    std::optional<std::string> reason;
    {
        std::lock_guard lock(mutex_);
        const auto it = watched_.find(campaign);
        if (it == watched_.end()) return;  // not sending, or not armed
        change(it->second.tally);
        if (it->second.tripped) return;
        reason = rules::guardVerdict(limits_, it->second.tally);
        if (!reason) return;
        it->second.tripped = true;
    }
    try {
        trip_(campaign, *reason);
    } catch (const std::exception& e) {
        log::error(std::string("the sending guard could not stop a campaign: ") + e.what(),
                   {{"CAMPAIGN_ID", std::to_string(campaign)}});
    }
}

}  // namespace campaignd::services

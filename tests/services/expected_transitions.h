// expected_transitions.h: the legal campaign status changes as
// org.campaignd.Campaignd1.Campaign.xml states them, written out independently of the
// service's own table so that the tests can catch a wrong entry in it:
// draft -> scheduled, scheduled -> draft, draft|scheduled -> in_progress,
// scheduled -> paused, in_progress <-> paused, in_progress -> completed, draft|scheduled|in_progress|paused -> cancelled.
#pragma once

#include <set>
#include <utility>

#include "core/model.h"

namespace campaignd::services::test {

inline const std::set<std::pair<CampaignStatus, CampaignStatus>>& busContractTransitions() {
    using S = CampaignStatus;
    static const std::set<std::pair<S, S>> table{
        {S::Draft, S::Scheduled},      {S::Scheduled, S::Draft},     {S::Draft, S::InProgress},
        {S::Scheduled, S::InProgress}, {S::InProgress, S::Paused},   {S::Paused, S::InProgress},
        {S::InProgress, S::Completed}, {S::Draft, S::Cancelled},     {S::Scheduled, S::Cancelled},
        {S::InProgress, S::Cancelled}, {S::Paused, S::Cancelled},     {S::Scheduled, S::Paused},
    };
    return table;
}

}  // namespace campaignd::services::test

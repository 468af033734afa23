// transitions_test.cpp: every (from, to) pair of campaign statuses against the table stated
// in org.campaignd.Campaignd1.Campaign.xml (expected_transitions.h). Anything else is illegal.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "expected_transitions.h"
#include "services/campaign_service.h"

namespace campaignd::services {
namespace {

using S = CampaignStatus;

const std::set<std::pair<S, S>>& legal() { return test::busContractTransitions(); }

const auto kAll = testing::Values(S::Draft, S::Scheduled, S::InProgress, S::Paused, S::Completed, S::Cancelled);

class Transition : public testing::TestWithParam<std::tuple<S, S>> {};

TEST_P(Transition, MatchesTheBusContract) {
    const auto [from, to] = GetParam();
    EXPECT_EQ(isLegalTransition(from, to), legal().count({from, to}) == 1)
        << toString(from) << " -> " << toString(to);
}

INSTANTIATE_TEST_SUITE_P(AllPairs, Transition, testing::Combine(kAll, kAll),
                         [](const testing::TestParamInfo<std::tuple<S, S>>& info) {
                             return std::string(toString(std::get<0>(info.param))) + "_to_" +
                                    std::string(toString(std::get<1>(info.param)));
                         });

TEST(Transitions, FinalStatesLeadNowhere) {
    for (S to : {S::Draft, S::Scheduled, S::InProgress, S::Paused, S::Completed, S::Cancelled}) {
        EXPECT_FALSE(isLegalTransition(S::Completed, to)) << toString(to);
        EXPECT_FALSE(isLegalTransition(S::Cancelled, to)) << toString(to);
    }
}

}  // namespace
}  // namespace campaignd::services

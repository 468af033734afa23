// sending_guard_test.cpp: the sending guard's rule (rules/sending_guard.h): limits in parts per
// million, compared exactly at the edge; nothing decided before the minimum sample; a limit or a
// minimum of 0 turns its check off; percentages parsed and printed back.
#include <gtest/gtest.h>

#include "core/error.h"
#include "rules/sending_guard.h"

namespace campaignd::rules {
namespace {

GuardTally tally(std::int64_t attempts, std::int64_t hard, std::int64_t delivered = 0, std::int64_t complaints = 0) {
    return GuardTally{attempts, delivered, hard, complaints};
}

TEST(SendingGuardRule, TheDefaultsAreFivePercentAfter500AndPointThreePercentAfter1000) {
    const GuardLimits limits;
    EXPECT_FALSE(guardVerdict(limits, tally(499, 499)));  // before the sample, whatever the rate
    EXPECT_FALSE(guardVerdict(limits, tally(500, 25)));   // exactly 5% has not passed it
    const auto hard = guardVerdict(limits, tally(500, 26));
    ASSERT_TRUE(hard);
    EXPECT_EQ(*hard, "hard bounces 26 of 500 attempts (5.20%) passed HardBounceLimit=5% after HardBounceMinimum=500");
    EXPECT_FALSE(guardVerdict(limits, tally(0, 0, 999, 999)));
    EXPECT_FALSE(guardVerdict(limits, tally(0, 0, 1000, 3)));  // 0.3% exactly
    const auto complaints = guardVerdict(limits, tally(0, 0, 1000, 4));
    ASSERT_TRUE(complaints);
    EXPECT_EQ(*complaints,
              "complaints 4 of 1000 delivered (0.40%) passed ComplaintLimit=0.3% after ComplaintMinimum=1000");
}

TEST(SendingGuardRule, ZeroTurnsACheckOff) {
    GuardLimits limits;
    limits.hardBounceLimitPpm = 0;
    limits.complaintMinimum = 0;
    EXPECT_FALSE(guardVerdict(limits, tally(10'000, 10'000, 10'000, 10'000)));
    limits.hardBounceLimitPpm = 50'000;
    limits.hardBounceMinimum = 0;
    EXPECT_FALSE(guardVerdict(limits, tally(10'000, 10'000)));
}

TEST(SendingGuardRule, PercentagesAreParsedToPartsPerMillionAndPrintedBack) {
    EXPECT_EQ(parsePercent("5%"), 50'000);
    EXPECT_EQ(parsePercent("5"), 50'000);
    EXPECT_EQ(parsePercent("0.3%"), 3'000);
    EXPECT_EQ(parsePercent("0.0125%"), 125);
    EXPECT_EQ(parsePercent("100%"), 1'000'000);
    EXPECT_EQ(parsePercent("0"), 0);
    for (const char* bad : {"", "%", "101%", "-1%", "1.%", ".5%", "0.00001%", "5 %", "five", "1e3", "5%%"})
        EXPECT_THROW(parsePercent(bad), Error) << bad;
    EXPECT_EQ(formatPpm(50'000), "5%");
    EXPECT_EQ(formatPpm(3'000), "0.3%");
    EXPECT_EQ(formatPpm(125), "0.0125%");
    EXPECT_EQ(formatRate(1, 3), "33.33%");
    EXPECT_EQ(formatRate(1, 0), "-");
}

}  // namespace
}  // namespace campaignd::rules

// send_progress_test.cpp: what `campaign watch` shows: the time left from the rate, the bar
// within the terminal's width, and the plain line a log gets.
#include <gtest/gtest.h>

#include "send_progress.h"

namespace campaignd::ctl {
namespace {

SendCounts halfway() {
    SendCounts c;
    c.total = 1000;
    c.sent = 480;
    c.failed = 15;
    c.skipped = 5;
    c.pending = 490;
    c.inFlight = 10;
    c.rate = 100;
    return c;
}

TEST(SendProgress, TimeLeftComesFromTheRate) {
    auto c = halfway();
    EXPECT_EQ(secondsLeft(c), 5u);  // 500 left at 100/s
    c.rate = 0;
    EXPECT_EQ(secondsLeft(c), std::nullopt);  // unknowable, not "forever"
    c.pending = 0;
    c.inFlight = 0;
    EXPECT_EQ(secondsLeft(c), 0u);
}

TEST(SendProgress, DurationsReadAsAPersonSaysThem) {
    EXPECT_EQ(formatDuration(45), "45s");
    EXPECT_EQ(formatDuration(185), "3m05s");
    EXPECT_EQ(formatDuration(7620), "2h07m");
    EXPECT_EQ(groupThousands(1234567), "1,234,567");
    EXPECT_EQ(groupThousands(12), "12");
}

TEST(SendProgress, TheBarFitsTheTerminalAndSaysEverything) {
    const auto c = halfway();
    const auto wide = progressBar(c, 120);
    EXPECT_LE(wide.size(), 120u);
    EXPECT_EQ(wide.front(), '[');
    EXPECT_NE(wide.find(" 50%"), std::string::npos) << wide;  // 500 of 1000 settled
    EXPECT_NE(wide.find("sent 480"), std::string::npos);
    EXPECT_NE(wide.find("failed 15"), std::string::npos);
    EXPECT_NE(wide.find("skipped 5"), std::string::npos);
    EXPECT_NE(wide.find("pending 500"), std::string::npos);  // in flight counts as not yet done
    EXPECT_NE(wide.find("100 msg/s"), std::string::npos);
    EXPECT_NE(wide.find("5s left"), std::string::npos);
    const auto narrow = progressBar(c, 40);
    EXPECT_LE(narrow.size(), 40u);
    EXPECT_NE(narrow.front(), '[');  // no room for a bar: the numbers first
}

TEST(SendProgress, ThePlainLineHasEveryCount) {
    EXPECT_EQ(progressLine(halfway()),
              "sent=480 failed=15 unknown=0 skipped=5 pending=490 in_flight=10 total=1000 rate=100.0/s left=5s");
}

}  // namespace
}  // namespace campaignd::ctl

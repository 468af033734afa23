// metrics_test.cpp: core/metrics' promises that a scrape alone cannot show: an SMTP code is
// counted by its class and a code outside 200-599 not at all, a gauge read at scrape time comes
// out with its labels (quoted and escaped), counters only grow (concurrently, without loss), and
// the exposition passes `promtool check metrics` (Debian's prometheus) when it is installed.
// The registry is process-wide, so each test reads differences or series of its own.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.h"

namespace campaignd::metrics {
namespace {

// The value of one series ("name{labels}" as written), or -1 when it is not there.
double valueOf(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
}

TEST(Metrics, SmtpRepliesAreCountedByClassAndOutOfRangeCodesNotAtAll) {
    for (const int code : {250, 251, 421, 451, 550, 554, 0, 199, 354, 600, -1}) smtpReply("classes", code);
    const std::string text = exposition();
    EXPECT_EQ(valueOf(text, R"(campaignd_smtp_replies_total{class="2xx",transport="classes"})"), 2);
    EXPECT_EQ(valueOf(text, R"(campaignd_smtp_replies_total{class="4xx",transport="classes"})"), 2);
    EXPECT_EQ(valueOf(text, R"(campaignd_smtp_replies_total{class="5xx",transport="classes"})"), 2);
    EXPECT_EQ(text.find("class=\"1xx\""), std::string::npos);
    EXPECT_EQ(text.find("class=\"6xx\""), std::string::npos);
    EXPECT_EQ(text.find("class=\"3xx\""), std::string::npos);
    EXPECT_EQ(text.find("class=\"0xx\""), std::string::npos);
}

TEST(Metrics, ATransportsCountersShowEveryStatusAndClassAndCountAsTheFunctionsDo) {
    TransportCounters counters("cached");
    std::string text = exposition();
    for (const char* status : {"sent", "failed", "deferred", "unknown"})
        EXPECT_EQ(valueOf(text, std::string("campaignd_delivery_outcomes_total{status=\"") + status + "\",transport=\"cached\"}"), 0)
            << status;
    for (const char* cls : {"2xx", "4xx", "5xx"})
        EXPECT_EQ(valueOf(text, std::string("campaignd_smtp_replies_total{class=\"") + cls + "\",transport=\"cached\"}"), 0) << cls;
    counters.handedOver(3);
    counters.outcome("deferred");
    counters.outcome("no such status");
    counters.reply(451);
    counters.reply(354);
    counters.sendDuration(0.5);
    counters.sessionOpened();
    deliveryOutcome("cached", "deferred");  // the same series
    text = exposition();
    EXPECT_EQ(valueOf(text, R"(campaignd_messages_handed_over_total{transport="cached"})"), 3);
    EXPECT_EQ(valueOf(text, R"(campaignd_delivery_outcomes_total{status="deferred",transport="cached"})"), 2);
    EXPECT_EQ(valueOf(text, R"(campaignd_delivery_outcomes_total{status="sent",transport="cached"})"), 0);
    EXPECT_EQ(valueOf(text, R"(campaignd_smtp_replies_total{class="4xx",transport="cached"})"), 1);
    EXPECT_EQ(valueOf(text, R"(campaignd_send_duration_seconds_count{transport="cached"})"), 1);
    EXPECT_EQ(valueOf(text, R"(campaignd_transport_sessions_open{transport="cached"})"), 1);
    EXPECT_EQ(text.find("no such status"), std::string::npos);
}

TEST(Metrics, AGaugeReadAtScrapeTimeComesOutWithItsLabelsEscaped) {
    const std::string text =
        exposition({{"campaignd_test_pending", "help", {{{{"campaign_id", "7"}, {"status", "in\"progress"}}, 12}}}});
    EXPECT_NE(text.find("# TYPE campaignd_test_pending gauge"), std::string::npos) << text;
    EXPECT_EQ(valueOf(text, R"(campaignd_test_pending{campaign_id="7",status="in\"progress"})"), 12) << text;
}

TEST(Metrics, CountersAddUpAcrossThreadsAndSessionsGoUpAndDown) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([] {
            for (int i = 0; i < 1000; ++i) {
                deliveryOutcome("threads", "sent");
                sessionOpened("threads");
                sessionClosed("threads");
            }
        });
    for (auto& t : threads) t.join();
    sessionOpened("threads");
    const std::string text = exposition();
    EXPECT_EQ(valueOf(text, R"(campaignd_delivery_outcomes_total{status="sent",transport="threads"})"), 4000);
    EXPECT_EQ(valueOf(text, R"(campaignd_transport_sessions_open{transport="threads"})"), 1);
}

TEST(Metrics, HistogramsCountEveryObservationUnderTheLastBucket) {
    sendDuration("histo", 0.0005);
    sendDuration("histo", 0.2);
    sendDuration("histo", 1000);  // past the last bound: only +Inf
    const std::string text = exposition();
    EXPECT_EQ(valueOf(text, R"(campaignd_send_duration_seconds_count{transport="histo"})"), 3);
    EXPECT_EQ(valueOf(text, R"(campaignd_send_duration_seconds_bucket{transport="histo",le="0.001"})"), 1);
    EXPECT_EQ(valueOf(text, R"(campaignd_send_duration_seconds_bucket{transport="histo",le="0.25"})"), 2);
    EXPECT_EQ(valueOf(text, R"(campaignd_send_duration_seconds_bucket{transport="histo",le="60"})"), 2);
    EXPECT_EQ(valueOf(text, R"(campaignd_send_duration_seconds_bucket{transport="histo",le="+Inf"})"), 3);
}

TEST(Metrics, EveryFamilyPassesPromtool) {
    messagesHandedOver("lint", 3);
    deliveryOutcome("lint", "failed");
    smtpReply("lint", 550);
    sendDuration("lint", 0.01);
    sessionOpened("lint");
    bounceRecorded("userunknown", true);
    complaintRecorded();
    unsubscribed("one-click");
    importRows("rejected", 2);
    busCall("GetStatus", "ok");
    databaseTransaction("sqlite", 0.002);
    const std::string text = exposition({{"campaignd_campaign_recipients_pending", "pending", {{{{"campaign_id", "1"}}, 5}}}});
    if (std::system("command -v promtool > /dev/null") != 0) GTEST_SKIP() << "promtool (package prometheus) is not installed";
    const std::string file = ::testing::TempDir() + "/campaignd-metrics.txt";
    std::ofstream(file) << text;
    FILE* p = popen(("promtool check metrics < " + file + " 2>&1").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    EXPECT_EQ(pclose(p), 0) << out << text;
    EXPECT_EQ(out, "") << text;
    std::remove(file.c_str());
}

}  // namespace
}  // namespace campaignd::metrics

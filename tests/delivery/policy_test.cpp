// policy_test.cpp: what the ledger records for each transport result (the list of
// errors and their outcomes), with a fixed time and fixed jitter.
#include <gtest/gtest.h>

#include "delivery/policy.h"

namespace campaignd::delivery {
namespace {

using namespace std::chrono_literals;
using Kind = storage::LedgerOutcome::Kind;
using plugins::DeliveryOutcome;
using plugins::DeliveryResult;

constexpr Usec kNow = 1'700'000'000'000'000;

storage::LedgerOutcome decide(const DeliveryResult& r, std::int64_t attemptsBefore, unsigned maxAttempts = 3,
                                const std::string& sessionError = {}) {
    RetryPolicy policy;
    policy.maxAttempts = maxAttempts;
    policy.baseDelay = 60s;
    return decideOutcome(42, attemptsBefore, r, policy, kNow, sessionError, [] { return 0.0; });
}

TEST(FormatReply, CodeEnhancedStatusAndText) {
    EXPECT_EQ(formatReply({1, DeliveryOutcome::Failed, 550, "5.1.1", "User unknown"}), "550 5.1.1 User unknown");
    // A text that already carries its code is kept as it is.
    EXPECT_EQ(formatReply({1, DeliveryOutcome::Failed, 550, "5.1.1", "550 5.1.1 <a@b>: User unknown"}),
              "550 5.1.1 <a@b>: User unknown");
    EXPECT_EQ(formatReply({1, DeliveryOutcome::Failed, 554, "", "Transaction failed"}), "554 Transaction failed");
    EXPECT_EQ(formatReply({1, DeliveryOutcome::Failed, 0, "", "maildir: disk full"}), "maildir: disk full");
    EXPECT_FALSE(formatReply({1, DeliveryOutcome::Failed, 0, "", ""}).empty());
}

TEST(DecideOutcome, SentIsSent) {
    const auto o = decide({1, DeliveryOutcome::Sent, 250, "2.0.0", "Ok"}, 0);
    EXPECT_EQ(o.kind, Kind::Sent);
    EXPECT_EQ(o.ledgerId, 42);
}

TEST(DecideOutcome, A5xxFailsWithTheServersReply) {
    const auto o = decide({1, DeliveryOutcome::Failed, 550, "5.1.1", "User unknown"}, 0);
    EXPECT_EQ(o.kind, Kind::Failed);
    EXPECT_EQ(o.reason, "550 5.1.1 User unknown");
}

TEST(DecideOutcome, A4xxIsRetriedWithBackoffThenFails) {
    const DeliveryResult greylisted{1, DeliveryOutcome::Deferred, 451, "4.7.1", "Greylisted"};
    auto o = decide(greylisted, 0);
    EXPECT_EQ(o.kind, Kind::Deferred);
    EXPECT_EQ(o.reason, "451 4.7.1 Greylisted");
    ASSERT_TRUE(o.nextAttemptAt);
    EXPECT_EQ(*o.nextAttemptAt, kNow + 30'000'000);  // first retry: 60 s base, jitter at its low end
    o = decide(greylisted, 1);
    EXPECT_EQ(o.kind, Kind::Deferred);
    EXPECT_EQ(*o.nextAttemptAt, kNow + 60'000'000);  // doubled
    o = decide(greylisted, 2);  // the third attempt of three
    EXPECT_EQ(o.kind, Kind::Failed);
    EXPECT_EQ(o.reason, "451 4.7.1 Greylisted (gave up after 3 attempts)");
}

TEST(DecideOutcome, UnknownIsFinal) {
    const auto o = decide({1, DeliveryOutcome::Unknown, 0, "", "connection lost after DATA"}, 0);
    EXPECT_EQ(o.kind, Kind::Unknown);
    EXPECT_NE(o.reason.find("connection lost after DATA"), std::string::npos);
}

TEST(DecideOutcome, NotHandedOverIsDueAgainAtOnceAndNeverFailsTheRecipient) {
    const DeliveryResult dropped{1, DeliveryOutcome::NotHandedOver, 0, "", ""};
    auto o = decide(dropped, 0, 3, "smtp: connection reset");
    EXPECT_EQ(o.kind, Kind::Deferred);
    EXPECT_EQ(o.nextAttemptAt, kNow);
    EXPECT_EQ(o.reason, "not handed over: smtp: connection reset");
    o = decide(dropped, 7, 3, "smtp: connection reset");  // past MaxAttempts: still retried
    EXPECT_EQ(o.kind, Kind::Deferred);
}

TEST(SessionAction, ConnectionReconnectsEverythingElsePauses) {
    EXPECT_EQ(sessionAction(plugins::TransportStatus::Connection), SessionAction::Reconnect);
    EXPECT_EQ(sessionAction(plugins::TransportStatus::Auth), SessionAction::Pause);
    EXPECT_EQ(sessionAction(plugins::TransportStatus::Tls), SessionAction::Pause);
    EXPECT_EQ(sessionAction(plugins::TransportStatus::Failed), SessionAction::Pause);
    EXPECT_EQ(pauseReason("relay", plugins::TransportStatus::Auth, "535 5.7.8 bad credentials"),
              "transport \"relay\": authentication failed: 535 5.7.8 bad credentials");
}

}  // namespace
}  // namespace campaignd::delivery

// activity_test.cpp: the outcomes per minute (outcome_minutes, schema 12; sql_activity.cpp), on
// SQLite and PostgreSQL. Outcomes recorded through the real ledger path (claimBatch,
// markHandedOver, recordOutcomes) are read back per minute, summed over campaigns and workers,
// with one row per campaign, worker slot and minute; a recordOutcomes that fails, in the ledger
// or in the per-minute figures, leaves neither; rows older than two days are deleted.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store_fixture.h"

namespace campaignd::storage {
namespace {

using Kind = LedgerOutcome::Kind;

constexpr Usec kMinute = 60'000'000;
constexpr Usec kDay = 24 * 60 * kMinute;
constexpr Usec kMinute0 = kNow - kNow % kMinute;  // the minute holding kNow

// Two worker names whose counter slots differ (checked in the test).
const std::string kWorker1 = "instance-a:1:0";
const std::string kWorker2 = "instance-a:1:1";

class ActivityTest : public StoreTest {
protected:
    // n recipients attached to a new campaign, claimed by `worker` and handed over: their
    // ledger ids.
    std::vector<Id> handedOver(const std::string& name, int n, const std::string& worker) {
        const Id c = store_->insertCampaign(campaign(name, CampaignStatus::InProgress));
        for (int i = 0; i < n; ++i)
            EXPECT_TRUE(store_->attachRecipient(c, addRecipient(name + std::to_string(i) + "@x.example")));
        std::vector<HandOver> items;
        for (const auto& claimed : store_->claimBatch(c, worker, std::size_t(n), kNow))
            items.push_back({claimed.ledgerId, "m" + std::to_string(claimed.ledgerId) + "@test"});
        EXPECT_EQ(store_->markHandedOver(worker, items).size(), std::size_t(n));
        std::vector<Id> ids;
        for (const auto& item : items) ids.push_back(item.ledgerId);
        return ids;
    }

    static LedgerOutcome outcome(Id ledgerId, Kind kind) {
        LedgerOutcome o{ledgerId, kind, kind == Kind::Sent ? "" : "450 4.2.0 try later", std::nullopt};
        if (kind == Kind::Deferred) o.nextAttemptAt = kNow + 10 * kMinute;
        return o;
    }

    std::string status(Id ledgerId) {
        return sql().query("SELECT status FROM campaign_recipients WHERE id = $1", {ledgerId}).at(0).text(0);
    }

    // A trigger that fails every row change `event` names ("UPDATE ON table", "INSERT ON
    // table") for which `condition` (an SQL expression over NEW, or "" for every row) holds.
    void refuse(const std::string& event, const std::string& condition) {
        if (GetParam() == "sqlite") {
            sql().exec("CREATE TRIGGER refuse_for_test BEFORE " + event + " FOR EACH ROW" +
                       (condition.empty() ? "" : " WHEN " + condition) +
                       " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
        } else {
            sql().exec("CREATE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS"
                       " $fn$ BEGIN RAISE EXCEPTION 'refused by the test'; END $fn$");
            sql().exec("CREATE TRIGGER refuse_for_test BEFORE " + event + " FOR EACH ROW" +
                       (condition.empty() ? "" : " WHEN (" + condition + ")") + " EXECUTE FUNCTION refuse_for_test()");
        }
    }
};

void expectMinute(const MinuteActivity& m, Usec start, std::int64_t sent, std::int64_t failed,
                  std::int64_t unknown, std::int64_t deferred) {
    EXPECT_EQ(m.minuteStart, start);
    EXPECT_EQ(m.sent, sent);
    EXPECT_EQ(m.failed, failed);
    EXPECT_EQ(m.unknown, unknown);
    EXPECT_EQ(m.deferred, deferred);
}

TEST_P(ActivityTest, OutcomesAreCountedInTheMinuteTheyAreRecorded) {
    ASSERT_NE(ledgerCounterSlot(kWorker1), ledgerCounterSlot(kWorker2));
    const std::vector<Id> a = handedOver("a", 6, kWorker1);
    const std::vector<Id> b = handedOver("b", 2, kWorker1);
    EXPECT_TRUE(store_->activitySince(kNow - kDay).empty()) << "nothing recorded yet";

    // Minute 0: two calls, two campaigns; every kind of outcome.
    EXPECT_EQ(store_->recordOutcomes(kWorker1,
                                     std::vector{outcome(a[0], Kind::Sent), outcome(a[1], Kind::Sent),
                                                 outcome(a[2], Kind::Failed), outcome(a[3], Kind::Deferred),
                                                 outcome(a[4], Kind::Unknown)},
                                     kMinute0 + 10'000'000),
              5);
    EXPECT_EQ(store_->recordOutcomes(kWorker1, std::vector{outcome(a[5], Kind::Sent), outcome(b[0], Kind::Sent)},
                                     kMinute0 + 59'999'999),
              2);
    // An outcome that does not apply (the row is sent already) counts nowhere.
    EXPECT_EQ(store_->recordOutcomes(kWorker1, std::vector{outcome(a[0], Kind::Failed)}, kMinute0 + 20'000'000), 0);
    // Minute 1: the other campaign's last row; first by a worker that does not hold it (nothing
    // moves, nothing is counted), then by its own worker.
    EXPECT_EQ(store_->recordOutcomes(kWorker2, std::vector{outcome(b[1], Kind::Failed)}, kMinute0 + kMinute), 0);
    EXPECT_EQ(store_->recordOutcomes(kWorker1, std::vector{outcome(b[1], Kind::Failed)}, kMinute0 + kMinute), 1);

    const auto day = store_->activitySince(kNow - kDay);
    ASSERT_EQ(day.size(), 2u);
    expectMinute(day[0], kMinute0, 4, 1, 1, 1);
    expectMinute(day[1], kMinute0 + kMinute, 0, 1, 0, 0);
    // From a time inside minute 1: that minute only.
    const auto last = store_->activitySince(kMinute0 + kMinute + 30'000'000);
    ASSERT_EQ(last.size(), 1u);
    expectMinute(last[0], kMinute0 + kMinute, 0, 1, 0, 0);
    // One row per campaign, slot and minute, not one per outcome.
    EXPECT_EQ(count("SELECT COUNT(*) FROM outcome_minutes"), 3);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outcome_minutes WHERE minute_start = $1", {kMinute0}), 2);
}

// What a restart's recovery makes unknown (handed over, no outcome) is counted in the minute of
// its hand-over, the time its outcome_at takes; what it releases (never handed over) is not an
// outcome and counts nowhere.
TEST_P(ActivityTest, RecoveryCountsItsUnknownsInTheMinuteOfTheirHandOver) {
    const auto a = handedOver("a", 3, kWorker1);
    const Id c = store_->insertCampaign(campaign("b", CampaignStatus::InProgress));
    ASSERT_TRUE(store_->attachRecipient(c, addRecipient("b0@x.example")));
    ASSERT_EQ(store_->claimBatch(c, kWorker1, 1, kNow).size(), 1u);  // sending, never handed over
    store_->recordOutcomes(kWorker1, std::vector{outcome(a[0], Kind::Sent)}, kNow + kMinute);
    const auto recovered = store_->recoverInterrupted(kWorker1);
    EXPECT_EQ(recovered.unknown, 2);
    EXPECT_EQ(recovered.released, 1);
    const auto day = store_->activitySince(kNow - kDay);
    ASSERT_EQ(day.size(), 2u);
    expectMinute(day[0], kMinute0, 0, 0, 2, 0);
    expectMinute(day[1], kMinute0 + kMinute, 1, 0, 0, 0);
}

TEST_P(ActivityTest, WorkersOfSeveralSlotsAddUpInOneMinute) {
    const std::vector<Id> one = handedOver("one", 3, kWorker1);
    const std::vector<Id> two = handedOver("two", 2, kWorker2);
    store_->recordOutcomes(kWorker1, std::vector{outcome(one[0], Kind::Sent), outcome(one[1], Kind::Sent),
                                                 outcome(one[2], Kind::Deferred)},
                           kMinute0);
    store_->recordOutcomes(kWorker2, std::vector{outcome(two[0], Kind::Sent), outcome(two[1], Kind::Unknown)},
                           kMinute0 + 1);
    const auto day = store_->activitySince(kNow - kDay);
    ASSERT_EQ(day.size(), 1u);
    expectMinute(day[0], kMinute0, 3, 0, 1, 1);
}

// The per-minute figures are written in recordOutcomes' transaction: a ledger statement that
// fails after they would have been counted leaves no figure, and a figure that cannot be written
// leaves the ledger's outcomes unrecorded.
TEST_P(ActivityTest, AFailedRecordOutcomesLeavesNoMinuteAndNoOutcome) {
    const std::vector<Id> a = handedOver("a", 3, kWorker1);
    // The ledger refuses the last outcome of the call.
    refuse("UPDATE ON campaign_recipients", "NEW.id = " + std::to_string(a[2]));
    EXPECT_ANY_THROW(store_->recordOutcomes(
        kWorker1, std::vector{outcome(a[0], Kind::Sent), outcome(a[1], Kind::Failed), outcome(a[2], Kind::Sent)},
        kNow));
    EXPECT_EQ(count("SELECT COUNT(*) FROM outcome_minutes"), 0);
    EXPECT_TRUE(store_->activitySince(kNow - kDay).empty());
    EXPECT_EQ(status(a[0]), "handed_over");

    // The per-minute table refuses: the outcomes are not recorded either.
    sql().exec("DROP TRIGGER refuse_for_test" + std::string(GetParam() == "sqlite" ? "" : " ON campaign_recipients"));
    if (GetParam() != "sqlite") sql().exec("DROP FUNCTION refuse_for_test()");
    refuse("INSERT ON outcome_minutes", "");
    EXPECT_ANY_THROW(store_->recordOutcomes(kWorker1, std::vector{outcome(a[0], Kind::Sent)}, kNow));
    EXPECT_EQ(status(a[0]), "handed_over");
    EXPECT_EQ(store_->campaignSummary(store_->listCampaigns(std::nullopt).at(0).id).sent, 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outcome_minutes"), 0);
}

TEST_P(ActivityTest, RowsOlderThanTwoDaysArePrunedWhenANewMinuteStarts) {
    const auto put = [&](Usec minute, std::int64_t sent) {
        sql().exec("INSERT INTO outcome_minutes (minute_start, campaign_id, slot, sent) VALUES ($1, 999, 0, $2)",
                   {minute, sent});
    };
    put(kMinute0 - 3 * kDay, 7);                 // aged out
    put(kMinute0 - 2 * kDay - kMinute, 6);       // aged out, just
    put(kMinute0 - 2 * kDay, 5);                 // kept: exactly two days
    put(kMinute0 - kDay, 4);                     // kept
    const std::vector<Id> a = handedOver("a", 3, kWorker1);
    store_->recordOutcomes(kWorker1, std::vector{outcome(a[0], Kind::Sent)}, kNow);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outcome_minutes WHERE minute_start < $1", {kMinute0 - 2 * kDay}), 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outcome_minutes"), 3);
    const auto all = store_->activitySince(kMinute0 - 3 * kDay);
    ASSERT_EQ(all.size(), 3u);
    expectMinute(all[0], kMinute0 - 2 * kDay, 5, 0, 0, 0);
    expectMinute(all[1], kMinute0 - kDay, 4, 0, 0, 0);
    expectMinute(all[2], kMinute0, 1, 0, 0, 0);

    // Pruning runs once a minute, not with every call: a row aged out in between waits for
    // the next minute.
    put(kMinute0 - 3 * kDay, 7);
    store_->recordOutcomes(kWorker1, std::vector{outcome(a[1], Kind::Sent)}, kNow + 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outcome_minutes WHERE minute_start < $1", {kMinute0 - 2 * kDay}), 1);
    store_->recordOutcomes(kWorker1, std::vector{outcome(a[2], Kind::Sent)}, kMinute0 + kMinute);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outcome_minutes WHERE minute_start < $1", {kMinute0 - kDay}), 0)
        << "the next minute deletes what aged out, and the row of exactly two days before it";
}

INSTANTIATE_TEST_SUITE_P(Backends, ActivityTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace campaignd::storage

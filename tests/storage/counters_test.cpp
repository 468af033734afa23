// counters_test.cpp: the kept ledger counters (campaign_counts, migration 5), run unchanged
// against SQLite and PostgreSQL. After every step of a scripted life of a campaign that goes
// through every store method that inserts, deletes or moves ledger rows, the counts read
// through findCampaign, campaignSummary and dashboard equal the test's own recount of
// campaign_recipients (ledger_recount.h) and add up. Also: a database at schema 4 with a
// ledger, upgraded, is counted at once; a rolled-back change moves no counter; workers of
// several slots and a cancel racing them keep the counters exact; reads take the counters,
// not a recount.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "core/error.h"
#include "ledger_recount.h"
#include "storage/migrations.h"
#include "storage/sql_store.h"
#include "storage/store.h"
#include "support/postgres_environment.h"
#include "support/temp_dir.h"

namespace campaignd::storage {
namespace {

using test::PostgresEnvironment;
using test::TempDir;
using Kind = LedgerOutcome::Kind;

constexpr Usec kNow = 1'760'000'000'000'000;
constexpr Usec kMinute = 60'000'000;
constexpr int kSchemaBeforeCounters = 4;  // migration 5 adds campaign_counts

// Two worker names whose counter slots differ (checked, not assumed).
const std::string kWorker1 = "instance-a:1:0";
const std::string kWorker2 = "instance-a:1:1";

class CountersTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "sqlite")
            url_ = "sqlite:" + (dir_ / "db" / "campaignd.sqlite").string();
        else
            url_ = PostgresEnvironment::server().createDatabase("counters");
    }

    void open() { store_ = openStore(url_); }
    SqlConnection& sql() { return dynamic_cast<SqlStore&>(*store_).connection(); }

    Id addCampaign(const std::string& name) {
        Campaign c;
        c.name = name;
        c.subject = "Subject";
        c.status = CampaignStatus::InProgress;
        c.createdAt = kNow;
        c.updatedAt = kNow;
        return store_->insertCampaign(c);
    }

    Id addRecipient(const std::string& email, SubscriptionStatus status = SubscriptionStatus::Subscribed) {
        Recipient r;
        r.email = email;
        r.status = status;
        r.createdAt = kNow;
        return store_->insertRecipient(r);
    }

    void setStatus(Id recipient, const char* token) {
        ASSERT_EQ(sql().exec("UPDATE recipients SET status = $2 WHERE id = $1", {recipient, std::string(token)}), 1);
    }

    static std::vector<HandOver> handOvers(const std::vector<ClaimedRecipient>& batch) {
        std::vector<HandOver> items;
        for (const auto& c : batch) items.push_back({c.ledgerId, "m" + std::to_string(c.ledgerId) + "@test"});
        return items;
    }

    void expectCounted(Id campaign, const std::string& step) {
        test::expectCountsMatchLedger(*store_, sql(), campaign, step);
        test::expectDashboardMatchesLedger(*store_, sql(), step);
    }

    std::int64_t count(const std::string& sqlText, const SqlParams& params = {}) {
        return sql().query(sqlText, params).at(0).int64(0);
    }

    TempDir dir_{"campaignd-counters-test"};
    std::string url_;
    std::unique_ptr<Store> store_;
};

TEST(CounterSlots, WorkersGetSlotsOneToSixteenStablyAndTheTestWorkersDiffer) {
    EXPECT_EQ(ledgerCounterSlot(kWorker1), ledgerCounterSlot(kWorker1));
    EXPECT_NE(ledgerCounterSlot(kWorker1), ledgerCounterSlot(kWorker2));
    std::set<int> seen;
    for (int i = 0; i < 400; ++i) {
        const int slot = ledgerCounterSlot("daemon-" + std::to_string(i) + ":7:" + std::to_string(i % 4));
        EXPECT_GE(slot, 1);
        EXPECT_LE(slot, kWorkerCounterSlots);
        seen.insert(slot);
    }
    EXPECT_EQ(seen.size(), std::size_t(kWorkerCounterSlots));  // every slot is used by someone
}

// The whole life of two campaigns, through every ledger-changing store method.
TEST_P(CountersTest, KeptCountersEqualTheRecountAfterEveryLedgerStep) {
    open();
    const Id a = addCampaign("a");
    const Id b = addCampaign("b");
    expectCounted(a, "creating the campaigns (no ledger yet)");

    // attachGroup: 12 subscribed members and 2 unsubscribed ones (not attached).
    const Id g = store_->insertGroup("members", kNow);
    std::vector<Id> rs;
    for (int i = 0; i < 12; ++i) {
        rs.push_back(addRecipient("r" + std::to_string(i) + "@example.com"));
        ASSERT_TRUE(store_->addGroupMember(g, rs.back()));
    }
    for (int i = 0; i < 2; ++i)
        ASSERT_TRUE(store_->addGroupMember(g, addRecipient("u" + std::to_string(i) + "@example.com",
                                                           SubscriptionStatus::Unsubscribed)));
    EXPECT_EQ(store_->attachGroup(a, g), 12);
    expectCounted(a, "attachGroup");
    EXPECT_EQ(store_->attachGroup(a, g), 0);  // attached already: no row, no count
    expectCounted(a, "attachGroup again");

    // attachRecipient: one new, one already attached.
    rs.push_back(addRecipient("r12@example.com"));
    EXPECT_TRUE(store_->attachRecipient(a, rs.back()));
    EXPECT_FALSE(store_->attachRecipient(a, rs[0]));
    expectCounted(a, "attachRecipient");
    EXPECT_EQ(store_->findCampaign(a)->recipientCount, 13);

    // deleteRecipient of a pending row: the row goes, and with it one total and one pending.
    ASSERT_TRUE(store_->deleteRecipient(rs[12]));
    expectCounted(a, "deleteRecipient of a pending row");
    EXPECT_EQ(store_->findCampaign(a)->recipientCount, 12);

    // claimBatch skipping: r0 unsubscribed, r1 bounced since attaching.
    setStatus(rs[0], "unsubscribed");
    setStatus(rs[1], "bounced");
    auto w1 = store_->claimBatch(a, kWorker1, 5, kNow);
    ASSERT_EQ(w1.size(), 5u);  // r2..r6; r0, r1 skipped on the way
    expectCounted(a, "claimBatch with skips");
    EXPECT_EQ(store_->findCampaign(a)->skippedCount, 2);
    EXPECT_EQ(store_->findCampaign(a)->inFlightCount, 5);

    // markHandedOver of four: sending -> handed_over, both in flight: nothing moves, and the
    // hot path's durable commit writes no counter row at all.
    const auto counterRows = [&] {
        std::vector<std::vector<std::int64_t>> rows;
        for (const SqlRow& row : sql().query("SELECT slot, total, pending, in_flight, sent, failed, unknown, skipped"
                                             " FROM campaign_counts WHERE campaign_id = $1 ORDER BY slot",
                                             {a})) {
            rows.emplace_back();
            for (std::size_t i = 0; i < row.size(); ++i) rows.back().push_back(row.int64(i));
        }
        return rows;
    };
    const auto countersBefore = counterRows();
    std::vector<ClaimedRecipient> handed(w1.begin(), w1.begin() + 4);
    ASSERT_EQ(store_->markHandedOver(kWorker1, handOvers(handed)).size(), 4u);
    expectCounted(a, "markHandedOver");
    EXPECT_EQ(counterRows(), countersBefore);

    // recordOutcomes: every kind, Failed both from handed_over and from sending (w1[4]); an
    // outcome for a row not in the right state is not applied and counts nothing.
    const std::vector<LedgerOutcome> outcomes{
        {w1[0].ledgerId, Kind::Sent, "", std::nullopt},
        {w1[1].ledgerId, Kind::Failed, "550 5.1.1 User unknown", std::nullopt},
        {w1[2].ledgerId, Kind::Deferred, "451 4.7.1 Try later", kNow + kMinute},
        {w1[3].ledgerId, Kind::Unknown, "connection lost after DATA", std::nullopt},
        {w1[4].ledgerId, Kind::Failed, "render error", std::nullopt},
        {w1[0].ledgerId, Kind::Sent, "", std::nullopt},  // sent already
    };
    EXPECT_EQ(store_->recordOutcomes(kWorker1, outcomes, kNow), 5);
    expectCounted(a, "recordOutcomes of every kind");
    {
        const auto c = store_->findCampaign(a);
        EXPECT_EQ(c->sentCount, 1);
        EXPECT_EQ(c->failedCount, 2);
        EXPECT_EQ(c->unknownCount, 1);
        EXPECT_EQ(c->inFlightCount, 0);
    }

    // A second worker, in another slot: claims 3, hands over 2; the crash recovery of that
    // worker makes those unknown and the third pending.
    auto w2 = store_->claimBatch(a, kWorker2, 3, kNow);
    ASSERT_EQ(w2.size(), 3u);
    expectCounted(a, "claimBatch by a second worker");
    ASSERT_EQ(store_->markHandedOver(kWorker2, handOvers({w2[0], w2[1]})).size(), 2u);
    const RecoveredClaims rec = store_->recoverInterrupted(kWorker2);
    EXPECT_EQ(rec.unknown, 2);
    EXPECT_EQ(rec.released, 1);
    expectCounted(a, "recoverInterrupted of one worker");
    // Each worker wrote its own slot; attach, deletion and recovery-of-all write slot 0.
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_counts WHERE campaign_id = $1 AND slot IN ($2, $3)",
                    {a, std::int64_t(ledgerCounterSlot(kWorker1)), std::int64_t(ledgerCounterSlot(kWorker2))}),
              2);

    // releaseClaims (pause): sending -> pending.
    w1 = store_->claimBatch(a, kWorker1, 2, kNow);
    ASSERT_EQ(w1.size(), 2u);
    expectCounted(a, "claimBatch before a release");
    EXPECT_EQ(store_->releaseClaims(a, kWorker1), 2);
    expectCounted(a, "releaseClaims");

    // A recipient deleted while their row is sending keeps the row (not pending); released,
    // the next claim skips it as "recipient deleted".
    w1 = store_->claimBatch(a, kWorker1, 1, kNow);
    ASSERT_EQ(w1.size(), 1u);
    ASSERT_TRUE(store_->deleteRecipient(w1[0].recipientId));
    expectCounted(a, "deleteRecipient of a sending row");
    EXPECT_EQ(store_->releaseClaims(a, kWorker1), 1);
    const std::int64_t skippedBefore = store_->findCampaign(a)->skippedCount;
    w1 = store_->claimBatch(a, kWorker1, 1, kNow);
    ASSERT_EQ(w1.size(), 1u);
    expectCounted(a, "claimBatch skipping a deleted recipient");
    EXPECT_EQ(store_->findCampaign(a)->skippedCount, skippedBefore + 1);

    // Campaign b: in flight rows of two workers; the recovery of every worker (no name) moves
    // rows of both campaigns in one call.
    for (int i = 2; i < 8; ++i) ASSERT_TRUE(store_->attachRecipient(b, rs[std::size_t(i)]));
    expectCounted(b, "attachRecipient to b");
    const auto bw = store_->claimBatch(b, kWorker2, 4, kNow);
    ASSERT_EQ(bw.size(), 4u);
    ASSERT_EQ(store_->markHandedOver(kWorker2, handOvers({bw[0]})).size(), 1u);
    const auto aw = store_->claimBatch(a, kWorker2, 1, kNow);
    ASSERT_EQ(aw.size(), 1u);
    ASSERT_EQ(store_->markHandedOver(kWorker2, handOvers(aw)).size(), 1u);
    const RecoveredClaims all = store_->recoverInterrupted(std::nullopt);
    EXPECT_EQ(all.unknown, 2);   // bw[0] and aw[0]
    EXPECT_EQ(all.released, 4);  // bw[1..3] and w1[0] of a
    expectCounted(a, "recoverInterrupted of every worker (a)");
    expectCounted(b, "recoverInterrupted of every worker (b)");

    // cancelPending with both pending and sending rows (and a deferred one, pending too).
    const auto before = store_->claimBatch(a, kWorker1, 1, kNow);
    ASSERT_EQ(before.size(), 1u);
    const Campaign c = *store_->findCampaign(a);
    ASSERT_GT(c.pendingCount, 0);
    ASSERT_EQ(c.inFlightCount, 1);
    EXPECT_EQ(store_->cancelPending(a, kNow), c.pendingCount + 1);
    expectCounted(a, "cancelPending");
    EXPECT_EQ(store_->findCampaign(a)->pendingCount + store_->findCampaign(a)->inFlightCount, 0);
    // The cancelled sending row cannot be handed over: nothing moves.
    EXPECT_TRUE(store_->markHandedOver(kWorker1, handOvers(before)).empty());
    expectCounted(a, "a refused hand-over after the cancel");

    // deleteCampaign: its counters go with its ledger; b's stay.
    const Campaign keptB = *store_->findCampaign(b);
    ASSERT_TRUE(store_->deleteCampaign(a));
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_counts WHERE campaign_id = $1", {a}), 0);
    EXPECT_EQ(store_->campaignSummary(a).total, 0);
    expectCounted(b, "deleteCampaign of a");
    EXPECT_EQ(store_->findCampaign(b)->recipientCount, keptB.recipientCount);
}

// A database of schema 4 (the one before the counters) with a ledger in every state, opened by
// this campaignd: the migration fills the counters from the ledger, so the first read is
// already right.
TEST_P(CountersTest, MigrationToKeptCountersCountsTheExistingLedger) {
    {
        auto db = openSqlConnection(url_);
        ASSERT_EQ(migrate(*db, kSchemaBeforeCounters), kSchemaBeforeCounters);
        const auto insertCampaign = [&](const std::string& name) {
            return db->query("INSERT INTO campaigns (name, subject, status, created_at, updated_at)"
                             " VALUES ($1, 'S', 'in_progress', $2, $2) RETURNING id",
                             {name, kNow})
                .at(0)
                .int64(0);
        };
        const Id one = insertCampaign("one"), two = insertCampaign("two");
        insertCampaign("empty");
        const char* statuses[] = {"pending", "pending", "pending", "sending", "handed_over", "sent", "sent",
                                  "sent",    "sent",    "failed",  "unknown", "skipped",     "skipped"};
        int n = 0;
        for (const Id campaign : {one, two}) {
            for (const char* status : statuses) {
                if (campaign == two && ++n % 3 == 0) continue;  // a different mix in two
                const std::string email = "m" + std::to_string(campaign) + "-" + std::to_string(n++) + "@example.com";
                const Id r = db->query("INSERT INTO recipients (email, email_key, created_at) VALUES ($1, $1, $2)"
                                       " RETURNING id",
                                       {email, kNow})
                                 .at(0)
                                 .int64(0);
                const bool claimed = std::string(status) == "sending" || std::string(status) == "handed_over";
                db->exec("INSERT INTO campaign_recipients (campaign_id, recipient_id, recipient_email, status,"
                         " claimed_by) VALUES ($1, $2, $3, $4, $5)",
                         {campaign, r, email, std::string(status),
                          claimed ? SqlValue(std::string("old-worker")) : SqlValue(std::monostate{})});
            }
        }
        ASSERT_EQ(currentSchemaVersion(*db), kSchemaBeforeCounters);
    }
    open();
    EXPECT_EQ(store_->schemaVersion(), kLatestSchemaVersion);
    for (const Campaign& c : store_->listCampaigns(std::nullopt)) {
        expectCounted(c.id, "the migration (campaign " + c.name + ")");
        if (c.name == "one") {
            EXPECT_EQ(c.recipientCount, 13);
            EXPECT_EQ(c.sentCount, 4);
            EXPECT_EQ(c.inFlightCount, 2);
        }
        if (c.name == "empty") {
            EXPECT_EQ(c.recipientCount, 0);
        }
    }
    // And the counters go on from there: the recovery of the old daemon's rows, a cancel.
    const std::int64_t inFlight = test::recountLedger(sql(), 0).inFlight;
    EXPECT_EQ(inFlight, 3);  // 2 of "one", 1 of "two" (its mix leaves out the other)
    const RecoveredClaims r = store_->recoverInterrupted(std::nullopt);
    EXPECT_EQ(r.unknown + r.released, inFlight);
    for (const Campaign& c : store_->listCampaigns(std::nullopt)) {
        expectCounted(c.id, "recovery after the migration (campaign " + c.name + ")");
        store_->cancelPending(c.id, kNow);
        expectCounted(c.id, "cancel after the migration (campaign " + c.name + ")");
    }
}

// A ledger change rolled back (by the caller's transaction) takes its counter change with it.
TEST_P(CountersTest, ARolledBackAttachMovesNoCounter) {
    open();
    const Id a = addCampaign("a");
    const Id g = store_->insertGroup("g", kNow);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->addGroupMember(g, addRecipient("r" + std::to_string(i) + "@x.example")));
    EXPECT_THROW(store_->transaction([&] {
        EXPECT_EQ(store_->attachGroup(a, g), 3);
        EXPECT_EQ(store_->findCampaign(a)->recipientCount, 3);  // seen inside the transaction
        throw Error(ErrorCode::InvalidArgument, "changed my mind");
    }),
                 Error);
    expectCounted(a, "a rolled back attach");
    EXPECT_EQ(store_->findCampaign(a)->recipientCount, 0);
    // An inner transaction (savepoint) rolled back inside an outer one that commits.
    store_->transaction([&] {
        EXPECT_THROW(store_->transaction([&] {
            store_->attachGroup(a, g);
            throw Error(ErrorCode::InvalidArgument, "not these");
        }),
                     Error);
        EXPECT_TRUE(store_->attachRecipient(a, store_->findRecipient("r0@x.example")->id));
    });
    expectCounted(a, "an attach rolled back to its savepoint, another committed");
    EXPECT_EQ(store_->findCampaign(a)->recipientCount, 1);
}

// Reads take the kept counters: a counter changed behind the store's back shows as it is (a
// recount would hide it). This is what makes a read's cost independent of the ledger's size.
TEST_P(CountersTest, ReadsTakeTheKeptCountersNotARecount) {
    open();
    const Id a = addCampaign("a");
    ASSERT_TRUE(store_->attachRecipient(a, addRecipient("r@x.example")));
    sql().exec("UPDATE campaign_counts SET sent = sent + 1000 WHERE campaign_id = $1 AND slot = 0", {a});
    EXPECT_EQ(store_->findCampaign(a)->sentCount, 1000);
    EXPECT_EQ(store_->campaignSummary(a).sent, 1000);
    EXPECT_EQ(store_->dashboard().sent, 1000);
}

// Workers of different slots (separate stores, as separate daemons would have) send
// concurrently with mixed outcomes while a cancel comes in the middle: afterwards the counters
// equal the recount, nothing is left in flight, and every row is accounted for.
TEST_P(CountersTest, ConcurrentWorkersAndACancelKeepTheCountersExact) {
    open();
    constexpr int kRecipients = 800;
    const Id a = addCampaign("a");
    const Id g = store_->insertGroup("g", kNow);
    for (int i = 0; i < kRecipients; ++i)
        ASSERT_TRUE(store_->addGroupMember(g, addRecipient("r" + std::to_string(i) + "@example.com")));
    ASSERT_EQ(store_->attachGroup(a, g), kRecipients);

    constexpr int kWorkers = 4;
    std::atomic<int> batches{0};
    // On PostgreSQL a cancel and a worker's multi-row transaction can lock ledger rows in
    // opposite orders (a row the cancel waited for and passed over stays locked by it until it
    // commits); the server then aborts one of them as a deadlock, which rolls it back whole,
    // counters included, and the store runs it again (SqlStore::ledgerTransaction). No caller
    // sees the deadlock, and the counters are exact after such rollbacks too.
    std::vector<std::string> errors(kWorkers);
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w)
        threads.emplace_back([&, w] {
            try {
                auto store = openStore(url_);
                const std::string worker = "daemon-" + std::to_string(w) + ":" + std::to_string(a) + ":0";
                for (int round = 0;; ++round) {
                    const auto batch = store->claimBatch(a, worker, 9, kNow);
                    if (batch.empty()) break;
                    ++batches;
                    // The last row of every batch fails before the hand-over (a render error).
                    std::vector<ClaimedRecipient> send(batch.begin(), batch.end() - 1);
                    const auto moved = store->markHandedOver(worker, handOvers(send));
                    std::vector<LedgerOutcome> outcomes{{batch.back().ledgerId, Kind::Failed, "render", std::nullopt}};
                    for (std::size_t i = 0; i < moved.size(); ++i) {
                        const Kind kind = i % 4 == 0 ? Kind::Sent
                                          : i % 4 == 1 ? Kind::Failed
                                          : i % 4 == 2 ? Kind::Unknown
                                                       : (round % 2 ? Kind::Deferred : Kind::Sent);
                        outcomes.push_back({moved[i], kind, "r", std::nullopt});
                    }
                    store->recordOutcomes(worker, outcomes, kNow);
                }
            } catch (const std::exception& e) {
                errors[w] = e.what();
            }
        });
    // The cancel, while they send (after a few batches, whenever that is).
    auto canceller = openStore(url_);
    for (int i = 0; i < 2000 && batches.load() < 12; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::int64_t cancelled = 0;
    std::string cancelError;
    try {
        cancelled = canceller->cancelPending(a, kNow);
    } catch (const std::exception& e) {
        cancelError = e.what();
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(cancelError, "");
    for (int w = 0; w < kWorkers; ++w) EXPECT_EQ(errors[w], "") << "worker " << w;
    expectCounted(a, "concurrent workers and a cancel");
    const Campaign c = *store_->findCampaign(a);
    EXPECT_EQ(c.recipientCount, kRecipients);
    EXPECT_EQ(c.pendingCount, 0);
    EXPECT_EQ(c.inFlightCount, 0);
    EXPECT_GE(c.skippedCount, cancelled);
    EXPECT_GT(c.sentCount, 0);
    std::cout << "[          ] " << batches.load() << " batches, "
              << cancelled << " cancelled, " << c.sentCount
              << " sent, " << c.failedCount << " failed, " << c.unknownCount << " unknown" << std::endl;
}

INSTANTIATE_TEST_SUITE_P(Backends, CountersTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace campaignd::storage

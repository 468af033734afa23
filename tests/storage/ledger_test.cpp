// ledger_test.cpp: the send ledger's sending side (send_ledger.h: claimBatch, markHandedOver,
// recordOutcomes, recoverInterrupted, releaseClaims, cancelPending, campaignHasWorkLeft), run
// unchanged against SQLite and PostgreSQL. After every step the accounting invariant is
// checked (attached == sent + failed + unknown + skipped + pending + in flight, against the raw
// ledger too, and the store's kept counters against the test's own recount). Concurrent claimers run on threads with a store each; a child process (this
// same binary, see runLedgerChild) is SIGKILLed before and after its hand-over commit.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "core/error.h"
#include "storage/migrations.h"
#include "storage/sql_store.h"
#include "storage/store.h"
#include "ledger_recount.h"
#include "support/postgres_environment.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::storage {
namespace {

using test::PostgresEnvironment;
using test::TempDir;
using namespace std::chrono_literals;
using Kind = LedgerOutcome::Kind;

constexpr Usec kNow = 1'760'000'000'000'000;
constexpr Usec kMinute = 60'000'000;

// ---- the child process for the kill tests ---------------------------------------------------
// With CAMPAIGND_LEDGER_CHILD_URL set this binary is a sender, not a test run: it claims
// CAMPAIGND_LEDGER_CHILD_LIMIT rows of campaign CAMPAIGND_LEDGER_CHILD_CAMPAIGN as worker
// "child", and by CAMPAIGND_LEDGER_CHILD_MODE:
//   claimed  prints "claimed" and waits to be killed (a crash before the hand-over);
//   handed   marks them handed over, prints "handed" and waits to be killed (a crash after the
//            hand-over's commit, before the outcome's: the message may be at the server).
[[noreturn]] void runLedgerChild(const char* url) {
    const std::string mode = std::getenv("CAMPAIGND_LEDGER_CHILD_MODE");
    const Id campaign = std::atoll(std::getenv("CAMPAIGND_LEDGER_CHILD_CAMPAIGN"));
    const long limit = std::atol(std::getenv("CAMPAIGND_LEDGER_CHILD_LIMIT"));
    try {
        auto store = openStore(url);
        const auto batch = store->claimBatch(campaign, "child", std::size_t(limit), kNow);
        if (mode == "handed") {
            std::vector<HandOver> items;
            for (const auto& c : batch) items.push_back({c.ledgerId, "child-" + std::to_string(c.ledgerId) + "@test"});
            const auto moved = store->markHandedOver("child", items);
            std::cout << "handed " << moved.size() << std::endl;
        } else {
            std::cout << "claimed " << batch.size() << std::endl;
        }
        for (;;) std::this_thread::sleep_for(1s);
    } catch (const std::exception& e) {
        std::cerr << "child failed: " << e.what() << std::endl;
        std::_Exit(3);
    }
}

[[maybe_unused]] const bool kChild = [] {
    if (const char* url = std::getenv("CAMPAIGND_LEDGER_CHILD_URL")) runLedgerChild(url);
    return false;
}();

// ---- the fixture ---------------------------------------------------------------------------

class LedgerTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "sqlite")
            url_ = "sqlite:" + (dir_ / "db" / "campaignd.sqlite").string();
        else
            url_ = PostgresEnvironment::server().createDatabase("ledger");
        store_ = openStore(url_);
    }

    SqlConnection& sql() { return dynamic_cast<SqlStore&>(*store_).connection(); }

    Id addCampaign(std::string name) {
        Campaign c;
        c.name = std::move(name);
        c.subject = "Subject";
        c.status = CampaignStatus::InProgress;
        c.createdAt = kNow;
        c.updatedAt = kNow;
        return store_->insertCampaign(c);
    }

    Id addRecipient(const std::string& email) {
        Recipient r;
        r.email = email;
        r.name = "Name of " + email;
        r.createdAt = kNow;
        return store_->insertRecipient(r);
    }

    // A campaign with n attached recipients r0..r(n-1)@example.com; returns recipient ids.
    std::vector<Id> attach(Id campaign, int n, const std::string& prefix = "r") {
        std::vector<Id> ids;
        for (int i = 0; i < n; ++i) {
            ids.push_back(addRecipient(prefix + std::to_string(i) + "@example.com"));
            EXPECT_TRUE(store_->attachRecipient(campaign, ids.back()));
        }
        return ids;
    }

    void unsubscribe(Id recipient) {
        sql().exec("UPDATE recipients SET status = 'unsubscribed' WHERE id = $1", {recipient});
    }

    std::string statusOf(Id ledgerId) {
        return sql().query("SELECT status FROM campaign_recipients WHERE id = $1", {ledgerId}).at(0).text(0);
    }

    std::int64_t count(const std::string& sqlText, const SqlParams& params = {}) {
        return sql().query(sqlText, params).at(0).int64(0);
    }

    // The accounting invariant, through the campaign object, the summary and the raw ledger.
    void checkInvariant(Id campaign, std::int64_t attached) {
        const auto c = store_->findCampaign(campaign);
        ASSERT_TRUE(c);
        EXPECT_EQ(c->recipientCount, attached);
        EXPECT_EQ(c->sentCount + c->failedCount + c->unknownCount + c->skippedCount + c->pendingCount +
                      c->inFlightCount,
                  attached);
        // The kept counters equal the test's own recount of the ledger (ledger_recount.h).
        test::expectCountsMatchLedger(*store_, sql(), campaign, "a ledger step");
        const CampaignSummary s = store_->campaignSummary(campaign);
        EXPECT_EQ(s.total, attached);
        EXPECT_EQ(s.sent + s.failed + s.unknown + s.skipped + s.pending + s.inFlight, attached);
        EXPECT_EQ(s.sent, c->sentCount);
        EXPECT_EQ(s.unknown, c->unknownCount);
        EXPECT_EQ(s.skipped, c->skippedCount);
        EXPECT_EQ(s.inFlight, c->inFlightCount);
        EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 AND status IN"
                        " ('pending', 'sending', 'handed_over', 'sent', 'failed', 'unknown', 'skipped')",
                        {campaign}),
                  attached);
        // In flight rows always name their worker; handed_over and unknown ones their Message-ID.
        EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 AND"
                        " status IN ('sending', 'handed_over') AND claimed_by IS NULL",
                        {campaign}),
                  0);
        EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 AND"
                        " status IN ('handed_over', 'unknown') AND message_id IS NULL",
                        {campaign}),
                  0);
    }

    ErrorCode errorCodeOfClaim(Id campaign, const std::string& worker) {
        try {
            store_->claimBatch(campaign, worker, 1, kNow);
        } catch (const Error& e) {
            return e.code();
        }
        ADD_FAILURE() << "expected an Error, none was thrown";
        return ErrorCode::Failed;
    }

    static std::vector<HandOver> handOvers(const std::vector<ClaimedRecipient>& batch) {
        std::vector<HandOver> items;
        for (const auto& c : batch) items.push_back({c.ledgerId, "m" + std::to_string(c.ledgerId) + "@campaignd.test"});
        return items;
    }

    static std::vector<Id> ledgerIds(const std::vector<ClaimedRecipient>& batch) {
        std::vector<Id> ids;
        for (const auto& c : batch) ids.push_back(c.ledgerId);
        return ids;
    }

    std::unique_ptr<test::Process> startChild(const std::string& mode, Id campaign, int limit) {
        test::ProcessOptions options;
        options.env = {{"CAMPAIGND_LEDGER_CHILD_URL", url_},
                       {"CAMPAIGND_LEDGER_CHILD_MODE", mode},
                       {"CAMPAIGND_LEDGER_CHILD_CAMPAIGN", std::to_string(campaign)},
                       {"CAMPAIGND_LEDGER_CHILD_LIMIT", std::to_string(limit)}};
        return std::make_unique<test::Process>(
            std::vector<std::string>{std::filesystem::read_symlink("/proc/self/exe").string()}, options);
    }

    TempDir dir_{"campaignd-ledger-test"};
    std::string url_;
    std::unique_ptr<Store> store_;
};

// ---- schema and campaign settings ----------------------------------------------------------

TEST_P(LedgerTest, CampaignTransportAndSubjectTagRoundTripWithDefaults) {
    const Id plain = addCampaign("plain");
    auto c = store_->findCampaign(plain);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->transport, "");
    EXPECT_TRUE(c->subjectTag);
    c->transport = "smtp-main";
    c->subjectTag = false;
    store_->updateCampaign(*c);
    c = store_->findCampaign(plain);
    EXPECT_EQ(c->transport, "smtp-main");
    EXPECT_FALSE(c->subjectTag);
    EXPECT_EQ(count("SELECT subject_tag FROM campaigns WHERE id = $1", {plain}), 0);
    // A row written without the new columns (an older writer, or migrated data) gets the defaults.
    sql().exec("INSERT INTO campaigns (name, subject, created_at, updated_at) VALUES ('old', 's', 1, 1)");
    const auto old = store_->listCampaigns(std::nullopt).back();
    EXPECT_EQ(old.transport, "");
    EXPECT_TRUE(old.subjectTag);
    EXPECT_GE(store_->schemaVersion(), 2);  // later migrations keep these columns
}

// ---- claiming ------------------------------------------------------------------------------

// Only the hand-over's commit waits for the disk (send_ledger.h, "Durability"): a relaxed
// transaction commits without it, and the connection waits again after it, however it ended.
TEST_P(LedgerTest, ARelaxedTransactionDoesNotWaitForTheDiskAndLeavesTheConnectionAsItWas) {
    const bool sqlite = GetParam() == "sqlite";
    auto setting = [&] {
        return sql().query(sqlite ? "PRAGMA synchronous" : "SHOW synchronous_commit").at(0).text(0);
    };
    const std::string relaxed = sqlite ? "1" : "off";  // NORMAL; off
    // SQLite's connections wait (FULL); the test PostgreSQL server's default is its own.
    const std::string usual = setting();
    if (sqlite) {
        EXPECT_EQ(usual, "2");
    }
    sql().beginRelaxed();
    EXPECT_EQ(setting(), relaxed);
    sql().exec("UPDATE campaigns SET name = name");
    sql().commit();
    EXPECT_EQ(setting(), usual);
    sql().beginRelaxed();
    EXPECT_EQ(setting(), relaxed);
    sql().rollback();
    EXPECT_EQ(setting(), usual);
    sql().begin();
    EXPECT_EQ(setting(), usual);
    sql().commit();

    // The ledger's own calls: claims and outcomes relaxed, nothing left relaxed behind them.
    const Id c = addCampaign("c");
    attach(c, 2);
    const auto batch = store_->claimBatch(c, "w1", 2, kNow);
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(setting(), usual);
    const std::vector<HandOver> items{{batch[0].ledgerId, "m0@example.com"}, {batch[1].ledgerId, "m1@example.com"}};
    EXPECT_EQ(store_->markHandedOver("w1", items).size(), 2u);
    const std::vector<LedgerOutcome> outcomes{{batch[0].ledgerId, LedgerOutcome::Kind::Sent, "", {}},
                                                {batch[1].ledgerId, LedgerOutcome::Kind::Sent, "", {}}};
    EXPECT_EQ(store_->recordOutcomes("w1", outcomes, kNow), 2);
    EXPECT_EQ(setting(), usual);
    checkInvariant(c, 2);
}

TEST_P(LedgerTest, ClaimTakesPendingRowsInLedgerOrderUpToTheLimit) {
    const Id c = addCampaign("c");
    const Id other = addCampaign("other");
    const auto rs = attach(c, 5);
    attach(other, 2, "o");
    checkInvariant(c, 5);

    EXPECT_TRUE(store_->claimBatch(c, "w1", 0, kNow).empty());
    const auto first = store_->claimBatch(c, "w1", 3, kNow);
    ASSERT_EQ(first.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(first[i].recipientId, rs[i]);
        EXPECT_EQ(first[i].email, "r" + std::to_string(i) + "@example.com");
        EXPECT_EQ(first[i].name, "Name of r" + std::to_string(i) + "@example.com");
        EXPECT_EQ(first[i].attempts, 0);
        EXPECT_EQ(statusOf(first[i].ledgerId), "sending");
    }
    EXPECT_TRUE(std::is_sorted(first.begin(), first.end(),
                               [](const auto& a, const auto& b) { return a.ledgerId < b.ledgerId; }));
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE claimed_by = 'w1' AND claimed_at = $1", {kNow}), 3);
    checkInvariant(c, 5);
    EXPECT_EQ(store_->findCampaign(c)->inFlightCount, 3);
    EXPECT_EQ(store_->findCampaign(c)->pendingCount, 2);

    const auto rest = store_->claimBatch(c, "w2", 10, kNow);
    ASSERT_EQ(rest.size(), 2u);
    EXPECT_EQ(rest[0].recipientId, rs[3]);
    EXPECT_TRUE(store_->claimBatch(c, "w1", 10, kNow).empty());
    checkInvariant(c, 5);
    // The other campaign was not touched.
    EXPECT_EQ(store_->findCampaign(other)->pendingCount, 2);
    EXPECT_EQ(errorCodeOfClaim(c, ""), ErrorCode::InvalidArgument);
}

TEST_P(LedgerTest, ClaimSkipsUnsubscribedAndDeletedRecipientsAndGoesOnPastThem) {
    const Id c = addCampaign("c");
    const auto rs = attach(c, 8);
    unsubscribe(rs[0]);
    unsubscribe(rs[1]);
    unsubscribe(rs[3]);
    // A deleted recipient's pending row goes with it; one that was claimed (then released)
    // stays with no recipient and must be skipped, not sent.
    const auto held = store_->claimBatch(c, "w", 8, kNow);
    ASSERT_EQ(held.size(), 5u);  // r2, r4, r5, r6, r7
    EXPECT_EQ(store_->findCampaign(c)->skippedCount, 3);
    EXPECT_TRUE(store_->deleteRecipient(rs[4]));
    EXPECT_EQ(store_->releaseClaims(c, "w"), 5);
    checkInvariant(c, 8);

    const auto batch = store_->claimBatch(c, "w", 2, kNow);
    ASSERT_EQ(batch.size(), 2u);  // r4 (deleted) was skipped on the way, the limit still met
    EXPECT_EQ(batch[0].recipientId, rs[2]);
    EXPECT_EQ(batch[1].recipientId, rs[5]);
    const auto found = store_->findCampaign(c);
    EXPECT_EQ(found->skippedCount, 4);
    EXPECT_EQ(found->pendingCount, 2);
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE last_error = 'unsubscribed'"), 3);
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE last_error = 'recipient deleted'"), 1);
    checkInvariant(c, 8);

    // A campaign whose every due row is unsubscribed claims nothing and has no work left.
    const Id d = addCampaign("d");
    for (const Id r : rs) store_->attachRecipient(d, r);
    sql().exec("UPDATE recipients SET status = 'unsubscribed'");
    EXPECT_TRUE(store_->claimBatch(d, "w", 3, kNow).empty());
    EXPECT_FALSE(store_->campaignHasWorkLeft(d));
}

TEST_P(LedgerTest, UnknownOutcomeIsFinalAndNeverClaimedAgain) {
    const Id c = addCampaign("c");
    attach(c, 3);
    auto batch = store_->claimBatch(c, "w", 3, kNow);
    ASSERT_EQ(store_->markHandedOver("w", handOvers(batch)).size(), 3u);
    const std::vector<LedgerOutcome> outcomes{
        {batch[0].ledgerId, Kind::Unknown, "the session broke after the data went out", std::nullopt},
        {batch[1].ledgerId, Kind::Sent, "", std::nullopt},
    };
    // Another worker's Unknown is refused like any stale outcome.
    EXPECT_EQ(store_->recordOutcomes("other", std::vector<LedgerOutcome>{{batch[2].ledgerId, Kind::Unknown, "x", std::nullopt}}, kNow), 0);
    EXPECT_EQ(store_->recordOutcomes("w", outcomes, kNow), 2);
    EXPECT_EQ(statusOf(batch[0].ledgerId), "unknown");
    EXPECT_EQ(statusOf(batch[2].ledgerId), "handed_over");
    EXPECT_EQ(sql().query("SELECT last_error FROM campaign_recipients WHERE id = $1", {batch[0].ledgerId}).at(0).text(0),
              "the session broke after the data went out");
    checkInvariant(c, 3);
    EXPECT_EQ(store_->findCampaign(c)->unknownCount, 1);
    // A Sent for the row now unknown is not applied: unknown is final.
    EXPECT_EQ(store_->recordOutcomes("w", std::vector<LedgerOutcome>{{batch[0].ledgerId, Kind::Sent, "", std::nullopt}}, kNow), 0);
    EXPECT_EQ(store_->recordOutcomes("w", std::vector<LedgerOutcome>{{batch[2].ledgerId, Kind::Sent, "", std::nullopt}}, kNow), 1);
    EXPECT_TRUE(store_->claimBatch(c, "w", 10, kNow + kMinute).empty());
    EXPECT_FALSE(store_->campaignHasWorkLeft(c));
}

TEST_P(LedgerTest, DeferredRowsReturnOnlyAfterTheirTime) {
    const Id c = addCampaign("c");
    attach(c, 3);
    auto batch = store_->claimBatch(c, "w", 3, kNow);
    ASSERT_EQ(store_->markHandedOver("w", handOvers(batch)).size(), 3u);
    const std::vector<LedgerOutcome> outcomes{
        {batch[0].ledgerId, Kind::Deferred, "451 4.7.1 Greylisted", kNow + 10 * kMinute},
        {batch[1].ledgerId, Kind::Deferred, "421 4.3.2 Try again", std::nullopt},  // due at once
        {batch[2].ledgerId, Kind::Sent, "", std::nullopt},
    };
    EXPECT_EQ(store_->recordOutcomes("w", outcomes, kNow), 3);
    checkInvariant(c, 3);
    EXPECT_EQ(store_->findCampaign(c)->pendingCount, 2);
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE status = 'pending' AND message_id IS NULL"
                    " AND claimed_by IS NULL AND attempts = 1"),
              2);
    EXPECT_EQ(sql().query("SELECT last_error FROM campaign_recipients WHERE id = $1", {batch[0].ledgerId}).at(0).text(0),
              "451 4.7.1 Greylisted");

    auto again = store_->claimBatch(c, "w", 10, kNow + kMinute);
    ASSERT_EQ(again.size(), 1u);  // only the one without a later time
    EXPECT_EQ(again[0].ledgerId, batch[1].ledgerId);
    EXPECT_EQ(again[0].attempts, 1);
    EXPECT_TRUE(store_->campaignHasWorkLeft(c));  // the greylisted one waits, still work left
    EXPECT_EQ(store_->releaseClaims(c, "w"), 1);
    EXPECT_TRUE(store_->claimBatch(c, "w", 10, kNow + 10 * kMinute - 1).size() == 1);  // the released one
    store_->releaseClaims(c, "w");
    const auto due = store_->claimBatch(c, "w", 10, kNow + 10 * kMinute);  // <= now counts
    ASSERT_EQ(due.size(), 2u);
    EXPECT_EQ(due[0].ledgerId, batch[0].ledgerId);
    checkInvariant(c, 3);
}

TEST_P(LedgerTest, ConcurrentClaimersGetDisjointSetsCoveringEverything) {
    constexpr int kRecipients = 600;
    const Id c = addCampaign("c");
    attach(c, kRecipients);
    constexpr int kWorkers = 4;
    std::vector<std::vector<Id>> claimed(kWorkers);
    std::vector<std::string> errors(kWorkers);
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w)
        threads.emplace_back([&, w] {
            try {
                auto store = openStore(url_);
                const std::string worker = "daemon-" + std::to_string(w);
                for (;;) {
                    const auto batch = store->claimBatch(c, worker, 7, kNow);
                    if (batch.empty()) break;
                    for (const auto& r : batch) claimed[w].push_back(r.ledgerId);
                    // Hand over and finish them as a sender would, while others claim.
                    const auto moved = store->markHandedOver(worker, handOvers(batch));
                    if (moved.size() != batch.size()) throw std::runtime_error("a claim was lost");
                    std::vector<LedgerOutcome> outcomes;
                    for (const Id id : moved) outcomes.push_back({id, Kind::Sent, "", std::nullopt});
                    store->recordOutcomes(worker, outcomes, kNow);
                }
            } catch (const std::exception& e) {
                errors[w] = e.what();
            }
        });
    for (auto& t : threads) t.join();
    std::set<Id> all;
    std::size_t total = 0;
    for (int w = 0; w < kWorkers; ++w) {
        EXPECT_EQ(errors[w], "") << "worker " << w;
        total += claimed[w].size();
        all.insert(claimed[w].begin(), claimed[w].end());
        std::cout << "[          ] worker " << w << " claimed " << claimed[w].size() << std::endl;
    }
    EXPECT_EQ(total, std::size_t(kRecipients));  // no row twice
    EXPECT_EQ(all.size(), std::size_t(kRecipients));  // and every row once
    EXPECT_EQ(store_->findCampaign(c)->sentCount, kRecipients);
    EXPECT_FALSE(store_->campaignHasWorkLeft(c));
    checkInvariant(c, kRecipients);
}

// ---- hand-over and outcomes ----------------------------------------------------------------

TEST_P(LedgerTest, HandOverMovesOnlyThisWorkersSendingRows) {
    const Id c = addCampaign("c");
    attach(c, 4);
    const auto mine = store_->claimBatch(c, "w1", 2, kNow);
    const auto theirs = store_->claimBatch(c, "w2", 1, kNow);
    checkInvariant(c, 4);

    // Another worker's row, and a pending one, are refused; mine move.
    std::vector<HandOver> items = handOvers(mine);
    items.push_back({theirs[0].ledgerId, "stolen@test"});
    const Id pendingRow = theirs[0].ledgerId + 1;
    items.push_back({pendingRow, "never@test"});
    const auto moved = store_->markHandedOver("w1", items);
    EXPECT_EQ(moved, ledgerIds(mine));
    EXPECT_EQ(statusOf(mine[0].ledgerId), "handed_over");
    EXPECT_EQ(sql().query("SELECT message_id FROM campaign_recipients WHERE id = $1", {mine[0].ledgerId}).at(0).text(0),
              items[0].messageId);
    EXPECT_EQ(statusOf(theirs[0].ledgerId), "sending");
    EXPECT_EQ(statusOf(pendingRow), "pending");
    // Twice is refused the second time: it is no longer sending.
    EXPECT_TRUE(store_->markHandedOver("w1", handOvers(mine)).empty());
    checkInvariant(c, 4);
    EXPECT_EQ(store_->findCampaign(c)->inFlightCount, 3);

    // A Message-ID is required.
    const std::vector<HandOver> empty{{theirs[0].ledgerId, ""}};
    try {
        store_->markHandedOver("w2", empty);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    }
    EXPECT_EQ(statusOf(theirs[0].ledgerId), "sending");
}

// A hand-over and its outcomes larger than one statement (they go in statements of up to 256
// rows, the last filled by repeating a row): every row moves once, with its own Message-ID, the
// ids come back in the order given, and rows not this worker's or not in the right state are
// left as they were wherever they sit in the batch.
TEST_P(LedgerTest, AHandOverAndItsOutcomesBeyondOneStatementMoveEachRowOnce) {
    const Id c = addCampaign("c");
    attach(c, 700);
    const auto mine = store_->claimBatch(c, "w1", 601, kNow);
    const auto theirs = store_->claimBatch(c, "w2", 1, kNow);
    ASSERT_EQ(mine.size(), 601u);
    std::vector<HandOver> items = handOvers(mine);
    std::reverse(items.begin(), items.end());
    items.insert(items.begin() + 300, {theirs[0].ledgerId, "stolen@test"});
    items.push_back({theirs[0].ledgerId + 1, "pending@test"});  // attached, never claimed
    std::vector<Id> expected = ledgerIds(mine);
    std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(store_->markHandedOver("w1", items), expected);
    EXPECT_EQ(sql().query("SELECT COUNT(*) FROM campaign_recipients WHERE status = 'handed_over'"
                          " AND message_id = 'm' || CAST(id AS TEXT) || '@campaignd.test'")
                  .at(0).int64(0),
              601);
    EXPECT_EQ(statusOf(theirs[0].ledgerId), "sending");
    EXPECT_EQ(statusOf(theirs[0].ledgerId + 1), "pending");
    checkInvariant(c, 700);

    // 601 sent outcomes of mine, one twice, and one of theirs: 601 rows move, each once.
    std::vector<LedgerOutcome> outcomes;
    for (const auto& m : mine) outcomes.push_back({m.ledgerId, LedgerOutcome::Kind::Sent, "", {}});
    outcomes.push_back({mine[7].ledgerId, LedgerOutcome::Kind::Sent, "", {}});
    outcomes.push_back({theirs[0].ledgerId, LedgerOutcome::Kind::Sent, "", {}});
    EXPECT_EQ(store_->recordOutcomes("w1", outcomes, kNow + 5), 601);
    EXPECT_EQ(sql().query("SELECT COUNT(*) FROM campaign_recipients WHERE status = 'sent' AND attempts = 1"
                          " AND sent_at = $1",
                          {kNow + 5})
                  .at(0).int64(0),
              601);
    EXPECT_EQ(statusOf(theirs[0].ledgerId), "sending");
    EXPECT_EQ(store_->findCampaign(c)->sentCount, 601);
    checkInvariant(c, 700);
}

// The sender's steady step: the outcomes of what is in flight and the next hand-over in one
// durable transaction; all of it or none.
TEST_P(LedgerTest, OutcomesAndTheNextHandOverCommitTogetherOrNotAtAll) {
    const Id c = addCampaign("c");
    attach(c, 6);
    const auto first = store_->claimBatch(c, "w", 3, kNow);
    ASSERT_EQ(store_->markHandedOver("w", handOvers(first)), ledgerIds(first));
    const auto next = store_->claimBatch(c, "w", 3, kNow);
    ASSERT_EQ(next.size(), 3u);

    const std::vector<LedgerOutcome> outcomes{{first[0].ledgerId, LedgerOutcome::Kind::Sent, "", {}},
                                              {first[1].ledgerId, LedgerOutcome::Kind::Failed, "550 no", {}},
                                              {first[2].ledgerId, LedgerOutcome::Kind::Unknown, "dropped", {}}};
    EXPECT_EQ(store_->handOverAndRecord("w", handOvers(next), outcomes, kNow + 5), ledgerIds(next));
    EXPECT_EQ(statusOf(first[0].ledgerId), "sent");
    EXPECT_EQ(statusOf(first[1].ledgerId), "failed");
    EXPECT_EQ(statusOf(first[2].ledgerId), "unknown");
    for (const auto& r : next) EXPECT_EQ(statusOf(r.ledgerId), "handed_over");
    checkInvariant(c, 6);
    const auto counts = store_->findCampaign(c);
    EXPECT_EQ(counts->sentCount, 1);
    EXPECT_EQ(counts->failedCount, 1);
    EXPECT_EQ(counts->unknownCount, 1);
    EXPECT_EQ(counts->inFlightCount, 3);

    // A hand-over that fails (a missing Message-ID) records none of its outcomes either.
    std::vector<HandOver> bad = handOvers(next);
    const std::vector<LedgerOutcome> later{{next[0].ledgerId, LedgerOutcome::Kind::Sent, "", {}}};
    bad[1].messageId.clear();
    EXPECT_THROW(store_->handOverAndRecord("w", bad, later, kNow + 6), Error);
    EXPECT_EQ(statusOf(next[0].ledgerId), "handed_over");

    // With nothing to hand over it records the outcomes alone.
    EXPECT_TRUE(store_->handOverAndRecord("w", {}, later, kNow + 7).empty());
    EXPECT_EQ(statusOf(next[0].ledgerId), "sent");
    checkInvariant(c, 6);
}

TEST_P(LedgerTest, OutcomesApplyOnlyFromTheStateTheyStartFrom) {
    const Id c = addCampaign("c");
    attach(c, 6);
    const auto batch = store_->claimBatch(c, "w", 6, kNow);
    ASSERT_EQ(batch.size(), 6u);
    // Rows 0-3 handed over; 4 and 5 stay sending (render failure / never rendered).
    std::vector<ClaimedRecipient> handed(batch.begin(), batch.begin() + 4);
    ASSERT_EQ(store_->markHandedOver("w", handOvers(handed)).size(), 4u);
    checkInvariant(c, 6);

    const std::vector<LedgerOutcome> outcomes{
        {batch[0].ledgerId, Kind::Sent, "", std::nullopt},
        {batch[1].ledgerId, Kind::Failed, "550 5.1.1 User unknown", std::nullopt},
        {batch[2].ledgerId, Kind::Sent, "", std::nullopt},
        {batch[4].ledgerId, Kind::Failed, "template: unknown tag", std::nullopt},  // before hand-over
        {batch[5].ledgerId, Kind::Sent, "", std::nullopt},      // never handed over: refused
        {batch[5].ledgerId, Kind::Deferred, "x", std::nullopt},  // likewise
    };
    EXPECT_EQ(store_->recordOutcomes("other-worker", outcomes, kNow), 0);  // not its rows
    checkInvariant(c, 6);
    EXPECT_EQ(store_->recordOutcomes("w", outcomes, kNow + 5), 4);
    checkInvariant(c, 6);
    EXPECT_EQ(statusOf(batch[0].ledgerId), "sent");
    EXPECT_EQ(sql().query("SELECT sent_at, attempts FROM campaign_recipients WHERE id = $1", {batch[0].ledgerId})
                  .at(0).int64(0),
              kNow + 5);
    EXPECT_EQ(statusOf(batch[1].ledgerId), "failed");
    EXPECT_EQ(statusOf(batch[4].ledgerId), "failed");
    EXPECT_EQ(count("SELECT attempts FROM campaign_recipients WHERE id = $1", {batch[1].ledgerId}), 1);
    EXPECT_EQ(count("SELECT attempts FROM campaign_recipients WHERE id = $1", {batch[4].ledgerId}), 0);
    EXPECT_EQ(statusOf(batch[5].ledgerId), "sending");

    // Stale: replaying the same outcomes, or contradicting them, changes nothing.
    const std::vector<LedgerOutcome> stale{
        {batch[0].ledgerId, Kind::Deferred, "late 4xx", kNow},
        {batch[1].ledgerId, Kind::Sent, "", std::nullopt},
        {batch[2].ledgerId, Kind::Failed, "late", std::nullopt},
    };
    EXPECT_EQ(store_->recordOutcomes("w", stale, kNow + 9), 0);
    EXPECT_EQ(statusOf(batch[0].ledgerId), "sent");
    EXPECT_EQ(statusOf(batch[1].ledgerId), "failed");
    // After recovery, a late "sent" from the dead worker cannot turn unknown into anything.
    EXPECT_EQ(store_->recoverInterrupted(std::nullopt).unknown, 1);  // batch[3]
    const std::vector<LedgerOutcome> late{{batch[3].ledgerId, Kind::Sent, "", std::nullopt}};
    EXPECT_EQ(store_->recordOutcomes("w", late, kNow), 0);
    EXPECT_EQ(statusOf(batch[3].ledgerId), "unknown");
    checkInvariant(c, 6);

    const CampaignSummary s = store_->campaignSummary(c);
    EXPECT_EQ(s.sent, 2);
    EXPECT_EQ(s.failed, 2);
    EXPECT_EQ(s.unknown, 1);
    EXPECT_EQ(s.pending, 1);  // batch[5] went back by the recovery
    EXPECT_EQ(s.failureReasons.size(), 2u);
}

// ---- recovery, pause, cancel, completion ---------------------------------------------------

TEST_P(LedgerTest, RecoveryOfOneInstanceTakesEveryWorkerOfItAndNoOtherDaemons) {
    const Id c = addCampaign("c");
    const Id d = addCampaign("d");
    attach(c, 8);
    attach(d, 2, "d");
    // Instance "a_1" (LIKE would read '_' as any character: "ab1" must not match).
    const auto a0 = store_->claimBatch(c, "a_1:1:0", 2, kNow);
    const auto a9 = store_->claimBatch(c, "a_1:1:999", 2, kNow);
    const auto ad = store_->claimBatch(d, "a_1:2:0", 1, kNow);
    const auto other = store_->claimBatch(c, "ab1:1:0", 2, kNow);
    const auto longer = store_->claimBatch(c, "a_12:1:0", 1, kNow);
    store_->markHandedOver("a_1:1:0", handOvers({a0[0]}));
    store_->markHandedOver("a_1:2:0", handOvers({ad[0]}));
    store_->markHandedOver("ab1:1:0", handOvers({other[0]}));

    const RecoveredClaims r = store_->recoverInstance("a_1");
    EXPECT_EQ(r.unknown, 2);   // a0[0], ad[0]
    EXPECT_EQ(r.released, 3);  // a0[1], a9[0], a9[1]
    EXPECT_EQ(statusOf(a0[0].ledgerId), "unknown");
    EXPECT_EQ(statusOf(ad[0].ledgerId), "unknown");
    EXPECT_EQ(statusOf(a9[1].ledgerId), "pending");
    EXPECT_EQ(statusOf(other[0].ledgerId), "handed_over");
    EXPECT_EQ(statusOf(other[1].ledgerId), "sending");
    EXPECT_EQ(statusOf(longer[0].ledgerId), "sending");
    checkInvariant(c, 8);
    checkInvariant(d, 2);
    EXPECT_EQ(store_->recoverInstance("a_1").released, 0);  // idempotent
    EXPECT_THROW(store_->recoverInstance(""), Error);
    EXPECT_THROW(store_->recoverInstance("a:b"), Error);
}

TEST_P(LedgerTest, RecoveryMakesHandedOverUnknownAndSendingPendingPerWorkerOrAll) {
    const Id c = addCampaign("c");
    const Id d = addCampaign("d");
    attach(c, 6);
    attach(d, 2, "d");
    const auto a = store_->claimBatch(c, "daemon-a", 3, kNow);
    const auto b = store_->claimBatch(c, "daemon-b", 3, kNow);
    const auto bd = store_->claimBatch(d, "daemon-b", 2, kNow);
    store_->markHandedOver("daemon-a", handOvers({a[0]}));
    store_->markHandedOver("daemon-b", handOvers({b[0], b[1]}));
    store_->markHandedOver("daemon-b", handOvers({bd[0]}));
    checkInvariant(c, 6);

    // Daemon a restarts: only its own rows.
    const RecoveredClaims ra = store_->recoverInterrupted(std::string_view("daemon-a"));
    EXPECT_EQ(ra.unknown, 1);
    EXPECT_EQ(ra.released, 2);
    EXPECT_EQ(statusOf(a[0].ledgerId), "unknown");
    EXPECT_EQ(statusOf(a[1].ledgerId), "pending");
    EXPECT_EQ(statusOf(b[0].ledgerId), "handed_over");
    EXPECT_EQ(sql().query("SELECT message_id FROM campaign_recipients WHERE id = $1", {a[0].ledgerId}).at(0).text(0),
              handOvers({a[0]})[0].messageId);  // kept for matching with the server's logs
    checkInvariant(c, 6);

    // Everything, across campaigns.
    const RecoveredClaims all = store_->recoverInterrupted(std::nullopt);
    EXPECT_EQ(all.unknown, 3);   // b[0], b[1], bd[0]
    EXPECT_EQ(all.released, 2);  // b[2], bd[1]
    EXPECT_EQ(store_->recoverInterrupted(std::nullopt).unknown, 0);  // idempotent
    checkInvariant(c, 6);
    checkInvariant(d, 2);
    // Unknown is final: never claimed again.
    const auto again = store_->claimBatch(c, "daemon-a", 10, kNow);
    std::set<Id> ids;
    for (const auto& r : again) ids.insert(r.ledgerId);
    EXPECT_EQ(ids, (std::set<Id>{a[1].ledgerId, a[2].ledgerId, b[2].ledgerId}));
    EXPECT_EQ(store_->findCampaign(c)->unknownCount, 3);
}

TEST_P(LedgerTest, ReleaseReturnsSendingRowsAndCancelSkipsAllThatWasNotHandedOver) {
    const Id c = addCampaign("c");
    attach(c, 6);
    const auto batch = store_->claimBatch(c, "w", 3, kNow);
    store_->markHandedOver("w", handOvers({batch[0]}));
    EXPECT_EQ(store_->releaseClaims(c, "other"), 0);
    EXPECT_EQ(store_->releaseClaims(c, "w"), 2);  // handed_over stays
    checkInvariant(c, 6);
    EXPECT_EQ(store_->findCampaign(c)->pendingCount, 5);

    const auto more = store_->claimBatch(c, "w", 2, kNow);
    EXPECT_EQ(store_->cancelPending(c, kNow), 5);  // 3 pending + 2 sending
    checkInvariant(c, 6);
    EXPECT_EQ(store_->findCampaign(c)->skippedCount, 5);
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE last_error = 'campaign cancelled'"), 5);
    // The worker that held claims finds them gone: nothing of them is sent.
    EXPECT_TRUE(store_->markHandedOver("w", handOvers(more)).empty());
    EXPECT_TRUE(store_->campaignHasWorkLeft(c));  // the handed_over one awaits its outcome
    const std::vector<LedgerOutcome> done{{batch[0].ledgerId, Kind::Sent, "", std::nullopt}};
    EXPECT_EQ(store_->recordOutcomes("w", done, kNow), 1);
    EXPECT_FALSE(store_->campaignHasWorkLeft(c));
    checkInvariant(c, 6);
    EXPECT_FALSE(store_->campaignHasWorkLeft(addCampaign("empty")));
}

TEST_P(LedgerTest, DashboardCountsEveryLedgerState) {
    const Id c = addCampaign("c");
    const auto rs = attach(c, 5);
    unsubscribe(rs[4]);
    const auto batch = store_->claimBatch(c, "w", 3, kNow);
    store_->markHandedOver("w", handOvers({batch[0], batch[1]}));
    const std::vector<LedgerOutcome> outcomes{{batch[0].ledgerId, Kind::Sent, "", std::nullopt}};
    store_->recordOutcomes("w", outcomes, kNow);
    const Dashboard d = store_->dashboard();
    EXPECT_EQ(d.sent, 1);
    EXPECT_EQ(d.inFlight, 2);
    EXPECT_EQ(d.pending, 2);
    EXPECT_EQ(d.skipped, 0);  // r4 is beyond the claimed window: skipped when reached
    store_->recoverInterrupted(std::nullopt);
    store_->claimBatch(c, "w", 10, kNow);
    const Dashboard after = store_->dashboard();
    EXPECT_EQ(after.unknown, 1);
    EXPECT_EQ(after.skipped, 1);
    EXPECT_EQ(after.inFlight, 2);
    checkInvariant(c, 5);
}

TEST_P(LedgerTest, SendingCallsRefuseToJoinAnOuterTransaction) {
    const Id c = addCampaign("c");
    attach(c, 1);
    std::string message;
    try {
        store_->transaction([&] { store_->claimBatch(c, "w", 1, kNow); });
    } catch (const Error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("cannot run inside transaction()"), std::string::npos) << message;
    EXPECT_EQ(store_->findCampaign(c)->pendingCount, 1);
}

// ---- a killed sender -----------------------------------------------------------------------

TEST_P(LedgerTest, ASenderKilledAfterTheHandOverLeavesUnknownNeverPending) {
    const Id c = addCampaign("c");
    attach(c, 5);
    auto child = startChild("handed", c, 3);
    ASSERT_TRUE(child->waitForOutput("handed 3", 60s)) << child->err();
    child->kill();  // between markHandedOver and recordOutcomes
    EXPECT_EQ(child->wait(10s), 128 + SIGKILL);

    store_ = openStore(url_);  // a fresh connection, as the restarted daemon
    EXPECT_EQ(store_->findCampaign(c)->inFlightCount, 3);
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE status = 'handed_over'"
                    " AND claimed_by = 'child' AND message_id LIKE 'child-%'"),
              3);
    checkInvariant(c, 5);
    const RecoveredClaims r = store_->recoverInterrupted(std::string_view("child"));
    EXPECT_EQ(r.unknown, 3);
    EXPECT_EQ(r.released, 0);
    checkInvariant(c, 5);
    // The restarted sender gets only the two that were never claimed.
    const auto rest = store_->claimBatch(c, "child", 10, kNow);
    EXPECT_EQ(rest.size(), 2u);
    EXPECT_EQ(store_->findCampaign(c)->unknownCount, 3);
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE status = 'pending'"), 0);
}

TEST_P(LedgerTest, ASenderKilledBeforeTheHandOverLeavesRowsToSendAgain) {
    const Id c = addCampaign("c");
    attach(c, 5);
    auto child = startChild("claimed", c, 3);
    ASSERT_TRUE(child->waitForOutput("claimed 3", 60s)) << child->err();
    child->kill();
    EXPECT_EQ(child->wait(10s), 128 + SIGKILL);

    store_ = openStore(url_);
    EXPECT_EQ(store_->findCampaign(c)->inFlightCount, 3);
    checkInvariant(c, 5);
    EXPECT_TRUE(store_->claimBatch(c, "next", 10, kNow).size() == 2);  // claimed rows are not due
    store_->releaseClaims(c, "next");
    const RecoveredClaims r = store_->recoverInterrupted(std::nullopt);
    EXPECT_EQ(r.unknown, 0);
    EXPECT_EQ(r.released, 3);
    checkInvariant(c, 5);
    EXPECT_EQ(store_->claimBatch(c, "next", 10, kNow).size(), 5u);
    EXPECT_EQ(store_->findCampaign(c)->unknownCount, 0);
}

TEST_P(LedgerTest, ProblemsListFailedAndUnknownRowsInPagesWithNameAndReason) {
    const Id c = addCampaign("c");
    const Id other = addCampaign("other");
    const auto recipients = attach(c, 7);
    attach(other, 2, "o");
    // Rows 0-5 are claimed and handed over; 0 sent, 1 and 3 failed, 2 deferred (pending
    // again), 4 and 5 stay handed over and become unknown at recovery; row 6 stays pending.
    const auto batch = store_->claimBatch(c, "w", 6, kNow);
    ASSERT_EQ(batch.size(), 6u);
    ASSERT_EQ(store_->markHandedOver("w", handOvers(batch)).size(), 6u);
    const std::vector<LedgerOutcome> outcomes{
        {batch[0].ledgerId, Kind::Sent, "", std::nullopt},
        {batch[1].ledgerId, Kind::Failed, "550 5.1.1 User unknown", std::nullopt},
        {batch[2].ledgerId, Kind::Deferred, "451 4.7.1 Greylisted", kNow + kMinute},
        {batch[3].ledgerId, Kind::Failed, "=HYPERLINK(\"x\"), \"quoted\"", std::nullopt},
    };
    ASSERT_EQ(store_->recordOutcomes("w", outcomes, kNow), 4);
    ASSERT_EQ(store_->recoverInterrupted(std::nullopt).unknown, 2);
    const auto failedOther = store_->claimBatch(other, "w", 1, kNow);
    store_->markHandedOver("w", handOvers(failedOther));
    store_->recordOutcomes("w", std::vector<LedgerOutcome>{{failedOther[0].ledgerId, Kind::Failed, "x", std::nullopt}}, kNow);
    // The recipient of row 3 is gone: the row keeps its address, the name is empty.
    ASSERT_TRUE(store_->deleteRecipient(recipients[3]));

    const auto all = store_->campaignProblems(c, 0, 100);
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0].ledgerId, batch[1].ledgerId);
    EXPECT_EQ(all[0].email, "r1@example.com");
    EXPECT_EQ(all[0].name, "Name of r1@example.com");
    EXPECT_EQ(all[0].status, DeliveryStatus::Failed);
    EXPECT_EQ(all[0].reason, "550 5.1.1 User unknown");
    EXPECT_EQ(all[0].attempts, 1);
    EXPECT_EQ(all[1].email, "r3@example.com");
    EXPECT_EQ(all[1].name, "");
    EXPECT_EQ(all[1].reason, "=HYPERLINK(\"x\"), \"quoted\"");  // stored as it came
    EXPECT_EQ(all[2].email, "r4@example.com");
    EXPECT_EQ(all[2].status, DeliveryStatus::Unknown);
    EXPECT_NE(all[2].reason.find("outcome unknown"), std::string::npos) << all[2].reason;
    EXPECT_EQ(all[3].email, "r5@example.com");

    const auto first = store_->campaignProblems(c, 0, 3);
    ASSERT_EQ(first.size(), 3u);
    const auto rest = store_->campaignProblems(c, first.back().ledgerId, 3);
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0].email, "r5@example.com");
    EXPECT_TRUE(store_->campaignProblems(c, rest[0].ledgerId, 3).empty());
    EXPECT_TRUE(store_->campaignProblems(c, 0, 0).empty());
    EXPECT_EQ(store_->campaignProblems(other, 0, 10).size(), 1u);
    EXPECT_TRUE(store_->campaignProblems(9999, 0, 10).empty());
}

// ---- a campaign's recipients with their outcomes (report_store.h: campaignRecipients) -----

TEST_P(LedgerTest, CampaignRecipientsShowEachOutcomeWithItsReplyAndTime) {
    const Id c = addCampaign("c");
    const auto rs = attach(c, 6);
    unsubscribe(rs[5]);
    const auto batch = store_->claimBatch(c, "w", 6, kNow);  // r5 is skipped at kNow
    ASSERT_EQ(batch.size(), 5u);
    ASSERT_EQ(store_->markHandedOver("w", handOvers(batch)).size(), 5u);
    const Usec later = kNow + kMinute;
    const std::vector<LedgerOutcome> outcomes{
        {batch[0].ledgerId, Kind::Sent, "", std::nullopt},
        {batch[1].ledgerId, Kind::Failed, "550 5.1.1 User unknown", std::nullopt},
        {batch[2].ledgerId, Kind::Deferred, "451 4.7.1 Try again later", later + 10 * kMinute},
        {batch[3].ledgerId, Kind::Unknown, "the transport cannot tell", std::nullopt},
    };  // r4 stays handed over: in flight since its claim
    ASSERT_EQ(store_->recordOutcomes("w", outcomes, later), 4);

    const auto all = store_->campaignRecipients(c, {.state = std::nullopt, .limit = 100, .offset = 0});
    EXPECT_EQ(all.total, 6);
    ASSERT_EQ(all.recipients.size(), 6u);
    // By the ledger's status (failed, handed_over, pending, sending, sent, skipped, unknown).
    const std::vector<std::size_t> order{1, 4, 2, 0, 5, 3};
    const std::vector<SendState> states{SendState::Sent,    SendState::Failed,   SendState::Pending,
                                        SendState::Unknown, SendState::InFlight, SendState::Skipped};
    const std::vector<std::string> replies{"", "550 5.1.1 User unknown", "451 4.7.1 Try again later",
                                           "the transport cannot tell", "", "unsubscribed"};
    const std::vector<Usec> times{later, later, later, later, kNow, kNow};
    const std::vector<std::int64_t> attempts{1, 1, 1, 1, 0, 0};
    for (std::size_t k = 0; k < 6; ++k) {
        const std::size_t i = order[k];
        const CampaignRecipient& r = all.recipients[k];
        const std::string email = "r" + std::to_string(i) + "@example.com";
        EXPECT_EQ(r.email, email);
        EXPECT_EQ(r.name, "Name of " + email);
        EXPECT_EQ(r.state, states[i]) << email << " is " << toString(r.state);
        EXPECT_EQ(r.reply, replies[i]) << email;
        EXPECT_EQ(r.at, std::optional<Usec>(times[i])) << email;
        EXPECT_EQ(r.attempts, attempts[i]) << email;
    }

    const auto failed = store_->campaignRecipients(c, {.state = SendState::Failed, .limit = 100, .offset = 0});
    EXPECT_EQ(failed.total, 1);
    ASSERT_EQ(failed.recipients.size(), 1u);
    EXPECT_EQ(failed.recipients[0].email, "r1@example.com");
    const auto inFlight = store_->campaignRecipients(c, {.state = SendState::InFlight, .limit = 100, .offset = 0});
    EXPECT_EQ(inFlight.total, 1);
    ASSERT_EQ(inFlight.recipients.size(), 1u);
    EXPECT_EQ(inFlight.recipients[0].email, "r4@example.com");

    // Recovery makes the in-flight one unknown, at its claim's time; a cancel skips the
    // deferred one at the cancel's time.
    store_->recoverInterrupted(std::string_view("w"));
    const Usec cancelledAt = kNow + 2 * kMinute;
    EXPECT_EQ(store_->cancelPending(c, cancelledAt), 1);
    const auto unknown = store_->campaignRecipients(c, {.state = SendState::Unknown, .limit = 100, .offset = 0});
    EXPECT_EQ(unknown.total, 2);
    ASSERT_EQ(unknown.recipients.size(), 2u);
    EXPECT_EQ(unknown.recipients[1].email, "r4@example.com");
    EXPECT_EQ(unknown.recipients[1].at, std::optional<Usec>(kNow));
    EXPECT_NE(unknown.recipients[1].reply.find("outcome unknown"), std::string::npos) << unknown.recipients[1].reply;
    const auto skipped = store_->campaignRecipients(c, {.state = SendState::Skipped, .limit = 100, .offset = 0});
    EXPECT_EQ(skipped.total, 2);
    ASSERT_EQ(skipped.recipients.size(), 2u);
    EXPECT_EQ(skipped.recipients[0].email, "r2@example.com");
    EXPECT_EQ(skipped.recipients[0].reply, "campaign cancelled");
    EXPECT_EQ(skipped.recipients[0].at, std::optional<Usec>(cancelledAt));
    EXPECT_EQ(store_->campaignRecipients(c, {.state = SendState::Pending, .limit = 100, .offset = 0}).total, 0);
}

TEST_P(LedgerTest, CampaignRecipientsPageByLimitAndOffsetWithTheTotal) {
    const Id c = addCampaign("c");
    attach(c, 25);
    const Id other = addCampaign("other");
    attach(other, 3, "o");
    // Every odd one fails: r1, r3, ..., r23 (12 of them).
    const auto batch = store_->claimBatch(c, "w", 25, kNow);
    store_->markHandedOver("w", handOvers(batch));
    std::vector<LedgerOutcome> outcomes;
    for (std::size_t i = 0; i < batch.size(); ++i)
        outcomes.push_back({batch[i].ledgerId, i % 2 ? Kind::Failed : Kind::Sent, i % 2 ? "550 no" : "", std::nullopt});
    store_->recordOutcomes("w", outcomes, kNow);

    const auto emails = [](const CampaignRecipientPage& page) {
        std::vector<std::string> out;
        for (const auto& r : page.recipients) out.push_back(r.email);
        return out;
    };
    const auto failed = store_->campaignRecipients(c, {.state = SendState::Failed, .limit = 4, .offset = 8});
    EXPECT_EQ(failed.total, 12);
    EXPECT_EQ(emails(failed), (std::vector<std::string>{"r17@example.com", "r19@example.com",
                                                        "r21@example.com", "r23@example.com"}));
    const auto tail = store_->campaignRecipients(c, {.state = SendState::Failed, .limit = 4, .offset = 10});
    EXPECT_EQ(emails(tail), (std::vector<std::string>{"r21@example.com", "r23@example.com"}));
    EXPECT_TRUE(store_->campaignRecipients(c, {.state = SendState::Failed, .limit = 4, .offset = 12}).recipients.empty());
    const auto sent = store_->campaignRecipients(c, {.state = SendState::Sent, .limit = 2, .offset = 0});
    EXPECT_EQ(sent.total, 13);
    EXPECT_EQ(emails(sent), (std::vector<std::string>{"r0@example.com", "r2@example.com"}));
    // All of them: the 12 failed, then the 13 sent, each in attach order.
    const auto all = store_->campaignRecipients(c, {.state = std::nullopt, .limit = 10, .offset = 20});
    EXPECT_EQ(all.total, 25);
    EXPECT_EQ(emails(all), (std::vector<std::string>{"r16@example.com", "r18@example.com", "r20@example.com",
                                                     "r22@example.com", "r24@example.com"}));
    // Only the total; another campaign's rows are its own; no campaign, nothing.
    const auto none = store_->campaignRecipients(c, {.state = std::nullopt, .limit = 0, .offset = 0});
    EXPECT_EQ(none.total, 25);
    EXPECT_TRUE(none.recipients.empty());
    EXPECT_EQ(emails(store_->campaignRecipients(other, {.state = std::nullopt, .limit = 10, .offset = 0})),
              (std::vector<std::string>{"o0@example.com", "o1@example.com", "o2@example.com"}));
    const auto missing = store_->campaignRecipients(9999, {.state = std::nullopt, .limit = 10, .offset = 0});
    EXPECT_EQ(missing.total, 0);
    EXPECT_TRUE(missing.recipients.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, LedgerTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace campaignd::storage

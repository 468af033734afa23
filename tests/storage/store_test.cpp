// store_test.cpp: the Store contract, run unchanged against SQLite and PostgreSQL. Every test
// opens a fresh database (a file in a TempDir, or a new database on the binary's private
// PostgreSQL server) and checks real values read back through the interface the services
// use. A few tests set ledger outcomes (sent/failed) through the store's SQL connection, a
// shortcut past claim and hand-over that moves the kept counters as the store would; the
// sending path itself is ledger_test.cpp's, the counters' own test counters_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "storage/migrations.h"
#include "storage/sql_store.h"
#include "storage/store.h"
#include "support/postgres_environment.h"
#include "support/temp_dir.h"

namespace campaignd::storage {
namespace {

using test::PostgresEnvironment;
using test::TempDir;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

constexpr Usec kNow = 1'760'000'000'000'000;  // some day in 2025, in microseconds

template <typename Fn>
ErrorCode errorCodeOf(Fn&& fn, std::string* message = nullptr) {
    try {
        fn();
    } catch (const Error& e) {
        if (message) *message = e.what();
        return e.code();
    }
    ADD_FAILURE() << "expected an Error, none was thrown";
    return ErrorCode::Failed;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        url_ = freshUrl();
        store_ = openStore(url_);
    }

    std::string freshUrl() {
        if (GetParam() == "sqlite")
            return "sqlite:" + (dir_ / ("db" + std::to_string(++files_)) / "campaignd.sqlite").string();
        return PostgresEnvironment::server().createDatabase("storage");
    }

    void reopen() {
        store_.reset();
        store_ = openStore(url_);
    }

    SqlConnection& sql() { return dynamic_cast<SqlStore&>(*store_).connection(); }

    Campaign campaign(std::string name, CampaignStatus status = CampaignStatus::Draft,
                      std::optional<Usec> when = std::nullopt) {
        Campaign c;
        c.name = std::move(name);
        c.subject = "Subject of " + c.name;
        c.htmlContent = "<p>Hello</p>";
        c.status = status;
        c.scheduledTime = when;
        c.createdAt = kNow;
        c.updatedAt = kNow;
        return c;
    }

    Id addCampaign(std::string name, CampaignStatus status = CampaignStatus::Draft,
                   std::optional<Usec> when = std::nullopt) {
        return store_->insertCampaign(campaign(std::move(name), status, when));
    }

    Id addRecipient(std::string email, SubscriptionStatus status = SubscriptionStatus::Subscribed,
                    std::string name = {}) {
        Recipient r;
        r.email = std::move(email);
        r.name = std::move(name);
        r.status = status;
        r.createdAt = kNow;
        return store_->insertRecipient(r);
    }

    // A ledger outcome, set directly (the real path is claimBatch/markHandedOver/recordOutcomes).
    // Like the store, it moves the campaign's kept counter (campaign_counts, slot 0) from the
    // row's old state to the new one in the same transaction.
    void setDelivery(Id campaign, Id recipient, DeliveryStatus status, std::string reason = {}) {
        const auto counter = [](const std::string& token) -> std::string {
            if (token == "sending" || token == "handed_over") return "in_flight";
            return token;  // pending, sent, failed, unknown, skipped: fixed test tokens
        };
        sql().begin();
        const auto before = sql().query("SELECT status FROM campaign_recipients WHERE campaign_id = $1"
                                        " AND recipient_id = $2",
                                        {campaign, recipient});
        ASSERT_EQ(before.size(), 1u);
        const auto n = sql().exec(
            "UPDATE campaign_recipients SET status = $3, fail_reason = $4, attempts = attempts + 1"
            " WHERE campaign_id = $1 AND recipient_id = $2",
            {campaign, recipient, std::string(toString(status)), std::move(reason)});
        ASSERT_EQ(n, 1);
        const std::string from = counter(before.front().text(0)), to = counter(std::string(toString(status)));
        sql().exec("INSERT INTO campaign_counts (campaign_id, slot) VALUES ($1, 0) ON CONFLICT DO NOTHING",
                   {campaign});
        sql().exec("UPDATE campaign_counts SET " + from + " = " + from + " - 1 WHERE campaign_id = $1 AND slot = 0",
                   {campaign});
        sql().exec("UPDATE campaign_counts SET " + to + " = " + to + " + 1 WHERE campaign_id = $1 AND slot = 0",
                   {campaign});
        sql().commit();
    }

    std::int64_t count(const std::string& sqlText, const SqlParams& params = {}) {
        return sql().query(sqlText, params).at(0).int64(0);
    }

    TempDir dir_{"campaignd-storage-test"};
    int files_ = 0;
    std::string url_;
    std::unique_ptr<Store> store_;
};

// ---- opening, migrations, restart ---------------------------------------------------------

TEST_P(StoreTest, OpensAtTheLatestSchemaVersion) {
    EXPECT_EQ(store_->backendName(), GetParam());
    EXPECT_EQ(store_->schemaVersion(), kLatestSchemaVersion);
    EXPECT_EQ(count("SELECT COUNT(*) FROM schema_version"), kLatestSchemaVersion);
    if (GetParam() == "sqlite") {
        EXPECT_EQ(store_->location(), url_.substr(7));
        EXPECT_TRUE(std::filesystem::exists(url_.substr(7)));  // parent directory was created
        EXPECT_EQ(sql().query("PRAGMA journal_mode").at(0).text(0), "wal");
        EXPECT_EQ(sql().query("PRAGMA foreign_keys").at(0).int64(0), 1);
    } else {
        EXPECT_EQ(store_->location(), url_);
    }
}

TEST_P(StoreTest, ReopeningAppliesNoMigrationAgain) {
    const auto before = sql().query("SELECT version, applied_at FROM schema_version ORDER BY version");
    reopen();
    reopen();
    const auto after = sql().query("SELECT version, applied_at FROM schema_version ORDER BY version");
    ASSERT_EQ(after.size(), before.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
        EXPECT_EQ(after[i].int64(0), before[i].int64(0));
        EXPECT_EQ(after[i].int64(1), before[i].int64(1));
    }
    EXPECT_EQ(store_->schemaVersion(), kLatestSchemaVersion);
}

TEST_P(StoreTest, RefusesADatabaseNewerThanTheBinary) {
    sql().exec("INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, $3)",
               {std::int64_t(kLatestSchemaVersion + 1), std::string("from the future"), kNow});
    store_.reset();
    std::string message;
    EXPECT_EQ(errorCodeOf([&] { openStore(url_); }, &message), ErrorCode::Failed);
    EXPECT_NE(message.find("newer than this campaignd"), std::string::npos) << message;
    EXPECT_NE(message.find("schema version " + std::to_string(kLatestSchemaVersion + 1)), std::string::npos)
        << message;
}

TEST_P(StoreTest, ConcurrentOpenersMigrateOnce) {
    const std::string url = freshUrl();
    std::mutex mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            std::string failure;
            try {
                auto s = openStore(url);
                if (s->schemaVersion() != kLatestSchemaVersion) failure = "schema version " + std::to_string(s->schemaVersion());
            } catch (const std::exception& e) {
                failure = e.what();
            }
            std::lock_guard lock(mutex);
            if (!failure.empty()) failures.push_back(failure);
        });
    for (auto& t : threads) t.join();
    EXPECT_TRUE(failures.empty()) << failures.size() << " openers failed, the first: " << failures.front();
    url_ = url;
    reopen();
    EXPECT_EQ(count("SELECT COUNT(*) FROM schema_version"), kLatestSchemaVersion);
}

TEST_P(StoreTest, DataSurvivesCloseAndReopen) {
    const Id c = addCampaign("Spring sale", CampaignStatus::Scheduled, kNow + 60'000'000);
    const Id alice = addRecipient("alice@example.com", SubscriptionStatus::Subscribed, "Alice");
    addRecipient("bob@example.com", SubscriptionStatus::Unsubscribed, "Bob");
    const Id g = store_->insertGroup("customers", kNow);
    ASSERT_TRUE(store_->addGroupMember(g, alice));
    ASSERT_EQ(store_->attachGroup(c, g), 1);

    reopen();

    const auto found = store_->findCampaign(c);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->name, "Spring sale");
    EXPECT_EQ(found->status, CampaignStatus::Scheduled);
    EXPECT_EQ(found->scheduledTime, kNow + 60'000'000);
    EXPECT_EQ(found->recipientCount, 1);
    EXPECT_EQ(found->pendingCount, 1);
    const auto bob = store_->findRecipient("bob@example.com");
    ASSERT_TRUE(bob);
    EXPECT_EQ(bob->name, "Bob");
    EXPECT_EQ(bob->status, SubscriptionStatus::Unsubscribed);
    const auto group = store_->findGroup("customers");
    ASSERT_TRUE(group);
    EXPECT_EQ(group->memberCount, 1);
    // Ids keep growing after a restart: a new campaign never reuses an old id.
    EXPECT_GT(addCampaign("after restart"), c);
}

// ---- campaigns ----------------------------------------------------------------------------

TEST_P(StoreTest, CampaignRoundTripsEveryField) {
    Campaign c = campaign("Ünïcode 'quoted' \"name\"; DROP TABLE campaigns; --");
    c.subject = "Offer Zone [CID:18]";
    c.htmlContent = std::string(100'000, 'x') + "<p>€</p>";
    c.textContent = "plain text\nwith lines";
    c.fromAddress = "News <news@example.com>";
    c.scheduledTime = kNow + 1;
    c.status = CampaignStatus::Scheduled;
    c.statusReason = "scheduled by test";
    c.createdAt = kNow - 5;
    c.updatedAt = kNow - 4;
    c.recipientCount = 99;  // ignored on write
    const Id id = store_->insertCampaign(c);
    EXPECT_GT(id, 0);

    const auto found = store_->findCampaign(id);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, id);
    EXPECT_EQ(found->name, c.name);
    EXPECT_EQ(found->subject, c.subject);
    EXPECT_EQ(found->htmlContent, c.htmlContent);
    EXPECT_EQ(found->textContent, c.textContent);
    EXPECT_EQ(found->fromAddress, c.fromAddress);
    EXPECT_EQ(found->scheduledTime, c.scheduledTime);
    EXPECT_EQ(found->status, CampaignStatus::Scheduled);
    EXPECT_EQ(found->statusReason, c.statusReason);
    EXPECT_EQ(found->createdAt, kNow - 5);
    EXPECT_EQ(found->updatedAt, kNow - 4);
    EXPECT_EQ(found->recipientCount, 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaigns"), 1);  // the name was data, not SQL

    const Id unscheduled = addCampaign("no schedule");
    EXPECT_EQ(store_->findCampaign(unscheduled)->scheduledTime, std::nullopt);
    EXPECT_FALSE(store_->findCampaign(id + unscheduled + 1000));
}

TEST_P(StoreTest, UpdateCampaignChangesFieldsAndRefusesUnknownIds) {
    const Id id = addCampaign("draft one", CampaignStatus::Draft, kNow + 10);
    Campaign c = *store_->findCampaign(id);
    c.name = "renamed";
    c.subject = "new subject";
    c.htmlContent = "<p>new</p>";
    c.textContent = "new";
    c.fromAddress = "a@b.example";
    c.scheduledTime = std::nullopt;
    c.status = CampaignStatus::Cancelled;
    c.statusReason = "changed mind";
    c.createdAt = 1;  // not written
    c.updatedAt = kNow + 99;
    store_->updateCampaign(c);
    const auto found = store_->findCampaign(id);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->name, "renamed");
    EXPECT_EQ(found->subject, "new subject");
    EXPECT_EQ(found->htmlContent, "<p>new</p>");
    EXPECT_EQ(found->textContent, "new");
    EXPECT_EQ(found->fromAddress, "a@b.example");
    EXPECT_EQ(found->scheduledTime, std::nullopt);
    EXPECT_EQ(found->status, CampaignStatus::Cancelled);
    EXPECT_EQ(found->statusReason, "changed mind");
    EXPECT_EQ(found->createdAt, kNow);
    EXPECT_EQ(found->updatedAt, kNow + 99);

    c.id = id + 1000;
    EXPECT_EQ(errorCodeOf([&] { store_->updateCampaign(c); }), ErrorCode::NotFound);
}

TEST_P(StoreTest, ListCampaignsByIdWithOptionalStatusFilter) {
    const Id a = addCampaign("a", CampaignStatus::Scheduled, kNow);
    const Id b = addCampaign("b");
    const Id c = addCampaign("c", CampaignStatus::Scheduled, kNow - 1);
    std::vector<Id> all;
    for (const auto& x : store_->listCampaigns(std::nullopt)) all.push_back(x.id);
    EXPECT_EQ(all, (std::vector<Id>{a, b, c}));
    std::vector<Id> scheduled;
    for (const auto& x : store_->listCampaigns(CampaignStatus::Scheduled)) scheduled.push_back(x.id);
    EXPECT_EQ(scheduled, (std::vector<Id>{a, c}));
    EXPECT_TRUE(store_->listCampaigns(CampaignStatus::Completed).empty());
}

TEST_P(StoreTest, CampaignCountsComeFromTheLedger) {
    const Id c = addCampaign("counted");
    const Id r1 = addRecipient("r1@example.com");
    const Id r2 = addRecipient("r2@example.com");
    const Id r3 = addRecipient("r3@example.com");
    for (Id r : {r1, r2, r3}) ASSERT_TRUE(store_->attachRecipient(c, r));
    setDelivery(c, r1, DeliveryStatus::Sent);
    setDelivery(c, r2, DeliveryStatus::Failed, "550 5.1.1 User unknown");
    for (const Campaign& x : {*store_->findCampaign(c), store_->listCampaigns(std::nullopt).at(0)}) {
        EXPECT_EQ(x.recipientCount, 3);
        EXPECT_EQ(x.sentCount, 1);
        EXPECT_EQ(x.failedCount, 1);
        EXPECT_EQ(x.pendingCount, 1);
    }
}

TEST_P(StoreTest, DeleteCampaignTakesItsLedgerAndNothingElse) {
    const Id c = addCampaign("doomed");
    const Id other = addCampaign("other");
    const Id r = addRecipient("keep@example.com");
    ASSERT_TRUE(store_->attachRecipient(c, r));
    ASSERT_TRUE(store_->attachRecipient(other, r));
    sql().exec("INSERT INTO bounce_records (campaign_id, recipient_email, reason, status_code, processed_at)"
               " VALUES ($1, $2, $3, $4, $5)",
               {c, std::string("keep@example.com"), std::string("Mailbox unavailable"), std::string("5.1.1"), kNow});

    EXPECT_TRUE(store_->deleteCampaign(c));
    EXPECT_FALSE(store_->findCampaign(c));
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = $1", {c}), 0);
    EXPECT_EQ(store_->findCampaign(other)->recipientCount, 1);
    EXPECT_TRUE(store_->findRecipient("keep@example.com"));
    // The bounce stays, no longer tied to a campaign.
    EXPECT_EQ(count("SELECT COUNT(*) FROM bounce_records WHERE campaign_id IS NULL"), 1);
    EXPECT_FALSE(store_->deleteCampaign(c));
}

TEST_P(StoreTest, ChangeCampaignStatusIsACompareAndSet) {
    const Id id = addCampaign("cas", CampaignStatus::Scheduled, kNow);
    EXPECT_FALSE(store_->changeCampaignStatus(id, CampaignStatus::Draft, CampaignStatus::InProgress,
                                              "wrong from", kNow + 1));
    auto c = store_->findCampaign(id);
    EXPECT_EQ(c->status, CampaignStatus::Scheduled);
    EXPECT_EQ(c->statusReason, "");
    EXPECT_EQ(c->updatedAt, kNow);

    EXPECT_TRUE(store_->changeCampaignStatus(id, CampaignStatus::Scheduled, CampaignStatus::InProgress,
                                             "started by scheduler", kNow + 2));
    c = store_->findCampaign(id);
    EXPECT_EQ(c->status, CampaignStatus::InProgress);
    EXPECT_EQ(c->statusReason, "started by scheduler");
    EXPECT_EQ(c->updatedAt, kNow + 2);
    // A second scheduler racing for the same campaign loses.
    EXPECT_FALSE(store_->changeCampaignStatus(id, CampaignStatus::Scheduled, CampaignStatus::InProgress,
                                              "second", kNow + 3));
    EXPECT_FALSE(store_->changeCampaignStatus(id + 1000, CampaignStatus::InProgress,
                                              CampaignStatus::Completed, "", kNow));
}

TEST_P(StoreTest, DueCampaignsAreScheduledOnesAtOrBeforeNowOldestFirst) {
    const Id late = addCampaign("late", CampaignStatus::Scheduled, kNow - 10);
    const Id exact = addCampaign("exact", CampaignStatus::Scheduled, kNow);
    const Id future = addCampaign("future", CampaignStatus::Scheduled, kNow + 1);
    const Id oldest = addCampaign("oldest", CampaignStatus::Scheduled, kNow - 1000);
    const Id tie = addCampaign("tie with late", CampaignStatus::Scheduled, kNow - 10);
    addCampaign("draft in the past", CampaignStatus::Draft, kNow - 2000);
    addCampaign("paused in the past", CampaignStatus::Paused, kNow - 2000);
    addCampaign("scheduled without time", CampaignStatus::Scheduled);

    EXPECT_EQ(store_->dueCampaigns(kNow), (std::vector<Id>{oldest, late, tie, exact}));
    EXPECT_EQ(store_->dueCampaigns(kNow + 1), (std::vector<Id>{oldest, late, tie, exact, future}));
    EXPECT_EQ(store_->dueCampaigns(kNow - 1001), std::vector<Id>{});
    ASSERT_TRUE(store_->changeCampaignStatus(oldest, CampaignStatus::Scheduled, CampaignStatus::InProgress, "", kNow));
    EXPECT_EQ(store_->dueCampaigns(kNow), (std::vector<Id>{late, tie, exact}));
}

// ---- recipients ---------------------------------------------------------------------------

TEST_P(StoreTest, RecipientAddressesAreUniqueCaseInsensitively) {
    const Id id = addRecipient("Alice.Smith@example.com", SubscriptionStatus::Subscribed, "Alice");
    std::string message;
    EXPECT_EQ(errorCodeOf([&] { addRecipient("alice.smith@EXAMPLE.com"); }, &message), ErrorCode::AlreadyExists);
    EXPECT_NE(message.find("alice.smith@EXAMPLE.com"), std::string::npos) << message;

    for (const char* spelling : {"Alice.Smith@example.com", "ALICE.SMITH@EXAMPLE.COM", "alice.smith@example.com"}) {
        const auto found = store_->findRecipient(spelling);
        ASSERT_TRUE(found) << spelling;
        EXPECT_EQ(found->id, id);
        EXPECT_EQ(found->email, "Alice.Smith@example.com");  // stored as given
        EXPECT_EQ(found->name, "Alice");
        EXPECT_EQ(found->createdAt, kNow);
    }
    EXPECT_FALSE(store_->findRecipient("alice.smith@example.org"));
    EXPECT_EQ(count("SELECT COUNT(*) FROM recipients"), 1);
}

TEST_P(StoreTest, AlreadyExistsInsideATransactionLetsItContinue) {
    // A CSV import skips duplicates inside one transaction; that must work on both backends.
    int duplicates = 0;
    store_->transaction([&] {
        for (const char* email : {"a@example.com", "b@example.com", "A@example.com", "c@example.com"}) {
            try {
                addRecipient(email);
            } catch (const Error& e) {
                if (e.code() != ErrorCode::AlreadyExists) throw;
                ++duplicates;
            }
        }
    });
    EXPECT_EQ(duplicates, 1);
    EXPECT_EQ(store_->listRecipients({}).size(), 3u);
}

TEST_P(StoreTest, UpdateRecipientChangesNameAndStatusOnly) {
    const Id id = addRecipient("carol@example.com", SubscriptionStatus::Subscribed, "Carol");
    Recipient r = *store_->findRecipient("carol@example.com");
    r.name = "Carol C.";
    r.status = SubscriptionStatus::Unsubscribed;
    r.email = "someone-else@example.com";  // not written
    store_->updateRecipient(r);
    const auto found = store_->findRecipient("carol@example.com");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, id);
    EXPECT_EQ(found->name, "Carol C.");
    EXPECT_EQ(found->status, SubscriptionStatus::Unsubscribed);
    EXPECT_FALSE(store_->findRecipient("someone-else@example.com"));
    r.id = id + 1000;
    EXPECT_EQ(errorCodeOf([&] { store_->updateRecipient(r); }), ErrorCode::NotFound);
}

TEST_P(StoreTest, ListRecipientsFiltersPagesAndFillsGroups) {
    // Byte-wise order of the lower-case key: '.' (0x2e) sorts before letters on both backends.
    const Id ab = addRecipient("ab@example.com");
    const Id adot = addRecipient("A.C@example.com", SubscriptionStatus::Unsubscribed);
    const Id b = addRecipient("B@example.com");
    const Id z = addRecipient("z@example.com");
    const Id vip = store_->insertGroup("vip", kNow);
    const Id all = store_->insertGroup("all", kNow);
    for (Id r : {ab, adot, b, z}) ASSERT_TRUE(store_->addGroupMember(all, r));
    ASSERT_TRUE(store_->addGroupMember(vip, adot));
    ASSERT_TRUE(store_->addGroupMember(vip, z));

    auto emails = [](const std::vector<Recipient>& rs) {
        std::vector<std::string> out;
        for (const auto& r : rs) out.push_back(r.email);
        return out;
    };
    const auto everyone = store_->listRecipients({});
    EXPECT_EQ(emails(everyone),
              (std::vector<std::string>{"A.C@example.com", "ab@example.com", "B@example.com", "z@example.com"}));
    EXPECT_EQ(everyone.at(0).groups, (std::vector<std::string>{"all", "vip"}));
    EXPECT_EQ(everyone.at(1).groups, (std::vector<std::string>{"all"}));
    EXPECT_EQ(everyone.at(3).groups, (std::vector<std::string>{"all", "vip"}));

    RecipientFilter f;
    f.group = "vip";
    const auto vips = store_->listRecipients(f);
    EXPECT_EQ(emails(vips), (std::vector<std::string>{"A.C@example.com", "z@example.com"}));
    EXPECT_EQ(vips.at(1).groups, (std::vector<std::string>{"all", "vip"}));  // all its groups
    f.status = SubscriptionStatus::Subscribed;
    EXPECT_EQ(emails(store_->listRecipients(f)), (std::vector<std::string>{"z@example.com"}));
    f = {};
    f.status = SubscriptionStatus::Unsubscribed;
    EXPECT_EQ(emails(store_->listRecipients(f)), (std::vector<std::string>{"A.C@example.com"}));

    f = {};
    f.limit = 2;
    f.offset = 1;
    const auto page = store_->listRecipients(f);
    EXPECT_EQ(emails(page), (std::vector<std::string>{"ab@example.com", "B@example.com"}));
    EXPECT_EQ(page.at(0).groups, (std::vector<std::string>{"all"}));
    f.offset = 3;
    EXPECT_EQ(emails(store_->listRecipients(f)), (std::vector<std::string>{"z@example.com"}));
    f.offset = 10;
    EXPECT_TRUE(store_->listRecipients(f).empty());
    f = {};
    f.limit = 0;
    EXPECT_TRUE(store_->listRecipients(f).empty());
    f = {};
    f.offset = 2;  // an offset without a limit
    EXPECT_EQ(emails(store_->listRecipients(f)), (std::vector<std::string>{"B@example.com", "z@example.com"}));

    f = {};
    f.group = "no such group";
    EXPECT_TRUE(store_->listRecipients(f).empty());
    f = {};
    f.limit = -1;
    EXPECT_EQ(errorCodeOf([&] { store_->listRecipients(f); }), ErrorCode::InvalidArgument);
    f = {};
    f.offset = -1;
    EXPECT_EQ(errorCodeOf([&] { store_->listRecipients(f); }), ErrorCode::InvalidArgument);
}

TEST_P(StoreTest, DeleteRecipientDropsMembershipsAndPendingRowsButKeepsHistory) {
    const Id r = addRecipient("gone@example.com");
    const Id stays = addRecipient("stays@example.com");
    const Id g = store_->insertGroup("g", kNow);
    ASSERT_TRUE(store_->addGroupMember(g, r));
    ASSERT_TRUE(store_->addGroupMember(g, stays));
    const Id draft = addCampaign("draft");
    const Id done = addCampaign("done", CampaignStatus::Completed);
    ASSERT_TRUE(store_->attachRecipient(draft, r));
    ASSERT_TRUE(store_->attachRecipient(draft, stays));
    ASSERT_TRUE(store_->attachRecipient(done, r));
    setDelivery(done, r, DeliveryStatus::Sent);

    EXPECT_TRUE(store_->deleteRecipient(r));
    EXPECT_FALSE(store_->findRecipient("gone@example.com"));
    EXPECT_EQ(store_->findGroup("g")->memberCount, 1);
    const auto d = store_->findCampaign(draft);
    EXPECT_EQ(d->recipientCount, 1);
    EXPECT_EQ(d->pendingCount, 1);
    const auto finished = store_->findCampaign(done);
    EXPECT_EQ(finished->recipientCount, 1);
    EXPECT_EQ(finished->sentCount, 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE recipient_id IS NULL"
                    " AND recipient_email = $1", {std::string("gone@example.com")}),
              1);
    EXPECT_FALSE(store_->deleteRecipient(r));
    // The address can be used again.
    EXPECT_GT(addRecipient("gone@example.com"), stays);
}

TEST_P(StoreTest, RecipientInActiveCampaignMeansInProgress) {
    const Id r = addRecipient("busy@example.com");
    const Id idle = addRecipient("idle@example.com");
    const Id c = addCampaign("c", CampaignStatus::Scheduled, kNow);
    ASSERT_TRUE(store_->attachRecipient(c, r));
    EXPECT_FALSE(store_->recipientInActiveCampaign(r));
    ASSERT_TRUE(store_->changeCampaignStatus(c, CampaignStatus::Scheduled, CampaignStatus::InProgress, "", kNow));
    EXPECT_TRUE(store_->recipientInActiveCampaign(r));
    EXPECT_FALSE(store_->recipientInActiveCampaign(idle));
    ASSERT_TRUE(store_->changeCampaignStatus(c, CampaignStatus::InProgress, CampaignStatus::Completed, "", kNow));
    EXPECT_FALSE(store_->recipientInActiveCampaign(r));
}

// ---- groups -------------------------------------------------------------------------------

TEST_P(StoreTest, GroupNamesAreUniqueCaseSensitively) {
    const Id news = store_->insertGroup("News", kNow);
    const Id lower = store_->insertGroup("news", kNow + 1);
    EXPECT_NE(news, lower);
    std::string message;
    EXPECT_EQ(errorCodeOf([&] { store_->insertGroup("News", kNow); }, &message), ErrorCode::AlreadyExists);
    EXPECT_NE(message.find("News"), std::string::npos) << message;

    store_->insertGroup("Zeta", kNow);
    store_->insertGroup("alpha", kNow);
    std::vector<std::string> names;
    for (const auto& g : store_->listGroups()) names.push_back(g.name);
    EXPECT_EQ(names, (std::vector<std::string>{"News", "Zeta", "alpha", "news"}));  // byte-wise

    const auto found = store_->findGroup("news");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, lower);
    EXPECT_EQ(found->createdAt, kNow + 1);
    EXPECT_EQ(found->memberCount, 0);
    EXPECT_FALSE(store_->findGroup("NEWS"));
}

TEST_P(StoreTest, GroupMembershipAddRemoveAndDelete) {
    const Id g = store_->insertGroup("members", kNow);
    const Id other = store_->insertGroup("other", kNow);
    const Id r1 = addRecipient("m1@example.com");
    const Id r2 = addRecipient("m2@example.com");
    EXPECT_TRUE(store_->addGroupMember(g, r1));
    EXPECT_FALSE(store_->addGroupMember(g, r1));  // already a member
    EXPECT_TRUE(store_->addGroupMember(g, r2));
    EXPECT_TRUE(store_->addGroupMember(other, r2));
    EXPECT_EQ(store_->findGroup("members")->memberCount, 2);
    EXPECT_EQ(store_->findRecipient("m2@example.com")->groups, (std::vector<std::string>{"members", "other"}));

    EXPECT_TRUE(store_->removeGroupMember(g, r1));
    EXPECT_FALSE(store_->removeGroupMember(g, r1));  // not a member
    EXPECT_EQ(store_->findGroup("members")->memberCount, 1);
    EXPECT_TRUE(store_->findRecipient("m1@example.com")->groups.empty());

    EXPECT_TRUE(store_->deleteGroup(g));
    EXPECT_FALSE(store_->deleteGroup(g));
    EXPECT_FALSE(store_->findGroup("members"));
    EXPECT_EQ(store_->findRecipient("m2@example.com")->groups, (std::vector<std::string>{"other"}));
    EXPECT_EQ(count("SELECT COUNT(*) FROM group_members WHERE group_id = $1", {g}), 0);
    EXPECT_EQ(store_->listRecipients({}).size(), 2u);  // recipients stay

    // A membership naming a missing group or recipient is a database error.
    std::string message;
    EXPECT_EQ(errorCodeOf([&] { store_->addGroupMember(g, r2); }, &message), ErrorCode::Failed);
    EXPECT_EQ(message.rfind("database: ", 0), 0u) << message;
}

// ---- the send ledger ----------------------------------------------------------------------

TEST_P(StoreTest, AttachGroupAddsSubscribedMembersOnlyAndNeverTwice) {
    const Id c = addCampaign("attach");
    const Id g = store_->insertGroup("list", kNow);
    std::vector<Id> members;
    for (const char* email : {"s1@example.com", "s2@example.com", "s3@example.com"})
        members.push_back(addRecipient(email));
    const Id unsub = addRecipient("u@example.com", SubscriptionStatus::Unsubscribed);
    const Id outsider = addRecipient("outsider@example.com");
    for (Id r : members) ASSERT_TRUE(store_->addGroupMember(g, r));
    ASSERT_TRUE(store_->addGroupMember(g, unsub));

    EXPECT_EQ(store_->attachGroup(c, g), 3);
    EXPECT_EQ(store_->attachGroup(c, g), 0);
    const Id late = addRecipient("late@example.com");
    ASSERT_TRUE(store_->addGroupMember(g, late));
    EXPECT_EQ(store_->attachGroup(c, g), 1);
    const auto found = store_->findCampaign(c);
    EXPECT_EQ(found->recipientCount, 4);
    EXPECT_EQ(found->pendingCount, 4);
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 AND recipient_id = $2", {c, unsub}), 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 AND recipient_id = $2", {c, outsider}), 0);
    // The ledger row remembers the address and starts clean.
    const auto row = sql().query("SELECT recipient_email, status, fail_reason, attempts, sent_at"
                                 " FROM campaign_recipients WHERE campaign_id = $1 AND recipient_id = $2",
                                 {c, members[0]});
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(row[0].text(0), "s1@example.com");
    EXPECT_EQ(row[0].text(1), "pending");
    EXPECT_EQ(row[0].text(2), "");
    EXPECT_EQ(row[0].int64(3), 0);
    EXPECT_TRUE(row[0].isNull(4));

    // Another campaign gets its own rows; an empty group adds none.
    const Id c2 = addCampaign("second");
    EXPECT_EQ(store_->attachGroup(c2, g), 4);
    EXPECT_EQ(store_->attachGroup(c2, store_->insertGroup("empty", kNow)), 0);
}

TEST_P(StoreTest, AttachRecipientOnlySubscribedAndOnce) {
    const Id c = addCampaign("single");
    const Id r = addRecipient("one@example.com");
    const Id unsub = addRecipient("no@example.com", SubscriptionStatus::Unsubscribed);
    EXPECT_TRUE(store_->attachRecipient(c, r));
    EXPECT_FALSE(store_->attachRecipient(c, r));
    EXPECT_FALSE(store_->attachRecipient(c, unsub));
    EXPECT_EQ(store_->findCampaign(c)->recipientCount, 1);
    // Attached by address, then again through a group: still one row.
    const Id g = store_->insertGroup("g", kNow);
    ASSERT_TRUE(store_->addGroupMember(g, r));
    EXPECT_EQ(store_->attachGroup(c, g), 0);
}

TEST_P(StoreTest, CountPeopleCountsEachPersonOnceByWhetherSubscribed) {
    const Id a = store_->insertGroup("a", kNow);
    const Id b = store_->insertGroup("b", kNow);
    const Id s1 = addRecipient("s1@example.com");
    const Id s2 = addRecipient("s2@example.com");
    const Id s3 = addRecipient("s3@example.com");
    const Id u = addRecipient("u@example.com", SubscriptionStatus::Unsubscribed);
    const Id x = addRecipient("x@example.com", SubscriptionStatus::Bounced);
    addRecipient("outsider@example.com");
    for (const Id r : {s1, s2, u}) ASSERT_TRUE(store_->addGroupMember(a, r));
    for (const Id r : {s2, x}) ASSERT_TRUE(store_->addGroupMember(b, r));  // s2 in both

    auto counted = [&](const std::vector<Id>& groups, const std::vector<Id>& recipients) {
        const auto n = store_->countPeople(groups, recipients);
        return std::to_string(n.subscribed) + " subscribed, " + std::to_string(n.notSubscribed) + " not";
    };
    EXPECT_EQ(counted({}, {}), "0 subscribed, 0 not");
    EXPECT_EQ(counted({a}, {}), "2 subscribed, 1 not");
    EXPECT_EQ(counted({a, b}, {}), "2 subscribed, 2 not");         // s2 once
    EXPECT_EQ(counted({a, b}, {s1, s3}), "3 subscribed, 2 not");   // s1 once
    EXPECT_EQ(counted({}, {u, s3}), "1 subscribed, 1 not");
    EXPECT_EQ(counted({9999}, {8888}), "0 subscribed, 0 not");     // none such
}

// ---- transactions -------------------------------------------------------------------------

TEST_P(StoreTest, TransactionCommitsOrRollsBackAndRethrows) {
    store_->transaction([&] { addRecipient("kept@example.com"); });
    EXPECT_TRUE(store_->findRecipient("kept@example.com"));

    struct Boom : std::runtime_error {
        Boom() : std::runtime_error("boom") {}
    };
    EXPECT_THROW(store_->transaction([&] {
        addRecipient("lost@example.com");
        addCampaign("lost campaign");
        EXPECT_TRUE(store_->findRecipient("lost@example.com"));  // visible inside
        throw Boom();
    }),
                 Boom);
    EXPECT_FALSE(store_->findRecipient("lost@example.com"));
    EXPECT_TRUE(store_->listCampaigns(std::nullopt).empty());
    // The store is usable afterwards.
    addRecipient("after@example.com");
    EXPECT_EQ(store_->listRecipients({}).size(), 2u);
}

TEST_P(StoreTest, NestedTransactionsJoinTheOuterOne) {
    // Inner work is undone with the outer transaction.
    EXPECT_THROW(store_->transaction([&] {
        addRecipient("outer@example.com");
        store_->transaction([&] { addRecipient("inner@example.com"); });
        throw std::runtime_error("outer fails");
    }),
                 std::runtime_error);
    EXPECT_FALSE(store_->findRecipient("outer@example.com"));
    EXPECT_FALSE(store_->findRecipient("inner@example.com"));

    // An inner failure the outer catches undoes only the inner work.
    store_->transaction([&] {
        addRecipient("a@example.com");
        try {
            store_->transaction([&] {
                addRecipient("b@example.com");
                throw std::runtime_error("inner fails");
            });
        } catch (const std::runtime_error&) {
        }
        addRecipient("c@example.com");
    });
    EXPECT_TRUE(store_->findRecipient("a@example.com"));
    EXPECT_FALSE(store_->findRecipient("b@example.com"));
    EXPECT_TRUE(store_->findRecipient("c@example.com"));

    // Methods that use a transaction themselves work inside one.
    const Id r = addRecipient("nested-delete@example.com");
    store_->transaction([&] { EXPECT_TRUE(store_->deleteRecipient(r)); });
    EXPECT_FALSE(store_->findRecipient("nested-delete@example.com"));
}

TEST_P(StoreTest, AFailedStatementAbortsTheTransactionOnBothBackends) {
    std::string message;
    EXPECT_EQ(errorCodeOf(
                  [&] {
                      store_->transaction([&] {
                          store_->insertGroup("first", kNow);
                          try {
                              store_->addGroupMember(424242, 434343);  // foreign keys fail
                          } catch (const Error&) {
                          }
                          store_->insertGroup("second", kNow);  // refused: transaction aborted
                      });
                  },
                  &message),
              ErrorCode::Failed);
    EXPECT_NE(message.find("aborted"), std::string::npos) << message;
    EXPECT_TRUE(store_->listGroups().empty());

    // With the failing part in a nested transaction, the rest commits.
    store_->transaction([&] {
        store_->insertGroup("first", kNow);
        try {
            store_->transaction([&] { store_->addGroupMember(424242, 434343); });
        } catch (const Error&) {
        }
        store_->insertGroup("second", kNow);
    });
    EXPECT_EQ(store_->listGroups().size(), 2u);
}

// ---- reports ------------------------------------------------------------------------------

TEST_P(StoreTest, DashboardCountsEverything) {
    Dashboard empty = store_->dashboard();
    EXPECT_EQ(empty.totalRecipients, 0);
    ASSERT_EQ(empty.campaignsByStatus.size(), 6u);
    for (const auto& [status, n] : empty.campaignsByStatus) EXPECT_EQ(n, 0) << toString(status);

    const Id r1 = addRecipient("d1@example.com");
    const Id r2 = addRecipient("d2@example.com");
    const Id r3 = addRecipient("d3@example.com");
    addRecipient("d4@example.com", SubscriptionStatus::Unsubscribed);
    store_->insertGroup("g1", kNow);
    store_->insertGroup("g2", kNow);
    const Id c1 = addCampaign("c1", CampaignStatus::Completed);
    const Id c2 = addCampaign("c2", CampaignStatus::Scheduled, kNow);
    addCampaign("c3", CampaignStatus::Scheduled, kNow);
    addCampaign("c4");
    for (Id r : {r1, r2, r3}) ASSERT_TRUE(store_->attachRecipient(c1, r));
    ASSERT_TRUE(store_->attachRecipient(c2, r1));
    setDelivery(c1, r1, DeliveryStatus::Sent);
    setDelivery(c1, r2, DeliveryStatus::Sent);
    setDelivery(c1, r3, DeliveryStatus::Failed, "bounced");

    const Dashboard d = store_->dashboard();
    EXPECT_EQ(d.totalRecipients, 4);
    EXPECT_EQ(d.subscribedRecipients, 3);
    EXPECT_EQ(d.totalCampaigns, 4);
    EXPECT_EQ(d.totalGroups, 2);
    EXPECT_EQ(d.sent, 2);
    EXPECT_EQ(d.failed, 1);
    EXPECT_EQ(d.pending, 1);
    const std::vector<std::pair<CampaignStatus, std::int64_t>> expected{
        {CampaignStatus::Draft, 1},  {CampaignStatus::Scheduled, 2}, {CampaignStatus::InProgress, 0},
        {CampaignStatus::Paused, 0}, {CampaignStatus::Completed, 1}, {CampaignStatus::Cancelled, 0}};
    EXPECT_EQ(d.campaignsByStatus, expected);
}

TEST_P(StoreTest, CampaignSummaryReportsRatesAndReasons) {
    const Id c = addCampaign("report");
    std::vector<Id> rs;
    for (int i = 0; i < 7; ++i) {
        rs.push_back(addRecipient("s" + std::to_string(i) + "@example.com"));
        ASSERT_TRUE(store_->attachRecipient(c, rs.back()));
    }
    setDelivery(c, rs[0], DeliveryStatus::Sent);
    setDelivery(c, rs[1], DeliveryStatus::Sent);
    setDelivery(c, rs[2], DeliveryStatus::Failed, "Timeout");
    setDelivery(c, rs[3], DeliveryStatus::Failed, "Mailbox unavailable");
    setDelivery(c, rs[4], DeliveryStatus::Failed, "Mailbox unavailable");
    setDelivery(c, rs[5], DeliveryStatus::Failed, "Blocked");
    // rs[6] stays pending

    const CampaignSummary s = store_->campaignSummary(c);
    EXPECT_EQ(s.campaignId, c);
    EXPECT_EQ(s.total, 7);
    EXPECT_EQ(s.sent, 2);
    EXPECT_EQ(s.failed, 4);
    EXPECT_EQ(s.pending, 1);
    EXPECT_NEAR(s.successPercent, 200.0 / 7.0, 1e-9);
    const std::vector<std::pair<std::string, std::int64_t>> reasons{
        {"Mailbox unavailable", 2}, {"Blocked", 1}, {"Timeout", 1}};  // ties by reason
    EXPECT_EQ(s.failureReasons, reasons);

    const CampaignSummary none = store_->campaignSummary(addCampaign("empty"));
    EXPECT_EQ(none.total, 0);
    EXPECT_EQ(none.successPercent, 0.0);
    EXPECT_TRUE(none.failureReasons.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace campaignd::storage

// store_test.cpp: the Store contract, run unchanged against SQLite and PostgreSQL: opening,
// migrations and restart, and transactions; each role's own tests are beside it
// (campaign_store_test.cpp, recipient_store_test.cpp, attach_test.cpp, report_store_test.cpp;
// the fixture is store_fixture.h). A few tests set ledger outcomes (sent/failed) through the
// store's SQL connection, a shortcut past claim and hand-over that moves the kept counters as
// the store would; the sending path itself is ledger_test.cpp's, the counters' own test
// counters_test.cpp. This file registers the binary's private PostgreSQL and instantiates the
// suite for both backends.
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "storage/migrations.h"

#include "store_fixture.h"

namespace campaignd::storage {
namespace {

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

// ---- opening, migrations, restart ---------------------------------------------------------

TEST_P(StoreTest, OpensAtTheLatestSchemaVersion) {
    EXPECT_EQ(store_->backendName(), GetParam());
    EXPECT_EQ(store_->schemaVersion(), kLatestSchemaVersion);
    EXPECT_EQ(count("SELECT COUNT(*) FROM schema_version"), schemaMigrationCount());
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
    EXPECT_EQ(count("SELECT COUNT(*) FROM schema_version"), schemaMigrationCount());
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

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace campaignd::storage

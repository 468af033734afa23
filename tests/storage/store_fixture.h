// store_fixture.h: the fixture of the Store contract tests (store_test.cpp and the role files
// beside it: campaign_store_test.cpp, recipient_store_test.cpp, attach_test.cpp,
// report_store_test.cpp), one suite run unchanged against SQLite and PostgreSQL. Every test
// opens a fresh database (a file in a TempDir, or a new database on the binary's private
// PostgreSQL server, registered in store_test.cpp) and checks values read back through the
// interface the services use.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "core/error.h"
#include "storage/sql_store.h"
#include "storage/store.h"
#include "support/postgres_environment.h"
#include "support/temp_dir.h"

namespace campaignd::storage {

using test::PostgresEnvironment;
using test::TempDir;

inline constexpr Usec kNow = 1'760'000'000'000'000;  // some day in 2025, in microseconds

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

}  // namespace campaignd::storage

// suppression_store_test.cpp: the Store's unsubscribe records, suppression list and erasure
// (suppression_store.h), on SQLite and PostgreSQL: an unsubscribe recorded once with its source
// and campaign (a second one changes nothing), the campaign summary's and the dashboard's
// counts (kept when the recipient goes), the list keyed by hash, an import that skips
// suppressed addresses and records its opt-outs, and an erasure after which no table of the
// database holds the address or the name. (The PostgreSQL server is the binary's global
// environment, registered in store_test.cpp.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "store_fixture.h"

namespace campaignd::storage {
namespace {

constexpr const char* kHashA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
constexpr const char* kHashB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

class SuppressionStoreTest : public StoreTest {
protected:
    std::int64_t events() { return count("SELECT COUNT(*) FROM unsubscribe_events"); }

    // Every text value of every table of the database, lower-cased, with where it was found.
    std::vector<std::pair<std::string, std::string>> dumpEveryTable() {
        const SqlRows tables =
            sql().dialect() == SqlDialect::SQLite
                ? sql().query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                : sql().query("SELECT table_name FROM information_schema.tables"
                              " WHERE table_schema = current_schema() ORDER BY table_name");
        EXPECT_GE(tables.size(), 9u);
        std::vector<std::pair<std::string, std::string>> values;
        for (const SqlRow& t : tables) {
            const std::string table = t.text(0);
            // A name read from the catalogue, quoted as an identifier: never a value.
            for (const SqlRow& row : sql().query("SELECT * FROM \"" + table + "\""))
                for (std::size_t i = 0; i < row.size(); ++i)
                    if (!row.isNull(i)) values.emplace_back(table, lower(row.text(i)));
        }
        return values;
    }
};

TEST_P(SuppressionStoreTest, AnUnsubscribeIsRecordedOnceWithItsSourceAndCampaign) {
    const Id c = addCampaign("spring");
    const Id r = addRecipient("ann@example.org");
    auto first = store_->recordUnsubscribe(r, c, UnsubscribeSource::OneClick, kNow);
    EXPECT_EQ(first.before, SubscriptionStatus::Subscribed);
    EXPECT_TRUE(first.changed);
    ASSERT_TRUE(first.record);
    EXPECT_EQ(first.record->source, UnsubscribeSource::OneClick);
    EXPECT_EQ(first.record->campaignId, c);
    EXPECT_EQ(first.record->recipientId, r);
    EXPECT_EQ(first.record->at, kNow);
    EXPECT_EQ(store_->findRecipientById(r)->status, SubscriptionStatus::Unsubscribed);

    // Again, another way, later: nothing changes, the first record stands.
    auto second = store_->recordUnsubscribe(r, std::nullopt, UnsubscribeSource::Page, kNow + 1000);
    EXPECT_FALSE(second.changed);
    EXPECT_EQ(second.before, SubscriptionStatus::Unsubscribed);
    ASSERT_TRUE(second.record);
    EXPECT_EQ(second.record->id, first.record->id);
    EXPECT_EQ(second.record->source, UnsubscribeSource::OneClick);
    EXPECT_EQ(events(), 1);

    // A bounced recipient can unsubscribe; a campaign deleted since is left out of the record.
    const Id b = addRecipient("bee@example.org", SubscriptionStatus::Bounced);
    auto third = store_->recordUnsubscribe(b, 999999, UnsubscribeSource::Mailto, kNow);
    EXPECT_TRUE(third.changed);
    ASSERT_TRUE(third.record);
    EXPECT_FALSE(third.record->campaignId);
    EXPECT_EQ(third.record->source, UnsubscribeSource::Mailto);
    // No such recipient: nothing at all.
    auto none = store_->recordUnsubscribe(424242, c, UnsubscribeSource::Page, kNow);
    EXPECT_FALSE(none.before);
    EXPECT_FALSE(none.changed);
    EXPECT_EQ(events(), 2);
    EXPECT_FALSE(store_->lastUnsubscribe(addRecipient("never@example.org")));
}

TEST_P(SuppressionStoreTest, TheSummaryAndTheDashboardCountUnsubscribesAndKeepThemAfterDeletion) {
    const Id c = addCampaign("spring");
    const Id other = addCampaign("autumn");
    std::vector<Id> people;
    for (int i = 0; i < 4; ++i) {
        people.push_back(addRecipient("p" + std::to_string(i) + "@example.org"));
        store_->attachRecipient(c, people.back());
        setDelivery(c, people.back(), DeliveryStatus::Sent);
    }
    store_->recordUnsubscribe(people[0], c, UnsubscribeSource::OneClick, kNow);
    store_->recordUnsubscribe(people[1], other, UnsubscribeSource::Page, kNow - Usec{40} * 24 * 3600 * 1'000'000);
    store_->recordUnsubscribe(people[2], std::nullopt, UnsubscribeSource::Administrator, kNow);

    CampaignSummary s = store_->campaignSummary(c);
    EXPECT_EQ(s.unsubscribes, 1);
    EXPECT_DOUBLE_EQ(s.unsubscribePercent, 25.0);
    EXPECT_EQ(store_->campaignSummary(other).unsubscribes, 1);
    EXPECT_DOUBLE_EQ(store_->campaignSummary(other).unsubscribePercent, 0.0) << "nothing sent: no rate";

    Dashboard d = store_->dashboard();
    EXPECT_EQ(d.unsubscribes, 3);
    EXPECT_EQ(store_->unsubscribesSince(kNow - Usec{30} * 24 * 3600 * 1'000'000), 2);

    // The person goes; the count stays (the record names no address).
    ASSERT_TRUE(store_->deleteRecipient(people[0]));
    EXPECT_EQ(store_->campaignSummary(c).unsubscribes, 1);
    EXPECT_EQ(store_->dashboard().unsubscribes, 3);
}

TEST_P(SuppressionStoreTest, TheSuppressionListIsKeyedByHashAndShowsOnlyACurrentRecipientsAddress) {
    const Id r = addRecipient("kept@example.org");
    EXPECT_TRUE(store_->insertSuppression(SuppressionEntry{kHashA, "bounced", kNow, {}}, std::nullopt));
    EXPECT_TRUE(store_->insertSuppression(SuppressionEntry{kHashB, "administrator", kNow + 1, {}}, r));
    EXPECT_FALSE(store_->insertSuppression(SuppressionEntry{kHashA, "import", kNow + 2, {}}, std::nullopt))
        << "an entry is never replaced";
    const auto a = store_->findSuppression(kHashA);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->reason, "bounced");
    EXPECT_EQ(a->since, kNow);
    EXPECT_EQ(a->email, "");
    const auto list = store_->listSuppressions(10, 0);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[1].addressHash, kHashB);
    EXPECT_EQ(list[1].email, "kept@example.org");
    EXPECT_EQ(store_->listSuppressions(1, 1).at(0).addressHash, kHashB);
    EXPECT_EQ(store_->dashboard().suppressed, 2);

    // The recipient goes, the entry stays, without the address.
    ASSERT_TRUE(store_->deleteRecipient(r));
    EXPECT_EQ(store_->findSuppression(kHashB)->email, "");
    EXPECT_TRUE(store_->deleteSuppression(kHashA));
    EXPECT_FALSE(store_->deleteSuppression(kHashA));
    EXPECT_FALSE(store_->findSuppression(kHashA));
}

TEST_P(SuppressionStoreTest, AnImportSkipsNewSuppressedAddressesAndRecordsItsOptOuts) {
    store_->insertSuppression(SuppressionEntry{kHashA, "unsubscribed", kNow, {}}, std::nullopt);
    const Id stored = addRecipient("stored@example.org");
    const Id listedButStored = addRecipient("listed@example.org");
    store_->insertSuppression(SuppressionEntry{kHashB, "administrator", kNow, {}}, listedButStored);

    BulkImportOptions options;
    options.now = kNow;
    options.createGroups = true;
    auto import = store_->beginImport(options);
    const std::vector<std::string_view> groups{"news"};
    import->add(StagedRecipient{1, "gone@example.org", "Gone", std::nullopt, groups, kHashA});
    import->add(StagedRecipient{2, "GONE@example.org", "Gone again", std::nullopt, {}, kHashA});
    import->add(StagedRecipient{3, "new@example.org", "New", std::nullopt, groups, "cccc"});
    import->add(StagedRecipient{4, "stored@example.org", "", SubscriptionStatus::Unsubscribed, {}, "dddd"});
    import->add(StagedRecipient{5, "listed@example.org", "", std::nullopt, {}, kHashB});
    const ImportCounts counts = import->finish();
    import.reset();
    EXPECT_EQ(counts.rows, 5);
    EXPECT_EQ(counts.suppressed, 1);
    EXPECT_EQ(counts.duplicatesInFile, 1);
    EXPECT_EQ(counts.imported, 1);
    EXPECT_EQ(counts.updated, 1);
    EXPECT_EQ(counts.alreadyStored, 1) << "a stored recipient is not skipped: it is there already";
    EXPECT_EQ(counts.rows, counts.imported + counts.updated + counts.alreadyStored + counts.duplicatesInFile +
                               counts.suppressed);
    EXPECT_FALSE(store_->findRecipient("gone@example.org"));
    EXPECT_EQ(store_->findGroup("news")->memberCount, 1) << "a skipped row joins no group";
    const auto record = store_->lastUnsubscribe(stored);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->source, UnsubscribeSource::Import);
    EXPECT_EQ(events(), 1);
}

TEST_P(SuppressionStoreTest, AnErasureLeavesTheAddressAndTheNameInNoTableAndTheCountsAsTheyWere) {
    const std::string email = "Zebedee.Quux@Example.org", name = "Zebedee Quux";
    const Id c = addCampaign("spring");
    const Id r = addRecipient(email, SubscriptionStatus::Subscribed, name);
    const Id g = store_->insertGroup("news", kNow);
    store_->addGroupMember(g, r);
    store_->attachRecipient(c, r);
    setDelivery(c, r, DeliveryStatus::Failed, "550 5.1.1 <zebedee.quux@example.org>: user unknown (Zebedee Quux)");
    BounceRecord b;
    b.campaignId = c;
    b.recipientId = r;
    b.recipientEmail = "zebedee.quux@example.org";
    b.reason = "userunknown";
    b.hard = true;
    b.action = "failed";
    b.diagnostic = "smtp; 550 <ZEBEDEE.QUUX@EXAMPLE.ORG> no such user";
    b.source = "imap";
    b.noticeKey = "mid:<n1@mx>";
    b.processedAt = kNow;
    ASSERT_TRUE(store_->insertBounce(b));
    // An earlier history row of the same address with no recipient (deleted once before).
    const Id c2 = addCampaign("winter");
    sql().exec("INSERT INTO campaign_recipients (campaign_id, recipient_id, recipient_email, status)"
               " VALUES ($1, NULL, $2, 'sent')",
               {c2, std::string("zebedee.quux@example.org")});
    store_->recordUnsubscribe(r, c, UnsubscribeSource::OneClick, kNow);
    store_->insertSuppression(SuppressionEntry{kHashA, "unsubscribed", kNow, {}}, std::nullopt);
    const CampaignSummary before = store_->campaignSummary(c);

    bool found = false;
    for (const auto& [table, value] : dumpEveryTable())
        found = found || value.find("zebedee.quux@example.org") != std::string::npos;
    ASSERT_TRUE(found) << "the dump must see the address before the erasure, or it proves nothing";

    ErasedRows erased;
    store_->transaction([&] {
        erased = store_->eraseAddress(r, email, name);
        ASSERT_TRUE(store_->deleteRecipient(r));
    });
    EXPECT_EQ(erased.ledgerRows, 2);
    EXPECT_EQ(erased.bounceRecords, 1);
    for (const auto& [table, value] : dumpEveryTable()) {
        EXPECT_EQ(value.find("zebedee.quux@example.org"), std::string::npos) << table << ": " << value;
        EXPECT_EQ(value.find("zebedee quux"), std::string::npos) << table << ": " << value;
        EXPECT_EQ(value.find("zebedee"), std::string::npos) << table << ": " << value;
    }
    // What remains: the counts, the unsubscribe record, the suppression hash.
    const CampaignSummary after = store_->campaignSummary(c);
    EXPECT_EQ(after.total, before.total);
    EXPECT_EQ(after.failed, 1);
    EXPECT_EQ(after.bounces, 1);
    EXPECT_EQ(after.unsubscribes, 1);
    ASSERT_EQ(after.failureReasons.size(), 1u);
    EXPECT_EQ(after.failureReasons[0].first, "550 5.1.1 <[erased]>: user unknown ([erased])");
    EXPECT_TRUE(store_->findSuppression(kHashA));
    EXPECT_EQ(store_->listBounces({}).at(0).diagnostic, "smtp; 550 <[erased]> no such user");
}

INSTANTIATE_TEST_SUITE_P(Backends, SuppressionStoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace campaignd::storage

// recipient_store_test.cpp: RecipientStore (recipient_store.h) on both backends, with the Store
// fixture (store_fixture.h): addresses unique case-insensitively, filters and pages, deletion
// keeping history, groups unique case-sensitively, memberships, and counting people.
#include <string>
#include <vector>

#include "store_fixture.h"

namespace campaignd::storage {
namespace {

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

TEST_P(StoreTest, ListRecipientsSearchesAddressesAndNamesAndCountsTheMatches) {
    const Id ada = addRecipient("Ada.Lovelace@example.com", SubscriptionStatus::Subscribed, "Ada Lovelace");
    addRecipient("grace@navy.example", SubscriptionStatus::Unsubscribed, "Grace HOPPER");
    addRecipient("percent@example.com", SubscriptionStatus::Subscribed, "100% sure");
    addRecipient("under_score@example.com", SubscriptionStatus::Subscribed, "Back\\slash");
    addRecipient("underXscore@example.com", SubscriptionStatus::Subscribed, "Nobody");
    const Id vip = store_->insertGroup("vip", kNow);
    ASSERT_TRUE(store_->addGroupMember(vip, ada));

    auto emails = [](const std::vector<Recipient>& rs) {
        std::vector<std::string> out;
        for (const auto& r : rs) out.push_back(r.email);
        return out;
    };
    auto search = [&](const std::string& text) {
        RecipientFilter f;
        f.search = text;
        EXPECT_EQ(store_->countRecipients(f), static_cast<std::int64_t>(store_->listRecipients(f).size())) << text;
        return emails(store_->listRecipients(f));
    };
    // Either field, any case, anywhere in it.
    EXPECT_EQ(search("LOVELACE"), (std::vector<std::string>{"Ada.Lovelace@example.com"}));
    EXPECT_EQ(search("hopper"), (std::vector<std::string>{"grace@navy.example"}));
    EXPECT_EQ(search("NAVY.EX"), (std::vector<std::string>{"grace@navy.example"}));
    EXPECT_EQ(search("@example.com").size(), 4u);
    // The user's wildcards are plain characters: % matches a %, _ an underscore, \ itself.
    EXPECT_EQ(search("100%"), (std::vector<std::string>{"percent@example.com"}));
    EXPECT_EQ(search("%"), (std::vector<std::string>{"percent@example.com"}));
    EXPECT_EQ(search("under_"), (std::vector<std::string>{"under_score@example.com"}));
    EXPECT_EQ(search("_"), (std::vector<std::string>{"under_score@example.com"}));
    EXPECT_EQ(search("k\\s"), (std::vector<std::string>{"under_score@example.com"}));
    EXPECT_TRUE(search("'; DROP TABLE recipients; --").empty());
    EXPECT_EQ(search("").size(), 5u);  // no search
    EXPECT_TRUE(search("nobody@").empty());

    // With the other filters, paged; the count is of every match, not of the page.
    RecipientFilter f;
    f.search = "example.com";
    f.status = SubscriptionStatus::Subscribed;
    f.limit = 2;
    f.offset = 1;
    EXPECT_EQ(emails(store_->listRecipients(f)),
              (std::vector<std::string>{"percent@example.com", "under_score@example.com"}));
    EXPECT_EQ(store_->countRecipients(f), 4);
    f.group = "vip";
    f.offset = 0;
    EXPECT_EQ(emails(store_->listRecipients(f)), (std::vector<std::string>{"Ada.Lovelace@example.com"}));
    EXPECT_EQ(store_->countRecipients(f), 1);
    f = {};
    EXPECT_EQ(store_->countRecipients(f), 5);
    f.status = SubscriptionStatus::Unsubscribed;
    EXPECT_EQ(store_->countRecipients(f), 1);
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

// ---- counting people ----------------------------------------------------------------------

TEST_P(StoreTest, CountPeopleCountsEachPersonOnceByStatus) {
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
        return std::to_string(n.subscribed) + " subscribed, " + std::to_string(n.unsubscribed) + " unsubscribed, " +
               std::to_string(n.bounced) + " bounced";
    };
    EXPECT_EQ(counted({}, {}), "0 subscribed, 0 unsubscribed, 0 bounced");
    EXPECT_EQ(counted({a}, {}), "2 subscribed, 1 unsubscribed, 0 bounced");
    EXPECT_EQ(counted({a, b}, {}), "2 subscribed, 1 unsubscribed, 1 bounced");        // s2 once
    EXPECT_EQ(counted({a, b}, {s1, s3}), "3 subscribed, 1 unsubscribed, 1 bounced");  // s1 once
    EXPECT_EQ(counted({}, {u, s3}), "1 subscribed, 1 unsubscribed, 0 bounced");
    EXPECT_EQ(counted({}, {x}), "0 subscribed, 0 unsubscribed, 1 bounced");
    EXPECT_EQ(counted({9999}, {8888}), "0 subscribed, 0 unsubscribed, 0 bounced");  // none such
}

}  // namespace
}  // namespace campaignd::storage

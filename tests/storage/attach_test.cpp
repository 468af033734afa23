// attach_test.cpp: attaching people to a campaign (send_ledger.h: attachGroup,
// attachRecipient) on both backends, with the Store fixture (store_fixture.h): subscribed
// people only, never twice. The sending side of the ledger is ledger_test.cpp's.
#include "store_fixture.h"

namespace campaignd::storage {
namespace {

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

// Schema 9: attaching a group records the link (campaign_groups), once, even when it adds
// nobody; campaignGroups lists them lowest id first; deleting a group removes its link.
TEST_P(StoreTest, AttachGroupRecordsWhichGroupsACampaignHas) {
    const Id c = addCampaign("groups");
    const Id first = store_->insertGroup("Members", kNow);
    const Id second = store_->insertGroup("empty", kNow);
    ASSERT_TRUE(store_->addGroupMember(first, addRecipient("m@example.com")));
    EXPECT_TRUE(store_->campaignGroups(c).empty());
    EXPECT_EQ(store_->attachGroup(c, second), 0);
    EXPECT_EQ(store_->attachGroup(c, first), 1);
    EXPECT_EQ(store_->attachGroup(c, first), 0);
    const auto groups = store_->campaignGroups(c);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[0].id, first);
    EXPECT_EQ(groups[0].name, "Members");
    EXPECT_EQ(groups[1].id, second);
    EXPECT_EQ(count("SELECT COUNT(*) FROM campaign_groups WHERE campaign_id = $1", {c}), 2);
    EXPECT_TRUE(store_->campaignGroups(addCampaign("other")).empty());
    ASSERT_TRUE(store_->deleteGroup(first));
    ASSERT_EQ(store_->campaignGroups(c).size(), 1u);
    EXPECT_EQ(store_->campaignGroups(c)[0].id, second);
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

}  // namespace
}  // namespace campaignd::storage

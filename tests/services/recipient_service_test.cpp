// recipient_service_test.cpp: RecipientService against a real SQLite store: addresses are
// validated and normalised before they are stored, one person is stored once whatever the
// case, group membership changes are all-or-nothing, and a recipient in a campaign that is
// sending cannot be deleted.
#include <gtest/gtest.h>

#include <string>

#include "service_fixture.h"

namespace campaignd::services::test {
namespace {

class RecipientServiceTest : public ServiceTest {};

TEST_F(RecipientServiceTest, AddNormalisesTheAddress) {
    RecipientFields f;
    f.name = "Jane Doe";
    const Recipient r = recipients.add("  Jane.Doe@Bücher.Example ", f, {});
    EXPECT_GT(r.id, 0);
    EXPECT_EQ(r.email, "Jane.Doe@xn--bcher-kva.example");
    EXPECT_EQ(r.name, "Jane Doe");
    EXPECT_EQ(r.status, SubscriptionStatus::Subscribed);
    EXPECT_EQ(r.createdAt, kStart);
    EXPECT_TRUE(r.groups.empty());
    EXPECT_EQ(recipients.get("jane.doe@BÜCHER.example").id, r.id);
    EXPECT_EQ(recipients.get("JANE.DOE@xn--bcher-kva.example").id, r.id);
}

TEST_F(RecipientServiceTest, NamesAreTrimmedAsImportsTrimThemAndBounded) {
    RecipientFields f;
    f.name = "  Grace  ";
    EXPECT_EQ(recipients.add("grace@example.org", f, {}).name, "Grace");
    f.name = std::string(100000, 'a');
    expectError(ErrorCode::InvalidArgument, "at most 200", [&] { recipients.add("long@example.org", f, {}); });
    expectError(ErrorCode::InvalidArgument, "at most 200", [&] { recipients.update("grace@example.org", f); });
    EXPECT_EQ(recipients.get("grace@example.org").name, "Grace");
    EXPECT_THROW(recipients.get("long@example.org"), Error) << "nothing was stored";
}

TEST_F(RecipientServiceTest, OnePersonIsStoredOnceWhateverTheCase) {
    person("ann@example.org");
    expectError(ErrorCode::AlreadyExists, "recipient \"ANN@example.org\" already exists (as \"ann@example.org\")",
                [&] { person("ANN@Example.ORG"); });
    EXPECT_EQ(recipients.list({}).size(), 1u);
}

TEST_F(RecipientServiceTest, RefusedAddsStoreNothing) {
    recipients.createGroup("customers");
    expectError(ErrorCode::InvalidArgument, "address \"ann@@example.org\"", [&] { person("ann@@example.org"); });
    RecipientFields f;
    f.name = "Ann\r\nBcc: everyone@example.org";
    expectError(ErrorCode::InvalidArgument, "recipient name", [&] { recipients.add("ann@example.org", f, {}); });
    expectError(ErrorCode::NotFound, "group \"nope\" does not exist",
                [&] { person("ann@example.org", SubscriptionStatus::Subscribed, {"customers", "nope"}); });
    EXPECT_TRUE(recipients.list({}).empty());
    EXPECT_EQ(recipients.listGroups().front().memberCount, 0);
    expectError(ErrorCode::NotFound, "recipient \"ann@example.org\" does not exist",
                [&] { recipients.get("ann@example.org"); });
}

TEST_F(RecipientServiceTest, AddWithGroups) {
    recipients.createGroup("vip");
    recipients.createGroup("customers");
    const Recipient r = person("ann@example.org", SubscriptionStatus::Subscribed, {"vip", "customers"});
    EXPECT_EQ(r.groups, (std::vector<std::string>{"customers", "vip"}));
}

TEST_F(RecipientServiceTest, GetRefusesMalformedAndUnknownAddresses) {
    expectError(ErrorCode::InvalidArgument, "has no @", [&] { recipients.get("nobody"); });
    expectError(ErrorCode::NotFound, "recipient \"nobody@example.org\" does not exist",
                [&] { recipients.get("nobody@example.org"); });
}

TEST_F(RecipientServiceTest, ListFilters) {
    recipients.createGroup("vip");
    person("cat@example.org", SubscriptionStatus::Subscribed, {"vip"});
    person("ann@example.org", SubscriptionStatus::Unsubscribed, {"vip"});
    person("bob@example.org");

    const auto all = recipients.list({});
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].email, "ann@example.org");  // ordered by address
    EXPECT_EQ(all[2].email, "cat@example.org");

    storage::RecipientFilter vip;
    vip.group = "vip";
    EXPECT_EQ(recipients.list(vip).size(), 2u);
    vip.status = SubscriptionStatus::Subscribed;
    const auto subscribedVip = recipients.list(vip);
    ASSERT_EQ(subscribedVip.size(), 1u);
    EXPECT_EQ(subscribedVip.front().email, "cat@example.org");

    storage::RecipientFilter unknown;
    unknown.group = "nobody";
    expectError(ErrorCode::NotFound, "group \"nobody\" does not exist", [&] { recipients.list(unknown); });
    storage::RecipientFilter negative;
    negative.offset = -1;
    expectError(ErrorCode::InvalidArgument, "offset", [&] { recipients.list(negative); });
}

TEST_F(RecipientServiceTest, UpdateNameAndStatus) {
    person("ann@example.org");
    RecipientFields f;
    f.name = "Ann Smith";
    f.status = SubscriptionStatus::Unsubscribed;
    const Recipient r = recipients.update("ANN@example.org", f);
    EXPECT_EQ(r.name, "Ann Smith");
    EXPECT_EQ(r.status, SubscriptionStatus::Unsubscribed);
    EXPECT_EQ(recipients.get("ann@example.org").status, SubscriptionStatus::Unsubscribed);

    RecipientFields bad;
    bad.name = "x\ny";
    bad.status = SubscriptionStatus::Subscribed;
    expectError(ErrorCode::InvalidArgument, "line break", [&] { recipients.update("ann@example.org", bad); });
    EXPECT_EQ(recipients.get("ann@example.org").name, "Ann Smith");
    EXPECT_EQ(recipients.get("ann@example.org").status, SubscriptionStatus::Unsubscribed);
    expectError(ErrorCode::NotFound, "does not exist", [&] { recipients.update("zed@example.org", f); });
}

TEST_F(RecipientServiceTest, RemoveRefusedWhileACampaignWithTheRecipientIsSending) {
    person("ann@example.org");
    const Campaign c = draft();
    campaigns.attach(c.id, {{}, {"ann@example.org"}});
    campaigns.transition(c.id, CampaignStatus::InProgress);
    expectError(ErrorCode::InvalidState, "recipient \"ann@example.org\" is in a campaign that is in progress",
                [&] { recipients.remove("ann@example.org"); });
    EXPECT_NO_THROW(recipients.get("ann@example.org"));

    campaigns.transition(c.id, CampaignStatus::Cancelled);
    recipients.remove("Ann@Example.org");
    expectError(ErrorCode::NotFound, "does not exist", [&] { recipients.get("ann@example.org"); });
    expectError(ErrorCode::NotFound, "does not exist", [&] { recipients.remove("ann@example.org"); });
}

TEST_F(RecipientServiceTest, Groups) {
    const Group g = recipients.createGroup("  Customers ");
    EXPECT_EQ(g.name, "Customers");
    EXPECT_EQ(g.createdAt, kStart);
    EXPECT_EQ(g.memberCount, 0);
    expectError(ErrorCode::AlreadyExists, "group \"Customers\" already exists",
                [&] { recipients.createGroup("Customers"); });
    recipients.createGroup("customers");  // names are case-sensitive
    expectError(ErrorCode::InvalidArgument, "group name is empty", [&] { recipients.createGroup(" "); });
    expectError(ErrorCode::InvalidArgument, "line break", [&] { recipients.createGroup("a\nb"); });
    EXPECT_EQ(recipients.listGroups().size(), 2u);

    person("ann@example.org", SubscriptionStatus::Subscribed, {"Customers"});
    recipients.deleteGroup("Customers");
    EXPECT_EQ(recipients.listGroups().size(), 1u);
    EXPECT_TRUE(recipients.get("ann@example.org").groups.empty());  // the recipient stays
    expectError(ErrorCode::NotFound, "group \"Customers\" does not exist", [&] { recipients.deleteGroup("Customers"); });
}

TEST_F(RecipientServiceTest, GroupMembershipIsAllOrNothing) {
    recipients.createGroup("vip");
    person("ann@example.org");
    person("bob@example.org");

    expectError(ErrorCode::NotFound, "recipient \"ghost@example.org\" does not exist",
                [&] { recipients.addToGroup("vip", {"ann@example.org", "ghost@example.org"}); });
    EXPECT_EQ(recipients.listGroups().front().memberCount, 0);
    expectError(ErrorCode::InvalidArgument, "address \"bad\"",
                [&] { recipients.addToGroup("vip", {"ann@example.org", "bad"}); });
    EXPECT_EQ(recipients.listGroups().front().memberCount, 0);
    expectError(ErrorCode::NotFound, "group \"nope\" does not exist",
                [&] { recipients.addToGroup("nope", {"ann@example.org"}); });

    EXPECT_EQ(recipients.addToGroup("vip", {"ann@example.org", "BOB@example.org", "Ann@Example.org"}), 2);
    EXPECT_EQ(recipients.addToGroup("vip", {"ann@example.org"}), 0);  // already a member
    EXPECT_EQ(recipients.listGroups().front().memberCount, 2);

    expectError(ErrorCode::NotFound, "recipient \"ghost@example.org\" does not exist",
                [&] { recipients.removeFromGroup("vip", {"ann@example.org", "ghost@example.org"}); });
    EXPECT_EQ(recipients.listGroups().front().memberCount, 2);
    EXPECT_EQ(recipients.removeFromGroup("vip", {"ann@example.org"}), 1);
    EXPECT_EQ(recipients.removeFromGroup("vip", {"ann@example.org"}), 0);
    EXPECT_EQ(recipients.get("bob@example.org").groups, std::vector<std::string>{"vip"});
}


// Issue 11: unsubscribes recorded, the suppression list, erasure (the rules; storage and the
// daemon have their own tests).
class SuppressionRulesTest : public ServiceTest {};

TEST_F(SuppressionRulesTest, AnAdministratorsUnsubscribeIsRecordedOnceAndShown) {
    person("ann@example.org");
    now += kHour;
    const Recipient updated = recipients.update("ann@example.org", RecipientFields{std::nullopt, SubscriptionStatus::Unsubscribed});
    ASSERT_TRUE(updated.unsubscribe);
    EXPECT_EQ(updated.unsubscribe->source, UnsubscribeSource::Administrator);
    EXPECT_EQ(updated.unsubscribe->at, kStart + kHour);
    now += kHour;
    Recipient again;
    const auto outcome = recipients.unsubscribe("ANN@example.org", std::nullopt, UnsubscribeSource::OneClick, &again);
    EXPECT_FALSE(outcome.changed);
    ASSERT_TRUE(outcome.record);
    EXPECT_EQ(outcome.record->source, UnsubscribeSource::Administrator) << "the first record stands";
    EXPECT_EQ(again.unsubscribe->at, kStart + kHour);
    expectError(ErrorCode::NotFound, "does not exist",
                [&] { recipients.unsubscribe("nobody@example.org", std::nullopt, UnsubscribeSource::Page); });
}

TEST_F(SuppressionRulesTest, DeletingAnUnsubscriberLeavesAHashThatRefusesAddAndResubscribe) {
    person("gone@example.org", SubscriptionStatus::Subscribed);
    recipients.unsubscribe("gone@example.org", std::nullopt, UnsubscribeSource::Mailto);
    const RemoveOutcome removed = recipients.remove("gone@example.org");
    EXPECT_TRUE(removed.recipientDeleted);
    ASSERT_TRUE(removed.suppression);
    EXPECT_EQ(removed.suppression->reason, "unsubscribed");
    EXPECT_EQ(removed.suppression->addressHash, recipients.addressHash("GONE@Example.ORG"));
    EXPECT_EQ(removed.suppression->addressHash.find("gone"), std::string::npos);
    expectError(ErrorCode::InvalidState, "on the suppression list since 2023-11-14T22:13:20Z because unsubscribed",
                [&] { person("Gone@example.org"); });

    // A subscribed person deleted leaves nothing; one listed by an administrator cannot be
    // resubscribed until the entry is lifted.
    person("kept@example.org");
    EXPECT_FALSE(recipients.remove("kept@example.org").suppression);
    person("kept@example.org");
    EXPECT_TRUE(recipients.addSuppression("kept@example.org").second);
    EXPECT_FALSE(recipients.addSuppression("kept@example.org").second);
    EXPECT_EQ(recipients.get("kept@example.org").status, SubscriptionStatus::Unsubscribed);
    expectError(ErrorCode::InvalidState, "suppression list",
                [&] { recipients.update("kept@example.org", RecipientFields{std::nullopt, SubscriptionStatus::Subscribed}); });
    EXPECT_TRUE(recipients.removeSuppression(recipients.addressHash("kept@example.org")));
    EXPECT_EQ(recipients.update("kept@example.org", RecipientFields{std::nullopt, SubscriptionStatus::Subscribed}).status,
              SubscriptionStatus::Subscribed);

    const SuppressionImport imported = recipients.importSuppressions(
        {"a@example.org", std::string(64, 'F'), "not an address", "a@example.org"});
    EXPECT_EQ(imported.added, 2);
    EXPECT_EQ(imported.alreadyListed, 1);
    ASSERT_EQ(imported.invalid.size(), 1u);
    EXPECT_EQ(imported.invalid[0].first, 2u);
    EXPECT_TRUE(recipients.removeSuppression(std::string(64, 'f')));
}

}  // namespace
}  // namespace campaignd::services::test

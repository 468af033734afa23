// campaign_service_test.cpp: CampaignService against a real SQLite store: what a caller of
// CreateCampaign, Update, Delete, Attach, Schedule and the status changes sees, including
// that a refused request leaves the database and the observer untouched.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "expected_transitions.h"
#include "service_fixture.h"

namespace campaignd::services::test {
namespace {

using S = CampaignStatus;

class CampaignServiceTest : public ServiceTest {};

TEST_F(CampaignServiceTest, CreateStoresADraftWithSanitisedHtml) {
    CampaignFields f;
    f.name = "  Spring sale  ";
    f.subject = "20% off — this week only";
    f.htmlContent = "<p onclick=\"steal()\">Hello</p><script>alert(1)</script>";
    f.textContent = "Hello";
    f.fromAddress = "Shop Team <news@Shop.Example>";
    const Campaign c = campaigns.create(f);

    EXPECT_GT(c.id, 0);
    EXPECT_EQ(c.status, S::Draft);
    EXPECT_EQ(c.name, "Spring sale");
    EXPECT_EQ(c.subject, "20% off — this week only");
    EXPECT_EQ(c.htmlContent, "<p>Hello</p>");
    EXPECT_EQ(c.textContent, "Hello");
    EXPECT_EQ(c.fromAddress, "Shop Team <news@shop.example>");
    EXPECT_FALSE(c.scheduledTime.has_value());
    EXPECT_EQ(c.createdAt, kStart);
    EXPECT_EQ(c.recipientCount, 0);

    const Campaign stored = campaigns.get(c.id);
    EXPECT_EQ(stored.htmlContent, "<p>Hello</p>");
    EXPECT_EQ(stored.name, "Spring sale");
    EXPECT_EQ(observer.events, std::vector<std::string>{"created " + std::to_string(c.id) + " draft"});
}

TEST_F(CampaignServiceTest, CreateWithAFutureScheduleStartsScheduledAndBecomesDue) {
    CampaignFields f;
    f.name = "Later";
    f.subject = "s";
    f.htmlContent = "<p>x</p>";
    f.scheduledTime = kStart + kHour;
    const Campaign c = campaigns.create(f);
    EXPECT_EQ(c.status, S::Scheduled);
    EXPECT_EQ(c.scheduledTime, kStart + kHour);

    EXPECT_TRUE(campaigns.dueCampaigns().empty());
    now = kStart + kHour;
    EXPECT_EQ(campaigns.dueCampaigns(), std::vector<Id>{c.id});
}

TEST_F(CampaignServiceTest, RefusedCreationsStoreNothingAndNotifyNobody) {
    struct Case {
        const char* why;
        CampaignFields fields;
        const char* message;
    };
    CampaignFields ok;
    ok.name = "n";
    ok.subject = "s";
    ok.htmlContent = "<p>x</p>";
    auto with = [&](auto change) {
        CampaignFields f = ok;
        change(f);
        return f;
    };
    const std::vector<Case> cases{
        {"no name", with([](CampaignFields& f) { f.name.reset(); }), "name is missing"},
        {"blank name", with([](CampaignFields& f) { f.name = "   "; }), "name is empty"},
        {"long name", with([](CampaignFields& f) { f.name = std::string(201, 'n'); }),
         "name is 201 characters long; at most 200"},
        {"no subject", with([](CampaignFields& f) { f.subject.reset(); }), "subject is missing"},
        {"blank subject", with([](CampaignFields& f) { f.subject = ""; }), "subject is empty"},
        {"header injection", with([](CampaignFields& f) { f.subject = "Hi\r\nBcc: all@example.org"; }),
         "subject \"Hi\\r\\nBcc: all@example.org\": contains a line break"},
        {"no html", with([](CampaignFields& f) { f.htmlContent.reset(); }), "HTML content is missing"},
        {"only script", with([](CampaignFields& f) { f.htmlContent = "<script>alert(1)</script>"; }),
         "HTML content is empty once unsafe content is removed"},
        {"latin-1 html", with([](CampaignFields& f) { f.htmlContent = "<p>caf\xe9</p>"; }),
         "HTML content is not valid UTF-8"},
        {"latin-1 text", with([](CampaignFields& f) { f.textContent = "caf\xe9"; }),
         "text content is not valid UTF-8"},
        {"bad from", with([](CampaignFields& f) { f.fromAddress = "news@@example.org"; }), "from address"},
        {"past schedule", with([](CampaignFields& f) { f.scheduledTime = 1'577'836'800'000'000; }),
         "schedule 2020-01-01T00:00:00Z is in the past"},
        {"schedule now", with([](CampaignFields& f) { f.scheduledTime = kStart; }), "is in the past"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.why);
        expectError(ErrorCode::InvalidArgument, c.message, [&] { campaigns.create(c.fields); });
    }
    EXPECT_TRUE(campaigns.list(std::nullopt).empty());
    EXPECT_EQ(campaigns.dashboard().totalCampaigns, 0);
    EXPECT_TRUE(observer.events.empty());
}

TEST_F(CampaignServiceTest, NameOf200CharactersIsAccepted) {
    std::string name;
    for (int i = 0; i < 200; ++i) name += "é";
    EXPECT_EQ(draft(name).name, name);
}

TEST_F(CampaignServiceTest, UpdateChangesOnlyTheGivenFields) {
    const Campaign c = draft();
    now += kHour;
    CampaignFields f;
    f.subject = "New subject";
    f.htmlContent = "<p>New <a href=\"javascript:x()\">body</a></p>";
    const Campaign u = campaigns.update(c.id, f);
    EXPECT_EQ(u.name, "Spring sale");
    EXPECT_EQ(u.subject, "New subject");
    EXPECT_EQ(u.htmlContent, "<p>New <a>body</a></p>");
    EXPECT_EQ(u.updatedAt, kStart + kHour);
    EXPECT_EQ(u.createdAt, kStart);
    EXPECT_EQ(campaigns.get(c.id).subject, "New subject");
    EXPECT_EQ(observer.events.back(), "changed " + std::to_string(c.id) + " draft");
}

TEST_F(CampaignServiceTest, RefusedUpdateChangesNothing) {
    const Campaign c = draft();
    const std::size_t events = observer.events.size();
    CampaignFields f;
    f.name = "Renamed";
    f.subject = "bad\nsubject";
    expectError(ErrorCode::InvalidArgument, "line break", [&] { campaigns.update(c.id, f); });
    CampaignFields when;
    when.scheduledTime = kStart + kHour;
    expectError(ErrorCode::InvalidArgument, "cannot be changed by an edit", [&] { campaigns.update(c.id, when); });
    expectError(ErrorCode::NotFound, "campaign 999 does not exist", [&] { campaigns.update(999, CampaignFields{}); });
    EXPECT_EQ(campaigns.get(c.id).name, "Spring sale");
    EXPECT_EQ(observer.events.size(), events);
}

TEST_F(CampaignServiceTest, OnlyDraftAndScheduledCampaignsCanBeEdited) {
    const Campaign c = draft();
    campaigns.transition(c.id, S::InProgress);
    CampaignFields f;
    f.name = "Renamed";
    const std::string message =
        expectError(ErrorCode::InvalidState, "", [&] { campaigns.update(c.id, f); });
    EXPECT_EQ(message, "campaign " + std::to_string(c.id) +
                           " is in progress; only a draft or scheduled campaign can be edited");
    EXPECT_EQ(campaigns.get(c.id).name, "Spring sale");

    const Campaign s = draft("Scheduled one");
    campaigns.schedule(s.id, kStart + kHour);
    EXPECT_EQ(campaigns.update(s.id, f).name, "Renamed");
}

TEST_F(CampaignServiceTest, RemoveDeletesButNotWhileInProgress) {
    const Campaign a = draft("a");
    campaigns.remove(a.id);
    expectError(ErrorCode::NotFound, "does not exist", [&] { campaigns.get(a.id); });
    EXPECT_EQ(observer.events.back(), "deleted " + std::to_string(a.id));

    const Campaign b = draft("b");
    campaigns.transition(b.id, S::InProgress);
    expectError(ErrorCode::InvalidState, "is in progress; it cannot be deleted while sending",
                [&] { campaigns.remove(b.id); });
    EXPECT_EQ(campaigns.get(b.id).status, S::InProgress);

    campaigns.transition(b.id, S::Paused);
    campaigns.remove(b.id);
    EXPECT_TRUE(campaigns.list(std::nullopt).empty());
    expectError(ErrorCode::NotFound, "campaign 12345 does not exist", [&] { campaigns.remove(12345); });
}

class AttachTest : public CampaignServiceTest {
protected:
    void SetUp() override {
        recipients.createGroup("customers");
        recipients.createGroup("vip");
        person("ann@example.org", SubscriptionStatus::Subscribed, {"customers"});
        person("bob@example.org", SubscriptionStatus::Subscribed, {"customers", "vip"});
        person("cat@example.org", SubscriptionStatus::Subscribed, {"vip"});
        person("dan@example.org", SubscriptionStatus::Unsubscribed, {"customers"});
        campaign = draft();
        observer.events.clear();
    }
    Campaign campaign;
};

TEST_F(AttachTest, GroupAttachesSubscribedMembersAndCountsTheUnsubscribed) {
    const AttachResult r = campaigns.attach(campaign.id, {{"customers"}, {}});
    EXPECT_EQ(r.attached, 2);  // ann, bob
    EXPECT_EQ(r.alreadyAttached, 0);
    EXPECT_EQ(r.skippedUnsubscribed, 1);  // dan
    EXPECT_EQ(r.recipientCount, 2);
    EXPECT_EQ(campaigns.get(campaign.id).recipientCount, 2);
    EXPECT_EQ(campaigns.get(campaign.id).pendingCount, 2);
    EXPECT_EQ(observer.events, std::vector<std::string>{"changed " + std::to_string(campaign.id) + " draft"});
}

TEST_F(AttachTest, NobodyIsAttachedOrCountedTwice) {
    campaigns.attach(campaign.id, {{"customers"}, {}});
    // customers: ann, bob already; dan skipped. vip: bob seen, cat new. ann and cat by address:
    // seen already in this request.
    const AttachResult r =
        campaigns.attach(campaign.id, {{"customers", "vip"}, {"ANN@example.org", "cat@EXAMPLE.org"}});
    EXPECT_EQ(r.attached, 1);
    EXPECT_EQ(r.alreadyAttached, 2);
    EXPECT_EQ(r.skippedUnsubscribed, 1);
    EXPECT_EQ(r.recipientCount, 3);

    const AttachResult again = campaigns.attach(campaign.id, {{}, {"Bob@Example.org", "dan@example.org"}});
    EXPECT_EQ(again.attached, 0);
    EXPECT_EQ(again.alreadyAttached, 1);
    EXPECT_EQ(again.skippedUnsubscribed, 1);
    EXPECT_EQ(again.recipientCount, 3);
}

TEST_F(AttachTest, UnknownGroupOrAddressAttachesNothing) {
    expectError(ErrorCode::NotFound, "group \"nobody\" does not exist",
                [&] { campaigns.attach(campaign.id, {{"customers", "nobody"}, {}}); });
    expectError(ErrorCode::NotFound, "recipient \"ghost@example.org\" does not exist",
                [&] { campaigns.attach(campaign.id, {{"customers"}, {"ann@example.org", "ghost@example.org"}}); });
    expectError(ErrorCode::InvalidArgument, "address \"not an address\"",
                [&] { campaigns.attach(campaign.id, {{"customers"}, {"not an address"}}); });
    expectError(ErrorCode::NotFound, "campaign 999 does not exist",
                [&] { campaigns.attach(999, {{"customers"}, {}}); });
    EXPECT_EQ(campaigns.get(campaign.id).recipientCount, 0);
    EXPECT_TRUE(observer.events.empty());
}

TEST_F(AttachTest, OnlyBeforeSendingStarts) {
    campaigns.schedule(campaign.id, kStart + kHour);
    EXPECT_EQ(campaigns.attach(campaign.id, {{"vip"}, {}}).attached, 2);
    campaigns.transition(campaign.id, S::InProgress);
    expectError(ErrorCode::InvalidState, "is in progress; recipients can only be attached before sending starts",
                [&] { campaigns.attach(campaign.id, {{"customers"}, {}}); });
    EXPECT_EQ(campaigns.get(campaign.id).recipientCount, 2);
}

TEST_F(CampaignServiceTest, BrokenTemplatesAreRefusedAtCreateEditAndScheduleWithTheirLine) {
    CampaignFields f;
    f.name = "Broken";
    f.subject = "Hello {{nmae}}";
    f.htmlContent = "<p>Hi</p>";
    auto m = expectError(ErrorCode::InvalidArgument, "subject: line 1", [&] { campaigns.create(f); });
    EXPECT_NE(m.find("unknown variable \"nmae\""), std::string::npos) << m;
    f.subject = "Hello";
    f.htmlContent = "<p>Hi</p>\n<p>{{{name}}}</p>";
    m = expectError(ErrorCode::InvalidArgument, "HTML content: line 2", [&] { campaigns.create(f); });
    EXPECT_NE(m.find("triple mustaches"), std::string::npos) << m;
    f.htmlContent = "<p>Hi</p>";
    f.textContent = "{{#name}}Dear {{name}},\nnews";
    m = expectError(ErrorCode::InvalidArgument, "text content:", [&] { campaigns.create(f); });
    f.textContent.reset();
    f.htmlContent = "<a href=\"{{name}}\">your page</a>";  // a recipient named javascript:...
    m = expectError(ErrorCode::InvalidArgument, "HTML content: <a href=", [&] { campaigns.create(f); });
    EXPECT_NE(m.find("a variable cannot start a URL"), std::string::npos) << m;
    EXPECT_TRUE(campaigns.list(std::nullopt).empty()) << "nothing stored";

    const Campaign c = draft();
    CampaignFields edit;
    edit.subject = "{{unsubscribe_url}} {{emial}}";
    expectError(ErrorCode::InvalidArgument, "unknown variable \"emial\"", [&] { campaigns.update(c.id, edit); });
    EXPECT_EQ(campaigns.get(c.id).subject, c.subject) << "a refused edit changes nothing";

    // A campaign stored before templates were checked is refused when scheduled, not when due.
    Campaign stored = campaigns.get(c.id);
    stored.textContent = "Hi {{name}";
    store->updateCampaign(stored);
    expectError(ErrorCode::InvalidArgument, "text content:", [&] { campaigns.schedule(c.id, now + kHour); });
    EXPECT_EQ(campaigns.get(c.id).status, CampaignStatus::Draft);
}

TEST_F(CampaignServiceTest, ScheduleAndUnschedule) {
    const Campaign c = draft();
    expectError(ErrorCode::InvalidArgument,
                "schedule 2023-11-14T21:13:20Z is in the past (it is now 2023-11-14T22:13:20Z)",
                [&] { campaigns.schedule(c.id, kStart - kHour); });
    EXPECT_EQ(campaigns.get(c.id).status, S::Draft);

    Campaign s = campaigns.schedule(c.id, kStart + kHour);
    EXPECT_EQ(s.status, S::Scheduled);
    EXPECT_EQ(s.scheduledTime, kStart + kHour);
    s = campaigns.schedule(c.id, kStart + 2 * kHour);  // rescheduling
    EXPECT_EQ(s.status, S::Scheduled);
    EXPECT_EQ(campaigns.get(c.id).scheduledTime, kStart + 2 * kHour);

    const Campaign d = campaigns.unschedule(c.id);
    EXPECT_EQ(d.status, S::Draft);
    EXPECT_FALSE(d.scheduledTime.has_value());
    now = kStart + 3 * kHour;
    EXPECT_TRUE(campaigns.dueCampaigns().empty());

    EXPECT_EQ(expectError(ErrorCode::InvalidState, "", [&] { campaigns.unschedule(c.id); }),
              "campaign " + std::to_string(c.id) + " is already a draft");
    expectError(ErrorCode::NotFound, "campaign 77 does not exist", [&] { campaigns.schedule(77, now + kHour); });
}

TEST_F(CampaignServiceTest, CompletedCampaignCannotBeScheduled) {
    const Campaign c = draft();
    campaigns.transition(c.id, S::InProgress);
    campaigns.transition(c.id, S::Completed);
    EXPECT_EQ(expectError(ErrorCode::InvalidState, "", [&] { campaigns.schedule(c.id, kStart + kHour); }),
              "campaign " + std::to_string(c.id) + " is completed; it cannot be scheduled");
    EXPECT_EQ(expectError(ErrorCode::InvalidState, "", [&] { campaigns.transition(c.id, S::Cancelled); }),
              "campaign " + std::to_string(c.id) + " is completed; it cannot be cancelled");
    EXPECT_EQ(campaigns.get(c.id).status, S::Completed);
}

TEST_F(CampaignServiceTest, TransitionRecordsTheReasonAndTellsTheObserver) {
    const Campaign c = draft();
    campaigns.transition(c.id, S::InProgress);
    const Campaign p = campaigns.transition(c.id, S::Paused, "SMTP server refuses connections");
    EXPECT_EQ(p.status, S::Paused);
    EXPECT_EQ(p.statusReason, "SMTP server refuses connections");
    expectError(ErrorCode::InvalidState, "is already paused", [&] { campaigns.transition(c.id, S::Paused); });
    expectError(ErrorCode::InvalidArgument, "line break",
                [&] { campaigns.transition(c.id, S::InProgress, "a\nb"); });
    EXPECT_EQ(campaigns.transition(c.id, S::InProgress).status, S::InProgress);
    const std::string id = std::to_string(c.id);
    EXPECT_EQ(observer.events, (std::vector<std::string>{"created " + id + " draft", "changed " + id + " in_progress",
                                                         "changed " + id + " paused",
                                                         "changed " + id + " in_progress"}));
}

TEST_F(CampaignServiceTest, DraftCannotBeScheduledWithoutATime) {
    const Campaign c = draft();
    expectError(ErrorCode::InvalidArgument, "has no schedule; schedule it with a time",
                [&] { campaigns.transition(c.id, S::Scheduled); });
    EXPECT_EQ(campaigns.get(c.id).status, S::Draft);
}

// Every (from, to) pair through the service and the store: legal ones happen, illegal ones
// are InvalidState and leave the status as it was.
TEST_F(CampaignServiceTest, EveryTransitionPairAgainstTheStore) {
    const std::vector<S> all{S::Draft, S::Scheduled, S::InProgress, S::Paused, S::Completed, S::Cancelled};
    auto driveTo = [&](Id id, S target) {
        switch (target) {
        case S::Draft: break;
        case S::Scheduled: campaigns.schedule(id, now + kHour); break;
        case S::InProgress: campaigns.transition(id, S::InProgress); break;
        case S::Paused: campaigns.transition(id, S::InProgress); campaigns.transition(id, S::Paused); break;
        case S::Completed: campaigns.transition(id, S::InProgress); campaigns.transition(id, S::Completed); break;
        case S::Cancelled: campaigns.transition(id, S::Cancelled); break;
        }
        ASSERT_EQ(campaigns.get(id).status, target);
    };
    for (S from : all) {
        for (S to : all) {
            SCOPED_TRACE(std::string(toString(from)) + " -> " + std::string(toString(to)));
            const Id id = draft(std::string(toString(from)) + "-" + std::string(toString(to))).id;
            driveTo(id, from);
            // Rescheduling a scheduled campaign is legal, though not a status change.
            const bool legal = busContractTransitions().count({from, to}) == 1 ||
                               (from == S::Scheduled && to == S::Scheduled);
            try {
                if (to == S::Scheduled) campaigns.schedule(id, now + 2 * kHour);
                else campaigns.transition(id, to);
                EXPECT_TRUE(legal) << "an illegal transition was allowed";
                EXPECT_EQ(campaigns.get(id).status, to);
            } catch (const Error& e) {
                EXPECT_FALSE(legal) << "a legal transition was refused: " << e.what();
                EXPECT_EQ(e.code(), ErrorCode::InvalidState) << e.what();
                EXPECT_EQ(campaigns.get(id).status, from);
            }
        }
    }
}

TEST_F(CampaignServiceTest, ListFiltersByStatus) {
    const Campaign a = draft("a");
    const Campaign b = draft("b");
    campaigns.schedule(b.id, kStart + kHour);
    EXPECT_EQ(campaigns.list(std::nullopt).size(), 2u);
    const auto scheduled = campaigns.list(S::Scheduled);
    ASSERT_EQ(scheduled.size(), 1u);
    EXPECT_EQ(scheduled.front().id, b.id);
    EXPECT_EQ(campaigns.list(S::Draft).front().id, a.id);
    EXPECT_TRUE(campaigns.list(S::Completed).empty());
}

TEST_F(CampaignServiceTest, DashboardAndSummary) {
    recipients.createGroup("customers");
    person("ann@example.org", SubscriptionStatus::Subscribed, {"customers"});
    person("bob@example.org", SubscriptionStatus::Subscribed, {"customers"});
    person("dan@example.org", SubscriptionStatus::Unsubscribed, {"customers"});
    const Campaign a = draft("a");
    const Campaign b = draft("b");
    campaigns.schedule(b.id, kStart + kHour);
    campaigns.attach(a.id, {{"customers"}, {}});

    const Dashboard d = campaigns.dashboard();
    EXPECT_EQ(d.totalRecipients, 3);
    EXPECT_EQ(d.subscribedRecipients, 2);
    EXPECT_EQ(d.totalCampaigns, 2);
    EXPECT_EQ(d.totalGroups, 1);
    EXPECT_EQ(d.pending, 2);
    EXPECT_EQ(d.sent, 0);
    auto count = [&](S s) {
        auto it = std::find_if(d.campaignsByStatus.begin(), d.campaignsByStatus.end(),
                               [&](const auto& p) { return p.first == s; });
        return it == d.campaignsByStatus.end() ? -1 : it->second;
    };
    EXPECT_EQ(count(S::Draft), 1);
    EXPECT_EQ(count(S::Scheduled), 1);

    const CampaignSummary s = campaigns.summary(a.id);
    EXPECT_EQ(s.campaignId, a.id);
    EXPECT_EQ(s.total, 2);
    EXPECT_EQ(s.pending, 2);
    EXPECT_EQ(s.sent, 0);
    EXPECT_DOUBLE_EQ(s.successPercent, 0.0);
    expectError(ErrorCode::NotFound, "campaign 4242 does not exist", [&] { campaigns.summary(4242); });
}

}  // namespace
}  // namespace campaignd::services::test

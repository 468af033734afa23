// rejection_recorder_test.cpp: the sender's failures as bounces (services/rejection_recorder.h)
// against a real SQLite store: a 5xx is recorded as a bounce with the server's status, or the
// class of its reply code when it gave none, and acted on; a 4xx, a failure without a reply and
// a database that fails record nothing and never throw into the sender.
#include "services/rejection_recorder.h"
#include "service_fixture.h"

namespace campaignd::services::test {
namespace {

class RejectionRecorderTest : public ServiceTest {
protected:
    SendingFailure failure(const Recipient& r, Id campaign, int code, std::string status, std::string reply) {
        SendingFailure f;
        f.campaignId = campaign;
        f.recipientId = r.id;
        f.recipient = r.email;
        f.smtpCode = code;
        f.enhancedStatus = std::move(status);
        f.reply = std::move(reply);
        f.messageId = "m-" + r.email + "@campaign.example.org";
        return f;
    }
    std::vector<BounceRecord> records() {
        return store->listBounces({});
    }

    // The recorder has a store of its own on the same database, as in the daemon.
    RejectionRecorder recorder{storage::openStore("sqlite:" + (dir / "campaignd.db").string()), clock, 3};
};

TEST_F(RejectionRecorderTest, AReplyCodeWithoutAnEnhancedStatusGetsItsClassAsTheStatus) {
    const Campaign c = draft();
    const Recipient r = person("nouser@example.net");
    const auto outcome = recorder.record(failure(r, c.id, 550, "", "550 no such user here"));
    ASSERT_TRUE(outcome.has_value());
    EXPECT_TRUE(outcome->recorded);
    EXPECT_EQ(outcome->status, "5.0.0");
    const auto list = records();
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].statusCode, "5.0.0");
    EXPECT_EQ(list[0].source, "smtp");
    EXPECT_EQ(list[0].campaignId, std::optional<Id>(c.id));
    EXPECT_EQ(list[0].diagnostic, "550 no such user here");
    EXPECT_EQ(RejectionRecorder::statusOf(failure(r, c.id, 554, "", "")), "5.0.0");
    EXPECT_EQ(RejectionRecorder::statusOf(failure(r, c.id, 550, "5.1.1", "")), "5.1.1");
}

TEST_F(RejectionRecorderTest, AnEnhancedStatusIsKeptAndAHardOneSuppressesTheRecipient) {
    const Campaign c = draft();
    const Recipient r = person("gone@example.net");
    const auto outcome = recorder.record(failure(r, c.id, 550, "5.1.1", "550 5.1.1 User unknown"));
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(outcome->reason, "userunknown");
    EXPECT_TRUE(outcome->hard);
    EXPECT_EQ(recipients.get("gone@example.net").status, SubscriptionStatus::Bounced);
}

TEST_F(RejectionRecorderTest, AUserUnknownAtRcptIsHardAlthoughTheServerGaveNoEnhancedStatus) {
    // The sender's reply text says which command was refused; a "user unknown" to RCPT TO is
    // the address (hard), as Sisimai reads it; the same words after DATA would be a filter.
    const Campaign c = draft();
    const Recipient r = person("olduser@example.net");
    const auto outcome = recorder.record(failure(r, c.id, 550, "", "550 No such user here (in reply to RCPT TO)"));
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(outcome->reason, "userunknown");
    EXPECT_TRUE(outcome->hard);
    EXPECT_EQ(recipients.get("olduser@example.net").status, SubscriptionStatus::Bounced);
}

TEST_F(RejectionRecorderTest, NoRejectionRecordsNothing) {
    const Campaign c = draft();
    const Recipient r = person("busy@example.net");
    EXPECT_FALSE(recorder.record(failure(r, c.id, 451, "4.7.1", "451 4.7.1 try later")).has_value());
    EXPECT_FALSE(recorder.record(failure(r, c.id, 0, "", "the template did not render")).has_value());
    EXPECT_TRUE(records().empty());
    EXPECT_EQ(recipients.get("busy@example.net").status, SubscriptionStatus::Subscribed);
}

TEST_F(RejectionRecorderTest, ADatabaseErrorIsLoggedNotThrown) {
    const Campaign c = draft();
    const Recipient r = person("x@example.net");
    // A campaign that does not exist breaks the bounce's foreign key.
    SendingFailure f = failure(r, c.id + 1000, 550, "5.1.1", "550 5.1.1 unknown");
    EXPECT_NO_THROW({
        const auto outcome = recorder.record(f);
        EXPECT_FALSE(outcome.has_value());
    });
}

}  // namespace
}  // namespace campaignd::services::test

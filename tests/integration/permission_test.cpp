// permission_test.cpp: on a system-type bus with the project's policy file, a caller that is
// neither root nor in the admin group is refused on every method that changes state, and
// still reads; root may change state; so may a member of the admin group. The caller's
// identity comes from the bus, so the tests run the real clients as the `nobody` user.
#include <gtest/gtest.h>

#include "daemon_fixture.h"

namespace campaignd::test {
namespace {

constexpr const char* kService = "org.campaignd.Campaignd1";
constexpr const char* kManager = "/org/campaignd/Campaignd1";
constexpr const char* kManagerIface = "org.campaignd.Campaignd1.Manager";
constexpr const char* kCampaign = "/org/campaignd/Campaignd1/campaign/1";
constexpr const char* kCampaignIface = "org.campaignd.Campaignd1.Campaign";
constexpr const char* kRefusal = "only root and members of the";

class PermissionTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto user = lookupUser("nobody");
        if (!user || ::geteuid() != 0) GTEST_SKIP() << "needs root and a `nobody` user";
        nobody_ = *user;
        dir_.chownTo(0, 0);
    }

    std::unique_ptr<Campaignd> start(const std::string& adminGroup = {}) {
        DaemonConfig config;
        config.database = "sqlite:" + (dir_ / "campaignd.db").string();
        config.adminGroup = adminGroup;
        auto daemon = std::make_unique<Campaignd>(bus_, dir_, config);
        // Something to act on: a group, a recipient and a campaign, made by root.
        EXPECT_EQ(daemon->ctl({"group", "create", "news"}).exitCode, 0);
        EXPECT_EQ(daemon->ctl({"recipients", "add", "ada@example.org", "--group", "news"}).exitCode, 0);
        EXPECT_EQ(daemon->ctl({"campaign", "create", "--name", "C", "--subject", "S", "--html", "<p>x</p>"}).exitCode, 0);
        return daemon;
    }

    // Every state-changing method of the API, as busctl arguments (and ListSuppressions, which
    // shows current recipients' addresses).
    static std::vector<std::vector<std::string>> mutatingCalls() {
        return {
            {"call", kService, kManager, kManagerIface, "CreateCampaign", "a{sv}", "3", "name", "s", "X",
             "subject", "s", "S", "html_content", "s", "<p>x</p>"},
            {"call", kService, kManager, kManagerIface, "AddRecipient", "sa{sv}", "bob@example.org", "0"},
            {"call", kService, kManager, kManagerIface, "UpdateRecipient", "sa{sv}", "ada@example.org",
             "1", "status", "s", "unsubscribed"},
            {"call", kService, kManager, kManagerIface, "DeleteRecipient", "s", "ada@example.org"},
            {"call", kService, kManager, kManagerIface, "UnsubscribeRecipient", "sa{sv}", "ada@example.org", "0"},
            {"call", kService, kManager, kManagerIface, "DeleteRecipientEx", "sa{sv}", "ada@example.org", "1",
             "forget", "b", "true"},
            {"call", kService, kManager, kManagerIface, "ListSuppressions", "a{sv}", "0"},
            {"call", kService, kManager, kManagerIface, "AddSuppression", "s", "eve@example.org"},
            {"call", kService, kManager, kManagerIface, "RemoveSuppression", "s", "eve@example.org"},
            {"call", kService, kManager, kManagerIface, "ImportSuppressions", "as", "1", "eve@example.org"},
            {"call", kService, kManager, kManagerIface, "CreateGroup", "s", "staff"},
            {"call", kService, kManager, kManagerIface, "DeleteGroup", "s", "news"},
            {"call", kService, kManager, kManagerIface, "AddGroupMembers", "sas", "news", "1", "ada@example.org"},
            {"call", kService, kManager, kManagerIface, "RemoveGroupMembers", "sas", "news", "1", "ada@example.org"},
            {"call", kService, kCampaign, kCampaignIface, "Update", "a{sv}", "1", "name", "s", "Y"},
            {"call", kService, kCampaign, kCampaignIface, "Attach", "a{sv}", "1", "groups", "as", "1", "news"},
            {"call", kService, kCampaign, kCampaignIface, "Schedule", "t", "4102444800000000"},
            {"call", kService, kCampaign, kCampaignIface, "Unschedule"},
            {"call", kService, kManager, kManagerIface, "RunScheduled"},
            {"call", kService, kManager, kManagerIface, "RunScheduledEx", "t", "0"},
            {"call", kService, kCampaign, kCampaignIface, "Send"},
            {"call", kService, kCampaign, kCampaignIface, "Pause"},
            {"call", kService, kCampaign, kCampaignIface, "Resume"},
            {"call", kService, kCampaign, kCampaignIface, "Cancel"},
            {"call", kService, kCampaign, kCampaignIface, "Delete"},
            {"call", kService, kManager, kManagerIface, "ProcessBounces", "a{sv}", "0"},
            {"call", kService, kManager, kManagerIface, "CancelJob", "t", "1"},
        };
    }

    TempDir dir_{"campaignd-perm"};
    PrivateBus bus_{PrivateBus::Kind::System};
    UserIds nobody_{};
};

TEST_F(PermissionTest, UnprivilegedCallerIsRefusedOnEveryMutatingMethod) {
    auto daemon = start();
    for (const auto& call : mutatingCalls()) {
        const auto r = daemon->busctl(call, nobody_);
        EXPECT_NE(r.exitCode, 0) << call[4] << " was allowed for nobody";
        EXPECT_NE(r.err.find(kRefusal), std::string::npos) << call[4] << ": " << r.err;
    }
    // Nothing changed.
    const auto list = daemon->ctl({"--json", "recipients", "list"});
    EXPECT_NE(list.out.find("ada@example.org"), std::string::npos);
    EXPECT_NE(list.out.find("subscribed"), std::string::npos);
    EXPECT_EQ(list.out.find("bob@example.org"), std::string::npos);
    EXPECT_EQ(daemon->ctl({"--json", "campaign", "show", "1"}).out.find("\"name\": \"Y\""), std::string::npos);
    EXPECT_EQ(daemon->ctl({"campaign", "show", "1"}).exitCode, 0);
    EXPECT_TRUE(daemon->running());
}

TEST_F(PermissionTest, UnprivilegedCallerCanRead) {
    auto daemon = start();
    EXPECT_EQ(daemon->ctl({"dashboard"}, nobody_).exitCode, 0);
    EXPECT_EQ(daemon->ctl({"campaign", "list"}, nobody_).exitCode, 0);
    const auto status = daemon->busctl({"get-property", kService, kCampaign, kCampaignIface, "Status"}, nobody_);
    EXPECT_EQ(status.out, "s \"draft\"\n") << status.err;
}

// Not a change, but every address with its bounce history: for administrators too (busctl
// cannot pass the descriptor, so campaignd-ctl asks).
TEST_F(PermissionTest, TheBounceExportIsForAdministratorsOnly) {
    auto daemon = start();
    const auto r = daemon->ctl({"bounces", "export", "-"}, nobody_);
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find(kRefusal), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << "nothing exported";
    const auto root = daemon->ctl({"bounces", "export", "-"});
    EXPECT_EQ(root.exitCode, 0) << root.err;
    EXPECT_EQ(root.out.rfind("campaign,recipient_email,", 0), 0u) << root.out;
}

TEST_F(PermissionTest, ClientReportsTheRefusal) {
    auto daemon = start();
    const auto r = daemon->ctl({"group", "create", "staff"}, nobody_);
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find(kRefusal), std::string::npos) << r.err;
}

TEST_F(PermissionTest, RootMayChangeState) {
    auto daemon = start();
    for (const auto& call : mutatingCalls()) {
        const auto r = daemon->busctl(call);
        EXPECT_EQ(r.err.find(kRefusal), std::string::npos) << call[4] << ": " << r.err;
    }
}

TEST_F(PermissionTest, MembersOfTheAdminGroupMayChangeState) {
    // nobody's own group stands in for "campaignd" here, so the test needs no new account.
    auto daemon = start("nogroup");
    const auto r = daemon->ctl({"group", "create", "staff"}, nobody_);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(daemon->ctl({"recipients", "unsubscribe", "ada@example.org"}, nobody_).exitCode, 0);
}

}  // namespace
}  // namespace campaignd::test

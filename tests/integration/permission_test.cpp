// permission_test.cpp: on a system-type bus with the project's policy file, a caller that is
// neither root nor in the admin group is refused on every method that changes state, and on
// every method that returns personal data (addresses, names: api_access.h's Access::Personal),
// by the bus policy and, behind it, by campaignd itself; it still reads status, counts and the
// dashboard. Root may do everything; a member of the admin group too; a member of the reader
// group may read personal data but change nothing. The caller's identity comes from the bus, so
// the tests run the real clients as the `nobody` user, and nobody's own group ("nogroup") stands
// in for "campaignd" or "campaignd-readers" (in the config and in a copy of the policy file),
// so the tests need no new accounts.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "bus/api_access.h"
#include "daemon_fixture.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using campaignd::bus::Access;
using campaignd::bus::kApiAccess;
using campaignd::bus::MemberKind;

constexpr const char* kService = "org.campaignd.Campaignd1";
constexpr const char* kManager = "/org/campaignd/Campaignd1";
constexpr const char* kManagerIface = "org.campaignd.Campaignd1.Manager";
constexpr const char* kCampaign = "/org/campaignd/Campaignd1/campaign/1";
constexpr const char* kCampaignIface = "org.campaignd.Campaignd1.Campaign";
constexpr const char* kRefusal = "only root and members of the";
constexpr const char* kBusRefusal = "Access denied";  // busctl, for the bus's AccessDenied

// Who the bus policy and the daemon's config let in.
struct Groups {
    std::string adminGroup = "campaignd";
    std::string readerGroup = "campaignd-readers";
    enum class Policy { Project, Open } policy = Policy::Project;
};

class PermissionTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto user = lookupUser("nobody");
        if (!user || ::geteuid() != 0) GTEST_SKIP() << "needs root and a `nobody` user";
        nobody_ = *user;
        dir_.chownTo(0, 0);
    }

    // The project's policy file with its two groups renamed as the daemon's config names them
    // (what a site that renames them writes), or one that lets everyone call everything (the
    // policy of before, to see campaignd's own check).
    fs::path policy(const Groups& setup) {
        const auto path = dir_ / "policy" / "org.campaignd.Campaignd1.conf";
        fs::create_directories(path.parent_path());
        if (setup.policy == Groups::Policy::Open) {
            writeFile(path, R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "https://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root"><allow own="org.campaignd.Campaignd1"/></policy>
  <policy context="default">
    <allow send_destination="org.campaignd.Campaignd1"/>
    <allow receive_sender="org.campaignd.Campaignd1"/>
  </policy>
</busconfig>
)");
            return path;
        }
        std::string text = readFile(PrivateBus::projectPolicy());
        text = std::regex_replace(text, std::regex(R"(group="campaignd")"), "group=\"" + setup.adminGroup + "\"");
        text = std::regex_replace(text, std::regex(R"(group="campaignd-readers")"), "group=\"" + setup.readerGroup + "\"");
        writeFile(path, text);
        return path;
    }

    std::unique_ptr<Campaignd> start(const Groups& setup = {}) {
        bus_ = std::make_unique<PrivateBus>(PrivateBus::Kind::System, std::vector<fs::path>{policy(setup)});
        DaemonConfig config;
        config.database = "sqlite:" + (dir_ / "campaignd.db").string();
        config.adminGroup = setup.adminGroup;
        config.extra = "ReaderGroup=" + setup.readerGroup + "\n";
        auto daemon = std::make_unique<Campaignd>(*bus_, dir_, config);
        // Something to act on: a group, a recipient, a campaign and a finished job (job 1: an
        // export), made by root.
        EXPECT_EQ(daemon->ctl({"group", "create", "news"}).exitCode, 0);
        EXPECT_EQ(daemon->ctl({"recipients", "add", "ada@example.org", "--name", "Ada Lovelace", "--group", "news"}).exitCode, 0);
        EXPECT_EQ(daemon->ctl({"campaign", "create", "--name", "C", "--subject", "S", "--html", "<p>x</p>"}).exitCode, 0);
        EXPECT_EQ(daemon->ctl({"bounces", "export", "-"}).exitCode, 0);
        return daemon;
    }

    // Every method of api_access.h's Access::Personal that busctl can call (ExportBounces takes
    // a descriptor: campaignd-ctl asks for it, see personalDataOf()).
    static std::map<std::string, std::vector<std::string>> personalCalls() {
        return {
            {"GetRecipient", {"call", kService, kManager, kManagerIface, "GetRecipient", "s", "ada@example.org"}},
            {"GetRecipientHistory", {"call", kService, kManager, kManagerIface, "GetRecipientHistory", "s", "ada@example.org"}},
            {"ListRecipients", {"call", kService, kManager, kManagerIface, "ListRecipients", "a{sv}", "0"}},
            {"ListRecipientsEx", {"call", kService, kManager, kManagerIface, "ListRecipientsEx", "a{sv}", "0"}},
            {"ListBounces", {"call", kService, kManager, kManagerIface, "ListBounces", "a{sv}", "0"}},
            {"GetImport", {"call", kService, kManager, kManagerIface, "GetImport", "t", "1"}},
            {"GetJob", {"call", kService, kManager, kManagerIface, "GetJob", "t", "1"}},
            {"Campaign.ListRecipients", {"call", kService, kCampaign, kCampaignIface, "ListRecipients", "a{sv}", "0"}},
            {"ListSuppressions", {"call", kService, kManager, kManagerIface, "ListSuppressions", "a{sv}", "0"}},
        };
    }
    static constexpr const char* kPersonalThroughCtl[] = {"ExportBounces"};

    // Every Access::Open method and a property of each interface.
    static std::map<std::string, std::vector<std::string>> openCalls() {
        return {
            {"GetStatus", {"call", kService, kManager, kManagerIface, "GetStatus"}},
            {"ListPlugins", {"call", kService, kManager, kManagerIface, "ListPlugins"}},
            {"GetDashboard", {"call", kService, kManager, kManagerIface, "GetDashboard"}},
            {"GetAccess", {"call", kService, kManager, kManagerIface, "GetAccess"}},
            {"GetMetrics", {"call", kService, kManager, kManagerIface, "GetMetrics"}},
            {"SanitizeHtml", {"call", kService, kManager, kManagerIface, "SanitizeHtml", "s", "<p>x</p>"}},
            {"ListCampaigns", {"call", kService, kManager, kManagerIface, "ListCampaigns", "a{sv}", "0"}},
            {"GetCampaign", {"call", kService, kManager, kManagerIface, "GetCampaign", "t", "1"}},
            {"ListGroups", {"call", kService, kManager, kManagerIface, "ListGroups"}},
            {"DnsRecords", {"call", kService, kManager, kManagerIface, "DnsRecords", "s", "example.org"}},
            {"Describe", {"call", kService, kCampaign, kCampaignIface, "Describe"}},
            {"GetSummary", {"call", kService, kCampaign, kCampaignIface, "GetSummary"}},
            {"Version", {"get-property", kService, kManager, kManagerIface, "Version"}},
            {"RecipientCount", {"get-property", kService, kCampaign, kCampaignIface, "RecipientCount"}},
        };
    }

    // A personal-data call as `as`: refused (by the bus or by campaignd) or answered.
    static bool refused(const RunResult& r) {
        return r.exitCode != 0 &&
               (r.err.find(kBusRefusal) != std::string::npos || r.err.find(kRefusal) != std::string::npos);
    }

    // Every state-changing method of the API, as busctl arguments.
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
            {"call", kService, kManager, kManagerIface, "ImportRecipientsData", "aya{sv}", "16",
             "101", "109", "97", "105", "108", "10", "98", "111", "98", "64", "120", "46", "111", "114", "103", "10", "0"},
            {"call", kService, kManager, kManagerIface, "CancelImport", "t", "1"},
            {"call", kService, kManager, kManagerIface, "CancelJob", "t", "1"},
        };
    }

    TempDir dir_{"campaignd-perm"};
    std::unique_ptr<PrivateBus> bus_;
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

// The tables above name every personal and every open method of api_access.h, so that a new
// one is tested here or this fails.
TEST_F(PermissionTest, TheTablesCoverEveryPersonalAndOpenMethod) {
    std::set<std::string> personal, open;
    for (const auto& [name, call] : personalCalls()) personal.insert(name);
    for (const auto* name : kPersonalThroughCtl) personal.insert(name);
    for (const auto& [name, call] : openCalls()) open.insert(name);
    for (const auto& m : kApiAccess) {
        if (m.kind != MemberKind::Method) continue;
        if (m.access == Access::Personal) {
            EXPECT_EQ(personal.count(std::string(m.name)), 1u) << m.name << " is personal data: add it to personalCalls()";
        } else if (m.access == Access::Open) {
            EXPECT_EQ(open.count(std::string(m.name)), 1u) << m.name << " is open: add it to openCalls()";
        }
    }
}

TEST_F(PermissionTest, UnprivilegedCallerGetsNoPersonalData) {
    auto daemon = start();
    for (const auto& [name, call] : personalCalls()) {
        const auto r = daemon->busctl(call, nobody_);
        EXPECT_TRUE(refused(r)) << name << " was answered for nobody: " << r.out << r.err;
        EXPECT_EQ(r.out.find("ada@example.org"), std::string::npos) << name;
        EXPECT_EQ(r.out.find("Ada Lovelace"), std::string::npos) << name;
    }
    // campaignd-ctl says which group to ask for.
    const auto list = daemon->ctl({"recipients", "list"}, nobody_);
    EXPECT_EQ(list.exitCode, 1);
    EXPECT_NE(list.err.find("campaignd-readers"), std::string::npos) << list.err;
    EXPECT_EQ(list.out.find("ada@example.org"), std::string::npos);
    EXPECT_EQ(daemon->ctl({"recipients", "show", "ada@example.org"}, nobody_).exitCode, 1);
    EXPECT_TRUE(daemon->running());
}

// Behind the bus policy, campaignd refuses the same calls itself: a bus that lets everything
// through (a policy file left over, a session bus) leaks nothing either.
TEST_F(PermissionTest, CampaigndRefusesPersonalDataWhenTheBusLetsTheCallThrough) {
    Groups open;
    open.policy = Groups::Policy::Open;
    auto daemon = start(open);
    for (const auto& [name, call] : personalCalls()) {
        const auto r = daemon->busctl(call, nobody_);
        EXPECT_NE(r.exitCode, 0) << name << " was answered for nobody: " << r.out;
        EXPECT_NE(r.err.find("returns personal data"), std::string::npos) << name << ": " << r.err;
    }
    const auto r = daemon->ctl({"bounces", "export", "-"}, nobody_);
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("returns personal data"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << "nothing exported";
}

TEST_F(PermissionTest, OpenMethodsStayOpen) {
    auto daemon = start();
    for (const auto& [name, call] : openCalls()) {
        const auto r = daemon->busctl(call, nobody_);
        EXPECT_EQ(r.exitCode, 0) << name << " was refused to nobody: " << r.err;
    }
    EXPECT_EQ(daemon->ctl({"dashboard"}, nobody_).exitCode, 0);
    EXPECT_EQ(daemon->ctl({"status"}, nobody_).exitCode, 0);
}

// Every address with its bounce history (busctl cannot pass the descriptor, so campaignd-ctl
// asks): refused to nobody by the bus; root gets it.
TEST_F(PermissionTest, TheBounceExportIsPersonalData) {
    auto daemon = start();
    const auto r = daemon->ctl({"bounces", "export", "-"}, nobody_);
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("campaignd-readers"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << "nothing exported";
    const auto root = daemon->ctl({"bounces", "export", "-"});
    EXPECT_EQ(root.exitCode, 0) << root.err;
    EXPECT_EQ(root.out.rfind("campaign,recipient_email,", 0), 0u) << root.out;
}

// Every address of a campaign with the server's reply about it: personal data, over the bus and
// through the client.
TEST_F(PermissionTest, TheCampaignRecipientListIsPersonalData) {
    auto daemon = start();
    EXPECT_EQ(daemon->ctl({"campaign", "attach", "1", "--group", "news"}).exitCode, 0);
    const std::vector<std::string> call{"call", kService, kCampaign, kCampaignIface, "ListRecipients", "a{sv}", "0"};
    const auto denied = daemon->busctl(call, nobody_);
    EXPECT_TRUE(refused(denied)) << denied.err;
    EXPECT_EQ(denied.out.find("ada@example.org"), std::string::npos) << denied.out;
    const auto client = daemon->ctl({"campaign", "recipients", "1"}, nobody_);
    EXPECT_EQ(client.exitCode, 1);
    EXPECT_EQ(client.out.find("ada@example.org"), std::string::npos) << client.out;

    const auto root = daemon->busctl(call);
    EXPECT_EQ(root.exitCode, 0) << root.err;
    EXPECT_NE(root.out.find("ada@example.org"), std::string::npos) << root.out;
    const auto rootClient = daemon->ctl({"campaign", "recipients", "1"});
    EXPECT_EQ(rootClient.exitCode, 0) << rootClient.err;
    EXPECT_NE(rootClient.out.find("ada@example.org"), std::string::npos) << rootClient.out;
}

TEST_F(PermissionTest, MembersOfTheReaderGroupReadPersonalDataButChangeNothing) {
    Groups readers;
    readers.readerGroup = "nogroup";
    auto daemon = start(readers);
    for (const auto& [name, call] : personalCalls()) {
        const auto r = daemon->busctl(call, nobody_);
        EXPECT_FALSE(refused(r)) << name << " was refused to a reader: " << r.err;
        if (name != "GetImport") {  // no import was made: NotFound
            EXPECT_EQ(r.exitCode, 0) << name << ": " << r.err;
        }
    }
    EXPECT_NE(daemon->ctl({"recipients", "show", "ada@example.org"}, nobody_).out.find("Ada Lovelace"), std::string::npos);
    const auto exported = daemon->ctl({"bounces", "export", "-"}, nobody_);
    EXPECT_EQ(exported.exitCode, 0) << exported.err;
    for (const auto& call : mutatingCalls()) {
        const auto r = daemon->busctl(call, nobody_);
        EXPECT_NE(r.exitCode, 0) << call[4] << " was allowed for a reader";
        EXPECT_NE(r.err.find(kRefusal), std::string::npos) << call[4] << ": " << r.err;
    }
    EXPECT_NE(daemon->ctlOk({"recipients", "show", "ada@example.org"}).find("subscribed"), std::string::npos);
}

// GetAccess says what the daemon's own check would let the caller do (the Cockpit page shows
// only those actions), for root, a stranger, a reader and an administrator.
std::pair<bool, bool> mayChangeAndRead(const Campaignd& daemon, std::optional<UserIds> as) {
    const auto r = daemon.busctl({"--json=short", "call", "org.campaignd.Campaignd1", "/org/campaignd/Campaignd1",
                                  "org.campaignd.Campaignd1.Manager", "GetAccess"},
                                 as);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    const auto data = nlohmann::json::parse(r.out)["data"][0];
    return {data["may_change"]["data"].get<bool>(), data["may_read_personal"]["data"].get<bool>()};
}

TEST_F(PermissionTest, GetAccessSaysRootMayAllAndAStrangerNothing) {
    auto daemon = start();
    EXPECT_EQ(mayChangeAndRead(*daemon, std::nullopt), std::make_pair(true, true));
    EXPECT_EQ(mayChangeAndRead(*daemon, nobody_), std::make_pair(false, false));
}

TEST_F(PermissionTest, GetAccessSaysAReaderReads) {
    Groups readers;
    readers.readerGroup = "nogroup";
    EXPECT_EQ(mayChangeAndRead(*start(readers), nobody_), std::make_pair(false, true));
}

TEST_F(PermissionTest, GetAccessSaysAnAdministratorChanges) {
    Groups admins;
    admins.adminGroup = "nogroup";
    EXPECT_EQ(mayChangeAndRead(*start(admins), nobody_), std::make_pair(true, true));
}

TEST_F(PermissionTest, MembersOfTheAdminGroupReadPersonalData) {
    Groups admins;
    admins.adminGroup = "nogroup";
    auto daemon = start(admins);
    for (const auto& [name, call] : personalCalls()) {
        const auto r = daemon->busctl(call, nobody_);
        EXPECT_FALSE(refused(r)) << name << " was refused to an administrator: " << r.err;
    }
    EXPECT_EQ(daemon->ctl({"bounces", "export", "-"}, nobody_).exitCode, 0);
}

// The signals that carry personal data (a job's result, an import's errors) reach only those
// who may read it; the open ones still reach everyone. Watched with gdbus monitor, which
// subscribes as any client does (no eavesdropping).
TEST_F(PermissionTest, PersonalSignalsReachOnlyThoseAllowed) {
    auto daemon = start();
    const std::vector<std::string> monitor{"gdbus", "monitor", "--address", bus_->address(), "--dest", kService};
    ProcessOptions asNobody;
    asNobody.uid = nobody_.uid;
    asNobody.gid = nobody_.gid;
    asNobody.workingDir = "/";
    Process root(monitor), nobody(monitor, asNobody);
    ASSERT_TRUE(root.waitForOutput("is owned by")) << root.err();
    ASSERT_TRUE(nobody.waitForOutput("is owned by")) << nobody.err();

    EXPECT_EQ(daemon->ctl({"bounces", "export", "-"}).exitCode, 0);        // JobFinished
    EXPECT_EQ(daemon->ctl({"campaign", "edit", "1", "--name", "Z"}).exitCode, 0);  // PropertiesChanged
    EXPECT_TRUE(root.waitForOutput("JobFinished")) << root.out();
    EXPECT_TRUE(nobody.waitForOutput("PropertiesChanged")) << nobody.out() << nobody.err();
    EXPECT_TRUE(root.waitForOutput("PropertiesChanged")) << root.out();
    // Signals from one sender arrive in order: JobFinished would have come before.
    EXPECT_EQ(nobody.out().find("JobFinished"), std::string::npos) << nobody.out();
}

TEST_F(PermissionTest, RootReadsPersonalData) {
    auto daemon = start();
    for (const auto& [name, call] : personalCalls()) {
        const auto r = daemon->busctl(call);
        EXPECT_FALSE(refused(r)) << name << ": " << r.err;
    }
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
    Groups admins;
    admins.adminGroup = "nogroup";
    auto daemon = start(admins);
    const auto r = daemon->ctl({"group", "create", "staff"}, nobody_);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(daemon->ctl({"recipients", "unsubscribe", "ada@example.org"}, nobody_).exitCode, 0);
    EXPECT_EQ(daemon->ctl({"campaign", "recipients", "1"}, nobody_).exitCode, 0);
}

}  // namespace
}  // namespace campaignd::test

// cluster_test.cpp: three campaignd daemons on one PostgreSQL (issue 14 item 4), each with its
// own private bus, state directory and plugin directory, all sending through the real smtp
// plugin to one smtp-sink. What a user of the cluster notices, each shown here: a campaign
// created and started through one daemon is visible through the others and is sent by all
// three (the ledger's claimed_by names the three instances), and completes once; a pause
// through another daemon stops all three (nothing is handed over after every daemon has seen
// it); one daemon killed with SIGKILL and never restarted: the others take over its claims
// after ClaimLease=, the campaign completes, nobody is sent twice and nobody is unaccounted
// for; and `campaignd-ctl status` lists the daemons. PostgreSQL only: a cluster shares one
// PostgreSQL database (the daemons table and the take-over run on both backends in
// tests/storage/cluster_store_test.cpp).
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "backends.h"
#include "daemon_fixture.h"
#include "storage/sql_store.h"
#include "storage/store.h"
#include "support/postgres_environment.h"
#include "support/smtp_sink.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

// One daemon of the cluster: its bus, its directory (config, state, plugins), the daemon.
struct Member {
    std::unique_ptr<PrivateBus> bus;
    std::unique_ptr<TempDir> dir;
    std::unique_ptr<Campaignd> daemon;
    std::string instanceId;
};

class ClusterTest : public ::testing::Test {
protected:
    static constexpr int kMembers = 3;

    void SetUp() override {
        if (!SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
        database_ = PostgresEnvironment::server().createDatabase("cluster");
    }

    // Starts the three daemons. Each sends at most `perSecond` messages a second, so that a
    // campaign lasts long enough for all three to take part.
    void startAll(int perSecond) {
        for (int i = 0; i < kMembers; ++i) {
            Member& m = members_[i];
            m.bus = std::make_unique<PrivateBus>(PrivateBus::Kind::Session);
            m.dir = std::make_unique<TempDir>("campaignd-cluster-" + std::to_string(i));
            fs::create_directories(*m.dir / "plugins");
            fs::copy_file(SMTP_PLUGIN, *m.dir / "plugins" / "smtp.so");
            fs::copy_file(CSV_IMPORTER_PLUGIN, *m.dir / "plugins" / "csv-importer.so");
            DaemonConfig config;
            config.database = database_;
            config.extra = "[Sending]\nDefaultTransport=mail\nFrom=News <news@example.org>\n"
                           "EnvelopeDomain=bounces.example.org\nBatchSize=20\nClaimLease=2s\nInstanceId=member" +
                           std::to_string(i) + "\n"
                           "[Transport mail]\nPlugin=smtp\nURL=" + sink_.url() +
                           "\nConnections=2\nMaxPerSecond=" + std::to_string(perSecond) + "\n";
            m.daemon = std::make_unique<Campaignd>(*m.bus, *m.dir, config);
            m.instanceId = "member" + std::to_string(i);
        }
    }

    Campaignd& at(int i) { return *members_[i].daemon; }

    // n recipients r0..r(n-1)@example.org attached to a new campaign, through daemon `via`.
    int campaignWith(int via, int n) {
        std::string csv = "email,name\n";
        for (int i = 0; i < n; ++i) csv += "r" + std::to_string(i) + "@example.org,Person " + std::to_string(i) + "\n";
        writeFile(*members_[via].dir / "people.csv", csv);
        at(via).ctlOk({"group", "create", "people"});
        EXPECT_EQ(at(via).ctlJson({"recipients", "import", (*members_[via].dir / "people.csv").string(), "--group",
                                   "people"})["imported"],
                  n);
        const int id = newCampaign(via, "News");
        at(via).ctlOk({"campaign", "attach", std::to_string(id), "--group", "people"});
        return id;
    }

    int newCampaign(int via, const std::string& name) {
        return at(via)
            .ctlJson({"campaign", "create", "--name", name, "--subject", "Hello {{name}}", "--html",
                      "<p>Dear {{name}}, the news.</p>"})
            .value("id", 0);
    }

    // Whether daemon i's bus shows campaign id (its object), with `status` if given.
    bool shows(int i, int id, const std::string& status = {}) {
        const auto r = at(i).ctl({"--json", "campaign", "show", std::to_string(id)});
        if (r.exitCode != 0) return false;
        return status.empty() || json::parse(r.out, nullptr, false).value("status", "") == status;
    }

    struct Row {
        std::string status;
        std::string claimedBy;
    };
    // The ledger of campaign `id`, by recipient address, read from the database itself.
    std::map<std::string, Row> ledger(int id) {
        auto store = storage::openStore(database_);
        auto& sql = dynamic_cast<storage::SqlStore&>(*store).connection();
        std::map<std::string, Row> out;
        for (const auto& row : sql.query("SELECT recipient_email, status, claimed_by FROM campaign_recipients"
                                         " WHERE campaign_id = $1",
                                         {static_cast<std::int64_t>(id)}))
            out[row.text(0)] = {row.text(1), row.text(2)};
        return out;
    }
    // Rows by status, and the rows each instance handed over (sent, unknown, failed or
    // handed_over, by the instance id before the first ':').
    std::map<std::string, int> byStatus(const std::map<std::string, Row>& rows) {
        std::map<std::string, int> n;
        for (const auto& [email, r] : rows) ++n[r.status];
        return n;
    }
    std::map<std::string, int> handedOverBy(const std::map<std::string, Row>& rows) {
        std::map<std::string, int> n;
        for (const auto& [email, r] : rows)
            if (r.status != "pending" && r.status != "sending" && r.status != "skipped")
                ++n[r.claimedBy.substr(0, r.claimedBy.find(':'))];
        return n;
    }

    // Every recipient has at most one message at the sink; every sent row has exactly one;
    // every row is sent or unknown (nothing failed, pending or in flight). Returns the messages.
    std::size_t expectExactlyOnce(int id, std::size_t recipients) {
        const auto rows = ledger(id);
        EXPECT_EQ(rows.size(), recipients);
        std::map<std::string, int> atSink;
        const auto messages = sink_.messages();
        for (const auto& m : messages)
            for (const auto& r : m.recipients) ++atSink[r];
        std::size_t duplicates = 0, missing = 0, unaccounted = 0;
        for (const auto& [email, n] : atSink)
            if (n > 1) ++duplicates;
        for (const auto& [email, row] : rows) {
            if (row.status == "sent" && atSink[email] != 1) ++missing;
            if (row.status != "sent" && row.status != "unknown") ++unaccounted;
        }
        EXPECT_EQ(duplicates, 0u) << "recipients with more than one message at the sink";
        EXPECT_EQ(missing, 0u) << "sent rows without their message at the sink";
        EXPECT_EQ(unaccounted, 0u) << "recipients neither sent nor unknown";
        return messages.size();
    }

    SmtpSink sink_;
    std::string database_;
    std::array<Member, kMembers> members_;
};

TEST_F(ClusterTest, ACampaignStartedThroughOneIsSentByAllThreeAndCompletesOnce) {
    startAll(100);
    constexpr int kRecipients = 1500;
    const int id = campaignWith(0, kRecipients);
    // Visible through the others, as created (their objects appear).
    for (int i = 1; i < kMembers; ++i) ASSERT_TRUE(waitUntil([&] { return shows(i, id, "draft"); }, 20s)) << i;

    at(0).ctlOk({"campaign", "send", std::to_string(id)});
    for (int i = 0; i < kMembers; ++i)
        ASSERT_TRUE(waitUntil([&] { return shows(i, id, "completed"); }, 120s)) << at(i).ctlCampaign(id).dump();

    const auto rows = ledger(id);
    const auto counts = byStatus(rows);
    EXPECT_EQ(counts.at("sent"), kRecipients);
    const auto by = handedOverBy(rows);
    for (const Member& m : members_)
        EXPECT_GT(by.count(m.instanceId) ? by.at(m.instanceId) : 0, 0) << m.instanceId << " sent nothing";
    EXPECT_EQ(by.size(), std::size_t(kMembers));
    EXPECT_EQ(expectExactlyOnce(id, kRecipients), std::size_t(kRecipients));
    // Each daemon's object has the database's counts.
    for (int i = 0; i < kMembers; ++i) EXPECT_EQ(at(i).ctlCampaign(id)["sent_count"], kRecipients) << i;
    // Completed once: one daemon logged it.
    int completions = 0;
    for (int i = 0; i < kMembers; ++i)
        if (at(i).process().err().find("campaign completed") != std::string::npos) ++completions;
    EXPECT_EQ(completions, 1);

    // status lists the three daemons, this one marked, each with when it was last seen.
    const auto status = at(1).ctlJson({"status"});
    ASSERT_TRUE(status.contains("daemons")) << status.dump();
    std::set<std::string> listed;
    for (const auto& d : status["daemons"]) {
        listed.insert(d.value("instance_id", ""));
        EXPECT_GT(d.value("last_seen", 0ull), 0ull) << d.dump();
        EXPECT_EQ(d.value("this", false), d.value("instance_id", "") == members_[1].instanceId) << d.dump();
    }
    EXPECT_EQ(listed, (std::set<std::string>{members_[0].instanceId, members_[1].instanceId, members_[2].instanceId}));
    const auto text = at(1).ctlOk({"status"});
    EXPECT_NE(text.find("LAST SEEN"), std::string::npos) << text;
    EXPECT_NE(text.find(members_[1].instanceId + " (this one)"), std::string::npos) << text;
}

TEST_F(ClusterTest, APauseThroughAnotherDaemonStopsAllThree) {
    startAll(50);
    constexpr int kRecipients = 3000;
    const int id = campaignWith(0, kRecipients);
    at(0).ctlOk({"campaign", "send", std::to_string(id)});
    // All three are sending.
    ASSERT_TRUE(waitUntil([&] { return handedOverBy(ledger(id)).size() == std::size_t(kMembers); }, 60s));

    at(1).ctlOk({"campaign", "pause", std::to_string(id)});
    // Every daemon has seen the pause: its bus says paused and nothing is in flight anywhere.
    for (int i = 0; i < kMembers; ++i) ASSERT_TRUE(waitUntil([&] { return shows(i, id, "paused"); }, 20s)) << i;
    ASSERT_TRUE(waitUntil([&] { return byStatus(ledger(id))["sending"] + byStatus(ledger(id))["handed_over"] == 0; }, 20s));
    const auto paused = byStatus(ledger(id));
    ASSERT_GT(paused.at("pending"), 0) << "the campaign was over before the pause: nothing was tested";
    const auto messages = sink_.messages().size();

    // Then every daemon goes through at least one more round of following the database (a
    // campaign created through daemon 1 shows on the other two): still nothing handed over.
    const int marker = newCampaign(1, "Marker");
    for (int i = 0; i < kMembers; ++i) ASSERT_TRUE(waitUntil([&] { return shows(i, marker); }, 20s)) << i;
    const int another = newCampaign(2, "Marker 2");
    for (int i = 0; i < kMembers; ++i) ASSERT_TRUE(waitUntil([&] { return shows(i, another); }, 20s)) << i;
    EXPECT_EQ(byStatus(ledger(id)), paused);
    EXPECT_EQ(sink_.messages().size(), messages);

    // Resumed through the third: all of it goes out, once.
    at(2).ctlOk({"campaign", "resume", std::to_string(id)});
    ASSERT_TRUE(waitUntil([&] { return shows(0, id, "completed"); }, 180s)) << at(0).ctlCampaign(id).dump();
    EXPECT_EQ(expectExactlyOnce(id, kRecipients), std::size_t(kRecipients));

    // Deleted through one: its object goes from the others' buses.
    at(0).ctlOk({"campaign", "delete", std::to_string(marker)});
    for (int i = 1; i < kMembers; ++i) EXPECT_TRUE(waitUntil([&] { return !shows(i, marker); }, 20s)) << i;
}

TEST_F(ClusterTest, ADaemonKilledForGoodIsTakenOverAndTheCampaignCompletesOnce) {
    startAll(100);
    constexpr int kRecipients = 3000;
    const int id = campaignWith(0, kRecipients);
    at(0).ctlOk({"campaign", "send", std::to_string(id)});
    const std::string victim = members_[2].instanceId;
    ASSERT_TRUE(waitUntil([&] { return handedOverBy(ledger(id))[victim] >= 100; }, 60s));
    at(2).process().kill();  // SIGKILL: its claims and hand-overs stay as they are
    ASSERT_TRUE(at(2).process().wait(10s));
    const auto atKill = ledger(id);
    int victimsInFlight = 0;
    for (const auto& [email, r] : atKill)
        if ((r.status == "sending" || r.status == "handed_over") && r.claimedBy.rfind(victim + ":", 0) == 0)
            ++victimsInFlight;
    ASSERT_GT(byStatus(atKill)["pending"], 0) << "the campaign was over before the kill: nothing was tested";
    EXPECT_GT(victimsInFlight, 0) << "the killed daemon held no claims: the take-over was not tested";

    ASSERT_TRUE(waitUntil([&] { return shows(0, id, "completed"); }, 180s)) << at(0).ctlCampaign(id).dump();
    EXPECT_TRUE(waitUntil([&] { return shows(1, id, "completed"); }, 20s));
    const auto c = at(0).ctlCampaign(id);
    EXPECT_EQ(c["pending_count"], 0);
    EXPECT_EQ(c["in_flight_count"], 0);
    EXPECT_EQ(c["failed_count"], 0);
    EXPECT_EQ(c["sent_count"].get<int>() + c["unknown_count"].get<int>(), kRecipients) << c.dump();
    EXPECT_LE(c["unknown_count"].get<int>(), victimsInFlight) << c.dump();  // only what it held
    // Only unknown rows may be missing at the sink (or be there: their server may have them).
    EXPECT_GE(expectExactlyOnce(id, kRecipients), c["sent_count"].get<std::size_t>());
    // The rows that were its claims when it died are all accounted for, none of them in flight.
    const auto after = ledger(id);
    for (const auto& [email, r] : atKill)
        if (r.status == "sending" || r.status == "handed_over") {
            EXPECT_TRUE(after.at(email).status == "sent" || after.at(email).status == "unknown") << email;
        }

    // status says who took it over.
    bool found = false;
    const auto status = at(0).ctlJson({"status"});
    for (const auto& d : status["daemons"])
        if (d.value("instance_id", "") == victim) {
            found = true;
            EXPECT_TRUE(d.value("taken_over_by", "") == members_[0].instanceId ||
                        d.value("taken_over_by", "") == members_[1].instanceId)
                << d.dump();
        }
    EXPECT_TRUE(found);
}

}  // namespace
}  // namespace campaignd::test

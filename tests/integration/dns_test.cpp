// dns_test.cpp: what to publish in DNS (issue 12 item 4), on SQLite and PostgreSQL, through the
// real daemon with [DKIM example.org] keys made by openssl for the test (rsa-2048 and ed25519)
// and two smtp relays (one named by address, one by name). `dns records` is parsed back: each
// DKIM TXT's p= is the key's public half as openssl and python compute it, in strings of at most
// 255 octets; SPF at the envelope domain names both relays; DMARC and the MX are there.
// `dns check` asks a private DNS server (tests/support/dns_server.py) on its own loopback
// address and port: a correct zone passes (exit 0), and each record missing or wrong is named
// on its own line with exit status 1.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "backends.h"
#include "daemon_fixture.h"
#include "support/dns_server.h"
#include "support/postgres_environment.h"

namespace campaignd::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[maybe_unused]] auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

class DnsTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        fs::create_directories(dir_ / "plugins");
        fs::copy_file(SMTP_PLUGIN, dir_ / "plugins" / "smtp.so");
        database_ = databaseFor(GetParam(), dir_, "dns");
        makeKey("rsa.key", {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"});
        makeKey("ed25519.key", {"-algorithm", "ed25519"});
        makeKey("other.key", {"-algorithm", "ed25519"});
        rsaKey_ = dkimPublicKey(dir_ / "rsa.key", false);
        edKey_ = dkimPublicKey(dir_ / "ed25519.key", true);
        otherKey_ = dkimPublicKey(dir_ / "other.key", true);
    }

    void makeKey(const std::string& name, std::vector<std::string> args) {
        std::vector<std::string> argv{"openssl", "genpkey"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"-out", (dir_ / name).string()});
        const auto r = run(argv);
        ASSERT_EQ(r.exitCode, 0) << r.err;
        fs::permissions(dir_ / name, fs::perms::owner_read | fs::perms::owner_write);
    }

    void start(const std::string& sending = "EnvelopeSubdomain=bounces\nDmarcReports=dmarc@example.org\n") {
        DaemonConfig config;
        config.database = database_;
        config.extra = "[Sending]\nDefaultTransport=relay\nFrom=News <news@example.org>\n" + sending +
                       "\n[Transport relay]\nPlugin=smtp\nURL=smtp://192.0.2.25:2525\n"
                       "\n[Transport named]\nPlugin=smtp\nURL=smtp://relay.example.test:2525\n"
                       "\n[DKIM example.org]\nSelector=rsa2026\nKeyFile=" + (dir_ / "rsa.key").string() +
                       "\n\n[DKIM example.org ed25519]\nSelector=ed2026\nAlgorithm=ed25519-sha256\nKeyFile=" +
                       (dir_ / "ed25519.key").string() + "\n";
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
    }

    // A zone that publishes everything right, as an administrator would write it by hand, with
    // the records `replace` names (by their first field) replaced by its lines.
    std::string zone(const std::map<std::string, std::string>& replace = {}) const {
        auto split = [](const std::string& text) {
            std::string out;
            for (std::size_t at = 0; at < text.size(); at += 200) out += "\"" + text.substr(at, 200) + "\" ";
            return out;
        };
        std::map<std::string, std::string> lines{
            {"rsa2026", "rsa2026._domainkey.example.org. 300 IN TXT " + split("v=DKIM1; k=rsa; p=" + rsaKey_)},
            {"ed2026", "ed2026._domainkey.example.org. 300 IN TXT \"v=DKIM1; k=ed25519; p=" + edKey_ + "\""},
            {"spf", "bounces.example.org. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 a:relay.example.test ~all\""},
            {"mx", "bounces.example.org. 300 IN MX 10 mx.example.org."},
            {"dmarc", "_dmarc.example.org. 300 IN TXT \"v=DMARC1; p=none; rua=mailto:dmarc@example.org\""},
            {"relay", "relay.example.test. 300 IN A 198.51.100.7"},
            {"other", "example.org. 300 IN TXT \"google-site-verification=abc\""},
        };
        for (const auto& [key, line] : replace) lines[key] = line;
        std::string text;
        for (const auto& [key, line] : lines) text += line + "\n";
        return text;
    }

    RunResult check() const { return daemon_->ctl({"dns", "check", "example.org", "--server", dns_.hostPort()}); }

    TempDir dir_{"campaignd-dns-test"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    DnsServer dns_;
    std::string database_;
    std::string rsaKey_, edKey_, otherKey_;
    std::unique_ptr<Campaignd> daemon_;
};

// The TXT data of NAME in zone-file text: its quoted strings, each checked to be at most 255
// octets, joined.
std::string txtOf(const std::string& zoneText, const std::string& name) {
    const std::regex line("^" + std::regex_replace(name, std::regex("\\."), "\\.") + "\\. IN TXT (.*)$");
    const std::regex lines("[^\n]+");
    const std::regex quotedString("\"([^\"]*)\"");
    std::smatch m;
    const std::string text = zoneText;
    for (std::sregex_iterator it(text.begin(), text.end(), lines), end; it != end; ++it) {
        const std::string l = it->str();
        if (!std::regex_match(l, m, line)) continue;
        std::string joined;
        const std::string data = m[1];
        for (std::sregex_iterator s(data.begin(), data.end(), quotedString), e; s != e; ++s) {
            EXPECT_LE((*s)[1].length(), 255) << l;
            joined += (*s)[1].str();
        }
        return joined;
    }
    ADD_FAILURE() << "no TXT line for " << name << " in:\n" << zoneText;
    return {};
}

TEST_P(DnsTest, RecordsAreBuiltFromTheDaemonsKeysAndRelays) {
    start();
    const std::string text = daemon_->ctlOk({"dns", "records"});
    EXPECT_EQ(txtOf(text, "rsa2026._domainkey.example.org"), "v=DKIM1; k=rsa; p=" + rsaKey_);
    EXPECT_EQ(txtOf(text, "ed2026._domainkey.example.org"), "v=DKIM1; k=ed25519; p=" + edKey_);
    // Both relays, in the order of their [Transport] names (named, relay).
    EXPECT_EQ(txtOf(text, "bounces.example.org"), "v=spf1 a:relay.example.test ip4:192.0.2.25 ~all");
    EXPECT_EQ(txtOf(text, "_dmarc.example.org"), "v=DMARC1; p=none; rua=mailto:dmarc@example.org; adkim=r; aspf=r");
    EXPECT_NE(text.find("\nbounces.example.org. IN MX 10 mail.example.org.\n"), std::string::npos) << text;
    // The rsa-2048 record needs two strings; each comment says why its record is there.
    EXPECT_NE(text.find("rsa2026._domainkey.example.org. IN TXT \"v=DKIM1; k=rsa; p="), std::string::npos) << text;
    EXPECT_NE(text.find("; SPF for the envelope domain bounces.example.org"), std::string::npos) << text;
    EXPECT_EQ(text.find("PRIVATE"), std::string::npos);

    const json records = daemon_->ctlJson({"dns", "records", "EXAMPLE.org"})["records"];
    ASSERT_EQ(records.size(), 5u) << records.dump();
    std::map<std::string, json> bySelector;
    for (const auto& r : records)
        if (r["purpose"] == "dkim") bySelector[r["selector"]] = r;
    EXPECT_EQ(bySelector["rsa2026"]["public_key"], rsaKey_);
    EXPECT_EQ(bySelector["rsa2026"]["algorithm"], "rsa-sha256");
    EXPECT_EQ(bySelector["rsa2026"]["strings"].size(), 2u);
    EXPECT_EQ(bySelector["ed2026"]["public_key"], edKey_);
    EXPECT_EQ(bySelector["ed2026"]["algorithm"], "ed25519-sha256");
    EXPECT_EQ(records[2]["purpose"], "spf");
    EXPECT_EQ(records[2]["relays"], json::array({"192.0.2.25", "relay.example.test"}));
    EXPECT_EQ(records[4]["envelope_domain"], "bounces.example.org");

    // Another domain: no key, so no DKIM record; the same envelope rule under it.
    const json other = daemon_->ctlJson({"dns", "records", "other.example"})["records"];
    ASSERT_EQ(other.size(), 3u) << other.dump();
    EXPECT_EQ(other[0]["name"], "bounces.other.example");
    EXPECT_EQ(other[1]["value"], "v=DMARC1; p=none; rua=mailto:dmarc@example.org; adkim=r; aspf=r");
    const auto bad = daemon_->ctl({"dns", "records", "not a domain"});
    EXPECT_EQ(bad.exitCode, 1);
    EXPECT_NE(bad.err.find("is not a valid domain"), std::string::npos) << bad.err;
}

TEST_P(DnsTest, CheckPassesACorrectZoneAndNamesEachRecordMissingOrWrong) {
    start();
    dns_.setZone(zone());
    const auto good = check();
    EXPECT_EQ(good.exitCode, 0) << good.out << good.err;
    EXPECT_EQ(good.out.find("missing"), std::string::npos) << good.out;
    EXPECT_EQ(good.out.find("wrong"), std::string::npos) << good.out;
    EXPECT_NE(good.out.find("ok      SPF at bounces.example.org passes the relays 192.0.2.25, relay.example.test"),
              std::string::npos)
        << good.out;
    const json document = daemon_->ctlJson({"dns", "check", "--server", dns_.hostPort()});
    EXPECT_EQ(document["ok"], true) << document.dump();
    EXPECT_EQ(document["checks"].size(), 5u) << document.dump();

    struct Case {
        const char* what;
        std::map<std::string, std::string> replace;
        std::string expected;
    };
    const std::vector<Case> cases{
        {"DKIM missing", {{"rsa2026", ""}},
         "missing DKIM rsa-sha256 s=rsa2026: no DKIM record at rsa2026._domainkey.example.org"},
        {"DKIM key mismatch",
         {{"ed2026", "ed2026._domainkey.example.org. 300 IN TXT \"v=DKIM1; k=ed25519; p=" + otherKey_ + "\""}},
         "wrong   DKIM ed25519-sha256 s=ed2026: the key published at ed2026._domainkey.example.org is not the one "
         "the daemon signs with"},
        {"SPF missing", {{"spf", ""}}, "missing SPF: no SPF record at bounces.example.org"},
        {"SPF not covering the relay",
         {{"spf", "bounces.example.org. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\""}},
         "wrong   SPF at bounces.example.org does not cover the relay: the relay relay.example.test (198.51.100.7) "
         "gets fail"},
        {"DMARC missing", {{"dmarc", ""}}, "missing DMARC: no DMARC record at _dmarc.example.org"},
        {"envelope without MX or A", {{"mx", ""}},
         "missing envelope: bounces.example.org has neither MX nor A: the bounces sent to it cannot come back"},
    };
    for (const auto& c : cases) {
        dns_.setZone(zone(c.replace));
        const auto r = check();
        EXPECT_EQ(r.exitCode, 1) << c.what << "\n" << r.out << r.err;
        EXPECT_NE(r.out.find("  " + c.expected), std::string::npos) << c.what << "\n" << r.out;
        EXPECT_NE(r.err.find("1 of 5 checks found a record missing or wrong"), std::string::npos) << c.what << r.err;
    }

    // The SPF record covers by address too, and an A record stands in for the MX.
    dns_.setZone(zone({{"spf", "bounces.example.org. 300 IN TXT \"v=spf1 ip4:192.0.2.25 ip4:198.51.100.0/24 -all\""},
                       {"mx", "bounces.example.org. 300 IN A 192.0.2.80"}}));
    const auto alternative = check();
    EXPECT_EQ(alternative.exitCode, 0) << alternative.out << alternative.err;
}

TEST_P(DnsTest, CheckSaysWhenTheEnvelopeDomainIsNotAligned) {
    start("EnvelopeDomain=bounces.mailer.test\n");
    dns_.setZone(zone({{"spf", "bounces.mailer.test. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 a:relay.example.test ~all\""},
                       {"mx", "bounces.mailer.test. 300 IN MX 10 mx.mailer.test."}}));
    const auto r = check();
    EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("wrong   envelope: bounces.mailer.test is not aligned with example.org"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("ok      SPF at bounces.mailer.test passes"), std::string::npos) << r.out;
    const json document = daemon_->ctlJson({"dns", "records"});
    EXPECT_NE(document["records"][3]["value"].get<std::string>().find("rua=mailto:postmaster@example.org"),
              std::string::npos)
        << document.dump();
}

INSTANTIATE_TEST_SUITE_P(Backends, DnsTest, ::testing::Values(Backend::Sqlite, Backend::Postgres), backendTestName);

}  // namespace
}  // namespace campaignd::test

// dns_check_test.cpp: `dns check`'s judgement (ctl/dns_check.h) on answers given as data: the
// SPF evaluation for a relay's address through ip4/ip6 with prefixes, a, mx, include and
// redirect, its ten-look-up limit and what it refuses to guess (a macro); a DKIM record's key
// compared with folding whitespace removed; DMARC found at the organisational domain; a lookup
// that fails is an error, never a pass. The same checks against a real DNS server are in
// tests/integration/dns_test.cpp, and the DNS message parser is fuzzed (tests/fuzz/dns_answer).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "dns_check.h"

namespace campaignd::ctl {
namespace {

struct Zone {
    std::map<std::pair<std::string, DnsType>, std::vector<std::string>> records;
    std::set<std::string> failing;
    int queries = 0;

    DnsLookup operator()(const std::string& name, DnsType type) {
        ++queries;
        DnsLookup r;
        if (failing.count(name)) {
            r.status = DnsLookup::Status::Failed;
            r.error = "SERVFAIL";
            return r;
        }
        const auto it = records.find({name, type});
        r.status = it == records.end() ? DnsLookup::Status::NoData : DnsLookup::Status::Found;
        if (it != records.end()) r.records = it->second;
        return r;
    }
};

ExpectedDnsRecord spf(std::vector<std::string> relays) {
    ExpectedDnsRecord e;
    e.domain = "example.org";
    e.purpose = "spf";
    e.name = "example.org";
    e.envelopeDomain = "example.org";
    e.relays = std::move(relays);
    return e;
}

DnsFinding only(const std::vector<DnsFinding>& findings) {
    EXPECT_EQ(findings.size(), 1u);
    return findings.empty() ? DnsFinding{} : findings.front();
}

DnsFinding judge(Zone& zone, const ExpectedDnsRecord& e) {
    return only(checkDnsRecords({e}, [&](const std::string& n, DnsType t) { return zone(n, t); }));
}

TEST(DnsCheck, SpfCoversARelayThroughPrefixesIncludesRedirectsAndMx) {
    Zone zone;
    zone.records[{"example.org", DnsType::Txt}] = {"v=spf1 ip4:192.0.2.0/25 include:_spf.example.net -all"};
    zone.records[{"_spf.example.net", DnsType::Txt}] = {"v=spf1 ip6:2001:db8::/32 redirect=_r.example.net"};
    zone.records[{"_r.example.net", DnsType::Txt}] = {"v=spf1 mx:mail.example.net/24 -all"};
    zone.records[{"mail.example.net", DnsType::Mx}] = {"10 mx1.example.net"};
    zone.records[{"mx1.example.net", DnsType::A}] = {"198.51.100.1"};
    EXPECT_EQ(judge(zone, spf({"192.0.2.127"})).status, "ok");
    EXPECT_EQ(judge(zone, spf({"[2001:db8::25]"})).status, "ok");
    EXPECT_EQ(judge(zone, spf({"2001:db9::25"})).status, "wrong");
    EXPECT_EQ(judge(zone, spf({"198.51.100.200"})).status, "ok");  // mx/24
    const auto outside = judge(zone, spf({"192.0.2.128"}));
    EXPECT_EQ(outside.status, "wrong");
    EXPECT_NE(outside.message.find("the relay 192.0.2.128 gets fail"), std::string::npos) << outside.message;
}

TEST(DnsCheck, SpfByNameCoversEveryAddressOfTheRelay) {
    Zone zone;
    zone.records[{"example.org", DnsType::Txt}] = {"v=spf1 a:relay.example.org ~all"};
    zone.records[{"relay.example.org", DnsType::A}] = {"192.0.2.1", "192.0.2.2"};
    EXPECT_EQ(judge(zone, spf({"relay.example.org"})).status, "ok");
    zone.records[{"example.org", DnsType::Txt}] = {"v=spf1 ip4:192.0.2.1 ~all"};
    const auto half = judge(zone, spf({"relay.example.org"}));
    EXPECT_EQ(half.status, "wrong");
    EXPECT_NE(half.message.find("relay.example.org (192.0.2.2) gets softfail"), std::string::npos) << half.message;
}

TEST(DnsCheck, SpfThatCannotBeJudgedIsNeverCovering) {
    Zone zone;
    zone.records[{"example.org", DnsType::Txt}] = {"v=spf1 exists:%{i}.spf.example.org -all"};
    const auto macro = judge(zone, spf({"192.0.2.1"}));
    EXPECT_EQ(macro.status, "wrong");
    EXPECT_NE(macro.message.find("not checked"), std::string::npos) << macro.message;

    std::string loop = "v=spf1";
    for (int i = 0; i < 11; ++i) loop += " a:h" + std::to_string(i) + ".example.org";
    zone.records[{"example.org", DnsType::Txt}] = {loop + " -all"};
    const auto limit = judge(zone, spf({"192.0.2.1"}));
    EXPECT_NE(limit.message.find("permerror: more than 10 DNS look-ups"), std::string::npos) << limit.message;

    zone.records[{"example.org", DnsType::Txt}] = {"v=spf1 +all", "v=spf1 -all"};
    EXPECT_NE(judge(zone, spf({"192.0.2.1"})).message.find("has 2 SPF records"), std::string::npos);

    zone.failing.insert("example.org");
    EXPECT_EQ(judge(zone, spf({"192.0.2.1"})).status, "error");
}

TEST(DnsCheck, DkimKeysCompareWithoutFoldingWhitespaceAndByType) {
    Zone zone;
    ExpectedDnsRecord e;
    e.domain = "example.org";
    e.purpose = "dkim";
    e.name = "s._domainkey.example.org";
    e.selector = "s";
    e.algorithm = "ed25519-sha256";
    e.publicKey = "ABCDEF==";
    zone.records[{e.name, DnsType::Txt}] = {"v=DKIM1; k=ed25519; p=ABC DEF=="};
    EXPECT_EQ(judge(zone, e).status, "ok");
    zone.records[{e.name, DnsType::Txt}] = {"v=DKIM1; k=rsa; p=ABCDEF=="};
    EXPECT_EQ(judge(zone, e).status, "wrong");
    zone.records[{e.name, DnsType::Txt}] = {"v=DKIM1; k=ed25519; p="};  // revoked
    EXPECT_EQ(judge(zone, e).status, "wrong");
    zone.records[{e.name, DnsType::Txt}] = {"some other text"};
    EXPECT_EQ(judge(zone, e).status, "missing");
}

TEST(DnsCheck, DmarcIsFoundAtTheOrganisationalDomainToo) {
    Zone zone;
    ExpectedDnsRecord e;
    e.domain = "news.example.co.uk";
    e.purpose = "dmarc";
    zone.records[{"_dmarc.example.co.uk", DnsType::Txt}] = {"v=DMARC1; p=reject"};
    const auto found = judge(zone, e);
    EXPECT_EQ(found.status, "ok");
    EXPECT_EQ(found.message, "DMARC at _dmarc.example.co.uk: p=reject");
    zone.records.clear();
    EXPECT_EQ(judge(zone, e).message, "DMARC: no DMARC record at _dmarc.news.example.co.uk");
}

TEST(DnsCheck, RecordTagsDropFoldingWhitespace) {
    const auto tags = recordTags(" v=DKIM1 ;K=rsa; p=AB\r\n\tCD ;");
    ASSERT_EQ(tags.size(), 3u);
    EXPECT_EQ(tags[1], (std::pair<std::string, std::string>("k", "rsa")));
    EXPECT_EQ(tags[2].second, "ABCD");
}

}  // namespace
}  // namespace campaignd::ctl

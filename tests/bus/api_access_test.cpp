// api_access_test.cpp: the access table (daemon/bus/api_access.h) against the two other places
// that must say the same: the API's XML (every method, signal and property of
// dbus-interfaces/*.xml is classified, once, and the table names nothing else) and the system
// bus policy (systemd/org.campaignd.Campaignd1.conf refuses to the default context exactly the
// personal-data methods and signals, and lets both groups have them back). A new method that
// is not classified, or a personal one the policy leaves open, fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "bus/api_access.h"

namespace campaignd::bus {
namespace {

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in) << "cannot read " << path;
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string withoutComments(const std::string& xml) {
    return std::regex_replace(xml, std::regex("<!--[\\s\\S]*?-->"), "");
}

std::string_view kindName(MemberKind k) {
    switch (k) {
    case MemberKind::Method: return "method";
    case MemberKind::Signal: return "signal";
    case MemberKind::Property: return "property";
    }
    return "?";
}

// (interface, kind, name), as "interface kind name" for readable failures.
using Member = std::string;
Member member(std::string_view interface, std::string_view kind, std::string_view name) {
    return std::string(interface) + " " + std::string(kind) + " " + std::string(name);
}

std::set<Member> membersOfXml() {
    std::set<Member> out;
    for (const char* file : {"org.campaignd.Campaignd1.Manager.xml", "org.campaignd.Campaignd1.Campaign.xml",
                             "org.campaignd.Campaignd1.Web.xml"}) {
        const std::string xml = withoutComments(readFile(std::string(CAMPAIGND_SOURCE_DIR) + "/dbus-interfaces/" + file));
        const std::regex interfaceRe(R"re(<interface\s+name="([^"]+)"\s*>([\s\S]*?)</interface>)re");
        const std::regex memberRe(R"re(<(method|signal|property)\s+name="([^"]+)")re");
        for (auto i = std::sregex_iterator(xml.begin(), xml.end(), interfaceRe); i != std::sregex_iterator(); ++i) {
            const std::string body = (*i)[2];
            for (auto m = std::sregex_iterator(body.begin(), body.end(), memberRe); m != std::sregex_iterator(); ++m)
                out.insert(member((*i)[1].str(), (*m)[1].str(), (*m)[2].str()));
        }
    }
    return out;
}

TEST(ApiAccess, EveryMemberOfTheXmlIsClassifiedOnce) {
    const auto xml = membersOfXml();
    ASSERT_GT(xml.size(), 40u) << "the XML was not read";
    std::map<Member, int> table;
    for (const auto& m : kApiAccess) ++table[member(m.interface, kindName(m.kind), m.name)];
    for (const auto& m : xml)
        EXPECT_EQ(table.count(m), 1u) << m << " is not in daemon/bus/api_access.h: say who may call it there";
    for (const auto& [m, n] : table) {
        EXPECT_EQ(n, 1) << m << " is in the access table " << n << " times";
        EXPECT_EQ(xml.count(m), 1u) << m << " is in the access table but not in dbus-interfaces/";
    }
}

TEST(ApiAccess, PropertiesAreOpen) {
    // The bus policy cannot refuse one property and not another: personal data goes in methods.
    for (const auto& m : kApiAccess)
        if (m.kind == MemberKind::Property) {
            EXPECT_EQ(m.access, Access::Open) << m.name;
        }
}

TEST(ApiAccess, ThePersonalDataOfTheIssueIsPersonal) {
    for (const char* method : {"ListRecipients", "GetRecipient", "ListBounces", "ExportBounces"})
        EXPECT_EQ(methodAccess(kManagerInterface, method), Access::Personal) << method;
    for (const char* method : {"GetStatus", "GetDashboard", "ListCampaigns"})
        EXPECT_EQ(methodAccess(kManagerInterface, method), Access::Open) << method;
    EXPECT_EQ(methodAccess(kCampaignInterface, "GetSummary"), Access::Open);
    EXPECT_EQ(methodAccess(kManagerInterface, "NoSuchMethod"), std::nullopt);
}

// The <allow>/<deny> rules of each <policy>, by the policy's attribute ("context=default",
// "group=campaignd", ...), each rule as its verb and attributes.
using Rule = std::map<std::string, std::string>;
std::map<std::string, std::vector<Rule>> policyRules() {
    const std::string conf = withoutComments(readFile(std::string(CAMPAIGND_SOURCE_DIR) + "/systemd/org.campaignd.Campaignd1.conf"));
    std::map<std::string, std::vector<Rule>> out;
    const std::regex policyRe(R"re(<policy\s+(\w+)="([^"]+)"\s*>([\s\S]*?)</policy>)re");
    const std::regex ruleRe(R"re(<(allow|deny)\s+([^>]*?)/>)re");
    const std::regex attrRe(R"re((\w+)="([^"]*)")re");
    for (auto p = std::sregex_iterator(conf.begin(), conf.end(), policyRe); p != std::sregex_iterator(); ++p) {
        auto& rules = out[(*p)[1].str() + "=" + (*p)[2].str()];
        const std::string body = (*p)[3];
        for (auto r = std::sregex_iterator(body.begin(), body.end(), ruleRe); r != std::sregex_iterator(); ++r) {
            Rule rule{{"verb", (*r)[1]}};
            const std::string attrs = (*r)[2];
            for (auto a = std::sregex_iterator(attrs.begin(), attrs.end(), attrRe); a != std::sregex_iterator(); ++a)
                rule[(*a)[1]] = (*a)[2];
            rules.push_back(rule);
        }
    }
    return out;
}

bool hasRule(const std::vector<Rule>& rules, const Rule& wanted) {
    for (const auto& r : rules)
        if (r == wanted) return true;
    return false;
}

TEST(ApiAccess, TheBusPolicyRefusesExactlyThePersonalMembers) {
    const auto policies = policyRules();
    ASSERT_TRUE(policies.count("context=default"));
    const auto& defaults = policies.at("context=default");
    std::set<Member> table;
    for (const auto& m : kApiAccess)
        if (m.access == Access::Personal) table.insert(member(m.interface, kindName(m.kind), m.name));
    std::set<Member> policy;
    for (const auto& r : defaults) {
        if (r.at("verb") != "deny") continue;
        if (r.count("send_member")) {
            EXPECT_EQ(r.count("send_destination") ? r.at("send_destination") : "", "org.campaignd.Campaignd1");
            policy.insert(member(r.count("send_interface") ? r.at("send_interface") : "", "method", r.at("send_member")));
        } else if (r.count("receive_member")) {
            EXPECT_EQ(r.count("receive_sender") ? r.at("receive_sender") : "", "org.campaignd.Campaignd1");
            policy.insert(member(r.count("receive_interface") ? r.at("receive_interface") : "", "signal", r.at("receive_member")));
        } else if (r.count("send_interface") && r.at("send_interface") == kWebInterface) {
            // The web interface is refused whole: every member of it must be Access::Web.
            for (const auto& m : kApiAccess) {
                if (m.interface == kWebInterface) {
                    EXPECT_EQ(m.access, Access::Web) << m.name << " is refused by the bus policy with the web interface";
                }
            }
        } else {
            ADD_FAILURE() << "a deny rule of the default context that names no member";
        }
    }
    for (const auto& m : table) EXPECT_EQ(policy.count(m), 1u) << m << " is personal data the bus policy leaves open";
    for (const auto& m : policy) EXPECT_EQ(table.count(m), 1u) << m << " is refused by the bus policy but not by campaignd";

    // Open methods stay reachable: the default context lets everyone call and hear the rest.
    EXPECT_TRUE(hasRule(defaults, {{"verb", "allow"}, {"send_destination", "org.campaignd.Campaignd1"}}));
    EXPECT_TRUE(hasRule(defaults, {{"verb", "allow"}, {"receive_sender", "org.campaignd.Campaignd1"}}));
    // Those who may read personal data get it back: both groups, root and the daemon's user
    // (campaignd's defaults of AdminGroup= and ReaderGroup=).
    // The web interface: only campaignd-web (and root, the daemon's user) get through.
    for (const char* who : {"group=campaignd", "group=campaignd-readers"}) {
        ASSERT_TRUE(policies.count(who)) << who;
        EXPECT_TRUE(hasRule(policies.at(who), {{"verb", "deny"}, {"send_destination", "org.campaignd.Campaignd1"},
                                               {"send_interface", std::string(kWebInterface)}}))
            << who << " may call the web interface";
    }
    ASSERT_TRUE(policies.count("user=campaignd-web"));
    EXPECT_TRUE(hasRule(policies.at("user=campaignd-web"), {{"verb", "allow"}, {"send_destination", "org.campaignd.Campaignd1"},
                                                            {"send_interface", std::string(kWebInterface)}}));
    for (const char* who : {"group=campaignd", "group=campaignd-readers", "user=root", "user=campaignd"}) {
        ASSERT_TRUE(policies.count(who)) << who;
        EXPECT_TRUE(hasRule(policies.at(who), {{"verb", "allow"}, {"send_destination", "org.campaignd.Campaignd1"}})) << who;
        EXPECT_TRUE(hasRule(policies.at(who), {{"verb", "allow"}, {"receive_sender", "org.campaignd.Campaignd1"}})) << who;
    }
}

}  // namespace
}  // namespace campaignd::bus

// dns_check.cpp: see dns_check.h.
#include "dns_check.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

#include "mail/alignment.h"

namespace campaignd::ctl {
namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string withoutWhitespace(const std::string& s) {
    std::string out;
    for (char c : s)
        if (!std::isspace(static_cast<unsigned char>(c))) out += c;
    return out;
}

std::string trimmed(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

struct Address {
    bool v6 = false;
    std::array<unsigned char, 16> bytes{};
};

std::optional<Address> parseAddress(const std::string& text) {
    Address a;
    std::string t = text;
    if (t.size() > 2 && t.front() == '[' && t.back() == ']') t = t.substr(1, t.size() - 2);
    if (::inet_pton(AF_INET, t.c_str(), a.bytes.data()) == 1) return a;
    if (::inet_pton(AF_INET6, t.c_str(), a.bytes.data()) == 1) {
        a.v6 = true;
        return a;
    }
    return std::nullopt;
}

bool inNetwork(const Address& ip, const Address& network, int prefix) {
    if (ip.v6 != network.v6) return false;
    for (int bit = 0; bit < prefix; ++bit) {
        const int mask = 0x80 >> (bit % 8);
        if ((ip.bytes[static_cast<std::size_t>(bit / 8)] & mask) != (network.bytes[static_cast<std::size_t>(bit / 8)] & mask))
            return false;
    }
    return true;
}

// "/24" or "/24//64" after a mechanism's domain: the prefix for the address's family.
std::optional<int> prefixFor(const std::string& spec, bool v6) {
    if (spec.empty()) return v6 ? 128 : 32;
    std::string v4Part = spec, v6Part;
    if (const auto dd = spec.find("//"); dd != std::string::npos) {
        v4Part = spec.substr(0, dd);
        v6Part = spec.substr(dd + 2);
    } else if (spec.front() != '/') {
        return std::nullopt;
    } else {
        v4Part = spec.substr(1);
    }
    const std::string& part = v6 ? v6Part : v4Part;
    if (part.empty()) return v6 ? 128 : 32;
    if (part.size() > 3 || part.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    const int n = std::stoi(part);
    if (n > (v6 ? 128 : 32)) return std::nullopt;
    return n;
}

enum class Spf { Pass, Fail, SoftFail, Neutral, None, PermError, TempError, Unchecked };

const char* spfText(Spf r) {
    switch (r) {
    case Spf::Pass: return "pass";
    case Spf::Fail: return "fail";
    case Spf::SoftFail: return "softfail";
    case Spf::Neutral: return "neutral";
    case Spf::None: return "none";
    case Spf::PermError: return "permerror";
    case Spf::TempError: return "temperror";
    case Spf::Unchecked: return "not checked";
    }
    return "?";
}

class SpfEvaluation {
public:
    explicit SpfEvaluation(const DnsLookupFunction& lookup) : lookup(lookup) {}

    const DnsLookupFunction& lookup;
    int lookups = 0;
    std::string note;  // why the result is an error or unchecked

    std::vector<std::string> spfRecords(const std::string& domain, bool& failed) {
        const auto r = lookup(domain, DnsType::Txt);
        failed = r.status == DnsLookup::Status::Failed;
        std::vector<std::string> out;
        for (const auto& text : r.records) {
            const std::string l = lower(text);
            if (l == "v=spf1" || l.rfind("v=spf1 ", 0) == 0) out.push_back(text);
        }
        return out;
    }

    // Whether `ip` is one of the addresses of `domain` (a) or of its MX hosts (mx).
    std::optional<bool> addressMatch(const std::string& domain, const Address& ip, int prefix, bool mx) {
        std::vector<std::string> hosts{domain};
        if (mx) {
            const auto r = lookup(domain, DnsType::Mx);
            if (r.status == DnsLookup::Status::Failed) return std::nullopt;
            hosts.clear();
            for (const auto& record : r.records)
                if (const auto space = record.find(' '); space != std::string::npos) hosts.push_back(record.substr(space + 1));
            if (hosts.size() > 10) hosts.resize(10);
        }
        for (const auto& host : hosts) {
            const auto r = lookup(host, ip.v6 ? DnsType::Aaaa : DnsType::A);
            if (r.status == DnsLookup::Status::Failed) return std::nullopt;
            for (const auto& text : r.records)
                if (const auto a = parseAddress(text); a && inNetwork(ip, *a, prefix)) return true;
        }
        return false;
    }

    Spf evaluate(const std::string& domain, const Address& ip, int depth) {
        if (depth > 10) {
            note = "include/redirect nested too deep";
            return Spf::PermError;
        }
        bool failed = false;
        const auto records = spfRecords(domain, failed);
        if (failed) {
            note = "cannot look up " + domain;
            return Spf::TempError;
        }
        if (records.empty()) return Spf::None;
        if (records.size() > 1) {
            note = domain + " has " + std::to_string(records.size()) + " SPF records (one is allowed)";
            return Spf::PermError;
        }
        std::string redirect;
        std::size_t at = 0;
        const std::string& record = records.front();
        while (at < record.size()) {
            const auto end = record.find(' ', at);
            const std::string term = record.substr(at, end == std::string::npos ? std::string::npos : end - at);
            at = end == std::string::npos ? record.size() : end + 1;
            if (term.empty() || lower(term) == "v=spf1") continue;
            if (term.find('%') != std::string::npos) {
                note = "\"" + term + "\" uses a macro, which this check does not expand";
                return Spf::Unchecked;
            }
            const auto eq = term.find('=');
            const auto colon = term.find_first_of(":/");
            if (eq != std::string::npos && (colon == std::string::npos || eq < colon)) {
                if (lower(term.substr(0, eq)) == "redirect") redirect = term.substr(eq + 1);
                continue;  // exp= and unknown modifiers change nothing here
            }
            Spf qualifier = Spf::Pass;
            std::string mech = term;
            switch (mech.front()) {
            case '+': mech.erase(0, 1); break;
            case '-': qualifier = Spf::Fail; mech.erase(0, 1); break;
            case '~': qualifier = Spf::SoftFail; mech.erase(0, 1); break;
            case '?': qualifier = Spf::Neutral; mech.erase(0, 1); break;
            default: break;
            }
            const auto sep = mech.find_first_of(":/");
            const std::string name = lower(mech.substr(0, sep));
            std::string argument = sep == std::string::npos ? "" : mech.substr(sep);
            std::optional<bool> match;
            if (name == "all") {
                match = true;
            } else if (name == "ip4" || name == "ip6") {
                if (argument.size() < 2 || argument.front() != ':') {
                    note = "\"" + term + "\" has no address";
                    return Spf::PermError;
                }
                const std::string spec = argument.substr(1);
                const auto slash = spec.find('/');
                const auto network = parseAddress(spec.substr(0, slash));
                if (!network || network->v6 != (name == "ip6")) {
                    note = "\"" + term + "\" is not a valid " + name;
                    return Spf::PermError;
                }
                // ip4:/ip6: take one prefix, of their own family ("ip6:2001:db8::/32").
                const auto prefix = prefixFor(slash == std::string::npos ? ""
                                              : network->v6           ? "//" + spec.substr(slash + 1)
                                                                      : spec.substr(slash),
                                              network->v6);
                if (!prefix) {
                    note = "\"" + term + "\" has a bad prefix length";
                    return Spf::PermError;
                }
                match = inNetwork(ip, *network, *prefix);
            } else if (name == "a" || name == "mx" || name == "include") {
                if (++lookups > 10) {
                    note = "more than 10 DNS look-ups (RFC 7208 4.6.4)";
                    return Spf::PermError;
                }
                std::string target = domain;
                std::string cidr;
                if (!argument.empty() && argument.front() == ':') {
                    const auto slash = argument.find('/');
                    target = argument.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
                    cidr = slash == std::string::npos ? "" : argument.substr(slash);
                } else {
                    cidr = argument;
                }
                if (name == "include") {
                    if (target == domain || !cidr.empty()) {
                        note = "\"" + term + "\" names no domain";
                        return Spf::PermError;
                    }
                    const Spf inner = evaluate(target, ip, depth + 1);
                    if (inner == Spf::None) {
                        note = "include:" + target + " has no SPF record";
                        return Spf::PermError;
                    }
                    if (inner == Spf::PermError || inner == Spf::TempError || inner == Spf::Unchecked) return inner;
                    match = inner == Spf::Pass;
                } else {
                    const auto prefix = prefixFor(cidr, ip.v6);
                    if (!prefix) {
                        note = "\"" + term + "\" has a bad prefix length";
                        return Spf::PermError;
                    }
                    match = addressMatch(target, ip, *prefix, name == "mx");
                    if (!match) {
                        note = "cannot look up " + target;
                        return Spf::TempError;
                    }
                }
            } else if (name == "ptr" || name == "exists") {
                note = "\"" + term + "\" is not evaluated by this check";
                return Spf::Unchecked;
            } else {
                note = "unknown mechanism \"" + term + "\"";
                return Spf::PermError;
            }
            if (*match) return qualifier;
        }
        if (!redirect.empty()) {
            if (++lookups > 10) {
                note = "more than 10 DNS look-ups (RFC 7208 4.6.4)";
                return Spf::PermError;
            }
            const Spf r = evaluate(redirect, ip, depth + 1);
            if (r == Spf::None) {
                note = "redirect=" + redirect + " has no SPF record";
                return Spf::PermError;
            }
            return r;
        }
        return Spf::Neutral;
    }
};

std::string lookupProblem(const DnsLookup& r) { return r.error.empty() ? "look-up failed" : r.error; }

DnsFinding finding(const ExpectedDnsRecord& e, std::string check, std::string name, std::string status,
                   std::string message) {
    return {e.domain, std::move(check), std::move(name), std::move(status), std::move(message)};
}

void checkDkim(const ExpectedDnsRecord& e, const DnsLookupFunction& lookup, std::vector<DnsFinding>& out) {
    const std::string what = "DKIM " + e.algorithm + " s=" + e.selector;
    const auto r = lookup(e.name, DnsType::Txt);
    if (r.status == DnsLookup::Status::Failed) {
        out.push_back(finding(e, "dkim", e.name, "error", what + ": cannot look up " + e.name + ": " + lookupProblem(r)));
        return;
    }
    std::vector<std::vector<std::pair<std::string, std::string>>> keys;
    for (const auto& text : r.records) {
        auto tags = recordTags(text);
        const bool isKey = std::any_of(tags.begin(), tags.end(), [](const auto& t) { return t.first == "p"; });
        if (isKey) keys.push_back(std::move(tags));
    }
    if (keys.empty()) {
        out.push_back(finding(e, "dkim", e.name, "missing", what + ": no DKIM record at " + e.name));
        return;
    }
    const std::string expectedType = e.algorithm == "ed25519-sha256" ? "ed25519" : "rsa";
    for (const auto& tags : keys) {
        std::string p, k = "rsa";
        for (const auto& [tag, value] : tags) {
            if (tag == "p") p = value;
            if (tag == "k") k = lower(value);
        }
        if (p == withoutWhitespace(e.publicKey) && k == expectedType) {
            out.push_back(finding(e, "dkim", e.name, "ok", what + ": " + e.name + " has the key the daemon signs with"));
            return;
        }
    }
    out.push_back(finding(e, "dkim", e.name, "wrong",
                          what + ": the key published at " + e.name +
                              " is not the one the daemon signs with (publish the record `dns records` prints)"));
}

void checkSpf(const ExpectedDnsRecord& e, const DnsLookupFunction& lookup, std::vector<DnsFinding>& out) {
    const std::string& env = e.name;
    SpfEvaluation probe{lookup};
    bool failed = false;
    const auto records = probe.spfRecords(env, failed);
    if (failed) {
        out.push_back(finding(e, "spf", env, "error", "SPF: cannot look up " + env));
        return;
    }
    if (records.empty()) {
        out.push_back(finding(e, "spf", env, "missing", "SPF: no SPF record at " + env + " (the envelope domain)"));
        return;
    }
    std::vector<std::string> problems;
    std::vector<std::string> covered;
    for (const auto& relay : e.relays) {
        std::vector<std::string> addresses;
        if (parseAddress(relay)) {
            addresses.push_back(relay);
        } else {
            for (DnsType type : {DnsType::A, DnsType::Aaaa}) {
                const auto r = lookup(relay, type);
                addresses.insert(addresses.end(), r.records.begin(), r.records.end());
            }
            if (addresses.empty()) {
                problems.push_back("the relay " + relay + " has no address in DNS, so no record can cover it");
                continue;
            }
        }
        bool all = true;
        for (const auto& text : addresses) {
            const auto ip = parseAddress(text);
            if (!ip) continue;
            SpfEvaluation evaluation{lookup};
            const Spf result = evaluation.evaluate(env, *ip, 0);
            if (result != Spf::Pass) {
                all = false;
                problems.push_back("the relay " + relay + (text == relay ? "" : " (" + text + ")") + " gets " +
                                   spfText(result) + (evaluation.note.empty() ? "" : ": " + evaluation.note));
            }
        }
        if (all) covered.push_back(relay);
    }
    if (!problems.empty()) {
        std::string message = "SPF at " + env + " does not cover the relay: ";
        for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
        out.push_back(finding(e, "spf", env, "wrong", message));
        return;
    }
    std::string names;
    for (const auto& c : covered) names += (names.empty() ? "" : ", ") + c;
    out.push_back(finding(e, "spf", env, "ok", "SPF at " + env + " passes the relay" + (covered.size() > 1 ? "s " : " ") + names));
}

void checkDmarc(const ExpectedDnsRecord& e, const DnsLookupFunction& lookup, std::vector<DnsFinding>& out) {
    std::vector<std::string> names{"_dmarc." + e.domain};
    const std::string organisational = mail::organisationalDomain(e.domain);
    if (organisational != e.domain) names.push_back("_dmarc." + organisational);
    for (const auto& name : names) {
        const auto r = lookup(name, DnsType::Txt);
        if (r.status == DnsLookup::Status::Failed) {
            out.push_back(finding(e, "dmarc", name, "error", "DMARC: cannot look up " + name + ": " + lookupProblem(r)));
            return;
        }
        for (const auto& text : r.records) {
            const auto tags = recordTags(text);
            if (tags.empty() || tags.front().first != "v" || tags.front().second != "DMARC1") continue;
            std::string policy = "?";
            for (const auto& [tag, value] : tags)
                if (tag == "p") policy = value;
            out.push_back(finding(e, "dmarc", name, "ok", "DMARC at " + name + ": p=" + policy));
            return;
        }
    }
    out.push_back(finding(e, "dmarc", names.front(), "missing", "DMARC: no DMARC record at " + names.front()));
}

void checkEnvelope(const ExpectedDnsRecord& e, const DnsLookupFunction& lookup, std::vector<DnsFinding>& out) {
    const std::string& env = e.envelopeDomain;
    if (!mail::relaxedAligned(env, e.domain))
        out.push_back(finding(e, "envelope", env, "wrong",
                              "envelope: " + env + " is not aligned with " + e.domain +
                                  ": SPF can never pass DMARC for it (leave EnvelopeDomain= unset, or use EnvelopeSubdomain=)"));
    const auto mx = lookup(env, DnsType::Mx);
    if (mx.found()) {
        out.push_back(finding(e, "envelope", env, "ok", "envelope: " + env + " receives bounces (MX " + mx.records.front() + ")"));
        return;
    }
    for (DnsType type : {DnsType::A, DnsType::Aaaa}) {
        const auto a = lookup(env, type);
        if (a.found()) {
            out.push_back(finding(e, "envelope", env, "ok",
                                  "envelope: " + env + " has no MX but an address (" + a.records.front() + "), which receives bounces"));
            return;
        }
    }
    if (mx.status == DnsLookup::Status::Failed)
        out.push_back(finding(e, "envelope", env, "error", "envelope: cannot look up " + env + ": " + lookupProblem(mx)));
    else
        out.push_back(finding(e, "envelope", env, "missing",
                              "envelope: " + env + " has neither MX nor A: the bounces sent to it cannot come back"));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> recordTags(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t at = 0;
    while (at <= text.size()) {
        const auto end = text.find(';', at);
        const std::string part = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
        at = end == std::string::npos ? text.size() + 1 : end + 1;
        const auto eq = part.find('=');
        if (eq == std::string::npos) continue;
        out.emplace_back(lower(trimmed(part.substr(0, eq))), withoutWhitespace(part.substr(eq + 1)));
    }
    return out;
}

std::vector<DnsFinding> checkDnsRecords(const std::vector<ExpectedDnsRecord>& expected, const DnsLookupFunction& lookup) {
    std::vector<DnsFinding> out;
    for (const auto& e : expected) {
        if (e.purpose == "dkim") checkDkim(e, lookup, out);
        else if (e.purpose == "spf") checkSpf(e, lookup, out);
        else if (e.purpose == "dmarc") checkDmarc(e, lookup, out);
        else if (e.purpose == "bounces") checkEnvelope(e, lookup, out);
    }
    return out;
}

}  // namespace campaignd::ctl

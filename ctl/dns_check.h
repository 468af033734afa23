// dns_check.h: `campaignd-ctl dns check`'s judgement: the records the daemon says its
// configuration needs (Manager.DnsRecords) against what DNS answers, one finding a line: no
// DKIM record, a published key that is not the one the daemon signs with, SPF missing or not
// covering a relay, no DMARC record, the envelope domain not aligned or with neither MX nor A.
// SPF is evaluated here for the relays' addresses (ip4, ip6, a, mx, include, redirect, all;
// at most 10 look-ups, RFC 7208 4.6.4) rather than with libspf2, whose resolver layer keeps a
// resolver state of its own that --server cannot reach. Macros, ptr and exists are not
// evaluated: a record that needs them is reported as not checked, never as covering.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dns_lookup.h"

namespace campaignd::ctl {

// One record of Manager.DnsRecords, as the check needs it.
struct ExpectedDnsRecord {
    std::string domain;
    std::string purpose;  // "dkim", "spf", "dmarc", "bounces"
    std::string name;
    std::string type;
    std::string value;
    std::string selector, algorithm, publicKey;  // dkim
    std::vector<std::string> relays;             // spf
    std::string envelopeDomain;
};

struct DnsFinding {
    std::string domain;
    std::string check;    // "dkim", "spf", "dmarc", "envelope"
    std::string name;     // the name looked up
    std::string status;   // "ok", "missing", "wrong", "error"
    std::string message;  // one line
    bool ok() const { return status == "ok"; }
};

using DnsLookupFunction = std::function<DnsLookup(const std::string& name, DnsType type)>;

std::vector<DnsFinding> checkDnsRecords(const std::vector<ExpectedDnsRecord>& expected, const DnsLookupFunction& lookup);

// The tags of a DKIM or DMARC record ("v=DKIM1; k=rsa; p=..."), names lower case, values with
// their folding whitespace removed (RFC 6376 3.2).
std::vector<std::pair<std::string, std::string>> recordTags(const std::string& text);

}  // namespace campaignd::ctl

// dns_records.h: the DNS records a From domain needs for the daemon's configuration, ready to
// paste into its zone (issue 12 item 4): each DKIM key's TXT record built from the key the
// daemon signs with (only the public half ever leaves), an SPF record naming the relay at the
// envelope (VERP) domain, a DMARC record to start with (p=none, aggregate reports to an
// address), and the MX the envelope domain needs to receive bounces. Pure: no DNS lookup is
// made here (the bus thread must not wait on a network); `campaignd-ctl dns check` looks the
// records up. Refuses, with Error(InvalidArgument), a domain that is not a DNS name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mail/dkim.h"

namespace campaignd::services {

// One relay the configuration sends through, as its transport names it.
struct DnsRelay {
    std::string transport;  // the [Transport NAME]
    std::string host;       // smtp: the URL's host (a name, an IPv4 address, "[v6]"); maildir: ""
};

struct DnsRecordSettings {
    std::vector<DnsRelay> relays;     // every configured transport
    std::string envelopeDomain;       // [Sending] EnvelopeDomain=; empty: from the From domain
    std::string envelopeSubdomain;    // [Sending] EnvelopeSubdomain=
    std::string dmarcReports;         // [Sending] DmarcReports=; empty: postmaster@FROM-DOMAIN
    std::string defaultFromDomain;    // the domain of [Sending] From= (or AdminEmail=)
    std::string bounceHost;           // the host of [Bounces] URL= (where bounces are read); may be empty
    std::string localHostName;        // this machine's name, for a relay on this machine
};

struct DnsRecord {
    std::string domain;   // the From domain the record is for
    std::string purpose;  // "dkim", "spf", "dmarc", "bounces"
    std::string name;     // the owner name, without the final dot
    std::string type;     // "TXT" or "MX"
    std::string value;    // TXT: the whole text; MX: "10 host." 
    std::vector<std::string> strings;  // TXT: the text in strings of at most 255 octets
    std::string comment;  // why this record, and what to adapt (one or more sentences)
    // dkim: the key's selector, a= algorithm and p= (base64 of the public key)
    std::string selector;
    std::string algorithm;
    std::string publicKey;
    std::vector<std::string> relays;  // spf: the relay hosts the record must cover
    std::string envelopeDomain;       // every record: the envelope (VERP) domain of this From domain
};

// The envelope (VERP) domain of mail from `fromDomain`, as the engine chooses it.
std::string envelopeDomainFor(const DnsRecordSettings& settings, std::string_view fromDomain);

// The records for `domain` (any case), or with `domain` empty for every domain of `keyring`
// (the default From domain when there is none), in order: DKIM, SPF, DMARC, bounces for each.
std::vector<DnsRecord> dnsRecords(const DnsRecordSettings& settings, const mail::DkimKeyring& keyring,
                                  std::string_view domain);

}  // namespace campaignd::services

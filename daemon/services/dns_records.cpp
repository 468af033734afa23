// dns_records.cpp: see dns_records.h. The choices written into each record's comment, so that
// the administrator reads why the record says what it says:
// - SPF sits at the envelope domain (SPF checks MAIL FROM, the VERP address), not the From
//   domain. A relay named by an address is listed as ip4:/ip6:; one named by a host name as
//   a:HOST, which follows the relay's address when it changes and costs one of SPF's ten
//   lookups (resolving it here would freeze an address and make the bus thread wait on DNS).
//   A relay on this machine (loopback, or a maildir transport) says nothing about the address
//   mail leaves from: the record names this machine (a:ITS-NAME) and the comment says so.
//   ~all (softfail) to start: DMARC's p=none reports first, -all once the reports are clean.
// - DMARC at _dmarc.FROM-DOMAIN, p=none with rua= aggregate reports ([Sending] DmarcReports=,
//   default postmaster@FROM-DOMAIN, an address every domain must have, RFC 5321 4.5.1), relaxed
//   alignment, which is what the envelope and the signatures give.
// - The envelope domain must receive the bounces: an MX to the host the bounces are read from
//   ([Bounces] URL=) when it is a name, else to mail.ORGANISATIONAL-DOMAIN, to adapt.
#include "services/dns_records.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "mail/alignment.h"
#include "rules/validation.h"

namespace campaignd::services {
namespace {

std::string normalisedDomain(std::string_view domain) {
    try {
        return rules::normalizeEmail("x@" + std::string(domain)).substr(2);
    } catch (const Error&) {
        throw Error(ErrorCode::InvalidArgument, "\"" + std::string(domain) + "\" is not a valid domain");
    }
}

std::string unbracketed(const std::string& host) {
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
    return host;
}

bool isLoopback(const std::string& host) {
    const std::string h = unbracketed(host);
    if (h == "localhost" || h.ends_with(".localhost")) return true;
    in_addr v4{};
    if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    return h == "::1";
}

// The SPF mechanism for one relay host, and what to say about it.
std::pair<std::string, std::string> spfMechanism(const DnsRelay& relay, const std::string& localHost) {
    const std::string h = unbracketed(relay.host);
    if (relay.host.empty() || isLoopback(relay.host)) {
        const std::string why = relay.host.empty() ? "writes mail to a Maildir here"
                                                   : "relays through " + relay.host + ", on this machine";
        const bool fullName = localHost.find('.') != std::string::npos;
        return {"a:" + localHost, "[Transport " + relay.transport + "] " + why +
                                      ": the mail leaves from this machine's address, named by its host name " +
                                      localHost +
                                      (fullName ? " (name the server that passes it on instead, if another does)"
                                                : ", which is not a full domain name: put this machine's public "
                                                  "name (a:NAME) or address (ip4:ADDRESS) instead, or the server "
                                                  "that passes the mail on")};
    }
    in_addr v4{};
    in6_addr v6{};
    if (::inet_pton(AF_INET, h.c_str(), &v4) == 1)
        return {"ip4:" + h, "[Transport " + relay.transport + "] relays through the address " + h};
    if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1)
        return {"ip6:" + h, "[Transport " + relay.transport + "] relays through the address " + h};
    return {"a:" + h, "[Transport " + relay.transport + "] relays through " + h +
                          ": a: follows its addresses when they change (one of SPF's ten lookups)"};
}

DnsRecord txtRecord(const std::string& domain, const std::string& envelope, const char* purpose, std::string name,
                    std::string value, std::string comment) {
    DnsRecord r;
    r.domain = domain;
    r.envelopeDomain = envelope;
    r.purpose = purpose;
    r.name = std::move(name);
    r.type = "TXT";
    r.strings = mail::txtStrings(value);
    r.value = std::move(value);
    r.comment = std::move(comment);
    return r;
}

void addRecords(std::vector<DnsRecord>& out, const DnsRecordSettings& settings, const mail::DkimKeyring& keyring,
                const std::string& domain) {
    const std::string envelope = envelopeDomainFor(settings, domain);

    // DKIM: one TXT per key the daemon signs this domain's mail with.
    if (const auto signer = mail::signerFor(keyring, domain)) {
        for (const auto& key : signer->keys()) {
            const std::string text = mail::dkimTxtRecord(key);
            auto r = txtRecord(domain, envelope, "dkim", key.selector + "._domainkey." + key.domain, text,
                               "DKIM: the public half of the " + std::string(mail::toString(key.algorithm)) +
                                   " key the daemon signs " + domain + "'s mail with (s=" + key.selector + ")");
            r.selector = key.selector;
            r.algorithm = std::string(mail::toString(key.algorithm));
            const auto p = text.find("p=");
            r.publicKey = p == std::string::npos ? "" : text.substr(p + 2);
            out.push_back(std::move(r));
        }
    }

    // SPF at the envelope domain: every relay of the configuration.
    std::vector<std::string> mechanisms;
    std::vector<std::string> hosts;
    std::string why;
    for (const auto& relay : settings.relays) {
        auto [mechanism, reason] = spfMechanism(relay, settings.localHostName);
        if (std::find(mechanisms.begin(), mechanisms.end(), mechanism) == mechanisms.end())
            mechanisms.push_back(mechanism);
        hosts.push_back(relay.host.empty() || isLoopback(relay.host) ? settings.localHostName : unbracketed(relay.host));
        why += "; " + reason;
    }
    std::sort(hosts.begin(), hosts.end());
    hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
    std::string spf = "v=spf1";
    for (const auto& m : mechanisms) spf += " " + m;
    spf += " ~all";
    auto spfRecord = txtRecord(domain, envelope, "spf", envelope, spf,
                               "SPF for the envelope domain " + envelope + " (what receivers check: the VERP " +
                                   "sender, not the From)" + why +
                                   "; ~all to start, -all once the DMARC reports show nothing else sends as it");
    spfRecord.relays = hosts;
    out.push_back(std::move(spfRecord));

    // DMARC at the From domain: monitoring first.
    const std::string reports = settings.dmarcReports.empty() ? "postmaster@" + domain : settings.dmarcReports;
    out.push_back(txtRecord(domain, envelope, "dmarc", "_dmarc." + domain,
                            "v=DMARC1; p=none; rua=mailto:" + reports + "; adkim=r; aspf=r",
                            "DMARC to start with: p=none only asks for aggregate reports (to " + reports +
                                (settings.dmarcReports.empty() ? ", the default; [Sending] DmarcReports= changes it"
                                                               : ", [Sending] DmarcReports=") +
                                "); raise it to p=quarantine, then p=reject, once they show every source aligned. " +
                                "A report address outside " + mail::organisationalDomain(domain) +
                                " must allow it with a record of its own (RFC 7489 7.1)"));

    // The envelope domain receives the bounces.
    DnsRecord mx;
    mx.domain = domain;
    mx.envelopeDomain = envelope;
    mx.purpose = "bounces";
    mx.name = envelope;
    mx.type = "MX";
    const std::string bounceHost = unbracketed(settings.bounceHost);
    in_addr v4{};
    in6_addr v6{};
    const bool bounceHostIsName = !bounceHost.empty() && !isLoopback(bounceHost) &&
                                  ::inet_pton(AF_INET, bounceHost.c_str(), &v4) != 1 &&
                                  ::inet_pton(AF_INET6, bounceHost.c_str(), &v6) != 1;
    const std::string target = bounceHostIsName ? bounceHost : "mail." + mail::organisationalDomain(domain);
    mx.value = "10 " + target + ".";
    mx.comment = "Bounces come back to " + (settings.envelopeDomain.empty() ? std::string("bounces+...@") : "...@") +
                 envelope + ": it needs an MX (or at least an A record) of a server that accepts them" +
                 (bounceHostIsName ? ", here the host [Bounces] URL= reads them from"
                                   : "; " + target + " stands for yours, change it") +
                 (envelope == domain ? " (" + domain + " may have one already: keep it)" : "");
    out.push_back(std::move(mx));
}

}  // namespace


std::string envelopeDomainFor(const DnsRecordSettings& settings, std::string_view fromDomain) {
    if (!settings.envelopeDomain.empty()) return settings.envelopeDomain;
    if (settings.envelopeSubdomain.empty()) return std::string(fromDomain);
    return settings.envelopeSubdomain + "." + std::string(fromDomain);
}

std::vector<DnsRecord> dnsRecords(const DnsRecordSettings& settings, const mail::DkimKeyring& keyring,
                                  std::string_view domain) {
    std::vector<DnsRecord> out;
    if (!domain.empty()) {
        addRecords(out, settings, keyring, normalisedDomain(domain));
        return out;
    }
    std::set<std::string> domains;
    for (const auto& [name, signer] : keyring) domains.insert(signer->domain());
    if (domains.empty() && !settings.defaultFromDomain.empty()) domains.insert(settings.defaultFromDomain);
    if (domains.empty())
        throw Error(ErrorCode::InvalidArgument, "no [DKIM DOMAIN] section and no sender configured: name a domain");
    for (const auto& d : domains) addRecords(out, settings, keyring, d);
    return out;
}

}  // namespace campaignd::services

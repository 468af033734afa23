// alignment.cpp: see alignment.h. One libpsl context for the process, loaded on first use
// (psl_latest: the newer of /usr/share/publicsuffix and the built-in list); libpsl's lookups
// on a loaded context are read-only and safe from several threads.
#include "mail/alignment.h"

#include <libpsl.h>

#include <cctype>

namespace campaignd::mail {
namespace {

const psl_ctx_t* publicSuffixes() {
    static const psl_ctx_t* const kContext = [] {
        const psl_ctx_t* latest = psl_latest(nullptr);
        return latest ? latest : psl_builtin();
    }();
    return kContext;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!out.empty() && out.back() == '.') out.pop_back();
    return out;
}

}  // namespace

std::string organisationalDomain(std::string_view domain) {
    const std::string d = lower(domain);
    const psl_ctx_t* psl = publicSuffixes();
    const char* registrable = psl ? psl_registrable_domain(psl, d.c_str()) : nullptr;
    return registrable ? std::string(registrable) : d;
}

bool relaxedAligned(std::string_view a, std::string_view b) {
    if (a.empty() || b.empty()) return false;
    return organisationalDomain(a) == organisationalDomain(b);
}

Alignment judgeAlignment(std::string_view fromDomain, std::string_view envelopeDomain, const DkimSigner* signer) {
    Alignment a;
    a.fromDomain = lower(fromDomain);
    a.envelopeDomain = lower(envelopeDomain);
    if (signer) {
        a.dkimDomain = signer->domain();
        for (const auto& key : signer->keys())
            a.dkimKeys.push_back(std::string(toString(key.algorithm)) + " s=" + key.selector);
    }
    a.spfAligned = relaxedAligned(a.fromDomain, a.envelopeDomain);
    a.dkimAligned = relaxedAligned(a.fromDomain, a.dkimDomain);
    return a;
}

std::vector<std::string> Alignment::warnings() const {
    std::vector<std::string> out;
    if (dkimDomain.empty())
        out.push_back("campaign is sent unsigned: no [DKIM " + fromDomain +
                      "] key signs its From domain; receivers that require DMARC may junk or reject it");
    if (!spfAligned && !dkimAligned)
        out.push_back("the From domain " + fromDomain + " aligns with neither the envelope domain " + envelopeDomain +
                      " (SPF) nor a DKIM signature: DMARC fails; send from a domain with a [DKIM DOMAIN] key, "
                      "or set [Sending] EnvelopeDomain= within " + fromDomain);
    return out;
}

}  // namespace campaignd::mail

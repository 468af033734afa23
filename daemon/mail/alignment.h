// alignment.h: DMARC identifier alignment (RFC 7489 3.1), relaxed mode, as receivers judge it:
// two domains align when their organisational domains (the registrable domain under the
// Public Suffix List) are the same. Uses libpsl with Debian's publicsuffix data (the newest
// of the package's file and libpsl's built-in list), so "news.example.co.uk" and
// "bounces.example.co.uk" align and "example.co.uk" and "other.co.uk" do not. A name under a
// suffix the list does not know counts with its last two labels (the list's default rule).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mail/dkim.h"

namespace campaignd::mail {

// "bounces.news.example.org" -> "example.org"; the domain itself (lower case) when it is a
// public suffix or has no registrable part.
std::string organisationalDomain(std::string_view domain);

// Whether `a` and `b` align in relaxed mode (the same organisational domain, any case).
bool relaxedAligned(std::string_view a, std::string_view b);

// Which of DMARC's two ways a campaign's messages can pass: SPF checks the envelope sender's
// domain (the VERP domain), DKIM the d= of a signature; DMARC passes when either passes and
// aligns with the From domain.
struct Alignment {
    std::string fromDomain;             // the campaign's From domain
    std::string envelopeDomain;         // the VERP envelope sender's domain
    std::string dkimDomain;             // d= of the campaign's signatures; empty: unsigned
    std::vector<std::string> dkimKeys;  // "rsa-sha256 s=rsa2026", one per signature
    bool spfAligned = false;            // envelopeDomain aligns with fromDomain
    bool dkimAligned = false;           // dkimDomain aligns with fromDomain

    // What the administrator must hear, one sentence each: the campaign is unsigned; it can
    // pass DMARC by neither way.
    std::vector<std::string> warnings() const;
};

// The judgement for a campaign from `fromDomain`, sent with envelope domain `envelopeDomain`
// and signed by `signer` (null: unsigned).
Alignment judgeAlignment(std::string_view fromDomain, std::string_view envelopeDomain, const DkimSigner* signer);

}  // namespace campaignd::mail

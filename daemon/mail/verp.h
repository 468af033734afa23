// verp.h: recipient tokens and VERP envelope senders. A token names one recipient of one
// campaign and cannot be forged without the secret: lower-case base32 (RFC 4648 alphabet, no
// padding) of the recipient id in as few octets as it needs (big-endian), followed by 13
// characters of base32 of the first 8 octets of HMAC-SHA256(secret,
// "campaignd-recipient-token-v1" || campaign id || recipient id), each id as 8 octets
// big-endian; 17 characters for ids below 65536, 26 at most. The envelope sender is
// "<prefix><delimiter><campaign id>-<token>@<domain>", so a bounce maps back to its campaign
// and recipient without the original headers. Tokens are safe in a local part and in a URL, and
// are read back case-insensitively (some MTAs fold the case of the local part).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/model.h"

namespace campaignd::mail {

struct VerpSettings {
    std::string prefix = "bounces";  // local part before the delimiter: dot-atom text
    char delimiter = '+';            // the MTA's recipient_delimiter
    // Where bounces are received; required to make addresses. Empty for reading them back
    // (parseVerpAddress) when each campaign's envelope is in its own From domain: any domain is
    // taken then, since the token's tag, not the domain, is what proves an address.
    std::string domain;
    std::string secret;              // HMAC key, at least 16 octets; keep it out of logs
};

struct VerpAddress {
    Id campaignId = 0;
    Id recipientId = 0;
};

// Refuses (Error InvalidArgument) a prefix that is not dot-atom text or makes the local part
// longer than 64 octets, a delimiter that is not atext, an invalid domain, or a secret shorter
// than 16 octets. Returns the settings with the domain normalised (lower case, A-labels); an
// empty domain stays empty (see VerpSettings::domain).
VerpSettings checkVerpSettings(const VerpSettings& settings);

// The token for `recipientId` in `campaignId` (both positive).
std::string recipientToken(std::string_view secret, Id campaignId, Id recipientId);

// The recipient id a token names, if the token is well formed and its tag matches (compared in
// constant time); nullopt otherwise.
std::optional<Id> verifyRecipientToken(std::string_view secret, Id campaignId, std::string_view token);

// The public token of a recipient of a campaign: "<campaign id>-<token>", as in the VERP local
// part; campaignd-web's URLs carry it (/u/12-<token>). It reveals no address.
std::string publicToken(std::string_view secret, Id campaignId, Id recipientId);
// The campaign and recipient a public token names, if it is "<positive decimal>-<token>" and
// the token verifies for that campaign (constant time); nullopt otherwise, whatever the reason.
std::optional<VerpAddress> parsePublicToken(std::string_view secret, std::string_view token);

// "bounces+12-<token>@bounces.example.org". `settings` as checkVerpSettings returns them.
std::string verpAddress(const VerpSettings& settings, Id campaignId, Id recipientId);

// The inverse of verpAddress, for bounce processing: nullopt unless `address` (surrounding
// white space and angle brackets allowed) has the configured prefix, delimiter and domain, a
// positive decimal campaign id, and a token whose tag verifies for that campaign.
std::optional<VerpAddress> parseVerpAddress(std::string_view address, const VerpSettings& settings);

}  // namespace campaignd::mail

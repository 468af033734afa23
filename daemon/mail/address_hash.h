// address_hash.h: the suppression list's key for an address: HMAC-SHA256 with the daemon's
// secret (the VERP secret, [Sending] VerpSecretFile=) over a label of its own,
// "campaignd-suppression-v1", a NUL, and the address's key (rules::emailKey: ASCII lower
// case), as 64 lower-case hex digits. The label keeps it from ever equalling a recipient
// token's tag. Without the secret the hash cannot be tested against a guessed address, so the
// list holds nothing readable; with another secret (another installation) the same address
// hashes differently: bring lists over as addresses, or share the secret.
#pragma once

#include <string>
#include <string_view>

namespace campaignd::mail {

// `email` normalised (rules::normalizeEmail); `secret` non-empty (Error(InvalidArgument)).
std::string suppressionHash(std::string_view secret, std::string_view email);

// Whether `text` has the form of a suppression hash (64 hex digits, either case).
bool isSuppressionHash(std::string_view text);

}  // namespace campaignd::mail

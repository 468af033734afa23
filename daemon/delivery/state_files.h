// state_files.h: small secrets and identities the daemon makes once and keeps in its state
// directory: the VERP HMAC secret (32 random octets, hex) and the instance id that names this
// daemon's claims in a shared database. Created with mode 0600 (the directory 0700 if it has to
// be made), written to a temporary file and linked into place, so two daemons racing never see
// a half-written file and never each keep a different value. Never logged.
#pragma once

#include <optional>
#include <string>

namespace campaignd::delivery {

// The file's content (trailing white space removed), creating it with `generate()`'s value if
// it does not exist. Throws Error(Failed) naming the path when it cannot be read or created,
// or Error(InvalidArgument) when it exists but is readable by others (secret) or empty.
std::string loadOrCreateStateFile(const std::string& path, bool secret, const std::string& (*generate)());

// The file's content, or nullopt when it does not exist (nothing made it yet).
std::optional<std::string> readStateFile(const std::string& path);

// 32 random octets as 64 hex digits; a random 16-hex-digit id.
const std::string& newSecret();
const std::string& newInstanceId();

}  // namespace campaignd::delivery

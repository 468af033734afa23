// address_hash.cpp: see address_hash.h. Poco's HMACEngine, as verp.cpp uses it.
#include "mail/address_hash.h"

#include <Poco/DigestEngine.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA2Engine.h>

#include "core/error.h"
#include "rules/validation.h"

namespace campaignd::mail {
namespace {

constexpr std::string_view kLabel = "campaignd-suppression-v1";

// Poco 1.11's SHA2Engine lacks the BLOCK_SIZE and DIGEST_SIZE that HMACEngine needs.
class Sha256Engine : public Poco::SHA2Engine {
public:
    enum { BLOCK_SIZE = 64, DIGEST_SIZE = 32 };
    Sha256Engine() : Poco::SHA2Engine(Poco::SHA2Engine::SHA_256) {}
};

}  // namespace

std::string suppressionHash(std::string_view secret, std::string_view email) {
    if (secret.empty()) throw Error(ErrorCode::InvalidArgument, "the suppression list needs a secret");
    const std::string key = rules::emailKey(email);
    Poco::HMACEngine<Sha256Engine> hmac(secret.data(), secret.size());
    hmac.update(kLabel.data(), kLabel.size());
    const char nul = '\0';
    hmac.update(&nul, 1);
    hmac.update(key.data(), key.size());
    return Poco::DigestEngine::digestToHex(hmac.digest());
}

bool isSuppressionHash(std::string_view text) {
    if (text.size() != 64) return false;
    for (const char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
    return true;
}

}  // namespace campaignd::mail

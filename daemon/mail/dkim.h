// dkim.h: DKIM signatures (RFC 6376) on rendered messages, with libopendkim (Debian's
// libopendkim-dev, the library of the opendkim milter): relaxed/relaxed, rsa-sha256 with keys of
// 2048 bits or more, and ed25519-sha256 (RFC 8463; libopendkim 2.11 in Debian 12 does it, see
// dkimSupportsEd25519). A DkimSigner holds every key of one signing domain and adds one
// DKIM-Signature per key, so a domain with an rsa and an ed25519 key signs with both (receivers
// that lack ed25519 still find the rsa one). Keys are parsed and checked once (parseDkimKey);
// signing is thread-safe. Refuses, with Error(InvalidArgument): a key that is not a private key
// of the algorithm named, an rsa key under 2048 bits, a selector or domain that is not a
// DNS name.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace campaignd::mail {

enum class DkimAlgorithm { RsaSha256, Ed25519Sha256 };

// "rsa-sha256", "ed25519-sha256" (the a= tag).
std::string_view toString(DkimAlgorithm algorithm);
// The inverse; also "rsa" and "ed25519". nullopt for anything else.
std::optional<DkimAlgorithm> parseDkimAlgorithm(std::string_view text);

// Whether the libopendkim this daemon runs with signs ed25519-sha256.
bool dkimSupportsEd25519();

struct DkimKey {
    std::string domain;      // d=: lower case
    std::string selector;    // s=
    DkimAlgorithm algorithm = DkimAlgorithm::RsaSha256;
    std::string privateKey;  // PEM (PKCS#8 or PKCS#1); keep it out of logs
    unsigned bits = 0;       // the key's size (rsa: 2048 or more; ed25519: 256)
};

// Checks `pem` (a private key in PEM form) for `domain` and `selector`. `algorithm` empty: the
// key's own type decides. Throws Error(InvalidArgument) saying what is wrong (never the key).
DkimKey parseDkimKey(std::string_view domain, std::string_view selector, std::optional<DkimAlgorithm> algorithm,
                     std::string_view pem);

// A new key for `domain` and `selector`: rsa-sha256 of `bits` (2048 to 4096) or ed25519-sha256
// (`bits` ignored), made with OpenSSL's generator, as parseDkimKey returns keys. Throws
// Error(InvalidArgument) for a bad domain, selector or size, Error(Failed) when OpenSSL fails.
DkimKey generateDkimKey(std::string_view domain, std::string_view selector, DkimAlgorithm algorithm,
                        unsigned bits = 2048);

// The TXT record to publish at "<selector>._domainkey.<domain>": "v=DKIM1; k=rsa; p=<base64 of
// the SubjectPublicKeyInfo>" or "v=DKIM1; k=ed25519; p=<base64 of the 32-octet public key>".
std::string dkimTxtRecord(const DkimKey& key);

// A TXT record's text as the character-strings DNS carries it: at most 255 octets each (RFC
// 1035 3.3.14), which resolvers join; an rsa-2048 DKIM record needs two. One empty string for "".
std::vector<std::string> txtStrings(std::string_view text);

// The header fields signed (h=), in this order of preference; From is signed once more than it
// appears ("over-signed"), so that a second From added on the way breaks the signature.
const std::vector<std::string>& dkimSignedHeaders();

class DkimSigner {
public:
    // `keys`: one or more keys of one domain, at most one per algorithm. Throws
    // Error(InvalidArgument) otherwise, Error(Failed) when libopendkim cannot start.
    explicit DkimSigner(std::vector<DkimKey> keys);
    ~DkimSigner();
    DkimSigner(const DkimSigner&) = delete;
    DkimSigner& operator=(const DkimSigner&) = delete;

    // The DKIM-Signature header fields for `message` (RFC 5322, CRLF line ends, no
    // dot-stuffing), one per key, each ending in CRLF: put them before the message's first
    // header. Throws Error(Failed) when libopendkim fails (it names the reason, never the key).
    std::string signatureFields(std::string_view message) const;

    const std::string& domain() const { return domain_; }
    const std::vector<DkimKey>& keys() const { return keys_; }

private:
    struct Library;
    std::string domain_;
    std::vector<DkimKey> keys_;
    std::unique_ptr<Library> library_;
};

// The signers by signing domain (lower case): what the daemon loaded from its [DKIM DOMAIN]
// sections. A campaign is signed by the signer of its From address's domain, if there is one.
using DkimKeyring = std::map<std::string, std::shared_ptr<const DkimSigner>>;

// The signer for a From domain (any case), or nullptr.
std::shared_ptr<const DkimSigner> signerFor(const DkimKeyring& keyring, std::string_view fromDomain);

}  // namespace campaignd::mail

// dkim.cpp: see dkim.h. libopendkim computes the signatures (canonicalisation, body hash,
// header selection, over-signing); OpenSSL's libcrypto only checks a key once when it is loaded
// (type, size) and derives the public half for the DNS record. One DKIM_LIB per signer, its
// header lists set once; a DKIM handle per message and key, freed before signatureFields
// returns. libopendkim takes the key as PEM text on every dkim_sign and parses it there (its
// API has no pre-parsed key); the RSA operation itself costs far more (see BENCHMARKS.md).
#include "mail/dkim.h"

// libopendkim's header is C and uses C's _Bool in its prototypes.
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cctype>

#include "core/error.h"

namespace campaignd::mail {
namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey readPrivateKey(std::string_view pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (!bio) throw Error(ErrorCode::Failed, "out of memory reading a DKIM key");
    Pkey key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
    BIO_free(bio);
    return key;
}

std::string base64(const unsigned char* data, std::size_t size) {
    std::string out(4 * ((size + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// A DNS name as d= and s= carry it: labels of letters, digits, '-' and '_', joined by dots.
bool isDnsName(std::string_view name) {
    if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return false;
    std::size_t label = 0;
    for (char c : name) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
        if (++label > 63) return false;
    }
    return true;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// NULL-terminated lists for dkim_options.
const char* const kSignHeaders[] = {"From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
                                    "Content-Type", "List-Unsubscribe", "List-Unsubscribe-Post",
                                    "Feedback-ID", "List-Id", nullptr};
const char* const kOversignHeaders[] = {"From", nullptr};

}  // namespace

std::string_view toString(DkimAlgorithm algorithm) {
    return algorithm == DkimAlgorithm::Ed25519Sha256 ? "ed25519-sha256" : "rsa-sha256";
}

std::optional<DkimAlgorithm> parseDkimAlgorithm(std::string_view text) {
    const std::string t = lower(text);
    if (t == "rsa-sha256" || t == "rsa") return DkimAlgorithm::RsaSha256;
    if (t == "ed25519-sha256" || t == "ed25519") return DkimAlgorithm::Ed25519Sha256;
    return std::nullopt;
}

bool dkimSupportsEd25519() {
    DKIM_LIB* lib = dkim_init(nullptr, nullptr);
    if (!lib) return false;
    const bool yes = dkim_libfeature(lib, DKIM_FEATURE_ED25519);
    dkim_close(lib);
    return yes;
}

const std::vector<std::string>& dkimSignedHeaders() {
    static const std::vector<std::string> kHeaders(std::begin(kSignHeaders), std::end(kSignHeaders) - 1);
    return kHeaders;
}

DkimKey parseDkimKey(std::string_view domain, std::string_view selector, std::optional<DkimAlgorithm> algorithm,
                     std::string_view pem) {
    if (!isDnsName(domain)) throw Error(ErrorCode::InvalidArgument, "\"" + std::string(domain) + "\" is not a domain");
    if (!isDnsName(selector))
        throw Error(ErrorCode::InvalidArgument,
                    "selector \"" + std::string(selector) + "\" is not a DNS label (letters, digits, '-', '_', '.')");
    const Pkey pkey = readPrivateKey(pem);
    if (!pkey) throw Error(ErrorCode::InvalidArgument, "not a private key in PEM form");
    DkimKey key;
    key.domain = lower(domain);
    key.selector = std::string(selector);
    key.bits = static_cast<unsigned>(EVP_PKEY_get_bits(pkey.get()));
    const int type = EVP_PKEY_get_base_id(pkey.get());
    DkimAlgorithm own;
    if (type == EVP_PKEY_RSA) own = DkimAlgorithm::RsaSha256;
    else if (type == EVP_PKEY_ED25519) own = DkimAlgorithm::Ed25519Sha256;
    else throw Error(ErrorCode::InvalidArgument, "the key is neither an RSA nor an Ed25519 private key");
    if (algorithm && *algorithm != own)
        throw Error(ErrorCode::InvalidArgument, "Algorithm=" + std::string(toString(*algorithm)) + " but the key is " +
                                                    (own == DkimAlgorithm::RsaSha256 ? "an RSA" : "an Ed25519") +
                                                    " key");
    key.algorithm = own;
    if (own == DkimAlgorithm::RsaSha256 && key.bits < 2048)
        throw Error(ErrorCode::InvalidArgument, "an RSA key of " + std::to_string(key.bits) +
                                                    " bits is too weak; DKIM keys need 2048 bits or more");
    if (own == DkimAlgorithm::Ed25519Sha256 && !dkimSupportsEd25519())
        throw Error(ErrorCode::InvalidArgument, "this libopendkim cannot sign ed25519-sha256; use an RSA key");
    key.privateKey = std::string(pem);
    return key;
}

DkimKey generateDkimKey(std::string_view domain, std::string_view selector, DkimAlgorithm algorithm,
                        unsigned bits) {
    if (algorithm == DkimAlgorithm::RsaSha256 && (bits < 2048 || bits > 4096))
        throw Error(ErrorCode::InvalidArgument, "an RSA DKIM key has 2048 to 4096 bits");
    const Pkey pkey(algorithm == DkimAlgorithm::Ed25519Sha256
                        ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
    if (!pkey) throw Error(ErrorCode::Failed, "OpenSSL could not make a key");
    BIO* bio = BIO_new(BIO_s_mem());
    if (!bio) throw Error(ErrorCode::Failed, "out of memory making a DKIM key");
    std::string pem;
    if (PEM_write_bio_PrivateKey(bio, pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1) {
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio, &data);
        if (size > 0) pem.assign(data, static_cast<std::size_t>(size));
    }
    BIO_free(bio);
    if (pem.empty()) throw Error(ErrorCode::Failed, "OpenSSL could not write the key");
    return parseDkimKey(domain, selector, algorithm, pem);
}

std::string dkimTxtRecord(const DkimKey& key) {
    const Pkey pkey = readPrivateKey(key.privateKey);
    if (!pkey) throw Error(ErrorCode::InvalidArgument, "not a private key in PEM form");
    if (key.algorithm == DkimAlgorithm::Ed25519Sha256) {
        unsigned char raw[32];
        std::size_t size = sizeof raw;
        if (EVP_PKEY_get_raw_public_key(pkey.get(), raw, &size) != 1 || size != sizeof raw)
            throw Error(ErrorCode::Failed, "cannot derive the Ed25519 public key");
        return "v=DKIM1; k=ed25519; p=" + base64(raw, size);
    }
    unsigned char* der = nullptr;
    const int size = i2d_PUBKEY(pkey.get(), &der);
    if (size <= 0) throw Error(ErrorCode::Failed, "cannot derive the RSA public key");
    std::string p = base64(der, static_cast<std::size_t>(size));
    OPENSSL_free(der);
    return "v=DKIM1; k=rsa; p=" + p;
}

struct DkimSigner::Library {
    DKIM_LIB* lib = nullptr;
    ~Library() {
        if (lib) dkim_close(lib);
    }
};

DkimSigner::DkimSigner(std::vector<DkimKey> keys) : keys_(std::move(keys)), library_(std::make_unique<Library>()) {
    if (keys_.empty()) throw Error(ErrorCode::InvalidArgument, "a DKIM signer needs a key");
    domain_ = keys_.front().domain;
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        if (keys_[i].domain != domain_)
            throw Error(ErrorCode::InvalidArgument, "the keys of one signer must be of one domain");
        for (std::size_t j = 0; j < i; ++j)
            if (keys_[j].algorithm == keys_[i].algorithm)
                throw Error(ErrorCode::InvalidArgument, "two " + std::string(toString(keys_[i].algorithm)) +
                                                            " keys for " + domain_ + "; keep one");
    }
    library_->lib = dkim_init(nullptr, nullptr);
    if (!library_->lib) throw Error(ErrorCode::Failed, "libopendkim could not start");
    // dkim_options takes the NULL-terminated list itself, with the size of a pointer to it (as
    // opendkim's own configuration code passes it).
    auto setList = [&](int option, const char* const* list) {
        if (dkim_options(library_->lib, DKIM_OP_SETOPT, option, const_cast<const char**>(list),
                         sizeof(const char**)) != DKIM_STAT_OK)
            throw Error(ErrorCode::Failed, "libopendkim refused its header list");
    };
    setList(DKIM_OPTS_SIGNHDRS, kSignHeaders);
    setList(DKIM_OPTS_OVERSIGNHDRS, kOversignHeaders);
}

DkimSigner::~DkimSigner() = default;

std::string DkimSigner::signatureFields(std::string_view message) const {
    static constexpr std::string_view kField = "DKIM-Signature: ";
    std::string out;
    for (const DkimKey& key : keys_) {
        DKIM_STAT status = DKIM_STAT_OK;
        DKIM* dkim = dkim_sign(library_->lib, reinterpret_cast<const unsigned char*>("campaignd"), nullptr,
                               reinterpret_cast<dkim_sigkey_t>(const_cast<char*>(key.privateKey.c_str())),
                               reinterpret_cast<const unsigned char*>(key.selector.c_str()),
                               reinterpret_cast<const unsigned char*>(key.domain.c_str()), DKIM_CANON_RELAXED,
                               DKIM_CANON_RELAXED,
                               key.algorithm == DkimAlgorithm::Ed25519Sha256 ? DKIM_SIGN_ED25519SHA256
                                                                             : DKIM_SIGN_RSASHA256,
                               -1, &status);
        if (!dkim) throw Error(ErrorCode::Failed, "DKIM signing could not start (libopendkim status " +
                                                      std::to_string(status) + ")");
        std::string problem;
        unsigned char* header = nullptr;
        std::size_t length = 0;
        if (dkim_chunk(dkim, reinterpret_cast<unsigned char*>(const_cast<char*>(message.data())), message.size()) !=
                DKIM_STAT_OK ||
            dkim_chunk(dkim, nullptr, 0) != DKIM_STAT_OK || dkim_eom(dkim, nullptr) != DKIM_STAT_OK ||
            dkim_getsighdr_d(dkim, kField.size(), &header, &length) != DKIM_STAT_OK) {
            const char* why = dkim_geterror(dkim);
            problem = why && *why ? why : "libopendkim failed";
        } else {
            // libopendkim folds with the line end it saw in the message (CRLF here); a bare LF
            // would still become CRLF, the only line end a message may carry.
            out += kField;
            for (std::size_t i = 0; i < length; ++i) {
                if (header[i] == '\n' && (i == 0 || header[i - 1] != '\r')) out += '\r';
                out += static_cast<char>(header[i]);
            }
            out += "\r\n";
        }
        dkim_free(dkim);
        if (!problem.empty()) throw Error(ErrorCode::Failed, "DKIM signing for " + key.domain + ": " + problem);
    }
    return out;
}

std::shared_ptr<const DkimSigner> signerFor(const DkimKeyring& keyring, std::string_view fromDomain) {
    const auto it = keyring.find(lower(fromDomain));
    return it == keyring.end() ? nullptr : it->second;
}

std::vector<std::string> txtStrings(std::string_view text) {
    std::vector<std::string> out;
    for (std::size_t at = 0; at < text.size(); at += 255) out.emplace_back(text.substr(at, 255));
    if (out.empty()) out.emplace_back();
    return out;
}

}  // namespace campaignd::mail

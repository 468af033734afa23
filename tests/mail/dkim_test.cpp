// dkim_test.cpp: DKIM signatures on rendered campaign messages, checked by an implementation
// that is not campaignd's: Debian's python3-dkim (tests/support/dkim_verify.py), with its DNS
// answered from the TXT record dkimTxtRecord builds from the test's key. Keys are made per run
// with openssl. Shown: rsa-sha256 and ed25519-sha256 each verify, both at once give two
// signatures that both verify, for non-ASCII names and subjects and long lines; the signed
// header list is the one the issue names with From over-signed; a message altered after
// signing fails; weak, mismatched or unreadable keys are refused with a reason.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "core/error.h"
#include "mail/dkim.h"
#include "mail/message.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::mail {
namespace {

namespace fs = std::filesystem;
using test::readFile;
using test::run;
using test::TempDir;
using test::writeFile;

class DkimTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir("campaignd-dkim");
        const auto gen = [](const std::vector<std::string>& argv) {
            const auto r = run(argv);
            ASSERT_EQ(r.exitCode, 0) << r.err;
        };
        gen({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
             (*dir_ / "rsa.pem").string()});
        gen({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out",
             (*dir_ / "rsa1024.pem").string()});
        gen({"openssl", "genpkey", "-algorithm", "ed25519", "-out", (*dir_ / "ed25519.pem").string()});
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }

    static DkimKey rsaKey(const std::string& selector = "rsa2026") {
        return parseDkimKey("example.org", selector, DkimAlgorithm::RsaSha256, readFile(*dir_ / "rsa.pem"));
    }
    static DkimKey edKey(const std::string& selector = "ed2026") {
        return parseDkimKey("example.org", selector, DkimAlgorithm::Ed25519Sha256, readFile(*dir_ / "ed25519.pem"));
    }

    static MessageSettings settings(std::shared_ptr<const DkimSigner> signer) {
        MessageSettings s;
        s.defaultFrom = "Exämple News <news@example.org>";
        s.verp.domain = "example.org";
        s.verp.secret = "test-secret-0123456789";
        s.unsubscribeUrl = "https://news.example.org/u/{campaign_id}-{token}";
        s.dkim = std::move(signer);
        return s;
    }

    static Campaign campaign() {
        Campaign c;
        c.id = 7;
        c.subject = "Frühlingsnachrichten für {{name}} — ein sehr langer Betreff, der über mehrere Zeilen gefaltet "
                    "werden muss, weil er länger ist als achtundsiebzig Zeichen";
        c.htmlContent = "<h1>Hallo {{name}}</h1><p>" + std::string(3000, 'x') + "</p><p>" +
                        std::string(200, ' ') + "Zeile mit Leerzeichen   am Ende   </p>";
        return c;
    }

    static std::string render(const std::shared_ptr<const DkimSigner>& signer) {
        const CampaignTemplate tmpl(campaign(), settings(signer));
        Recipient r;
        r.id = 12;
        r.email = "zoe@example.net";
        r.name = "Zoë Ünicode-Øster";
        return tmpl.render(r).data;
    }

    // dkim_verify.py's verdict on `message`, with the DNS records of `keys`.
    static test::RunResult verify(const std::string& message, const std::vector<DkimKey>& keys, int expect) {
        static int n = 0;
        const auto file = *dir_ / ("message-" + std::to_string(++n) + ".eml");
        writeFile(file, message);
        std::vector<std::string> argv{"/usr/bin/python3", DKIM_VERIFY_SCRIPT, "--expect", std::to_string(expect)};
        for (const auto& k : keys)
            argv.push_back("--record=" + k.selector + "._domainkey." + k.domain + "=" + dkimTxtRecord(k));
        argv.push_back(file.string());
        return run(argv);
    }

    // The message's header, each folded field on one line (folding white space as one space).
    static std::string unfoldedHead(const std::string& message) {
        return std::regex_replace(message.substr(0, message.find("\r\n\r\n")), std::regex("\r\n[ \t]+"), " ");
    }

    static TempDir* dir_;
};

TempDir* DkimTest::dir_ = nullptr;

TEST_F(DkimTest, AnRsaSignedMessageVerifiesWithAnIndependentVerifier) {
    const auto key = rsaKey();
    const std::string message = render(std::make_shared<const DkimSigner>(std::vector{key}));
    ASSERT_EQ(unfoldedHead(message).rfind("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=rsa2026;", 0), 0u)
        << unfoldedHead(message).substr(0, 600);
    const auto r = verify(message, {key}, 1);
    EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("0 rsa-sha256 d=example.org s=rsa2026: pass"), std::string::npos) << r.out;
}

TEST_F(DkimTest, AnEd25519SignedMessageVerifiesWithAnIndependentVerifier) {
    ASSERT_TRUE(dkimSupportsEd25519()) << "Debian 12's libopendkim 2.11 signs ed25519-sha256";
    const auto key = edKey();
    const std::string message = render(std::make_shared<const DkimSigner>(std::vector{key}));
    const auto r = verify(message, {key}, 1);
    EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("0 ed25519-sha256 d=example.org s=ed2026: pass"), std::string::npos) << r.out;
}

TEST_F(DkimTest, BothKeysSignAtOnceAndBothSignaturesVerify) {
    const auto rsa = rsaKey();
    const auto ed = edKey();
    const std::string message = render(std::make_shared<const DkimSigner>(std::vector{rsa, ed}));
    const auto r = verify(message, {rsa, ed}, 2);
    EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("rsa-sha256 d=example.org s=rsa2026: pass"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("ed25519-sha256 d=example.org s=ed2026: pass"), std::string::npos) << r.out;
}

TEST_F(DkimTest, TheSignedHeadersAreTheIssuesListWithFromOverSigned) {
    const auto key = rsaKey();
    std::string message = render(std::make_shared<const DkimSigner>(std::vector{key}));
    const std::string unfolded = unfoldedHead(message);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(unfolded, m, std::regex(R"(\bh=([^;]+);)"))) << unfolded;
    std::string h = std::regex_replace(m[1].str(), std::regex("[ \t]"), "");
    for (char& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* name : {"from", "to", "subject", "date", "message-id", "mime-version", "content-type",
                             "list-unsubscribe", "list-unsubscribe-post", "feedback-id"})
        EXPECT_NE((":" + h + ":").find(std::string(":") + name + ":"), std::string::npos) << name << " in h=" << h;
    // From appears once in the message and twice in h=.
    std::size_t froms = 0;
    for (std::size_t at = (":" + h + ":").find(":from:"); at != std::string::npos;
         at = (":" + h + ":").find(":from:", at + 1))
        ++froms;
    EXPECT_EQ(froms, 2u) << h;
    // Nothing else: a header a relay may legitimately change (Precedence, X-Campaign-Id) is not
    // signed, so the signature survives it.
    EXPECT_EQ(h.find("precedence"), std::string::npos) << h;
}

TEST_F(DkimTest, AMessageAlteredAfterSigningFails) {
    const auto rsa = rsaKey();
    const auto ed = edKey();
    const std::string message = render(std::make_shared<const DkimSigner>(std::vector{rsa, ed}));
    ASSERT_EQ(verify(message, {rsa, ed}, 2).exitCode, 0);

    std::string body = message;
    const auto at = body.find("Hallo");
    ASSERT_NE(at, std::string::npos);
    body.replace(at, 5, "Hullo");
    const auto r = verify(body, {rsa, ed}, 2);
    EXPECT_EQ(r.exitCode, 1) << r.out;
    EXPECT_EQ(r.out.find(": pass"), std::string::npos) << r.out;

    std::string from = message;
    const auto f = from.find("news@example.org");
    ASSERT_NE(f, std::string::npos);
    from.replace(f, 4, "ceo@");
    EXPECT_EQ(verify(from, {rsa, ed}, 2).exitCode, 1);

    // A second From added on the way: the over-signed From refuses it.
    const auto second = verify("From: ceo@example.org\r\n" + message, {rsa}, 2);
    EXPECT_EQ(second.exitCode, 1) << second.out;
}

TEST_F(DkimTest, AMessageWithoutASignerIsNotSigned) {
    EXPECT_EQ(render(nullptr).find("DKIM-Signature"), std::string::npos);
}

TEST_F(DkimTest, WeakMismatchedAndMalformedKeysAreRefusedWithTheReason) {
    const auto refused = [](const std::function<void()>& f) -> std::string {
        try {
            f();
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
            return e.what();
        }
        return "(accepted)";
    };
    EXPECT_NE(refused([] { parseDkimKey("example.org", "s", std::nullopt, readFile(*dir_ / "rsa1024.pem")); })
                  .find("1024 bits is too weak"),
              std::string::npos);
    EXPECT_NE(refused([] {
                  parseDkimKey("example.org", "s", DkimAlgorithm::Ed25519Sha256, readFile(*dir_ / "rsa.pem"));
              }).find("Algorithm=ed25519-sha256 but the key is an RSA key"),
              std::string::npos);
    const std::string garbage = refused([] { parseDkimKey("example.org", "s", std::nullopt, "not a key"); });
    EXPECT_NE(garbage.find("not a private key"), std::string::npos) << garbage;
    EXPECT_NE(refused([] { parseDkimKey("example.org", "bad selector", std::nullopt, readFile(*dir_ / "rsa.pem")); })
                  .find("selector"),
              std::string::npos);
    // The key type decides when Algorithm= is not given.
    EXPECT_EQ(parseDkimKey("example.org", "s", std::nullopt, readFile(*dir_ / "ed25519.pem")).algorithm,
              DkimAlgorithm::Ed25519Sha256);
    EXPECT_EQ(parseDkimKey("Example.ORG", "s", std::nullopt, readFile(*dir_ / "rsa.pem")).domain, "example.org");
    // Two keys of one algorithm for one domain.
    EXPECT_THROW(DkimSigner(std::vector{rsaKey("a"), rsaKey("b")}), Error);
}

TEST_F(DkimTest, TheTxtRecordCarriesThePublicHalfOfTheKey) {
    const auto ed = edKey();
    const auto record = dkimTxtRecord(ed);
    // openssl's own view of the public key: the raw 32 octets are the last 32 of the DER.
    const auto pub = run({"openssl", "pkey", "-in", (*dir_ / "ed25519.pem").string(), "-pubout", "-outform", "DER",
                          "-out", (*dir_ / "ed.pub.der").string()});
    ASSERT_EQ(pub.exitCode, 0) << pub.err;
    const std::string der = readFile(*dir_ / "ed.pub.der");
    ASSERT_EQ(der.size(), 44u);
    const auto b64 = run({"/usr/bin/python3", "-c",
                          "import base64,sys; print(base64.b64encode(open(sys.argv[1],'rb').read()[-32:]).decode())",
                          (*dir_ / "ed.pub.der").string()});
    EXPECT_EQ(record, "v=DKIM1; k=ed25519; p=" + b64.out.substr(0, b64.out.find('\n')));
    EXPECT_EQ(dkimTxtRecord(rsaKey()).rfind("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A", 0), 0u);
}

}  // namespace
}  // namespace campaignd::mail

// verp_test.cpp: recipient tokens and VERP addresses: the round trip the bounce processor
// relies on, and that a token cannot be altered, moved to another campaign, or made without
// the secret.
#include "mail/verp.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <string>

#include "core/error.h"

namespace campaignd::mail {
namespace {

VerpSettings settings() {
    VerpSettings s;
    s.domain = "Bounces.Example.ORG";
    s.secret = "0123456789abcdef-test-secret";
    return checkVerpSettings(s);
}

TEST(Verp, AddressHasTheDocumentedShape) {
    const VerpSettings s = settings();
    EXPECT_EQ(s.domain, "bounces.example.org");
    const std::string address = verpAddress(s, 12, 345);
    const std::string token = recipientToken(s.secret, 12, 345);
    EXPECT_EQ(address, "bounces+12-" + token + "@bounces.example.org");
    ASSERT_EQ(token.size(), 4u + 13u) << "two octets of id, eight of tag";
    EXPECT_EQ(recipientToken(s.secret, 12, 1).size(), 2u + 13u);
    EXPECT_EQ(recipientToken(s.secret, 12, std::numeric_limits<Id>::max()).size(), 13u + 13u);
    for (char c : token) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << token;
}

// Tokens in mail already sent must still verify after an upgrade: the format is pinned to a
// value computed independently (Python's hmac, hashlib and base64 modules).
TEST(Verp, TokenFormatIsPinned) {
    EXPECT_EQ(recipientToken("0123456789abcdef-test-secret", 12, 345), "afmqsw74hba3weseu");
}

// The keyed HMAC is kept per thread for the last secret: another secret in between, and one
// longer than SHA-256's block (hashed first, as RFC 2104 says), each get their own token.
// Values from Python's hmac module, as above.
TEST(Verp, EachSecretGetsItsOwnTokenWhateverCameBefore) {
    EXPECT_EQ(recipientToken("0123456789abcdef-test-secret", 12, 345), "afmqsw74hba3weseu");
    EXPECT_EQ(recipientToken("another-secret-of-32-characters!", 12, 345), "afmq75kffha4y35vk");
    EXPECT_EQ(recipientToken(std::string(100, 'k'), 3, 7), "a4uiatiwcaknxp6");
    EXPECT_EQ(recipientToken("0123456789abcdef-test-secret", 12, 345), "afmqsw74hba3weseu");
}

TEST(Verp, RoundTripsToCampaignAndRecipient) {
    const VerpSettings s = settings();
    for (Id recipient : {Id{1}, Id{345}, Id{1} << 40, std::numeric_limits<Id>::max()}) {
        const auto parsed = parseVerpAddress(verpAddress(s, 77, recipient), s);
        ASSERT_TRUE(parsed.has_value()) << recipient;
        EXPECT_EQ(parsed->campaignId, 77);
        EXPECT_EQ(parsed->recipientId, recipient);
    }
}

TEST(Verp, AcceptsCaseFoldingAndAngleBrackets) {
    const VerpSettings s = settings();
    std::string address = verpAddress(s, 5, 9);
    for (char& c : address)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    const auto parsed = parseVerpAddress(" <" + address + "> ", s);
    ASSERT_TRUE(parsed.has_value()) << address;
    EXPECT_EQ(parsed->recipientId, 9);
}

TEST(Verp, TamperedTokensAreRefused) {
    const VerpSettings s = settings();
    const std::string token = recipientToken(s.secret, 5, 9);
    // Every single-character change anywhere in the token is refused.
    for (std::size_t i = 0; i < token.size(); ++i) {
        std::string forged = token;
        forged[i] = forged[i] == 'a' ? 'b' : 'a';
        EXPECT_FALSE(verifyRecipientToken(s.secret, 5, forged).has_value()) << forged;
        EXPECT_FALSE(parseVerpAddress("bounces+5-" + forged + "@bounces.example.org", s).has_value());
    }
    // Another recipient's id with this recipient's tag, and this token in another campaign.
    const std::string other = recipientToken(s.secret, 5, 10);
    EXPECT_FALSE(verifyRecipientToken(s.secret, 5, other.substr(0, other.size() - 13) +
                                                       token.substr(token.size() - 13))
                     .has_value());
    // The same id written with a leading zero octet is not the canonical token.
    EXPECT_FALSE(verifyRecipientToken(s.secret, 5, "aa" + token).has_value());
    EXPECT_FALSE(parseVerpAddress("bounces+6-" + token + "@bounces.example.org", s).has_value());
    // A token made with another secret.
    EXPECT_FALSE(verifyRecipientToken(s.secret, 5, recipientToken("another-secret-of-16+", 5, 9)).has_value());
    EXPECT_EQ(verifyRecipientToken(s.secret, 5, token), Id{9});
}

TEST(Verp, RefusesAddressesThatAreNotOurs) {
    const VerpSettings s = settings();
    const std::string token = recipientToken(s.secret, 5, 9);
    for (const std::string& address : {
             "bounces+5-" + token + "@example.org",
             "bounce+5-" + token + "@bounces.example.org",
             "bounces-5-" + token + "@bounces.example.org",
             "bounces+05-" + token + "@bounces.example.org",
             "bounces+-5-" + token + "@bounces.example.org",
             "bounces+5" + token + "@bounces.example.org",
             "bounces+5-" + token + "x@bounces.example.org",
             "bounces+99999999999999999999-" + token + "@bounces.example.org",
             std::string("postmaster@bounces.example.org"),
             std::string(""),
             std::string("@")}) {
        EXPECT_FALSE(parseVerpAddress(address, s).has_value()) << address;
    }
}

TEST(Verp, TokensDifferPerRecipientAndCampaign) {
    const VerpSettings s = settings();
    std::set<std::string> tokens;
    for (Id c = 1; c <= 10; ++c)
        for (Id r = 1; r <= 100; ++r) tokens.insert(recipientToken(s.secret, c, r));
    EXPECT_EQ(tokens.size(), 1000u);
}

TEST(Verp, SettingsAreChecked) {
    VerpSettings s;
    s.domain = "bounces.example.org";
    s.secret = "short";
    EXPECT_THROW(checkVerpSettings(s), Error);
    s.secret = "0123456789abcdef";
    EXPECT_NO_THROW(checkVerpSettings(s));
    VerpSettings bad = s;
    bad.domain = "not a domain";
    EXPECT_THROW(checkVerpSettings(bad), Error);
    bad = s;
    bad.prefix = "a b";
    EXPECT_THROW(checkVerpSettings(bad), Error);
    bad = s;
    bad.prefix = std::string(40, 'x');  // the local part would exceed 64 octets
    EXPECT_THROW(checkVerpSettings(bad), Error);
    bad = s;
    bad.delimiter = '@';
    EXPECT_THROW(checkVerpSettings(bad), Error);
    bad = s;
    bad.delimiter = '-';
    const VerpSettings dash = checkVerpSettings(bad);
    const auto parsed = parseVerpAddress(verpAddress(dash, 3, 4), dash);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->recipientId, 4);
}

// With no configured envelope domain (each campaign's envelope in its own From domain), an
// address in any domain is read back, and the token still has to verify.
TEST(Verp, AnEmptyDomainReadsAddressesOfAnyDomainButStillChecksTheToken) {
    VerpSettings any = settings();
    any.domain.clear();
    any = checkVerpSettings(any);
    EXPECT_TRUE(any.domain.empty());
    VerpSettings news = settings();
    news.domain = "news.example.net";
    const auto parsed = parseVerpAddress(verpAddress(news, 12, 34), any);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->campaignId, 12);
    EXPECT_EQ(parsed->recipientId, 34);
    std::string forged = verpAddress(news, 12, 34);
    forged[forged.find('@') - 1] = forged[forged.find('@') - 1] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(parseVerpAddress(forged, any).has_value()) << forged;
    // A configured domain still has to match.
    EXPECT_FALSE(parseVerpAddress(verpAddress(news, 12, 34), settings()).has_value());
}

}  // namespace
}  // namespace campaignd::mail

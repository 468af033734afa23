// validation_test.cpp: the address grammar, IDN conversion, header injection, UTF-8, From
// addresses and group names (rules/validation.h), as a person typing them would meet them:
// what is accepted, what it becomes, and what the refusal says.
#include "rules/validation.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

namespace campaignd::rules {
namespace {

// The message of the InvalidArgument that fn throws; fails the test for anything else.
template <typename Fn>
std::string refusal(Fn fn) {
    try {
        fn();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument) << e.what();
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "unexpected exception: " << e.what();
        return {};
    }
    ADD_FAILURE() << "accepted, but should have been refused";
    return {};
}

struct Accepted {
    const char* input;
    const char* normalized;
};

class AcceptedAddress : public testing::TestWithParam<Accepted> {};

TEST_P(AcceptedAddress, IsNormalized) {
    EXPECT_EQ(normalizeEmail(GetParam().input), GetParam().normalized);
}

INSTANTIATE_TEST_SUITE_P(
    Validation, AcceptedAddress,
    testing::Values(
        Accepted{"user@example.org", "user@example.org"},
        Accepted{"  user@example.org \t\n", "user@example.org"},
        Accepted{"User.Name+tag@Example.ORG", "User.Name+tag@example.org"},
        Accepted{"o'brien@example.ie", "o'brien@example.ie"},
        Accepted{"!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~@example.org"},
        Accepted{"a@b.co", "a@b.co"},
        Accepted{"first.middle.last@mail.sub-domain.example.com", "first.middle.last@mail.sub-domain.example.com"},
        Accepted{"user@123.example", "user@123.example"},
        Accepted{"user@example.c0m", "user@example.c0m"},
        Accepted{"user@bücher.example", "user@xn--bcher-kva.example"},
        Accepted{"user@BÜCHER.Example", "user@xn--bcher-kva.example"},
        Accepted{"user@faß.de", "user@xn--fa-hia.de"},  // IDNA2008: ß is kept, not mapped to ss
        Accepted{"info@例え.テスト", "info@xn--r8jz45g.xn--zckzah"},
        Accepted{"user@xn--bcher-kva.example", "user@xn--bcher-kva.example"},
        Accepted{"user@XN--BCHER-KVA.example", "user@xn--bcher-kva.example"}));

struct Refused {
    const char* input;
    const char* problem;  // a substring the message must contain
};

class RefusedAddress : public testing::TestWithParam<Refused> {};

TEST_P(RefusedAddress, SaysWhy) {
    const std::string message = refusal([&] { normalizeEmail(GetParam().input); });
    EXPECT_NE(message.find(GetParam().problem), std::string::npos) << message;
    EXPECT_EQ(message.find('\r'), std::string::npos) << "the message must be one printable line";
    EXPECT_EQ(message.find('\n'), std::string::npos) << "the message must be one printable line";
}

INSTANTIATE_TEST_SUITE_P(
    Validation, RefusedAddress,
    testing::Values(
        Refused{"", "address is empty"},
        Refused{"   ", "address is empty"},
        Refused{"userexample.org", "has no @"},
        Refused{"a..b@x.org", "the local part has two dots in a row"},
        Refused{".a@x.org", "the local part starts with a dot"},
        Refused{"a.@x.org", "the local part ends with a dot"},
        Refused{"@x.org", "the local part (before the @) is empty"},
        Refused{"a@", "the domain (after the @) is empty"},
        Refused{"a@b@x.org", "only one @ is allowed"},
        Refused{"a b@x.org", "contains a space"},
        Refused{"a(b)@x.org", "the local part contains '('"},
        Refused{"a,b@x.org", "the local part contains ','"},
        Refused{"\"a b\"@x.org", "quoted local parts"},
        Refused{"jöe@x.org", "internationalised local parts (SMTPUTF8) are not supported"},
        Refused{"a@[192.0.2.1]", "address literals ([IP address]) are not supported"},
        Refused{"a@[IPv6:2001:db8::1]", "address literals ([IP address]) are not supported"},
        Refused{"a@192.0.2.1", "IP addresses are not supported"},
        Refused{"a@localhost", "at least two labels"},
        Refused{"a@-x.org", "starts or ends with a hyphen"},
        Refused{"a@x-.org", "starts or ends with a hyphen"},
        Refused{"a@x..org", "the domain has two dots in a row"},
        Refused{"a@.x.org", "the domain starts with a dot"},
        Refused{"a@x.org.", "the domain ends with a dot"},
        Refused{"a@x_y.org", "the domain contains '_'"},
        Refused{"a@x.org\r\nBcc: b@y.org", "control character"},
        Refused{"a@b\xff.org", "not valid UTF-8"}));

TEST(Validation, MessageNamesTheFieldAndTheAddress) {
    EXPECT_EQ(refusal([] { normalizeEmail("a..b@x.org"); }),
              "address \"a..b@x.org\": the local part has two dots in a row");
}

TEST(Validation, MessageEscapesControlCharactersAndBadBytes) {
    const std::string message = refusal([] { normalizeEmail("a\x01@x\xff.org"); });
    EXPECT_EQ(message.find('\x01'), std::string::npos) << message;
    EXPECT_EQ(message.find('\xff'), std::string::npos) << message;
}

TEST(Validation, LocalPartIsAtMost64Octets) {
    const std::string local64(64, 'a');
    EXPECT_EQ(normalizeEmail(local64 + "@example.org"), local64 + "@example.org");
    const std::string message = refusal([&] { normalizeEmail(local64 + "a@example.org"); });
    EXPECT_NE(message.find("the local part is 65 octets long; at most 64"), std::string::npos) << message;
}

TEST(Validation, LabelIsAtMost63Octets) {
    const std::string label63(63, 'd');
    EXPECT_NO_THROW(normalizeEmail("a@" + label63 + ".org"));
    const std::string message = refusal([&] { normalizeEmail("a@" + label63 + "d.org"); });
    EXPECT_NE(message.find("is 64 octets long; at most 63"), std::string::npos) << message;
}

TEST(Validation, AddressIsAtMost254Octets) {
    // 64 + 1 + (63 + 1 + 63 + 1 + 61) = 254
    const std::string local(64, 'l');
    const std::string domain = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(61, 'c');
    const std::string longest = local + "@" + domain;
    ASSERT_EQ(longest.size(), 254u);
    EXPECT_EQ(normalizeEmail(longest), longest);
    const std::string message = refusal([&] { normalizeEmail(local + "@" + domain + "c"); });
    EXPECT_NE(message.find("is 255 octets long; at most 254"), std::string::npos) << message;
}

TEST(Validation, DomainIsAtMost255Octets) {
    std::string domain;
    while (domain.size() < 256) domain += std::string(50, 'x') + ".";
    domain += "org";
    const std::string message = refusal([&] { normalizeEmail("a@" + domain); });
    EXPECT_NE(message.find("the domain is"), std::string::npos) << message;
    EXPECT_NE(message.find("at most 255"), std::string::npos) << message;
}

TEST(Validation, InternationalisedDomainThatCannotBeConvertedIsRefused) {
    // A label may not start with a combining mark (U+0301), in IDNA2008 or IDNA2003.
    std::string message = refusal([] { normalizeEmail("a@\xcc\x81x.example"); });
    EXPECT_NE(message.find("internationalised domain cannot be converted"), std::string::npos) << message;
    // A zero-width joiner outside its context is refused, not silently dropped (transitional
    // processing would make it "ab.example", somebody else's domain).
    message = refusal([] { normalizeEmail("a@a\xe2\x80\x8d" "b.example"); });
    EXPECT_NE(message.find("internationalised domain cannot be converted"), std::string::npos) << message;
}

TEST(Validation, DisallowedInIdna2008FallsBackToTransitional) {
    // U+2603 SNOWMAN is disallowed by IDNA2008 but was valid IDNA2003; such names exist.
    EXPECT_EQ(normalizeEmail("a@\xe2\x98\x83.example"), "a@xn--n3h.example");
}

TEST(Validation, EmailKeyIsLowerCase) {
    EXPECT_EQ(emailKey("User.Name@example.org"), "user.name@example.org");
    EXPECT_EQ(emailKey(normalizeEmail("USER@BÜCHER.example")), "user@xn--bcher-kva.example");
}

TEST(Validation, HeaderValueRefusesLineBreaks) {
    for (const char* value : {"Hello\r\nBcc: victim@example.org", "Hello\nBcc: x", "Hello\rX"}) {
        const std::string message = refusal([&] { checkHeaderValue("subject", value); });
        EXPECT_EQ(message.rfind("subject ", 0), 0u) << "names the field: " << message;
        EXPECT_NE(message.find("line break"), std::string::npos) << message;
        EXPECT_EQ(message.find('\r'), std::string::npos) << "the CR is escaped in the message";
        EXPECT_EQ(message.find('\n'), std::string::npos) << "the LF is escaped in the message";
    }
}

TEST(Validation, HeaderValueRefusesNulAndControls) {
    using namespace std::string_literals;
    EXPECT_NE(refusal([] { checkHeaderValue("subject", "a\0b"s); }).find("NUL"), std::string::npos);
    EXPECT_NE(refusal([] { checkHeaderValue("subject", "a\x01z"); }).find("U+0001"), std::string::npos);
    EXPECT_NE(refusal([] { checkHeaderValue("subject", "a\x1b[31m"); }).find("U+001B"), std::string::npos);
    EXPECT_NE(refusal([] { checkHeaderValue("subject", "a\x7f"); }).find("U+007F"), std::string::npos);
    EXPECT_NE(refusal([] { checkHeaderValue("subject", "a\xc2\x85"); }).find("U+0085"), std::string::npos);
}

TEST(Validation, HeaderValueAcceptsTabAndUnicode) {
    EXPECT_NO_THROW(checkHeaderValue("subject", "Spring sale:\t20% off"));
    EXPECT_NO_THROW(checkHeaderValue("subject", "Grüße aus Köln 🎉 — 東京"));
    EXPECT_NO_THROW(checkHeaderValue("subject", ""));
}

TEST(Validation, Utf8IsChecked) {
    EXPECT_NO_THROW(checkUtf8("text content", "plain ascii, Grüße, 🎉"));
    for (const char* bad : {"\xc3\x28", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "abc\xe2\x82", "\xff"}) {
        const std::string message = refusal([&] { checkUtf8("text content", bad); });
        EXPECT_NE(message.find("text content is not valid UTF-8"), std::string::npos) << message;
    }
    EXPECT_NE(refusal([] { checkHeaderValue("subject", "ok\xc3\x28"); }).find("subject is not valid UTF-8"),
              std::string::npos);
}

TEST(Validation, FromAddressForms) {
    EXPECT_EQ(normalizeFromAddress("news@Example.org"), "news@example.org");
    EXPECT_EQ(normalizeFromAddress(" Example News <news@Example.org> "), "Example News <news@example.org>");
    EXPECT_EQ(normalizeFromAddress("<news@example.org>"), "news@example.org");
    EXPECT_EQ(normalizeFromAddress("\"Plain\" <news@example.org>"), "Plain <news@example.org>");
    EXPECT_EQ(normalizeFromAddress("\"Example, Inc.\" <news@example.org>"), "\"Example, Inc.\" <news@example.org>");
    EXPECT_EQ(normalizeFromAddress("\"Say \\\"hi\\\"\" <a@b.org>"), "\"Say \\\"hi\\\"\" <a@b.org>");
    EXPECT_EQ(normalizeFromAddress("Grüße Team <team@bücher.example>"), "Grüße Team <team@xn--bcher-kva.example>");
    // Spaces at the ends of a quoted name go, so the result normalises to itself.
    EXPECT_EQ(normalizeFromAddress("\" Ann \" <a@b.org>"), "Ann <a@b.org>");
    EXPECT_EQ(normalizeFromAddress("\"   \" <a@b.org>"), "a@b.org");
    for (const char* from : {"\" Ann \" <a@b.org>", "\"  \" <a@b.org>", "\" Example, Inc. \" <a@b.org>"})
        EXPECT_EQ(normalizeFromAddress(normalizeFromAddress(from)), normalizeFromAddress(from)) << from;
}

TEST(Validation, FromAddressRefusals) {
    std::string m = refusal([] { normalizeFromAddress("Name <bad..x@example.org>"); });
    EXPECT_EQ(m.rfind("from address \"bad..x@example.org\": the local part has two dots", 0), 0u) << m;
    m = refusal([] { normalizeFromAddress("Name\r\nBcc: x@y.org <a@b.org>"); });
    EXPECT_NE(m.find("line break"), std::string::npos) << m;
    m = refusal([] { normalizeFromAddress("Name <a@b.org"); });
    EXPECT_NE(m.find("without a closing '>'"), std::string::npos) << m;
    m = refusal([] { normalizeFromAddress("\"Unclosed <a@b.org>"); });
    EXPECT_NE(m.find("no closing quote"), std::string::npos) << m;
    m = refusal([] { normalizeFromAddress("   "); });
    EXPECT_NE(m.find("from address is empty"), std::string::npos) << m;
    m = refusal([] { normalizeFromAddress("no-at-sign"); });
    EXPECT_EQ(m.rfind("from address", 0), 0u) << m;
}

TEST(Validation, GroupNames) {
    EXPECT_EQ(normalizeGroupName("  Customers  "), "Customers");
    EXPECT_EQ(normalizeGroupName("Kunden München"), "Kunden München");
    std::string twoHundred;
    for (int i = 0; i < 200; ++i) twoHundred += "ü";  // 200 characters, 400 octets
    EXPECT_EQ(normalizeGroupName(twoHundred), twoHundred);
    std::string m = refusal([&] { normalizeGroupName(twoHundred + "x"); });
    EXPECT_NE(m.find("201 characters long; at most 200"), std::string::npos) << m;
    m = refusal([] { normalizeGroupName(" \t "); });
    EXPECT_NE(m.find("group name is empty"), std::string::npos) << m;
    m = refusal([] { normalizeGroupName("a\nb"); });
    EXPECT_NE(m.find("line break"), std::string::npos) << m;
    m = refusal([] { normalizeGroupName("a\xff"); });
    EXPECT_NE(m.find("not valid UTF-8"), std::string::npos) << m;
}

TEST(Validation, RecipientNamesAreTrimmedAndBounded) {
    EXPECT_EQ(normalizeRecipientName("  Grace Hopper  "), "Grace Hopper");
    EXPECT_EQ(normalizeRecipientName(""), "");
    std::string twoHundred;
    for (int i = 0; i < 200; ++i) twoHundred += "ü";  // 200 characters, 400 octets
    EXPECT_EQ(normalizeRecipientName(twoHundred), twoHundred);
    std::string m = refusal([&] { normalizeRecipientName(twoHundred + "x"); });
    EXPECT_NE(m.find("recipient name"), std::string::npos) << m;
    EXPECT_NE(m.find("201 characters long; at most 200"), std::string::npos) << m;
    m = refusal([] { normalizeRecipientName(std::string(100000, 'a')); });
    EXPECT_NE(m.find("100000 characters long"), std::string::npos) << m;
    EXPECT_LT(m.size(), 300u) << "the message quotes a bounded part of the value";
    m = refusal([] { normalizeRecipientName("Eve\r\nBcc: x@example.org"); });
    EXPECT_NE(m.find("line break"), std::string::npos) << m;
}

}  // namespace
}  // namespace campaignd::rules

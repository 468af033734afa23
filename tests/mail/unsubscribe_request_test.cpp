// unsubscribe_request_test.cpp: which mails to the unsubscribe address ask for a recipient to be
// unsubscribed (mail/unsubscribe_request.h): the token in the subject as List-Unsubscribe's
// mailto: URI writes it, or in "+token" after the address's local part; nothing without a valid
// token or not addressed to the unsubscribe address.
#include "mail/unsubscribe_request.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace campaignd::mail {
namespace {

constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kMailto = "unsubscribe@example.org";

std::string message(const std::string& headers) { return headers + "\r\n\r\nPlease take me off.\r\n"; }

TEST(UnsubscribeRequest, TheSubjectOfTheMailtoUriNamesTheRecipient) {
    const std::string token = publicToken(kSecret, 12, 345);
    const auto asked = unsubscribeRequest(
        message("From: Ada <ada@example.net>\r\nTo: unsubscribe@example.org\r\nSubject: unsubscribe " + token), kMailto,
        kSecret);
    ASSERT_TRUE(asked);
    EXPECT_EQ(asked->campaignId, 12);
    EXPECT_EQ(asked->recipientId, 345);
    // Any case, other white space, a display name, a folded To, LF line ends, Delivered-To.
    EXPECT_TRUE(unsubscribeRequest("To: \"Unsub\"\n <UNSUBSCRIBE@Example.ORG>\nSubject:  UNSUBSCRIBE\t" + token +
                                       "  \n\nbody\n",
                                   kMailto, kSecret));
    EXPECT_TRUE(unsubscribeRequest(message("Delivered-To: unsubscribe@example.org\r\nTo: list@example.org\r\n"
                                           "Subject: unsubscribe " + token),
                                   kMailto, kSecret));
}

TEST(UnsubscribeRequest, TheTokenMayComeInTheAddress) {
    const std::string token = publicToken(kSecret, 7, 8);
    const auto asked = unsubscribeRequest(message("To: <unsubscribe+" + token + "@example.org>\r\nSubject: Bye"),
                                          kMailto, kSecret);
    ASSERT_TRUE(asked);
    EXPECT_EQ(asked->campaignId, 7);
    EXPECT_EQ(asked->recipientId, 8);
}

TEST(UnsubscribeRequest, NoValidTokenAsksForNothing) {
    const std::string token = publicToken(kSecret, 12, 345);
    std::string altered = token;
    altered.back() = altered.back() == 'a' ? 'b' : 'a';
    for (const std::string& headers : std::vector<std::string>{
             "To: unsubscribe@example.org\r\nSubject: unsubscribe " + altered,             // altered tag
             "To: unsubscribe@example.org\r\nSubject: unsubscribe 13-" + token.substr(3),  // other campaign
             "To: unsubscribe@example.org\r\nSubject: unsubscribe",                        // no token
             "To: unsubscribe@example.org\r\nSubject: Re: unsubscribe " + token,            // not the URI's subject
             "To: unsubscribe@example.org\r\nSubject: unsubscribe " + token + " please",   // more words
             "To: other@example.org\r\nSubject: unsubscribe " + token,                      // not to the address
             "To: unsubscribe@example.org.evil.test\r\nSubject: unsubscribe " + token,      // a longer domain
             "To: xunsubscribe@example.org\r\nSubject: unsubscribe " + token,               // a longer local part
             "To: <unsubscribe+" + altered + "@example.org>\r\nSubject: Bye",
         })
        EXPECT_FALSE(unsubscribeRequest(message(headers), kMailto, kSecret)) << headers;
    // The token is in the header block only: a body that quotes it asks for nothing.
    EXPECT_FALSE(unsubscribeRequest("To: unsubscribe@example.org\r\nSubject: hello\r\n\r\nSubject: unsubscribe " + token,
                                    kMailto, kSecret));
    // Nothing without a secret or an address.
    EXPECT_FALSE(unsubscribeRequest(message("To: unsubscribe@example.org\r\nSubject: unsubscribe " + token), kMailto, ""));
    EXPECT_FALSE(unsubscribeRequest(message("To: unsubscribe@example.org\r\nSubject: unsubscribe " + token), "", kSecret));
}

}  // namespace
}  // namespace campaignd::mail

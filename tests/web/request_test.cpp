// request_test.cpp: what campaignd-web reads from a request (web/request.h): the route and
// token of a target, the shape a token must have, and which POST a body is, including the
// forms mailbox providers send RFC 8058's one-click POST in.
#include "web/request.h"

#include <gtest/gtest.h>

#include <string>

namespace campaignd::web {
namespace {

TEST(ParseTarget, UnsubscribeAndViewLinksGiveTheirRouteAndTheTokenInLowerCase) {
    const Route u = parseTarget("/u/12-ABCDEFGH234567");
    EXPECT_EQ(u.kind, RouteKind::Unsubscribe);
    EXPECT_EQ(u.token, "12-abcdefgh234567");
    const Route v = parseTarget("/v/7-abc");
    EXPECT_EQ(v.kind, RouteKind::View);
    EXPECT_EQ(v.token, "7-abc");
}

TEST(ParseTarget, AQueryAFragmentAndOneTrailingSlashAreIgnored) {
    EXPECT_EQ(parseTarget("/u/12-abc?utm_source=mail").token, "12-abc");
    EXPECT_EQ(parseTarget("/u/12-abc#top").token, "12-abc");
    EXPECT_EQ(parseTarget("/u/12-abc/").kind, RouteKind::Unsubscribe);
    EXPECT_EQ(parseTarget("/u/12-abc//").kind, RouteKind::NotFound);
}

TEST(ParseTarget, RobotsTxtIsItsOwnRoute) {
    EXPECT_EQ(parseTarget("/robots.txt").kind, RouteKind::Robots);
    EXPECT_EQ(parseTarget("/robots.txt?x=1").kind, RouteKind::Robots);
}

TEST(ParseTarget, AnythingElseIsNotFoundWithNoToken) {
    for (const char* target : {"/", "", "/u/", "/u", "/x/12-abc", "/U/12-abc", "/u/12-abc/extra", "/u/../v/12-abc",
                               "/u/12-ab%63", "//u/12-abc", "u/12-abc"}) {
        const Route r = parseTarget(target);
        EXPECT_EQ(r.kind, RouteKind::NotFound) << target;
        EXPECT_EQ(r.token, "") << target;
    }
}

TEST(ParseTarget, ATargetLongerThanTheLimitIsNotFound) {
    std::string target = "/u/12-abc?" + std::string(kMaxTarget, 'a');
    EXPECT_EQ(parseTarget(target).kind, RouteKind::NotFound);
    target = "/u/12-abc?" + std::string(kMaxTarget - 10, 'a');
    EXPECT_EQ(parseTarget(target).kind, RouteKind::Unsubscribe);
}

TEST(TokenShape, DigitsDashBase32WithinTheBounds) {
    EXPECT_TRUE(tokenShapeOk("1-a"));
    EXPECT_TRUE(tokenShapeOk("18446744073709551615-" + std::string(42, 'z')));
    EXPECT_TRUE(tokenShapeOk("9-AbC234567"));
    EXPECT_FALSE(tokenShapeOk(""));
    EXPECT_FALSE(tokenShapeOk("-abc"));              // no campaign id
    EXPECT_FALSE(tokenShapeOk("12-"));               // no tag
    EXPECT_FALSE(tokenShapeOk("012-abc"));           // leading zero
    EXPECT_FALSE(tokenShapeOk("123456789012345678901-abc"));  // 21 digits
    EXPECT_FALSE(tokenShapeOk("12-abc1"));           // '1' is not base32
    EXPECT_FALSE(tokenShapeOk("12-abc8"));           // nor is '8'
    EXPECT_FALSE(tokenShapeOk("12-ab-c"));
    EXPECT_FALSE(tokenShapeOk("1a-abc"));
    EXPECT_FALSE(tokenShapeOk("12-" + std::string(43, 'a')));  // tag too long
}

TEST(ClassifyPost, Rfc8058OneClickAsUrlencodedWithOrWithoutAContentType) {
    EXPECT_EQ(classifyPost("application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"), PostKind::OneClick);
    EXPECT_EQ(classifyPost("Application/X-WWW-Form-Urlencoded; charset=utf-8", "List-Unsubscribe=One-Click\r\n"),
              PostKind::OneClick);
    EXPECT_EQ(classifyPost("", "List-Unsubscribe=One-Click"), PostKind::OneClick);
    EXPECT_EQ(classifyPost("application/x-www-form-urlencoded", "a=b&List-Unsubscribe=One-Click"), PostKind::OneClick);
}

TEST(ClassifyPost, Rfc8058OneClickAsMultipartFormData) {
    const std::string body =
        "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
    EXPECT_EQ(classifyPost("multipart/form-data; boundary=XyZ", body), PostKind::OneClick);
    EXPECT_EQ(classifyPost("multipart/form-data; boundary=\"XyZ\"", body), PostKind::OneClick);
    EXPECT_EQ(classifyPost("multipart/form-data; boundary=Other", body), PostKind::Invalid);
    EXPECT_EQ(classifyPost("multipart/form-data", body), PostKind::Invalid);  // no boundary
    const std::string wrong =
        "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nYes\r\n--XyZ--\r\n";
    EXPECT_EQ(classifyPost("multipart/form-data; boundary=XyZ", wrong), PostKind::Invalid);
}

TEST(ClassifyPost, ThePageButton) {
    EXPECT_EQ(classifyPost("application/x-www-form-urlencoded", "unsubscribe=yes"), PostKind::Page);
}

TEST(ClassifyPost, AnythingElseIsInvalid) {
    EXPECT_EQ(classifyPost("application/x-www-form-urlencoded", ""), PostKind::Invalid);
    EXPECT_EQ(classifyPost("application/x-www-form-urlencoded", "List-Unsubscribe=one-click"), PostKind::Invalid);
    EXPECT_EQ(classifyPost("application/x-www-form-urlencoded", "List-Unsubscribe=One-Click&List-Unsubscribe=One-Click"),
              PostKind::Invalid);  // twice
    EXPECT_EQ(classifyPost("application/x-www-form-urlencoded", "List-Unsubscribe=One-Click&List-Unsubscribe=No"),
              PostKind::Invalid);
    EXPECT_EQ(classifyPost("text/plain", "List-Unsubscribe=One-Click"), PostKind::Invalid);
    EXPECT_EQ(classifyPost("application/x-www-form-urlencodedX", "List-Unsubscribe=One-Click"), PostKind::Invalid);
    EXPECT_EQ(classifyPost("application/x-www-form-urlencoded", "unsubscribe=no"), PostKind::Invalid);
    EXPECT_EQ(classifyPost("application/x-www-form-urlencoded",
                           "List-Unsubscribe=One-Click&" + std::string(kMaxBody, 'x')),
              PostKind::Invalid);  // longer than the bound
}

TEST(EscapeHtml, TextAndBothQuotesAreSafe) {
    EXPECT_EQ(escapeHtml("<a href=\"x\" title='y'>&</a>"),
              "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

}  // namespace
}  // namespace campaignd::web

// pages_test.cpp: campaignd-web's pages (web/pages.h): every value from the daemon is escaped,
// the unsubscribe page has one form POST and no script or external resource, someone already
// unsubscribed is told so instead of being offered the button.
#include "web/pages.h"

#include <gtest/gtest.h>

#include <string>

namespace campaignd::web {
namespace {

Description hostile() {
    Description d;
    d.sender = "<script>alert(1)</script>";
    d.campaignName = "\"><img src=x onerror=alert(2)>";
    d.maskedAddress = "a\u2022\u2022\u2022@example.org";
    return d;
}

bool has(const std::string& page, const std::string& part) { return page.find(part) != std::string::npos; }

TEST(Pages, ValuesFromTheDaemonAreEscapedOnEveryPage) {
    for (const std::string& page : {unsubscribePage(hostile()), confirmationPage(hostile())}) {
        EXPECT_FALSE(has(page, "<script")) << page;
        EXPECT_FALSE(has(page, "<img")) << page;
        EXPECT_TRUE(has(page, "&lt;script&gt;alert(1)&lt;/script&gt;")) << page;
        EXPECT_TRUE(has(page, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;")) << page;
        EXPECT_TRUE(has(page, "a\u2022\u2022\u2022@example.org")) << page;
    }
    EXPECT_FALSE(has(errorPage("<b>", "<i>"), "<b>"));
    EXPECT_FALSE(has(viewPage("</title><script>", "<p>body</p>"), "</title><script>"));
}

TEST(Pages, TheUnsubscribePageHasOneButtonPostingToItselfAndNoScriptOrExternalResource) {
    const std::string page = unsubscribePage(hostile());
    EXPECT_TRUE(has(page, "<form method=\"post\">"));
    EXPECT_FALSE(has(page, "action="));  // the same URL, token included
    EXPECT_TRUE(has(page, "name=\"unsubscribe\" value=\"yes\""));
    std::size_t buttons = 0;
    for (std::size_t at = page.find("<button"); at != std::string::npos; at = page.find("<button", at + 1)) ++buttons;
    EXPECT_EQ(buttons, 1u);
    EXPECT_FALSE(has(page, "http://"));
    EXPECT_FALSE(has(page, "https://"));
    EXPECT_FALSE(has(page, "<link"));
    EXPECT_TRUE(has(page, "noindex"));
}

TEST(Pages, SomeoneAlreadyUnsubscribedIsToldSoAndOfferedNoButton) {
    Description d = hostile();
    d.unsubscribed = true;
    const std::string page = unsubscribePage(d);
    EXPECT_TRUE(has(page, "You are unsubscribed"));
    EXPECT_FALSE(has(page, "<button"));
    EXPECT_FALSE(has(page, "<form"));
}

TEST(Pages, TheViewPageCarriesTheSanitisedHtmlAsGivenAndTheSubjectEscaped) {
    const std::string page = viewPage("Winter & news", "<p>Hello <b>Ann</b></p>");
    EXPECT_TRUE(has(page, "<title>Winter &amp; news</title>"));
    EXPECT_TRUE(has(page, "<p>Hello <b>Ann</b></p>"));
}

TEST(Pages, TheNotFoundPageSaysNothingAboutWhy) {
    const std::string page = notFoundPage();
    EXPECT_TRUE(has(page, "This link is not valid."));
    EXPECT_FALSE(has(page, "token"));
    EXPECT_FALSE(has(page, "expired"));
}

}  // namespace
}  // namespace campaignd::web

// personalisation_test.cpp: which templates the campaign service may store.
#include "mail/personalisation.h"

#include "rules/html_sanitizer.h"

#include <gtest/gtest.h>

namespace campaignd::mail {
namespace {

TEST(ValidateTemplate, AcceptsTheKnownVariablesSectionsAndComments) {
    EXPECT_EQ(validateTemplate(""), "");
    EXPECT_EQ(validateTemplate("Plain text, no tags"), "");
    EXPECT_EQ(validateTemplate("Hi {{name}} <{{ email }}>, {{unsubscribe_url}}"), "");
    EXPECT_EQ(validateTemplate("{{#name}}Dear {{name}}{{/name}}{{^name}}Hello{{/name}} {{! note }}"), "");
    EXPECT_EQ(validateTemplate("<style>p { color: red }</style>"), "");
}

// A recipient named "javascript:alert(document.domain)//" must not become a live link.
TEST(ValidateHtmlTemplate, AVariableMayNotStartAUrlOrStandInCss) {
    EXPECT_EQ(validateHtmlTemplate("<p>Hi {{name}}</p><a href=\"https://example.org/?who={{email}}\">x</a>"), "");
    EXPECT_EQ(validateHtmlTemplate("<a href=\"{{unsubscribe_url}}\">Unsubscribe</a>"), "");
    EXPECT_EQ(validateHtmlTemplate("<a href=\" {{ unsubscribe_url }}\">Unsubscribe</a>"), "");
    EXPECT_EQ(validateHtmlTemplate("<p title=\"{{name}}\">plain attributes take values</p>"), "");
    for (const char* html : {"<a href=\"{{name}}\">x</a>", "<a HREF=' {{email}}'>x</a>", "<img src=\"{{name}}\">",
                             "<table background=\"{{name}}\"></table>", "<blockquote cite=\"{{name}}\">q</blockquote>"}) {
        const std::string problem = validateHtmlTemplate(html);
        EXPECT_NE(problem.find("a variable cannot start a URL"), std::string::npos) << html << ": " << problem;
    }
    // Nor may one follow a start that leaves the scheme (or the host) open.
    EXPECT_EQ(validateHtmlTemplate("<a href=\"/news/{{email}}\">x</a><a href=\"mailto:{{email}}\">y</a>"
                                   "<a href=\"#{{name}}\">z</a><a href=\"?who={{name}}\">w</a>"),
              "");
    for (const char* html : {"<a href=\"j{{name}}\">x</a>", "<a href=\"&#106;ava{{name}}\">x</a>",
                             "<a href=\"java&#10;{{! c }}{{name}}\">x</a>", "<a href=\"/{{name}}\">x</a>",
                             "<img src=\"\\\\{{name}}\">"}) {
        const std::string problem = validateHtmlTemplate(html);
        EXPECT_NE(problem.find("a variable cannot stand in a URL's scheme or host"), std::string::npos)
            << html << ": " << problem;
    }
    // Written as character references it is no tag, but the sanitiser's output (what is stored)
    // makes it one again: the campaign service checks that output.
    const std::string problem = validateHtmlTemplate(rules::sanitizeHtml("<a href=\"&#123;&#123;name}}\">x</a>"));
    EXPECT_NE(problem.find("a variable cannot start a URL"), std::string::npos) << problem;
    EXPECT_NE(validateHtmlTemplate("<p style=\"color: {{name}}\">x</p>").find("style attribute"), std::string::npos);
    EXPECT_NE(validateHtmlTemplate("<style>p { background: url({{name}}) }</style><p>x</p>").find("style element"),
              std::string::npos);
    EXPECT_NE(validateHtmlTemplate("<p>{{nmae}}</p>").find("unknown variable"), std::string::npos)
        << "the template rules first";
}

TEST(ValidateTemplate, UnknownVariablesAreNamedWithTheKnownOnes) {
    const std::string message = validateTemplate("Hello\nDear {{nmae}}");
    EXPECT_NE(message.find("line 2"), std::string::npos) << message;
    EXPECT_NE(message.find("unknown variable \"nmae\""), std::string::npos) << message;
    EXPECT_NE(message.find("{{name}}, {{email}}, {{unsubscribe_url}}"), std::string::npos) << message;
    EXPECT_NE(validateTemplate("{{#company}}x{{/company}}"), "");
    EXPECT_NE(validateTemplate("{{name.first}}"), "");
}

TEST(ValidateTemplate, RefusesUnescapedPartialsAndDelimiterChanges) {
    EXPECT_NE(validateTemplate("{{{name}}}").find("triple"), std::string::npos);
    EXPECT_NE(validateTemplate("{{&name}}").find("unescaped"), std::string::npos);
    EXPECT_NE(validateTemplate("{{>footer}}").find("partials"), std::string::npos);
    EXPECT_NE(validateTemplate("{{=<% %>=}}<% name %>").find("delimiters"), std::string::npos);
    EXPECT_NE(validateTemplate("{{}}"), "");
}

TEST(ValidateTemplate, RefusesBrokenStructure) {
    EXPECT_NE(validateTemplate("Hi {{name"), "");
    EXPECT_NE(validateTemplate("{{#name}}unclosed"), "");
    EXPECT_NE(validateTemplate("{{#name}}x{{/email}}"), "");
}

TEST(ValidateTemplate, ListsTheKnownVariables) {
    ASSERT_EQ(templateVariables().size(), 4u);
    EXPECT_EQ(templateVariables()[0], "name");
    EXPECT_EQ(templateVariables()[1], "email");
    EXPECT_EQ(templateVariables()[2], "unsubscribe_url");
    EXPECT_EQ(templateVariables()[3], "view_url");
}

}  // namespace
}  // namespace campaignd::mail

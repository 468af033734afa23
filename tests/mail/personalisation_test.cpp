// personalisation_test.cpp: which templates the campaign service may store.
#include "mail/personalisation.h"

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
    ASSERT_EQ(templateVariables().size(), 3u);
    EXPECT_EQ(templateVariables()[0], "name");
    EXPECT_EQ(templateVariables()[1], "email");
    EXPECT_EQ(templateVariables()[2], "unsubscribe_url");
}

}  // namespace
}  // namespace campaignd::mail

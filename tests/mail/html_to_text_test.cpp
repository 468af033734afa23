// html_to_text_test.cpp: the text part a reader sees when a campaign has only HTML.
#include "mail/html_to_text.h"

#include <gtest/gtest.h>

namespace campaignd::mail {
namespace {

TEST(HtmlToText, ParagraphsHeadingsAndBreaks) {
    EXPECT_EQ(htmlToText("<h1>Spring news</h1><p>Hello <b>dear</b>   reader,\n  welcome.</p><p>Line one<br>Line two</p>"),
              "Spring news\n\nHello dear reader, welcome.\n\nLine one\nLine two\n");
}

TEST(HtmlToText, EntitiesAreDecodedAndWhiteSpaceCollapsed) {
    EXPECT_EQ(htmlToText("<p>Fish &amp; chips &lt;3 &eacute;t&eacute; &#8364;5&nbsp;each</p>"),
              "Fish & chips <3 été €5 each\n");
    EXPECT_EQ(htmlToText("<div>  a  </div>\n\n<div>\tb </div>"), "a\nb\n");
}

TEST(HtmlToText, ListsReadAsItems) {
    EXPECT_EQ(htmlToText("<p>Today:</p><ul><li>Apples</li><li>Pears<ul><li>Conference</li></ul></li></ul>"
                         "<ol start=\"3\"><li>Third</li><li>Fourth</li></ol>"),
              "Today:\n\n- Apples\n- Pears\n  - Conference\n\n3. Third\n4. Fourth\n");
}

TEST(HtmlToText, LinksShowTheirUrlWhenTheTextIsDifferent) {
    EXPECT_EQ(htmlToText("<p>Read <a href=\"https://example.org/news\">our news</a> today.</p>"),
              "Read our news <https://example.org/news> today.\n");
    EXPECT_EQ(htmlToText("<p><a href=\"https://example.org/\">example.org</a> and "
                         "<a href=\"mailto:team@example.org\">team@example.org</a></p>"),
              "example.org and team@example.org\n");
    EXPECT_EQ(htmlToText("<p><a href=\"#top\">Top</a> <a href=\"https://x.org/l\"><img alt=\"\" src=\"l.png\"></a></p>"),
              "Top <https://x.org/l>\n");
}

TEST(HtmlToText, SkipsHeadStylesAndHiddenElements) {
    EXPECT_EQ(htmlToText("<!DOCTYPE html><html><head><title>T</title><style>p{color:red}</style></head>"
                         "<body><div style=\"display: none\">preheader</div><p>Body</p></body></html>"),
              "Body\n");
}

TEST(HtmlToText, LongParagraphsWrapAt76WithoutBreakingWords) {
    std::string words;
    for (int i = 0; i < 40; ++i) words += "word" + std::to_string(i) + " ";
    const std::string text = htmlToText("<p>" + words + "</p><p>https://example.org/" + std::string(100, 'x') + "</p>");
    std::size_t start = 0, lines = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        const std::string line = text.substr(start, end - start);
        if (line.find("https://") == std::string::npos) {
            EXPECT_LE(line.size(), 76u) << line;
        }
        ++lines;
        start = end + 1;
    }
    EXPECT_GE(lines, 5u);
    EXPECT_NE(text.find("https://example.org/" + std::string(100, 'x')), std::string::npos);
}

TEST(HtmlToText, QuotationsPreformattedTextAndTables) {
    EXPECT_EQ(htmlToText("<blockquote><p>Quoted words</p></blockquote><pre>a  b\n  c</pre>"
                         "<table><tr><td>Name</td><td>Value</td></tr><tr><td>x</td><td>1</td></tr></table>"),
              "> Quoted words\n\na  b\n  c\n\nName Value\nx 1\n");
}

TEST(HtmlToText, MustacheTagsComeThroughAsText) {
    EXPECT_EQ(htmlToText("<p>Dear {{name}},</p><p><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p>"),
              "Dear {{name}},\n\nUnsubscribe <{{unsubscribe_url}}>\n");
}

TEST(HtmlToText, EmptyInputGivesEmptyText) {
    EXPECT_EQ(htmlToText(""), "");
    EXPECT_EQ(htmlToText("   "), "");
    EXPECT_EQ(htmlToText("<img src=\"x.png\">"), "");
}

}  // namespace
}  // namespace campaignd::mail

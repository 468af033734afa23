// table_test.cpp: what a user sees in campaignd-ctl's tables and "Label: value" blocks:
// columns sized by content, counted in code points so non-ASCII names line up, numbers
// right-aligned on request, no trailing spaces, and no terminal escapes from the daemon's data.
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "table.h"

using namespace campaignd::ctl;

namespace {

std::vector<std::string> lines(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

// Code-point index at which NEEDLE starts in LINE.
std::size_t columnOf(const std::string& line, const std::string& needle)
{
    auto byte = line.find(needle);
    EXPECT_NE(byte, std::string::npos) << needle << " not in " << line;
    return displayWidth(line.substr(0, byte));
}

// What a terminal shows: a CJK character or an emoji takes two columns, a combining mark none.
TEST(DisplayWidth, CountsTerminalColumns)
{
    EXPECT_EQ(displayWidth(""), 0u);
    EXPECT_EQ(displayWidth("abc"), 3u);
    EXPECT_EQ(displayWidth("Zoë"), 3u);
    EXPECT_EQ(displayWidth("Zoe\u0308"), 3u) << "e and a combining diaeresis are one column";
    EXPECT_EQ(displayWidth("日本語"), 6u);
    EXPECT_EQ(displayWidth("😀x"), 3u);
}

TEST(Table, ColumnsAreSizedByContent)
{
    Table table({"ID", "NAME", "STATUS"});
    table.addRow({"1", "December news", "Draft"});
    table.addRow({"12", "X", "In Progress"});
    EXPECT_EQ(table.render(),
              "ID  NAME           STATUS\n"
              "1   December news  Draft\n"
              "12  X              In Progress\n");
}

TEST(Table, RightAlignedColumns)
{
    Table table({"ID", "NAME", "SENT"});
    table.setAlign(0, Align::Right);
    table.setAlign(2, Align::Right);
    table.addRow({"7", "a", "1200"});
    table.addRow({"123", "bb", "3"});
    EXPECT_EQ(table.render(),
              " ID  NAME  SENT\n"
              "  7  a     1200\n"
              "123  bb       3\n");
}

TEST(Table, NonAsciiNamesKeepColumnsAligned)
{
    Table table({"EMAIL", "NAME", "STATUS"});
    table.addRow({"zoe@example.com", "Zoë Ångström", "subscribed"});
    table.addRow({"taro@example.jp", "山田太郎", "unsubscribed"});
    table.addRow({"bob@example.org", "Bob", "subscribed"});
    auto rows = lines(table.render());
    ASSERT_EQ(rows.size(), 4u);
    std::size_t statusColumn = columnOf(rows[0], "STATUS");
    EXPECT_EQ(columnOf(rows[1], "subscribed"), statusColumn);
    EXPECT_EQ(columnOf(rows[2], "unsubscribed"), statusColumn);
    EXPECT_EQ(columnOf(rows[3], "subscribed"), statusColumn);
    EXPECT_EQ(statusColumn, displayWidth("zoe@example.com  Zoë Ångström  "));
}

// A name wider on screen than in code points (CJK: two columns a character) sizes its column by
// what the terminal shows. Measured here by hand, not with displayWidth: ASCII one column, each
// of these CJK characters (three UTF-8 bytes) two.
TEST(Table, WideCharactersSizeTheirColumnAsTheTerminalShowsThem)
{
    Table table({"EMAIL", "NAME", "STATUS"});
    table.addRow({"zoe@example.com", "Zoë Ångström", "subscribed"});   // 12 columns
    table.addRow({"taro@example.jp", "山田太郎山田太郎", "unsubscribed"});  // 16 columns
    const auto rows = lines(table.render());
    ASSERT_EQ(rows.size(), 3u);
    const auto terminalColumn = [](const std::string& line, const std::string& needle) {
        const std::string prefix = line.substr(0, line.find(needle));
        std::size_t columns = 0;
        for (std::size_t i = 0; i < prefix.size();) {
            const auto c = static_cast<unsigned char>(prefix[i]);
            if (c < 0x80) { ++columns; ++i; }
            else if (c >= 0xE0) { columns += 2; i += 3; }  // the CJK characters above
            else { ++columns; i += 2; }                    // ë, Å
        }
        return columns;
    };
    EXPECT_EQ(terminalColumn(rows[0], "STATUS"), 15u + 2 + 16 + 2);
    EXPECT_EQ(terminalColumn(rows[1], "subscribed"), terminalColumn(rows[0], "STATUS")) << rows[1];
    EXPECT_EQ(terminalColumn(rows[2], "unsubscribed"), terminalColumn(rows[0], "STATUS")) << rows[2];
}

TEST(Table, NoTrailingSpaces)
{
    Table table({"NAME", "ERROR"});
    table.addRow({"smtp", ""});
    table.addRow({"a-much-longer-name", "boom"});
    for (const auto& line : lines(table.render())) {
        ASSERT_FALSE(line.empty());
        EXPECT_NE(line.back(), ' ') << "[" << line << "]";
    }
}

TEST(Table, ShortAndLongRowsAreFitted)
{
    Table table({"A", "B"});
    table.addRow({"1"});
    table.addRow({"1", "2", "3"});
    EXPECT_EQ(table.render(), "A  B\n1\n1  2\n");
}

TEST(Table, EmptyTableIsJustTheHeader)
{
    Table table({"NAME", "MEMBERS", "CREATED"});
    EXPECT_TRUE(table.empty());
    EXPECT_EQ(table.render(), "NAME  MEMBERS  CREATED\n");
}

TEST(Table, ControlCharactersCannotReachTheTerminal)
{
    Table table({"NAME", "X"});
    table.addRow({"\x1b[2Jevil\nname\ttab\x7f", "y"});
    table.addRow({"c1\xc2\x9b" "31m", "z"});  // U+009B, the 8-bit CSI
    std::string out = table.render();
    EXPECT_EQ(out.find('\x1b'), std::string::npos);
    EXPECT_EQ(out.find('\x7f'), std::string::npos);
    EXPECT_EQ(out.find("\xc2\x9b"), std::string::npos);
    auto rows = lines(out);
    ASSERT_EQ(rows.size(), 3u);  // the newline in the name did not add a line
    EXPECT_EQ(rows[1], "?[2Jevil name tab?  y");
    EXPECT_EQ(rows[2], "c1?31m              z");
}

TEST(Sanitize, LeavesPrintableUnicodeAlone)
{
    EXPECT_EQ(sanitizeForTerminal("Zoë 日本 😀"), "Zoë 日本 😀");
    EXPECT_EQ(sanitizeForTerminal("a\tb\r\nc"), "a b  c");
}

TEST(Sanitize, EscapingShowsControlCharactersInsteadOfActingOnThem)
{
    EXPECT_EQ(escapeForTerminal("550 5.1.1 \x1b[31mred\x1b[0m\r\nX"), "550 5.1.1 \\x1B[31mred\\x1B[0m\\r\\nX");
    EXPECT_EQ(escapeForTerminal("Zoë \xc2\x9b"), "Zoë \\u009B");
    EXPECT_EQ(escapeForTerminal("plain"), "plain");
}

TEST(Fields, ValuesAreAlignedAfterTheLongestLabel)
{
    EXPECT_EQ(renderFields({{"ID", "7"}, {"Name", "Zoë's news"}, {"Recipients", "3"}}),
              "ID:         7\n"
              "Name:       Zoë's news\n"
              "Recipients: 3\n");
}

TEST(Fields, NonAsciiLabelsAndEmptyValues)
{
    EXPECT_EQ(renderFields({{"Größe", "1"}, {"X", ""}}),
              "Größe: 1\n"
              "X:\n");
}

}  // namespace

// csv_export_test.cpp: cells of the CSV files campaignd writes are quoted when they must be
// and never run as a formula in a spreadsheet.
#include <gtest/gtest.h>

#include "rules/csv_export.h"

using campaignd::rules::csvCell;

TEST(CsvCell, PlainTextIsKept) {
    EXPECT_EQ(csvCell("user@example.org"), "user@example.org");
    EXPECT_EQ(csvCell(""), "");
    EXPECT_EQ(csvCell("Zoë"), "Zoë");
}

TEST(CsvCell, DelimitersQuotesAndLineBreaksAreQuoted) {
    EXPECT_EQ(csvCell("a,b"), "\"a,b\"");
    EXPECT_EQ(csvCell("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csvCell("two\nlines"), "\"two\nlines\"");
    EXPECT_EQ(csvCell("cr\rhere"), "\"cr\rhere\"");
}

TEST(CsvCell, FormulasAreNeutralised) {
    EXPECT_EQ(csvCell("=1+1"), "'=1+1");
    EXPECT_EQ(csvCell("+1"), "'+1");
    EXPECT_EQ(csvCell("-1"), "'-1");
    EXPECT_EQ(csvCell("@SUM(A1)"), "'@SUM(A1)");
    EXPECT_EQ(csvCell("\tx"), "'\tx");
    EXPECT_EQ(csvCell("=HYPERLINK(\"http://x\",\"y\")"), "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    EXPECT_EQ(csvCell("a=b"), "a=b");
}

TEST(CsvCell, ControlCharactersCannotReachATerminal) {
    EXPECT_EQ(csvCell("550 \x1b]0;owned\x07 gone"), "550 \\x1B]0;owned\\x07 gone");
    EXPECT_EQ(csvCell("\xc2\x9b" "2J"), "\\u009B2J") << "the 8-bit CSI";
    EXPECT_EQ(csvCell(std::string("nul\0here", 8)), "nul\\x00here");
    EXPECT_EQ(csvCell("bad \xff byte"), "bad \\xFF byte");
    EXPECT_EQ(csvCell("=cmd|\x1b"), "'=cmd|\\x1B") << "still neutralised as a formula";
    EXPECT_EQ(csvCell("tab\tand\nline"), "\"tab\tand\nline\"") << "tab and line breaks are CSV's to carry";
}

// csv_parser_test.cpp: the tokenizer on its own: RFC 4180, what real files do, and every input
// fed whole and in tiny chunks (1, 2, 3, 5, 7 bytes) so that chunk boundaries fall inside quoted
// fields, CRLFs, the BOM and multi-byte characters; each must give the same records.
#include "csv_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using campaignd::csv::Parser;
using campaignd::csv::Record;
using campaignd::csv::RecordHandler;
using campaignd::csv::StructuralError;

using Rows = std::vector<std::vector<std::string>>;

struct Parsed {
    Rows rows;
    std::vector<std::uint64_t> lines;
    std::string error;  // what() of a StructuralError, or ""
    char delimiter = 0;
    bool operator==(const Parsed&) const = default;
};

struct Collect final : RecordHandler {
    Parsed* out;
    void onRecord(const Record& r) override {
        out->rows.emplace_back(r.fields.begin(), r.fields.end());
        out->lines.push_back(r.line);
    }
};

Parsed parseChunked(std::string_view input, std::size_t chunk, char delimiter, std::size_t maxRecord) {
    Parsed out;
    Collect collect;
    collect.out = &out;
    Parser parser(delimiter, maxRecord);
    try {
        for (std::size_t at = 0; at < input.size(); at += chunk) parser.feed(input.substr(at, chunk), collect);
        parser.finish(collect);
    } catch (const StructuralError& e) {
        out.error = e.what();
    }
    out.delimiter = parser.delimiter();
    return out;
}

// Parses input whole, then in chunks of 1, 2, 3, 5 and 7 bytes; all must agree.
Parsed parse(std::string_view input, char delimiter = 0, std::size_t maxRecord = campaignd::csv::kMaxRecordBytes) {
    const Parsed whole = parseChunked(input, input.size() + 1, delimiter, maxRecord);
    for (std::size_t chunk : {1, 2, 3, 5, 7}) {
        EXPECT_EQ(parseChunked(input, chunk, delimiter, maxRecord), whole) << "chunk size " << chunk;
    }
    return whole;
}

TEST(CsvParser, SimpleRecordsWithLf) {
    const Parsed p = parse("email,name\na@b.org,Ann\nc@d.org,Bob\n");
    EXPECT_EQ(p.error, "");
    EXPECT_EQ(p.rows, (Rows{{"email", "name"}, {"a@b.org", "Ann"}, {"c@d.org", "Bob"}}));
    EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_EQ(p.delimiter, ',');
}

TEST(CsvParser, CrlfAndLastLineWithoutNewline) {
    const Parsed p = parse("email,name\r\na@b.org,Ann\r\nc@d.org,Bob");
    EXPECT_EQ(p.rows, (Rows{{"email", "name"}, {"a@b.org", "Ann"}, {"c@d.org", "Bob"}}));
    EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(CsvParser, QuotedFieldsWithDelimitersDoubledQuotesAndNewlines) {
    const Parsed p = parse("a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\nnext,1,2\n");
    EXPECT_EQ(p.error, "");
    EXPECT_EQ(p.rows, (Rows{{"a", "b", "c"}, {"x,y", "say \"hi\"", "two\nlines"}, {"next", "1", "2"}}));
    EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2, 4}));  // the record after a two-line field
}

TEST(CsvParser, CrlfInsideAQuotedFieldIsKeptAndCountsOneLine) {
    const Parsed p = parse("a,b\r\n\"one\r\ntwo\",x\r\nlast,y\r\n");
    EXPECT_EQ(p.rows, (Rows{{"a", "b"}, {"one\r\ntwo", "x"}, {"last", "y"}}));
    EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2, 4}));
}

TEST(CsvParser, LoneCrEndsARecordLikeAnOldMacFile) {
    const Parsed p = parse("email,name\ra@b.org,Ann\rc@d.org,Bob\r");
    EXPECT_EQ(p.rows, (Rows{{"email", "name"}, {"a@b.org", "Ann"}, {"c@d.org", "Bob"}}));
    EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(CsvParser, LoneCrInsideQuotesIsDataAndALine) {
    const Parsed p = parse("a\n\"x\ry\"\nz\n");
    EXPECT_EQ(p.rows, (Rows{{"a"}, {"x\ry"}, {"z"}}));
    EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2, 4}));
}

TEST(CsvParser, QuotesInsideUnquotedFieldsAreLiteral) {
    const Parsed p = parse("a,b\nO\"Brien,5\" tall\n");
    EXPECT_EQ(p.rows, (Rows{{"a", "b"}, {"O\"Brien", "5\" tall"}}));
}

TEST(CsvParser, TextAfterAClosingQuoteIsAppended) {
    const Parsed p = parse("a,b\n\"ab\"c,\"x\" y\n");
    EXPECT_EQ(p.rows, (Rows{{"a", "b"}, {"abc", "x y"}}));
}

TEST(CsvParser, BlankLinesAreSkippedButEmptyFieldsKept) {
    const Parsed p = parse("\n\r\na,b\n\n,\n\r\nx,\n\n");
    EXPECT_EQ(p.rows, (Rows{{"a", "b"}, {"", ""}, {"x", ""}}));
    EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{3, 5, 7}));
}

TEST(CsvParser, EmptyInputHasNoRecords) {
    EXPECT_EQ(parse("").rows, Rows{});
    EXPECT_EQ(parse("\n\n\r\n").rows, Rows{});
    EXPECT_EQ(parse("\xEF\xBB\xBF").rows, Rows{});
}

TEST(CsvParser, TrailingDelimiterMakesAnEmptyLastField) {
    EXPECT_EQ(parse("a,b,\n1,2,").rows, (Rows{{"a", "b", ""}, {"1", "2", ""}}));
}

TEST(CsvParser, BomIsDroppedEvenWhenSplitAcrossChunks) {
    const Parsed p = parse("\xEF\xBB\xBF" "email;name\na@b.org;Zoë\n");
    EXPECT_EQ(p.rows, (Rows{{"email", "name"}, {"a@b.org", "Zoë"}}));
    EXPECT_EQ(p.delimiter, ';');
}

TEST(CsvParser, ABomLaterInTheFileIsData) {
    EXPECT_EQ(parse("a\n\xEF\xBB\xBFx\n").rows, (Rows{{"a"}, {"\xEF\xBB\xBFx"}}));
}

TEST(CsvParser, DelimiterIsDetectedFromTheHeader) {
    EXPECT_EQ(parse("email\tname\na@b.org\tAnn, Lee\n").rows, (Rows{{"email", "name"}, {"a@b.org", "Ann, Lee"}}));
    EXPECT_EQ(parse("email;name;groups\na;b,c;d\n").delimiter, ';');
    // Commas inside a quoted header name do not count.
    EXPECT_EQ(parse("\"Name, full\";email\nx;y\n").delimiter, ';');
    // A single column: comma.
    EXPECT_EQ(parse("email\na@b.org\n").delimiter, ',');
    // Leading blank lines are skipped before detection.
    EXPECT_EQ(parse("\r\n\r\nemail;name\r\n").delimiter, ';');
}

TEST(CsvParser, AGivenDelimiterWins) {
    const Parsed p = parse("a;b,c\n1;2,3\n", ',');
    EXPECT_EQ(p.rows, (Rows{{"a;b", "c"}, {"1;2", "3"}}));
}

TEST(CsvParser, MultiByteCharactersSurviveEveryChunkBoundary) {
    const std::string text = "名前,email\n\"Ærøskøbing 🚀\",x@y.org\nJosé Müller,é@x.org\n";
    EXPECT_EQ(parse(text).rows, (Rows{{"名前", "email"}, {"Ærøskøbing 🚀", "x@y.org"}, {"José Müller", "é@x.org"}}));
}

TEST(CsvParser, UnterminatedQuoteNamesTheLineWhereTheFieldStarts) {
    const Parsed p = parse("email,name\na@b.org,Ann\nc@d.org,\"Bob\nmore\nand more\n");
    EXPECT_EQ(p.error, "line 3: a quoted field starts here and is never closed (a '\"' is missing)");
    EXPECT_EQ(p.rows.size(), 2u);  // the records before it
}

TEST(CsvParser, InvalidUtf8IsAStructuralErrorWithItsLine) {
    EXPECT_EQ(parse("a,b\nx,y\nLatin-1 \xE9t\xE9,z\n").error,
              "line 3: the text is not valid UTF-8 (save the file as UTF-8; field 1)");
    // Inside a multi-line quoted field: the line of the bad byte.
    EXPECT_EQ(parse("a,b\n\"one\ntwo\n\xFF\",z\n").error,
              "line 4: the text is not valid UTF-8 (save the file as UTF-8; field 1)");
    // Overlong encoding, surrogate, truncated sequence at the end.
    EXPECT_NE(parse("a\n\xC0\xAF\n").error, "");
    EXPECT_NE(parse("a\n\xED\xA0\x80\n").error, "");
    EXPECT_NE(parse("a\n\xE2\x82").error, "");
}

TEST(CsvParser, ADelimiterCannotJoinTwoHalvesOfACharacter) {
    // "\xC3" and "\xA9" are each invalid; together ("é") they would not be.
    EXPECT_EQ(parse("a,b\n\xC3,\xA9\n").error, "line 2: the text is not valid UTF-8 (save the file as UTF-8; field 1)");
}

TEST(CsvParser, AOneMegabyteFieldIsFine) {
    const std::string big(1 << 20, 'x');
    const Parsed p = parseChunked("name,email\n\"" + big + "\",a@b.org\n" + big + ",c@d.org\n", 4096, 0,
                                  campaignd::csv::kMaxRecordBytes);
    EXPECT_EQ(p.error, "");
    ASSERT_EQ(p.rows.size(), 3u);
    EXPECT_EQ(p.rows[1][0].size(), big.size());
    EXPECT_EQ(p.rows[2][0], big);
    EXPECT_EQ(p.rows[2][1], "c@d.org");
}

TEST(CsvParser, ARecordOverTheCapIsAStructuralError) {
    const std::string big(2 << 20, 'x');
    EXPECT_EQ(parse("a\n" + big + "\n", 0, 1 << 20).error, "line 2: the row is longer than 1 MiB");
    EXPECT_EQ(parse("a\n\"" + big, 0, 1 << 20).error,
              "line 2: a quoted field starts here and runs on for more than 1 MiB (a closing '\"' is probably missing)");
}

TEST(CsvParser, EmbeddedNulIsDataForTheRulesAboveToRefuse) {
    EXPECT_EQ(parse(std::string("a\nx\0y\n", 6)).rows, (Rows{{"a"}, {std::string("x\0y", 3)}}));
}

}  // namespace

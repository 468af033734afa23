// encoding_test.cpp: quoted-printable and RFC 2047 output decoded back with Poco's decoders
// (what a mail client does), and the limits the RFCs set: 76-octet lines, 75-character
// encoded-words, no UTF-8 character split across words, no CR or LF inside a header field.
#include "mail/encoding.h"

#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/QuotedPrintableDecoder.h>
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "core/error.h"
#include "client_view.h"
#include "rules/validation.h"

namespace campaignd::mail {
namespace {

std::string decodeQp(const std::string& encoded) {
    std::istringstream in(encoded);
    Poco::Net::QuotedPrintableDecoder decoder(in);
    std::ostringstream out;
    out << decoder.rdbuf();
    return out.str();
}

std::string qp(std::string_view body) {
    std::string out;
    appendQuotedPrintable(out, body);
    return out;
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t end = s.find("\r\n", start);
        if (end == std::string::npos) end = s.size();
        out.push_back(s.substr(start, end - start));
        start = end + 2;
    }
    return out;
}

std::string header(std::string_view name, std::string_view text, bool phrase = false) {
    std::string out;
    HeaderWriter writer(out, name);
    if (phrase) writer.phrase(text);
    else writer.unstructured(text);
    writer.finish();
    return out;
}

// The value a client shows.
std::string shown(const std::string& field) {
    const std::string value = field.substr(field.find(':') + 2);
    return test::clientView(value.substr(0, value.size() - 2));
}

void expectWellFormedField(const std::string& field) {
    ASSERT_GE(field.size(), 2u);
    EXPECT_EQ(field.substr(field.size() - 2), "\r\n");
    const auto ls = lines(field.substr(0, field.size() - 2));
    for (std::size_t i = 0; i < ls.size(); ++i) {
        EXPECT_LE(ls[i].size(), 76u) << ls[i];
        if (i > 0) {
            ASSERT_FALSE(ls[i].empty());
            EXPECT_EQ(ls[i][0], ' ') << "a continuation line starts with a space";
            EXPECT_NE(ls[i].find_first_not_of(' '), std::string::npos) << "no whitespace-only line";
        }
        for (unsigned char c : ls[i]) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << "byte " << int(c);
    }
    // Every encoded-word is at most 75 characters and decodes, alone, to whole UTF-8 characters.
    for (std::size_t at = field.find("=?"); at != std::string::npos; at = field.find("=?", at + 2)) {
        const std::size_t end = field.find("?=", at + 10);
        ASSERT_NE(end, std::string::npos);
        const std::string word = field.substr(at, end + 2 - at);
        EXPECT_LE(word.size(), 75u) << word;
        EXPECT_NO_THROW(rules::checkUtf8("word", Poco::Net::MessageHeader::decodeWord(word))) << word;
        at = end;
    }
}

TEST(QuotedPrintable, RoundTripsThroughPocosDecoderWithCrlfLineEnds) {
    const std::vector<std::string> bodies = {
        "Hello world",
        "Grüße aus Köln, 你好, emoji 😀 = equals\nsecond line\r\nthird\rfourth",
        std::string(300, 'x') + "\n" + std::string(150, '=') + "\n" + std::string(80, ' ') + "end",
        "trailing space \ntrailing tab\t\n",
        ".leading dot\nFrom the start\n..two",
        "<p style=\"color:red\">Ünïcödé everywhere ÄÖÜ äöü ß €</p>\n",
    };
    for (const std::string& body : bodies) {
        const std::string encoded = qp(body);
        std::string expected;
        for (std::size_t i = 0; i < body.size(); ++i) {
            if (body[i] == '\r' || body[i] == '\n') {
                if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
                expected += "\r\n";
            } else {
                expected += body[i];
            }
        }
        EXPECT_EQ(decodeQp(encoded), expected) << body;
        for (const std::string& line : lines(encoded)) {
            EXPECT_LE(line.size(), 76u) << line;
            if (!line.empty()) {
                EXPECT_NE(line.back(), ' ') << "trailing white space would be lost";
                EXPECT_NE(line.front(), '.') << "a leading dot is encoded";
                EXPECT_NE(line.rfind("From ", 0), 0u) << "a leading \"From \" is encoded";
            }
            for (unsigned char c : line) EXPECT_TRUE(c >= 0x20 && c < 0x7F);
        }
    }
}

TEST(QuotedPrintable, EncodesOnlyWhatMustBeEncoded) {
    EXPECT_EQ(qp("a=b"), "a=3Db");
    EXPECT_EQ(qp("é"), "=C3=A9");
    EXPECT_EQ(qp("end \nx"), "end=20\r\nx");
    EXPECT_EQ(qp(".x\nFrom y"), "=2Ex\r\n=46rom y");
    EXPECT_EQ(qp(std::string(76, 'a')), std::string(76, 'a'));
    EXPECT_EQ(qp(std::string(77, 'a')), std::string(75, 'a') + "=\r\naa");
}

TEST(HeaderText, CleaningTurnsControlsIntoSpacesAndRepairsUtf8) {
    EXPECT_EQ(cleanHeaderText("Eve\r\nBcc: x@example.org"), "Eve Bcc: x@example.org");
    EXPECT_EQ(cleanHeaderText("  a\t\tb\x7f" "c\xc2\x85" "d  "), "a b c d");
    EXPECT_EQ(cleanHeaderText("bad\xff"), "bad\xEF\xBF\xBD");
    EXPECT_EQ(cleanHeaderText("José"), "José");
}

TEST(HeaderText, AsciiSubjectStaysReadableAndFoldsAtSpaces) {
    const std::string subject =
        "Our spring newsletter: new products, events in your city, and a few words from the team [CID:7]";
    const std::string field = header("Subject", subject);
    expectWellFormedField(field);
    EXPECT_EQ(field.find("=?"), std::string::npos);
    EXPECT_NE(field.find("\r\n "), std::string::npos) << "long enough to fold";
    EXPECT_EQ(shown(field), subject);
}

TEST(HeaderText, NonAsciiWordsAreEncodedAndDecodeToTheSameText) {
    for (const std::string& subject : {
             std::string("Grüße aus Köln, José! [CID:42]"),
             std::string("山田太郎様、春のお知らせです。新製品とイベントのご案内をお届けします。どうぞよろしくお願いいたします。"),
             std::string("Mixed ascii and 中文 text, then Ελληνικά and русский текст and emoji 😀😀😀😀😀😀😀😀😀"),
             std::string("Looks encoded =?UTF-8?Q?x?= but is not"),
             std::string(200, 'a') + " long word"}) {
        const std::string field = header("Subject", subject);
        expectWellFormedField(field);
        EXPECT_EQ(shown(field), subject) << field;
    }
}

TEST(HeaderText, DisplayNamesQuoteSpecialsAndEncodeNonAscii) {
    EXPECT_EQ(header("To", "John Smith", true), "To: John Smith\r\n");
    EXPECT_EQ(header("To", "Doe, John \"JD\"", true), "To: \"Doe, John \\\"JD\\\"\"\r\n");
    const std::string jose = header("To", "José Müller", true);
    expectWellFormedField(jose);
    EXPECT_EQ(jose, "To: =?UTF-8?Q?Jos=C3=A9_M=C3=BCller?=\r\n");
    const std::string cjk = header("To", "山田 太郎", true);
    expectWellFormedField(cjk);
    EXPECT_EQ(shown(cjk), "山田 太郎");
}

TEST(HeaderText, TokensWithLineBreaksAreRefused) {
    std::string out;
    HeaderWriter writer(out, "Message-ID");
    EXPECT_THROW(writer.token("<a@b>\r\nBcc: x@example.org"), Error);
    EXPECT_THROW(writer.token("caf\xc3\xa9"), Error);
    EXPECT_THROW(checkHeaderToken("X", std::string("a\0b", 3)), Error);
    EXPECT_NO_THROW(checkHeaderToken("X", "<12.34.abc@example.org>"));
}

}  // namespace
}  // namespace campaignd::mail

// imap_response_test.cpp: the imap-bounce plugin's response reader (imap_response.h) on what
// a server sends: untagged lines before the tagged one, a message as a literal, a literal
// inside a line, responses split anywhere, the limits, and the UIDs of a SEARCH.
#include "imap_response.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace campaignd::imap;

// A reader over `input`, handed over `chunk` bytes at a time; the end of the input is a
// closed connection.
struct Feed {
    Feed(std::string input, std::size_t chunk) : input_(std::move(input)), chunk_(chunk) {}
    ResponseReader reader{[this](std::string& buffer, Failure& f) {
        if (at_ >= input_.size()) {
            f = {CAMPAIGND_ERR_CONNECTION, "closed"};
            return false;
        }
        const auto n = std::min(chunk_, input_.size() - at_);
        buffer.append(input_, at_, n);
        at_ += n;
        return true;
    }};

private:
    std::string input_;
    std::size_t chunk_;
    std::size_t at_ = 0;
};

const std::string kSession =
    "* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\ncd1 OK [READ-WRITE] SELECT completed\r\n"
    "* SEARCH 3 17 12345678901 42\r\ncd2 OK SEARCH completed\r\n"
    "* 3 FETCH (UID 3 BODY[] {20}\r\nSubject: x\r\n\r\nbody\r\n)\r\ncd3 OK FETCH completed\r\n"
    "cd4 NO [TRYCREATE] no such folder\r\n";

TEST(ImapResponse, ReadsEachCommandsResponseWhateverTheChunks) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{7}, kSession.size()}) {
        Feed feed(kSession, chunk);
        Response select, search, fetch, missing;
        Failure f;
        ASSERT_TRUE(feed.reader.read("cd1", select, f)) << f.message;
        EXPECT_EQ(select.status, "OK");
        EXPECT_EQ(select.text, "[READ-WRITE] SELECT completed");
        EXPECT_EQ(select.untagged, (std::vector<std::string>{"* 2 EXISTS", "* OK [UIDVALIDITY 7] ok"}));
        ASSERT_TRUE(feed.reader.read("cd2", search, f)) << f.message;
        EXPECT_EQ(searchUids(search.untagged), (std::vector<unsigned long>{3, 17, 42})) << "11 digits is no UID";
        ASSERT_TRUE(feed.reader.read("cd3", fetch, f)) << f.message;
        ASSERT_EQ(fetch.literals.size(), 1u);
        EXPECT_EQ(fetch.literals[0], "Subject: x\r\n\r\nbody\r\n");
        EXPECT_EQ(fetch.untagged, (std::vector<std::string>{"* 3 FETCH (UID 3 BODY[] )"}));
        ASSERT_TRUE(feed.reader.read("cd4", missing, f)) << f.message;
        EXPECT_EQ(missing.status, "NO");
        Response none;
        EXPECT_FALSE(feed.reader.read("cd5", none, f));
        EXPECT_EQ(f.status, CAMPAIGND_ERR_CONNECTION);
    }
}

TEST(ImapResponse, ATagThatOnlyStartsTheSameIsNotTheCommandsTag) {
    Feed feed("cd10 OK other\r\ncd1 OK mine\r\n", 5);
    Response r;
    Failure f;
    ASSERT_TRUE(feed.reader.read("cd1", r, f));
    EXPECT_EQ(r.text, "mine");
    EXPECT_EQ(r.untagged, (std::vector<std::string>{"cd10 OK other"}));
}

TEST(ImapResponse, RefusesAnOversizedLiteralAndAnOverlongLine) {
    Response r;
    Failure f;
    Feed literal("* 1 FETCH (BODY[] {" + std::to_string(kMaxMessageBytes + 1) + "}\r\n", 4096);
    EXPECT_FALSE(literal.reader.read("cd1", r, f));
    EXPECT_EQ(f.status, CAMPAIGND_ERR_FAILED);
    EXPECT_NE(f.message.find("more than the limit"), std::string::npos) << f.message;

    Feed line(std::string(kMaxLineBytes + 10, 'x'), 65536);
    EXPECT_FALSE(line.reader.read("cd1", r, f));
    EXPECT_NE(f.message.find("overlong line"), std::string::npos) << f.message;
}

// Six literals of 32 MiB took the daemon from 22 MB to 253 MB: what one response keeps is
// bounded as a whole, however the server splits it into literals or lines.
TEST(ImapResponse, RefusesAResponseLargerThanItsLimitWhateverItsParts) {
    const std::size_t part = kMaxMessageBytes / 2 + 1;
    std::string many = "* 1 FETCH (BODY[] {" + std::to_string(part) + "}\r\n" + std::string(part, 'a') +
                       " BODY[1] {" + std::to_string(part) + "}\r\n" + std::string(part, 'b') +
                       " BODY[2] {" + std::to_string(part) + "}\r\n";
    Feed literals(many, 1 << 20);
    Response r;
    Failure f;
    EXPECT_FALSE(literals.reader.read("cd1", r, f));
    EXPECT_EQ(f.status, CAMPAIGND_ERR_FAILED);
    EXPECT_NE(f.message.find("a response larger than"), std::string::npos) << f.message;
    EXPECT_LE(r.literals.size(), 2u) << "the third literal was refused before it was read";

    std::string lines;
    const std::string line = "* " + std::string(kMaxLineBytes - 10, 'x') + "\r\n";
    while (lines.size() <= kMaxResponseBytes + line.size()) lines += line;
    Feed untagged(lines, 1 << 20);
    Response r2;
    EXPECT_FALSE(untagged.reader.read("cd1", r2, f));
    EXPECT_NE(f.message.find("a response larger than"), std::string::npos) << f.message;
    EXPECT_LE(r2.untagged.size() * line.size(), kMaxResponseBytes);
}

}  // namespace

// smtp_reply.h: reading an SMTP server's replies (RFC 5321 section 4.2), the outside input of
// the smtp plugin: bytes as they come off the socket (ReplyStream), cut into lines and
// collected into replies (ReplyReader), and the EHLO reply's extensions. A reply is
// "CODE-text" lines ending with "CODE text" (or a bare "CODE"); the first line's text may begin
// with an RFC 3463 enhanced status ("5.1.1"). Promises: a code is 100-599; an enhanced status is
// class.subject.detail with class 2, 4 or 5 and 1-3 digits each, or empty; the kept text is at
// most kMaxReplyText bytes, whatever the server sends. Refuses (ignores): lines that do not start
// with three digits. No allocation but the bounded text and the bounded queue of replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace campaignd::smtp {

constexpr std::size_t kMaxReplyText = 1024;

struct ReplyLine {
    int code = 0;
    bool last = false;      // "CODE text" or "CODE": the reply's final line
    std::string_view text;  // after "CODE-" / "CODE ", CR and LF removed; views the input
};

// One line (with or without its CRLF); nullopt when it is not a reply line.
std::optional<ReplyLine> parseReplyLine(std::string_view line);

// The RFC 3463 status at the start of a reply's text ("5.1.1 User unknown" -> "5.1.1"), or "".
std::string_view enhancedStatus(std::string_view text);

// Whether an EHLO reply line's text announces AUTH ("AUTH PLAIN LOGIN", "AUTH=LOGIN").
bool announcesAuth(std::string_view text);

// Collects the lines of one multi-line reply.
class ReplyReader {
public:
    // Takes one line. Returns true when it completed a reply (then code(), enhanced() and
    // text() describe it until the next line is taken). A line that is not a reply line is
    // ignored (false). A line with another code than the reply's first line starts over.
    bool take(std::string_view line);
    void clear();

    int code() const { return code_; }
    const char* enhanced() const { return enhanced_; }  // "5.1.1" or ""
    const std::string& text() const { return text_; }   // the lines' texts joined by " "
    bool complete() const { return complete_; }

private:
    int code_ = 0;
    bool complete_ = false;
    char enhanced_[16] = {};
    std::string text_;
};

class ExtensionReader;

// One complete reply, owned (ReplyStream queues them).
struct Reply {
    int code = 0;
    std::string enhanced;  // "5.1.1" or ""
    std::string text;      // the lines' texts joined by " ", at most kMaxReplyText bytes
};

// Bytes from the server in, complete replies out, in the order they came: what a pipelining
// client needs, since one read may carry the replies to several commands, or half of one.
// A line is cut at LF (a CR before it is dropped); a line longer than kMaxLine is cut there
// and the rest of it, up to its LF, is dropped. Lines that are not reply lines are ignored, as
// ReplyReader does (a server that sends only garbage runs into the client's reply timeout).
// More than kMaxQueued unread replies is a server answering what was not asked: overflowed()
// says so and the client drops the connection.
class ReplyStream {
public:
    static constexpr std::size_t kMaxLine = 4096;
    static constexpr std::size_t kMaxQueued = 256;

    void feed(std::string_view bytes);
    bool ready() const { return !replies_.empty(); }
    // Nothing is buffered: no complete reply and no part of a line (after STARTTLS's 220 a
    // server that sent more is injecting plain text into what will be the TLS session).
    bool idle() const { return replies_.empty() && partial_.empty() && !skipping_; }
    // While set, every line of a 250 reply also goes to extensions (for the EHLO reply).
    void collectExtensions(ExtensionReader* extensions) { extensions_ = extensions; }
    Reply pop();  // the oldest complete reply; only when ready()
    bool overflowed() const { return overflowed_; }
    void clear();

private:
    void line(std::string_view text);

    std::string partial_;    // the current line so far (bounded by kMaxLine)
    bool skipping_ = false;  // the current line passed kMaxLine: drop up to its LF
    ReplyReader reader_;
    std::deque<Reply> replies_;
    bool overflowed_ = false;
    ExtensionReader* extensions_ = nullptr;
};

// What the EHLO reply announces (RFC 5321 4.1.1.1: one keyword per line after the first).
struct Extensions {
    bool pipelining = false;  // RFC 2920
    bool startTls = false;    // RFC 3207
    bool eightBitMime = false;
    bool chunking = false;  // RFC 3030 BDAT
    bool auth = false;  // AUTH with any mechanism
    bool authPlain = false;
    bool authLogin = false;
    std::uint64_t size = 0;  // SIZE limit; 0: none announced (or "SIZE" alone)
};

// Reads the extensions from an EHLO reply's lines, given one by one (the text after
// "250-"/"250 "; the first line, the server's name, is passed too and is not a keyword).
class ExtensionReader {
public:
    void line(std::string_view text);
    const Extensions& extensions() const { return ext_; }

private:
    bool first_ = true;
    Extensions ext_;
};

}  // namespace campaignd::smtp

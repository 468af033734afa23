// smtp_reply.h: reading an SMTP server's replies (RFC 5321 section 4.2), the outside input of
// the smtp plugin: one line at a time, as libcurl's protocol trace hands them over. A reply is
// "CODE-text" lines ending with "CODE text" (or a bare "CODE"); the first line's text may begin
// with an RFC 3463 enhanced status ("5.1.1"). Promises: a code is 100-599; an enhanced status is
// class.subject.detail with class 2, 4 or 5 and 1-3 digits each, or empty; the kept text is at
// most kMaxReplyText bytes, whatever the server sends. Refuses (ignores): lines that do not start
// with three digits. No allocation but the bounded text.
#pragma once

#include <cstddef>
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

}  // namespace campaignd::smtp

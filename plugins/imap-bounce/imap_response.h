// imap_response.h: the imap-bounce plugin's reader of IMAP server responses, apart from the
// socket so that the fuzz target (tests/fuzz/imap_response.cpp) runs the very same code on
// whatever a hostile or broken server could send. Promises: a response ends at the line tagged
// with the command's tag; literals ({N} CRLF then N bytes, RFC 3501 4.3) are taken whole, in
// order, and never larger than kMaxMessageBytes; no line is longer than kMaxLineBytes; what one
// response keeps (its lines and literals) is at most kMaxResponseBytes, so memory is bounded by
// that however many literals or lines a server sends; a literal is read straight into its own
// string, so it is held once while it comes in. Refuses (a Failure, the session is then
// over): an overlong line, an oversized literal, a response over its limit, and whatever the
// byte source reports (a closed connection, a timeout).
#pragma once

#include <campaignd/plugin.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace campaignd::imap {

inline constexpr std::size_t kMaxMessageBytes = std::size_t{32} << 20;  // as the host's limit
inline constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;      // one response line
// One response: a fetched message and its lines (the plugin fetches one message per command).
inline constexpr std::size_t kMaxResponseBytes = kMaxMessageBytes + 4 * kMaxLineBytes;

struct Failure {
    campaignd_status status = CAMPAIGND_ERR_FAILED;
    std::string message;
};

// One command's response.
struct Response {
    std::string status;                 // "OK", "NO", "BAD" (the tagged line's first word)
    std::string text;                   // the rest of the tagged line
    std::vector<std::string> untagged;  // the other lines, their literals cut out
    std::vector<std::string> literals;  // every literal, in order
};

class ResponseReader {
public:
    // Appends at least one byte to `buffer`, or returns false with `f` set.
    using Source = std::function<bool(std::string& buffer, Failure& f)>;

    explicit ResponseReader(Source source) : source_(std::move(source)) {}

    // Reads up to and including the line tagged `tag`; false with `f` set when the source fails
    // or the server breaks a limit (then the connection is no longer usable).
    bool read(const std::string& tag, Response& r, Failure& f);

private:
    bool readLine(std::string& line, Failure& f);
    bool readBytes(std::size_t n, std::string& out, Failure& f);

    Source source_;
    std::string buffer_;
    std::size_t scan_ = 0;  // where to look for CRLF next in buffer_
};

// The UIDs of "* SEARCH n n n" lines (RFC 3501 7.2.5), in order; numbers that do not fit an IMAP
// UID (more than 10 digits) and other tokens are skipped.
std::vector<unsigned long> searchUids(const std::vector<std::string>& untagged);

}  // namespace campaignd::imap

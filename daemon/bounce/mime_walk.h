// mime_walk.h: the MIME side of the bounce parser. Reads one message over its bytes in place
// (header blocks and multipart boundaries found as Poco::Net's MessageHeader and
// MultipartReader find them), recursing into nested multiparts and message/rfc822 (and
// text/rfc822-headers) parts, and hands back the header blocks of every message met (values
// raw: RFC 2047 words not decoded) and the decoded leaves worth reading: of the notice itself,
// text/*, message/delivery-status, message/feedback-report and
// message/disposition-notification; of an attached message, only its reports. Text is
// converted to valid UTF-8. Never throws; bounded by depth, part count and bytes kept per
// part; problems go to `error`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace campaignd::bounce::mime {

inline constexpr int kMaxDepth = 8;
inline constexpr std::size_t kMaxParts = 64;
inline constexpr std::size_t kMaxPartBytes = 256 * 1024;  // decoded text kept per leaf

struct Headers {
    std::vector<std::pair<std::string, std::string>> fields;  // raw, unfolded values
    // The first field of that name (case-insensitive), trimmed; "" if absent.
    std::string get(std::string_view name) const;
    bool has(std::string_view name) const;
};

struct Message {
    Headers headers;
    int parent = -1;  // index of the enclosing message; -1 for the top one
};

struct Leaf {
    std::string contentType;  // lower case "text/plain", "message/delivery-status", ...
    std::string body;         // transfer-decoded; text/* as valid UTF-8
    int message = 0;          // index into Walk::messages it belongs to
};

struct Walk {
    std::vector<Message> messages;  // [0] is the message itself, then attached ones in order
    std::vector<Leaf> leaves;
    std::string topContentType;
    std::string reportType;  // report-type parameter of the first multipart/report, lower case
    std::string error;
    void addError(std::string_view what);
};

Walk walkMessage(std::string_view raw);

// A header block read without Poco and without failing (for header copies quoted in a text
// notice); returns the offset just past the blank line that ends it (or where it stopped).
std::size_t readHeaderBlock(std::string_view raw, Headers& out);

// Header text for people: RFC 2047 encoded words decoded, converted to UTF-8, folded white
// space collapsed; invalid UTF-8 replaced with U+FFFD.
std::string decodeHeaderText(std::string_view value);

// Bytes in `charset` to valid UTF-8 (unknown charsets: kept where valid UTF-8, U+FFFD
// otherwise). `invalid` is set if bytes had to be replaced.
std::string toUtf8(std::string_view bytes, std::string_view charset, bool& invalid);

// Replaces invalid UTF-8 sequences with U+FFFD and NUL with a space; true if anything changed.
bool sanitizeUtf8(std::string& text);

// ASCII lower case; other bytes unchanged (what std::tolower does in the "C" locale, without
// its call per byte).
constexpr char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }
std::string toLower(std::string_view s);
// haystack.find(needle, from) through glibc's memmem (a two-way search with a skip table),
// several times faster than string_view::find (memchr for the first byte, then memcmp at each
// hit) on the notice texts the parser searches for hundreds of phrases.
std::size_t findText(std::string_view haystack, std::string_view needle, std::size_t from = 0);
inline bool containsText(std::string_view haystack, std::string_view needle) {
    return findText(haystack, needle) != std::string_view::npos;
}
std::string_view trim(std::string_view s);

}  // namespace campaignd::bounce::mime

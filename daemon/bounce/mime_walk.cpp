// mime_walk.cpp: see mime_walk.h. One pass over the message's bytes in place: header blocks,
// multipart boundaries and attached messages are found on string_views, and only the parts the
// parser reads are copied and transfer-decoded (base64, quoted-printable, leniently, because
// bounces are full of damaged input). The structure is read exactly as Poco::Net's
// MessageHeader and MultipartReader read it (the same parts, the same quirks), which this file
// did through them before: through istreams they cost ~60 % of the parse (per-byte virtual
// reads, each part's body copied out of a stream, each header block into a
// NameValueCollection and then copied again), three times the rest of the parser, on real
// notices that mostly carry the returned message along. GMime (libgmime-3.0-dev) would parse
// the whole message into an object tree, attachments included, where the parser reads a few
// small parts (not measured). Poco still splits Content-Type parameters and converts
// charsets; each such call is inside a try block, a failure a note in Walk::error.
#include "bounce/mime_walk.h"

#include <Poco/Encodings.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/TextConverter.h>
#include <Poco/TextEncoding.h>
#include <Poco/UTF8Encoding.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>

namespace campaignd::bounce::mime {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (asciiLower(a[i]) != asciiLower(b[i])) {
            return false;
        }
    }
    return true;
}

// Header block without Poco, for what Poco refuses (a field over 8192 bytes, a line without a
// colon, more than the field limit). Returns the offset of the body.
std::size_t readHeadersLeniently(std::string_view raw, Headers& out) {
    out.fields.clear();
    std::size_t pos = 0;
    while (pos < raw.size()) {
        std::size_t eol = raw.find('\n', pos);
        std::size_t next = eol == std::string_view::npos ? raw.size() : eol + 1;
        std::string_view line = raw.substr(pos, next - pos);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            return next;  // the blank line ends the header
        }
        if ((line[0] == ' ' || line[0] == '\t') && !out.fields.empty()) {
            out.fields.back().second.append(" ").append(trim(line));
        } else {
            std::size_t colon = line.find(':');
            bool nameOk = colon != std::string_view::npos && colon > 0;
            for (std::size_t i = 0; nameOk && i < colon; ++i) {
                unsigned char c = static_cast<unsigned char>(line[i]);
                nameOk = c > 32 && c < 127;
            }
            if (!nameOk) {
                return pos;  // not a header line: the body starts here
            }
            out.fields.emplace_back(std::string(line.substr(0, colon)),
                                    std::string(trim(line.substr(colon + 1))));
        }
        pos = next;
    }
    return pos;
}

// Poco's extra encodings (ISO-8859-13, Windows-1257, KOI8-R, ...), registered once, before
// the first charset is looked up.
void registerEncodings() {
    static std::once_flag once;
    std::call_once(once, [] {
        try {
            Poco::registerExtraEncodings();
        } catch (...) {
        }
    });
}

const Poco::TextEncoding* findEncoding(const std::string& charset) {
    registerEncodings();
    try {
        return Poco::TextEncoding::find(charset);
    } catch (...) {
        return nullptr;
    }
}

// A position in the bytes being walked, read the two ways Poco's classes mix: the streambuf
// way (sgetc/sbumpc: reaching the end flags nothing) and the istream way (get/peek: reaching
// the end clears `good`, which ends a multipart's part loop).
struct Cursor {
    static constexpr int kEof = -1;
    std::string_view bytes;
    std::size_t pos = 0;
    bool good = true;
    bool pastEnd = false;  // sbumpc() was called at the end (Poco then stores (char)EOF)

    int sgetc() const { return pos < bytes.size() ? static_cast<unsigned char>(bytes[pos]) : kEof; }
    int sbumpc() {
        if (pos < bytes.size()) return static_cast<unsigned char>(bytes[pos++]);
        pastEnd = true;
        return kEof;
    }
    int get() {
        if (pos < bytes.size()) return static_cast<unsigned char>(bytes[pos++]);
        good = false;
        return kEof;
    }
    int peek() {
        if (pos < bytes.size()) return static_cast<unsigned char>(bytes[pos]);
        good = false;
        return kEof;
    }
};

// Poco::Ascii::isSpace
bool isAsciiSpace(int c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// The offset of the first `c` or line feed at or after `pos`, or npos: memchr finds the line
// feed, then `c` before it (string_view::find_first_of would search its set for every byte).
std::size_t findInLine(std::string_view s, std::size_t pos, char c) {
    if (pos >= s.size()) return std::string_view::npos;
    const char* base = s.data();
    const void* lf = std::memchr(base + pos, '\n', s.size() - pos);
    const std::size_t limit = lf != nullptr ? static_cast<std::size_t>(static_cast<const char*>(lf) - base) : s.size();
    const void* found = std::memchr(base + pos, c, limit - pos);
    if (found != nullptr) return static_cast<std::size_t>(static_cast<const char*>(found) - base);
    return lf != nullptr ? limit : std::string_view::npos;
}

constexpr int kFieldLimit = 1000;
constexpr std::size_t kMaxNameLength = 256;    // Poco::Net::MessageHeader::MAX_NAME_LENGTH
constexpr std::size_t kMaxValueLength = 8192;  // MAX_VALUE_LENGTH

// A header block read as Poco::Net::MessageHeader::read (field limit 1000) reads it, from
// the cursor up to (not past) the blank line or the end: a line without a colon is skipped,
// folded lines are joined as they are, values are trimmed on the right, fields of one name are
// kept together in the order of their first one (Poco's ListMap). Unlike MessageHeader (since
// Poco 1.10), values keep their RFC 2047 words: its decodeWord() alters values that hold no
// encoded word ("a=?b" loses its "=?"), and what it gave depended on whether an earlier
// message had registered Poco's extra encodings; the parser decodes the fields it shows
// (decodeHeaderText). Returns false, with `why` set, where Poco throws; `out` then holds
// nothing useful.
bool readHeadersAsPoco(Cursor& c, Headers& out, std::string& why) {
    out.fields.clear();
    const std::string_view s = c.bytes;
    int fields = 0;
    int ch = c.sgetc();
    while (ch != Cursor::kEof && ch != '\r' && ch != '\n') {
        if (fields == kFieldLimit) {
            why = "Malformed message";  // Poco::Net::MessageException's name, as what() says
            return false;
        }
        // The name: up to ':' or a line feed, at most kMaxNameLength bytes.
        const std::size_t nameStart = c.pos;
        std::size_t stop = findInLine(s, nameStart, ':');
        if (stop == std::string_view::npos) stop = s.size();
        stop = std::min(stop, nameStart + kMaxNameLength);
        c.pos = std::min(stop, s.size());
        ch = c.sgetc();
        if (ch == '\n') {  // a line without a colon: skipped
            c.sbumpc();
            ch = c.sgetc();
            continue;
        }
        if (ch != ':') {
            why = "Malformed message";
            return false;
        }
        std::string name(s.substr(nameStart, c.pos - nameStart));
        c.sbumpc();
        while (c.pos < s.size() && isAsciiSpace(s[c.pos]) && s[c.pos] != '\r' && s[c.pos] != '\n') ++c.pos;
        std::string value;
        // One line of the value (the first, then each folded one with its leading blank).
        auto readLine = [&]() -> bool {
            std::size_t end = findInLine(s, c.pos, '\r');
            if (end == std::string_view::npos) end = s.size();
            const std::size_t room = kMaxValueLength - std::min(kMaxValueLength, value.size());
            const std::size_t take = std::min(end - c.pos, room);
            value.append(s.substr(c.pos, take));
            c.pos += take;
            int x = c.sgetc();
            if (x == '\r') {
                c.sbumpc();
                x = c.sgetc();
            }
            if (x == '\n') {
                c.sbumpc();
            } else if (x != Cursor::kEof) {
                return false;  // a value too long, or a CR alone
            }
            return true;
        };
        if (!readLine()) {
            why = "Malformed message";
            return false;
        }
        ch = c.sgetc();
        while (ch == ' ' || ch == '\t') {
            if (!readLine()) {
                why = "Malformed message";
                return false;
            }
            ch = c.sgetc();
        }
        while (!value.empty() && isAsciiSpace(static_cast<unsigned char>(value.back()))) value.pop_back();
        // Poco's ListMap: a field joins the others of its name.
        auto same = std::find_if(out.fields.begin(), out.fields.end(),
                                 [&](const auto& f) { return iequals(f.first, name); });
        if (same == out.fields.end()) {
            out.fields.emplace_back(std::move(name), std::move(value));
        } else {
            while (same != out.fields.end() && iequals(same->first, name)) ++same;
            out.fields.emplace(same, std::move(name), std::move(value));
        }
        ++fields;
        ch = c.sgetc();
    }
    if (ch == Cursor::kEof) {
        // Poco ends with istream::putback(ch): at the end that is putback((char)EOF), which
        // succeeds only after a 0xFF byte (and steps back onto it), else fails the stream.
        if (c.pos > 0 && c.pos == s.size() && s[c.pos - 1] == '\xFF') {
            --c.pos;
        } else {
            c.good = false;
        }
    }
    return true;
}

// Reads the header block at the start of `raw`; returns the offset of the body.
std::size_t readHeaders(std::string_view raw, Headers& out, Walk& walk) {
    Cursor c{raw};
    std::string why;
    if (!readHeadersAsPoco(c, out, why)) {
        walk.addError("header block: " + why);
        return readHeadersLeniently(raw, out);
    }
    // Where the body starts is found here, not from where the header reader stopped (as
    // Poco, it leaves the LF of an LF-only blank line unread).
    if (!raw.empty() && (raw[0] == '\n' || raw.substr(0, 2) == "\r\n")) {
        return raw[0] == '\n' ? 1 : 2;
    }
    // The first "\n\n" or "\n\r\n", looked for line by line (searching the whole message for
    // each, as find() would, reads all of a CRLF message for the "\n\n" it does not hold).
    for (std::size_t lf = raw.find('\n'); lf != std::string_view::npos; lf = raw.find('\n', lf + 1)) {
        if (lf + 1 < raw.size() && raw[lf + 1] == '\n') return lf + 2;
        if (lf + 2 < raw.size() && raw[lf + 1] == '\r' && raw[lf + 2] == '\n') return lf + 3;
    }
    return raw.size();  // a header block without a body
}

// The parts of a multipart body, read over the bytes in place as Poco::Net::MultipartReader
// reads them (so that what is found does not change with the reader): the first boundary is
// a line that starts with "--boundary" (with no boundary parameter, the first non-blank line
// starting with "--" gives it); a part ends at a line feed followed by exactly "--boundary"
// and a line end, or "--boundary--", which ends the last one. A part that runs to the end of
// the bytes gets one more, empty, part after it, and a byte 0xFF where the reader stored the
// end-of-file marker, as Poco does.
class MultipartScanner {
public:
    MultipartScanner(std::string_view body, std::string boundary) : c_{body}, boundary_(std::move(boundary)) {}

    bool hasNextPart() const { return (first_ || !lastPart_) && c_.good; }

    // Reads the next part's header block; false (with `why`) where Poco throws.
    bool nextPart(Headers& header, std::string& why) {
        if (first_) {
            first_ = false;
            if (!(boundary_.empty() ? guessBoundary() : findFirstBoundary())) {
                why = "Malformed multipart message";
                return false;
            }
        }
        if (!readHeadersAsPoco(c_, header, why)) return false;
        int ch = c_.get();
        if (ch == '\r' && c_.peek() == '\n') c_.get();
        return true;
    }

    // The content of the part whose header nextPart() read. `pastEnd`: the content is
    // followed by the 0xFF byte Poco stores for the end of the input.
    std::string_view readPart(bool& pastEnd) {
        const std::string_view s = c_.bytes;
        const std::size_t start = c_.pos;
        c_.pastEnd = false;
        for (;;) {
            const std::size_t callStart = c_.pos;
            int ch = c_.sgetc();
            if (ch == Cursor::kEof) break;
            c_.sbumpc();
            if (ch == '\n' || (ch == '\r' && c_.sgetc() == '\n')) {
                if (ch == '\r') c_.sbumpc();
                ch = c_.sgetc();
                if (ch == '\r' || ch == '\n') continue;
                c_.sbumpc();
                if (ch == '-' && c_.sgetc() == '-') {
                    c_.sbumpc();
                    ch = c_.sbumpc();
                    std::size_t i = 0;
                    // Compared as Poco does: an int read against a (signed) char.
                    while (i < boundary_.size() && ch == static_cast<int>(boundary_[i])) {
                        ++i;
                        ch = c_.sbumpc();
                    }
                    if (i == boundary_.size()) {
                        if (ch == '\n' || (ch == '\r' && c_.sgetc() == '\n')) {
                            if (ch == '\r') c_.sbumpc();
                            pastEnd = false;
                            return s.substr(start, callStart - start);
                        }
                        if (ch == '-' && c_.sgetc() == '-') {
                            c_.sbumpc();
                            lastPart_ = true;
                            pastEnd = false;
                            return s.substr(start, callStart - start);
                        }
                    }
                }
            }
            // The rest of the line is content.
            std::size_t eol = findInLine(s, c_.pos, '\r');
            c_.pos = eol == std::string_view::npos ? s.size() : eol;
        }
        pastEnd = c_.pastEnd;
        return s.substr(start);
    }

private:
    bool guessBoundary() {
        int ch = c_.get();
        while (isAsciiSpace(ch)) ch = c_.get();
        if (ch != '-' || c_.peek() != '-') return false;
        c_.get();
        ch = c_.peek();
        while (ch != Cursor::kEof && ch != '\r' && ch != '\n' && boundary_.size() < 128) {
            boundary_.push_back(static_cast<char>(c_.get()));
            ch = c_.peek();
        }
        if (ch == '\r' || ch == '\n') c_.get();
        if (c_.peek() == '\n') c_.get();
        return true;
    }

    bool findFirstBoundary() {
        const std::string expect = "--" + boundary_;
        for (;;) {
            // MultipartReader::readLine: at most 1024 bytes a line, the first expect.size() kept.
            const std::string_view s = c_.bytes;
            const std::size_t lineStart = c_.pos;
            int ch = c_.peek();
            std::size_t length = 0;
            while (ch != Cursor::kEof && ch != '\r' && ch != '\n' && length < 1024) {
                c_.get();
                ch = c_.peek();
                ++length;
            }
            if (ch != Cursor::kEof) c_.get();
            if (ch == '\r' && c_.peek() == '\n') c_.get();
            if (ch == Cursor::kEof) return false;
            if (s.substr(lineStart, std::min(length, expect.size())) == expect) return true;
        }
    }

    Cursor c_;
    std::string boundary_;
    bool first_ = true;
    bool lastPart_ = false;
};

int base64Value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

std::string decodeBase64(std::string_view in, std::size_t limit) {
    std::string out;
    out.reserve(std::min(limit, in.size() * 3 / 4 + 3));
    unsigned int acc = 0;
    int bits = 0;
    for (char ch : in) {
        if (ch == '=') {
            break;
        }
        int v = base64Value(static_cast<unsigned char>(ch));
        if (v < 0) {
            continue;  // line breaks, stray characters
        }
        acc = (acc << 6) | static_cast<unsigned int>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
            if (out.size() >= limit) {
                break;
            }
        }
    }
    return out;
}

int hexValue(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// `underscoreIsSpace` for RFC 2047 Q encoding.
std::string decodeQuotedPrintable(std::string_view in, std::size_t limit, bool underscoreIsSpace) {
    std::string out;
    out.reserve(std::min(limit, in.size()));
    for (std::size_t i = 0; i < in.size() && out.size() < limit; ++i) {
        char c = in[i];
        if (c == '=' ) {
            if (i + 1 < in.size() && in[i + 1] == '\n') {
                i += 1;  // soft line break
                continue;
            }
            if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {
                i += 2;
                continue;
            }
            if (i + 2 < in.size()) {
                int hi = hexValue(static_cast<unsigned char>(in[i + 1]));
                int lo = hexValue(static_cast<unsigned char>(in[i + 2]));
                if (hi >= 0 && lo >= 0) {
                    out.push_back(static_cast<char>(hi * 16 + lo));
                    i += 2;
                    continue;
                }
            }
            out.push_back(c);  // a stray '=' stays as it is
        } else if (c == '_' && underscoreIsSpace) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string decodeTransfer(std::string_view body, std::string_view encoding, std::size_t limit) {
    if (iequals(encoding, "base64")) {
        return decodeBase64(body, limit);
    }
    if (iequals(encoding, "quoted-printable")) {
        return decodeQuotedPrintable(body, limit, false);
    }
    return std::string(body.substr(0, std::min(limit, body.size())));
}

struct ContentType {
    std::string type = "text/plain";
    std::string boundary;
    std::string charset;
    std::string reportType;
    bool hasBoundary = false;
};

ContentType parseContentType(const std::string& value, Walk& walk) {
    ContentType ct;
    if (value.empty()) {
        return ct;
    }
    try {
        std::string type;
        Poco::Net::NameValueCollection params;
        Poco::Net::MessageHeader::splitParameters(value, type, params);
        type = toLower(trim(type));
        if (!type.empty()) {
            ct.type = type;
        }
        if (params.has("boundary")) {
            ct.boundary = params.get("boundary");
            ct.hasBoundary = !ct.boundary.empty();
        }
        ct.charset = toLower(params.get("charset", ""));
        ct.reportType = toLower(params.get("report-type", ""));
    } catch (const std::exception& e) {
        walk.addError(std::string("Content-Type: ") + e.what());
    }
    return ct;
}

void walkEntity(std::string_view raw, int message, int depth, Walk& walk);

// Text in a charset to valid UTF-8, in place where it already is UTF-8 or ASCII.
std::string textToUtf8(std::string bytes, std::string_view charset, bool& invalid);

void addTextLeaf(std::string contentType, std::string body, std::string_view charset, int message,
                 Walk& walk) {
    bool invalid = false;
    bool hadNul = body.find('\0') != std::string::npos;
    if (hadNul) {
        std::replace(body.begin(), body.end(), '\0', ' ');
        walk.addError("NUL bytes in a text part");
    }
    std::string text = textToUtf8(std::move(body), charset, invalid);
    if (invalid) {
        walk.addError("invalid UTF-8 (or bytes not in the declared charset) in a text part");
    }
    walk.leaves.push_back(Leaf{std::move(contentType), std::move(text), message});
}

// The parts of an attached (returned) message that the parser reads: its reports. Its text is
// the sender's own (the campaign's message), never read, so never decoded.
bool isReport(std::string_view type) {
    return type == "message/delivery-status" || type == "message/global-delivery-status" ||
           type == "message/feedback-report";
}

void processBody(const Headers& headers, std::string_view body, int message, int depth, Walk& walk) {
    if (depth > kMaxDepth) {
        walk.addError("MIME nesting deeper than " + std::to_string(kMaxDepth) + " levels ignored");
        return;
    }
    ContentType ct = parseContentType(headers.get("Content-Type"), walk);
    // An older spelling of the DSN type, still sent (XWall and others): read as the DSN it is,
    // as Sisimai reads it (message/x?delivery-status).
    if (ct.type == "message/xdelivery-status") ct.type = "message/delivery-status";
    std::string encoding = toLower(headers.get("Content-Transfer-Encoding"));
    if (depth == 0 && message == 0) {
        walk.topContentType = ct.type;
    }

    if (ct.type.rfind("multipart/", 0) == 0) {
        if (ct.type == "multipart/report" && walk.reportType.empty()) {
            walk.reportType = ct.reportType;
        }
        if (!ct.hasBoundary) {
            walk.addError("multipart without a boundary parameter; boundary guessed");
        }
        if (ct.hasBoundary && body.find("--" + ct.boundary + "--") == std::string_view::npos) {
            walk.addError("multipart without its closing boundary (truncated message?)");
        }
        std::size_t parts = 0;
        MultipartScanner reader(body, ct.hasBoundary ? ct.boundary : std::string());
        while (reader.hasNextPart()) {
            if (parts >= kMaxParts) {
                walk.addError("more than " + std::to_string(kMaxParts) + " parts; rest ignored");
                break;
            }
            Headers h;
            std::string why;
            if (!reader.nextPart(h, why)) {
                walk.addError("multipart: " + why);
                break;
            }
            ++parts;
            bool pastEnd = false;
            std::string_view partBody = reader.readPart(pastEnd);
            const std::size_t keep = kMaxPartBytes * 2;  // encoded bytes; more is skipped
            if (pastEnd && partBody.size() < keep) {
                std::string withMarker(partBody);
                withMarker.push_back('\xFF');
                processBody(h, withMarker, message, depth + 1, walk);
            } else {
                processBody(h, partBody.substr(0, std::min(partBody.size(), keep)), message, depth + 1, walk);
            }
        }
        if (parts == 0) {
            // No part could be read: the body is all there is, read it as text.
            addTextLeaf("text/plain", decodeTransfer(body, encoding, kMaxPartBytes), ct.charset,
                        message, walk);
        }
        return;
    }

    if (ct.type == "message/rfc822" || ct.type == "message/global" ||
        ct.type == "text/rfc822-headers" || ct.type == "message/rfc822-headers" ||
        ct.type == "message/partial") {
        const std::size_t limit = kMaxPartBytes * 4;
        int index = static_cast<int>(walk.messages.size());
        walk.messages.push_back(Message{{}, message});
        if (iequals(encoding, "base64") || iequals(encoding, "quoted-printable")) {
            const std::string inner = decodeTransfer(body, encoding, limit);
            walkEntity(inner, index, depth + 1, walk);
        } else {
            walkEntity(body.substr(0, std::min(limit, body.size())), index, depth + 1, walk);
        }
        return;
    }

    const bool read = message == 0 ? (ct.type.rfind("text/", 0) == 0 || ct.type == "message/delivery-status" ||
                                      ct.type == "message/global-delivery-status" ||
                                      ct.type == "message/feedback-report" ||
                                      ct.type == "message/disposition-notification")
                                   : isReport(ct.type);
    if (read) {
        addTextLeaf(ct.type, decodeTransfer(body, encoding, kMaxPartBytes), ct.charset, message, walk);
    }
    // Anything else (images, attachments, application/*, an attached message's text) is not read.
}

void walkEntity(std::string_view raw, int message, int depth, Walk& walk) {
    Headers headers;
    std::size_t bodyStart = readHeaders(raw, headers, walk);
    std::string_view body = raw.substr(std::min(bodyStart, raw.size()));
    processBody(headers, body, message, depth, walk);
    walk.messages[static_cast<std::size_t>(message)].headers = std::move(headers);
}

}  // namespace

void Walk::addError(std::string_view what) {
    if (error.size() > 2000) {
        return;
    }
    if (error.find(what) != std::string::npos) {
        return;
    }
    if (!error.empty()) {
        error += "; ";
    }
    error += what;
}

std::string Headers::get(std::string_view name) const {
    for (const auto& [n, v] : fields) {
        if (iequals(n, name)) {
            return std::string(trim(v));
        }
    }
    return {};
}

bool Headers::has(std::string_view name) const {
    return std::any_of(fields.begin(), fields.end(),
                       [&](const auto& f) { return iequals(f.first, name); });
}

std::size_t findText(std::string_view haystack, std::string_view needle, std::size_t from) {
    if (from > haystack.size() || needle.size() > haystack.size() - from) return std::string_view::npos;
    if (needle.empty()) return from;
    const void* found = ::memmem(haystack.data() + from, haystack.size() - from, needle.data(), needle.size());
    if (found == nullptr) return std::string_view::npos;
    return static_cast<std::size_t>(static_cast<const char*>(found) - haystack.data());
}

std::string toLower(std::string_view s) {
    std::string out(s);
    // Eight bytes at a time (a whole notice is lowered once per message): the bytes from 'A'
    // to 'Z' get 0x20 added, every other byte (those over 0x7F included) stays.
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    constexpr std::uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
    constexpr std::uint64_t kEach = 0x0101010101010101ULL;
    std::size_t i = 0;
    for (; i + 8 <= out.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, out.data() + i, 8);
        const std::uint64_t low = w & kLow7;
        const std::uint64_t atLeastA = low + kEach * (0x80 - 'A');
        const std::uint64_t overZ = low + kEach * (0x7F - 'Z');
        const std::uint64_t upper = ~w & (atLeastA ^ overZ) & kHigh;
        w ^= upper >> 2;
        std::memcpy(out.data() + i, &w, 8);
    }
    for (; i < out.size(); ++i) {
        out[i] = asciiLower(out[i]);
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.remove_suffix(1);
    }
    return s;
}

bool sanitizeUtf8(std::string& text) {
    bool changed = false;
    std::string out;
    std::size_t i = 0;
    const std::size_t n = text.size();
    // Fast path: find the first problem, eight bytes at a time while they are ASCII without NUL.
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, text.data() + i, 8);
        constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
        constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
        if (((w & kHigh) | ((w - kOnes) & ~w & kHigh)) != 0) break;
    }
    while (i < n) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == 0 || c >= 0x80) {
            break;
        }
        ++i;
    }
    if (i == n) {
        return false;
    }
    out.reserve(n + 16);
    out.append(text, 0, i);
    while (i < n) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == 0) {
            out.push_back(' ');
            changed = true;
            ++i;
            continue;
        }
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned int cp = 0;
        unsigned int min = 0;
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; min = 0x10000; }
        bool ok = len > 0 && i + len <= n;
        for (std::size_t k = 1; ok && k < len; ++k) {
            unsigned char cc = static_cast<unsigned char>(text[i + k]);
            ok = (cc & 0xC0) == 0x80;
            cp = (cp << 6) | (cc & 0x3F);
        }
        ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (ok) {
            out.append(text, i, len);
            i += len;
        } else {
            out.append("\xEF\xBF\xBD");
            changed = true;
            ++i;
        }
    }
    text.swap(out);
    return changed;
}

namespace {

std::string textToUtf8(std::string bytes, std::string_view charset, bool& invalid) {
    std::string cs = toLower(trim(charset));
    if (cs.size() >= 2 && cs.front() == '"' && cs.back() == '"') {
        cs = cs.substr(1, cs.size() - 2);
    }
    std::string text;
    if (cs.empty() || cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii") {
        text = std::move(bytes);
    } else {
        const Poco::TextEncoding* from = findEncoding(cs);
        if (from == nullptr) {
            text = std::move(bytes);  // unknown charset: keep what is valid UTF-8
        } else {
            try {
                Poco::UTF8Encoding utf8;
                Poco::TextConverter converter(*from, utf8, 0xFFFD);
                converter.convert(bytes.data(), static_cast<int>(bytes.size()), text);
            } catch (...) {
                text = std::move(bytes);
            }
        }
    }
    invalid = sanitizeUtf8(text) || invalid;
    return text;
}

}  // namespace

std::string toUtf8(std::string_view bytes, std::string_view charset, bool& invalid) {
    return textToUtf8(std::string(bytes), charset, invalid);
}

std::string decodeHeaderText(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    std::size_t pos = 0;
    bool lastWasEncoded = false;
    while (pos < value.size()) {
        std::size_t start = value.find("=?", pos);
        std::size_t q1 = std::string_view::npos;
        std::size_t q2 = std::string_view::npos;
        std::size_t end = std::string_view::npos;
        if (start != std::string_view::npos) {
            q1 = value.find('?', start + 2);
            if (q1 != std::string_view::npos) q2 = value.find('?', q1 + 1);
            if (q2 != std::string_view::npos && q2 == q1 + 2) end = value.find("?=", q2 + 1);
        }
        if (end == std::string_view::npos) {
            out.append(value.substr(pos));
            break;
        }
        std::string_view between = value.substr(pos, start - pos);
        if (!(lastWasEncoded && trim(between).empty())) {
            out.append(between);
        }
        std::string charset(value.substr(start + 2, q1 - start - 2));
        if (std::size_t star = charset.find('*'); star != std::string::npos) {
            charset.resize(star);  // RFC 2231 language
        }
        char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(value[q1 + 1])));
        std::string_view text = value.substr(q2 + 1, end - q2 - 1);
        std::string bytes = enc == 'B' ? decodeBase64(text, kMaxPartBytes)
                                       : decodeQuotedPrintable(text, kMaxPartBytes, true);
        bool invalid = false;
        out += toUtf8(bytes, charset, invalid);
        lastWasEncoded = true;
        pos = end + 2;
    }
    // Collapse folding white space.
    std::string collapsed;
    collapsed.reserve(out.size());
    bool space = false;
    for (char c : out) {
        if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
            space = true;
            continue;
        }
        if (space && !collapsed.empty()) {
            collapsed.push_back(' ');
        }
        space = false;
        collapsed.push_back(c);
    }
    sanitizeUtf8(collapsed);
    return collapsed;
}

std::size_t readHeaderBlock(std::string_view raw, Headers& out) {
    return readHeadersLeniently(raw, out);
}

Walk walkMessage(std::string_view raw) {
    Walk walk;
    walk.messages.push_back(Message{});
    try {
        walkEntity(raw, 0, 0, walk);
    } catch (const std::exception& e) {
        walk.addError(std::string("MIME: ") + e.what());
    } catch (...) {
        walk.addError("MIME: unknown failure");
    }
    return walk;
}

}  // namespace campaignd::bounce::mime

// mime_walk.cpp: see mime_walk.h. Poco reads the structure (header blocks, multipart parts);
// transfer decoding (base64, quoted-printable) and RFC 2047 are done here, leniently, because
// Poco's decoders throw on the damaged input bounces are full of. Every Poco call is inside a
// try block: an exception becomes a note in Walk::error and the walk goes on with what it has.
#include "bounce/mime_walk.h"

#include <Poco/Encodings.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/TextConverter.h>
#include <Poco/TextEncoding.h>
#include <Poco/UTF8Encoding.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <istream>
#include <memory>
#include <mutex>
#include <streambuf>

namespace campaignd::bounce::mime {

namespace {

// An istream source over bytes we do not own, that can tell how much was consumed.
class ViewBuf final : public std::streambuf {
public:
    explicit ViewBuf(std::string_view bytes) {
        char* begin = const_cast<char*>(bytes.data());
        setg(begin, begin, begin + bytes.size());
    }
    std::size_t consumed() const { return static_cast<std::size_t>(gptr() - eback()); }
};

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
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

void copyHeaders(const Poco::Net::MessageHeader& from, Headers& to) {
    to.fields.clear();
    for (const auto& [name, value] : from) {
        to.fields.emplace_back(name, value);
    }
}

// Reads the header block at the start of `raw`; returns the offset of the body.
std::size_t readHeaders(std::string_view raw, Headers& out, Walk& walk) {
    try {
        ViewBuf buf(raw);
        std::istream in(&buf);
        Poco::Net::MessageHeader header;
        header.setFieldLimit(1000);
        header.read(in);
        copyHeaders(header, out);
        // Where the body starts is found here, not from what Poco consumed (Poco leaves the
        // LF of an LF-only blank line unread).
        if (!raw.empty() && (raw[0] == '\n' || raw.substr(0, 2) == "\r\n")) {
            return raw[0] == '\n' ? 1 : 2;
        }
        std::size_t lf = raw.find("\n\n");
        std::size_t crlf = raw.find("\n\r\n");
        if (lf == std::string_view::npos && crlf == std::string_view::npos) {
            return raw.size();  // a header block without a body
        }
        return lf < crlf ? lf + 2 : crlf + 3;
    } catch (const std::exception& e) {
        walk.addError(std::string("header block: ") + e.what());
        return readHeadersLeniently(raw, out);
    }
}

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

void addTextLeaf(std::string contentType, std::string body, std::string_view charset, int message,
                 Walk& walk) {
    bool invalid = false;
    bool hadNul = body.find('\0') != std::string::npos;
    if (hadNul) {
        std::replace(body.begin(), body.end(), '\0', ' ');
        walk.addError("NUL bytes in a text part");
    }
    std::string text = toUtf8(body, charset, invalid);
    if (invalid) {
        walk.addError("invalid UTF-8 (or bytes not in the declared charset) in a text part");
    }
    walk.leaves.push_back(Leaf{std::move(contentType), std::move(text), message});
}

void processBody(const Headers& headers, std::string_view body, int message, int depth, Walk& walk) {
    if (depth > kMaxDepth) {
        walk.addError("MIME nesting deeper than " + std::to_string(kMaxDepth) + " levels ignored");
        return;
    }
    ContentType ct = parseContentType(headers.get("Content-Type"), walk);
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
        try {
            ViewBuf buf(body);
            std::istream in(&buf);
            std::unique_ptr<Poco::Net::MultipartReader> reader =
                ct.hasBoundary ? std::make_unique<Poco::Net::MultipartReader>(in, ct.boundary)
                               : std::make_unique<Poco::Net::MultipartReader>(in);
            while (reader->hasNextPart()) {
                if (parts >= kMaxParts) {
                    walk.addError("more than " + std::to_string(kMaxParts) + " parts; rest ignored");
                    break;
                }
                Poco::Net::MessageHeader partHeader;
                partHeader.setFieldLimit(1000);
                reader->nextPart(partHeader);
                ++parts;
                std::string partBody;
                std::istream& ps = reader->stream();
                char chunk[8192];
                const std::size_t keep = kMaxPartBytes * 2;  // encoded bytes; more is skipped
                while (ps.read(chunk, sizeof chunk), ps.gcount() > 0) {
                    std::size_t n = static_cast<std::size_t>(ps.gcount());
                    if (partBody.size() < keep) {
                        partBody.append(chunk, std::min(n, keep - partBody.size()));
                    }
                }
                Headers h;
                copyHeaders(partHeader, h);
                processBody(h, partBody, message, depth + 1, walk);
            }
        } catch (const std::exception& e) {
            walk.addError(std::string("multipart: ") + e.what());
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
        std::string inner = decodeTransfer(body, encoding, kMaxPartBytes * 4);
        int index = static_cast<int>(walk.messages.size());
        walk.messages.push_back(Message{{}, message});
        walkEntity(inner, index, depth + 1, walk);
        return;
    }

    if (ct.type.rfind("text/", 0) == 0 || ct.type == "message/delivery-status" ||
        ct.type == "message/global-delivery-status" || ct.type == "message/feedback-report" ||
        ct.type == "message/disposition-notification") {
        addTextLeaf(ct.type, decodeTransfer(body, encoding, kMaxPartBytes), ct.charset, message,
                    walk);
    }
    // Anything else (images, attachments, application/*) is not read.
}

void walkEntity(std::string_view raw, int message, int depth, Walk& walk) {
    Headers headers;
    std::size_t bodyStart = readHeaders(raw, headers, walk);
    std::string_view body = raw.substr(std::min(bodyStart, raw.size()));
    walk.messages[static_cast<std::size_t>(message)].headers = headers;
    processBody(headers, body, message, depth, walk);
}

const Poco::TextEncoding* findEncoding(const std::string& charset) {
    static std::once_flag once;
    std::call_once(once, [] {
        try {
            Poco::registerExtraEncodings();
        } catch (...) {
        }
    });
    try {
        return Poco::TextEncoding::find(charset);
    } catch (...) {
        return nullptr;
    }
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

std::string toLower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
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
    // Fast path: find the first problem.
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

std::string toUtf8(std::string_view bytes, std::string_view charset, bool& invalid) {
    std::string cs = toLower(trim(charset));
    if (cs.size() >= 2 && cs.front() == '"' && cs.back() == '"') {
        cs = cs.substr(1, cs.size() - 2);
    }
    std::string text;
    if (cs.empty() || cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii") {
        text.assign(bytes);
    } else {
        const Poco::TextEncoding* from = findEncoding(cs);
        if (from == nullptr) {
            text.assign(bytes);  // unknown charset: keep what is valid UTF-8
        } else {
            try {
                Poco::UTF8Encoding utf8;
                Poco::TextConverter converter(*from, utf8, 0xFFFD);
                converter.convert(bytes.data(), static_cast<int>(bytes.size()), text);
            } catch (...) {
                text.assign(bytes);
            }
        }
    }
    invalid = sanitizeUtf8(text) || invalid;
    return text;
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

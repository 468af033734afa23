// encoding.cpp: quoted-printable, RFC 2047 encoded-words and header folding, by hand.
//
// Why not Poco::Net's encoders: Poco 1.11's MailMessage::encodeWord splits a multi-octet UTF-8
// character across two encoded-words (RFC 2047 section 5 forbids that; clients show U+FFFD)
// and does not use the restricted character set a display name needs; its
// QuotedPrintableEncoder passes a bare LF through unencoded, and goes through an unbuffered
// streambuf and a std::string per encoded octet, several times slower than this table-free
// loop on the 100,000-message path. The tests decode everything written here with Poco's
// decoders (MailMessage, MessageHeader::decodeWord, QuotedPrintableDecoder).
#include "mail/encoding.h"

#include <algorithm>
#include <array>

#include "core/error.h"
#include "core/utf8.h"

namespace campaignd::mail {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";
constexpr std::size_t kMaxLine = 76;          // RFC 2047 2 (lines with encoded-words); RFC 2045 6.7
constexpr std::size_t kMaxEncodedWord = 75;   // RFC 2047 2
constexpr std::size_t kWordOverhead = 12;     // "=?UTF-8?Q?" and "?="
constexpr std::size_t kMaxPlainWord = 70;     // longer ASCII words are encoded so they can fold


// RFC 2047 5 (3): the characters an encoded-word in a phrase may carry literally. Used for
// every encoded-word, so one encoder serves Subject and display names alike.
bool isQLiteral(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

std::size_t qCost(unsigned char c) { return (isQLiteral(c) || c == ' ') ? 1 : 3; }

void appendQ(std::string& out, std::string_view bytes) {
    for (unsigned char c : bytes) {
        if (isQLiteral(c)) out += static_cast<char>(c);
        else if (c == ' ') out += '_';
        else {
            out += '=';
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        }
    }
}

void appendBase64(std::string& out, std::string_view bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < bytes.size()) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
}

std::size_t base64Length(std::size_t bytes) { return (bytes + 2) / 3 * 4; }

bool isAtext(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '/': case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}':
    case '~':
        return true;
    default:
        return false;
    }
}

bool isPrintableAscii(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7E) return false;
    return true;
}

}  // namespace

void appendQuotedPrintable(std::string& out, std::string_view in) {
    // Octets that stand for themselves anywhere on a line: printable ASCII but '='.
    static constexpr auto kLiteral = [] {
        std::array<bool, 256> table{};
        for (int c = 33; c <= 126; ++c) table[static_cast<std::size_t>(c)] = c != '=';
        return table;
    }();
    // Written through a pointer into a buffer sized for the worst case (every octet encoded,
    // plus a soft break per 25 encoded octets): this loop is most of a render's time.
    thread_local std::string buffer;
    const std::size_t worst = in.size() * 3 + (in.size() / 25 + 1) * 3 + 8;
    if (buffer.size() < worst) buffer.resize(worst);
    char* const begin = buffer.data();
    char* p = begin;
    std::size_t column = 0;
    const std::size_t n = in.size();
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char c = static_cast<unsigned char>(in[i]);
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < n && in[i + 1] == '\n') ++i;
            *p++ = '\r';
            *p++ = '\n';
            column = 0;
            continue;
        }
        const bool atLineEnd = i + 1 == n || in[i + 1] == '\r' || in[i + 1] == '\n';
        const auto literalAt = [&](std::size_t col) {
            if (kLiteral[c])
                return col != 0 || (c != '.' && !(c == 'F' && in.substr(i, 5) == "From "));
            return (c == ' ' || c == '\t') && !atLineEnd;
        };
        bool literal = literalAt(column);
        // A line holds at most 76 octets, including the "=" of a soft line break when more
        // follows on the same input line.
        if (column + (literal ? 1 : 3) > (atLineEnd ? kMaxLine : kMaxLine - 1)) {
            *p++ = '=';
            *p++ = '\r';
            *p++ = '\n';
            column = 0;
            literal = literalAt(0);
        }
        if (literal) {
            *p++ = static_cast<char>(c);
            ++column;
        } else {
            *p++ = '=';
            *p++ = kHex[c >> 4];
            *p++ = kHex[c & 0xF];
            column += 3;
        }
    }
    out.append(begin, static_cast<std::size_t>(p - begin));
}

std::string cleanHeaderText(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool space = false;
    char32_t cp;
    for (std::size_t i = 0; i < text.size();) {
        std::size_t len = utf8::decode(text, i, cp);
        std::string_view bytes;
        if (len == 0) {
            len = 1;
            bytes = "\xEF\xBF\xBD";  // U+FFFD
        } else if (cp <= 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            space = !out.empty();
            i += len;
            continue;
        } else {
            bytes = text.substr(i, len);
        }
        if (space) out += ' ';
        space = false;
        out += bytes;
        i += len;
    }
    return out;
}

void checkHeaderToken(std::string_view field, std::string_view token) {
    if (!isPrintableAscii(token)) {
        throw Error(ErrorCode::InvalidArgument,
                    "the " + std::string(field) +
                        " header would contain a byte that is not printable ASCII; refused");
    }
}

HeaderWriter::HeaderWriter(std::string& out, std::string_view name)
    : out_(out), name_(name), lineStart_(out.size()) {
    out_ += name;
    out_ += ':';
}

void HeaderWriter::separate(std::size_t nextTokenLength) {
    if (!empty_ && column() + 1 + nextTokenLength > kMaxLine) {
        out_ += "\r\n ";
        lineStart_ = out_.size() - 1;
    } else {
        out_ += ' ';
    }
    empty_ = false;
}

void HeaderWriter::token(std::string_view token) {
    checkHeaderToken(name_, token);
    separate(token.size());
    out_ += token;
}

void HeaderWriter::unstructured(std::string_view text) {
    std::size_t runStart = std::string_view::npos;  // start of a run of words to encode
    std::size_t runEnd = 0;
    std::size_t pos = 0;
    const auto flushRun = [&] {
        if (runStart != std::string_view::npos) encodedWords(text.substr(runStart, runEnd - runStart));
        runStart = std::string_view::npos;
    };
    while (pos <= text.size()) {
        std::size_t end = text.find(' ', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view word = text.substr(pos, end - pos);
        if (!word.empty()) {
            const bool encode = !isPrintableAscii(word) || word.find("=?") != std::string_view::npos ||
                                word.size() > kMaxPlainWord;
            if (encode) {
                if (runStart == std::string_view::npos) runStart = pos;
                runEnd = end;
            } else {
                flushRun();
                token(word);
            }
        }
        pos = end + 1;
    }
    flushRun();
}

void HeaderWriter::phrase(std::string_view text) {
    if (text.empty()) return;
    if (!isPrintableAscii(text) || text.find("=?") != std::string_view::npos) {
        encodedWords(text);
        return;
    }
    bool atoms = true;
    std::size_t longest = 0, current = 0;
    for (unsigned char c : text) {
        if (c == ' ') {
            current = 0;
            continue;
        }
        atoms = atoms && isAtext(c);
        longest = std::max(longest, ++current);
    }
    if (atoms && longest <= kMaxPlainWord) {
        unstructured(text);  // words of atext: the same tokens either way
        return;
    }
    std::string quoted = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    quoted += '"';
    if (quoted.size() > kMaxPlainWord) encodedWords(text);  // a quoted-string cannot fold
    else token(quoted);
}

void HeaderWriter::encodedWords(std::string_view utf8) {
    std::size_t qLength = 0;
    for (unsigned char c : utf8) qLength += qCost(c);
    // Q keeps Latin text legible (and spam filters calmer); B is far shorter for CJK.
    const bool useB = 2 * qLength > 3 * base64Length(utf8.size());

    std::size_t pos = 0;
    while (pos < utf8.size()) {
        // Room for this word on the current line; fold first when too little is left.
        std::size_t room = kMaxLine - std::min(kMaxLine, column() + 1);
        if (!empty_ && room < 2 * kWordOverhead) room = kMaxLine - 1;
        const std::size_t maxPayload = std::min(room, kMaxEncodedWord) - kWordOverhead;

        std::size_t end = pos;
        std::size_t payload = 0;
        while (end < utf8.size()) {
            char32_t cp;
            std::size_t len = utf8::decode(utf8, end, cp);
            if (len == 0) len = 1;  // not UTF-8 (cleanHeaderText prevents it): one octet
            std::size_t cost = 0;
            if (useB) cost = base64Length(end + len - pos) - payload;
            else
                for (std::size_t k = 0; k < len; ++k) cost += qCost(static_cast<unsigned char>(utf8[end + k]));
            if (payload + cost > maxPayload && end > pos) break;
            payload += cost;
            end += len;
        }
        std::string word = useB ? "=?UTF-8?B?" : "=?UTF-8?Q?";
        if (useB) appendBase64(word, utf8.substr(pos, end - pos));
        else appendQ(word, utf8.substr(pos, end - pos));
        word += "?=";
        token(word);
        pos = end;
    }
}

void HeaderWriter::finish() { out_ += "\r\n"; }

}  // namespace campaignd::mail

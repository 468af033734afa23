// utf8.h: decoding one UTF-8 sequence, strictly (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), for the places that walk text code point by code point (validation,
// header encoding); and the one way outside text is made safe to show on a terminal or in a log
// line (escapeControls). Header-only so any part of the daemon can use it without a link.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace campaignd::utf8 {

// The length of the UTF-8 sequence starting at s[i] and its code point in `cp`, or 0 (and a
// meaningless `cp`) if the sequence is invalid or truncated.
inline std::size_t decode(std::string_view s, std::size_t i, char32_t& cp) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    cp = 0;
    if (c < 0x80) {
        cp = c;
        return 1;
    }
    std::size_t len;
    char32_t min;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        if ((b(k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b(k) & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

// `value` with nothing a terminal or a line-based reader would act on: CR, LF and tab as \r, \n,
// \t, other C0 controls, DEL and bytes that are not UTF-8 as \xNN, C1 controls (U+0080-U+009F,
// which include the 8-bit CSI) as \uNNNN. With `quotes`, '"' and '\' are escaped too (for a
// value shown between quotes). At most `maxChars` characters are kept, then "...".
inline std::string escapeControls(std::string_view value, bool quotes = false,
                                  std::size_t maxChars = std::string_view::npos) {
    const auto hexByte = [](unsigned value, const char* format) {
        char buf[16];
        std::snprintf(buf, sizeof buf, format, value);
        return std::string(buf);
    };
    std::string out;
    out.reserve(value.size());
    std::size_t shown = 0;
    char32_t cp;
    for (std::size_t i = 0; i < value.size(); ++shown) {
        if (shown == maxChars) {
            out += "...";
            break;
        }
        const std::size_t len = decode(value, i, cp);
        if (len == 0) {
            out += hexByte(static_cast<unsigned char>(value[i]), "\\x%02X");
            ++i;
            continue;
        }
        if (cp == '\r') out += "\\r";
        else if (cp == '\n') out += "\\n";
        else if (cp == '\t') out += "\\t";
        else if (quotes && cp == '"') out += "\\\"";
        else if (quotes && cp == '\\') out += "\\\\";
        else if (cp < 0x20 || cp == 0x7F) out += hexByte(static_cast<unsigned>(cp), "\\x%02X");
        else if (cp >= 0x80 && cp <= 0x9F) out += hexByte(static_cast<unsigned>(cp), "\\u%04X");
        else out.append(value.substr(i, len));
        i += len;
    }
    return out;
}

}  // namespace campaignd::utf8

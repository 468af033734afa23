// utf8.h: decoding one UTF-8 sequence, strictly (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), for the places that walk text code point by code point (validation,
// header encoding). Header-only so any part of the daemon can use it without a link.
#pragma once

#include <cstddef>
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

}  // namespace campaignd::utf8

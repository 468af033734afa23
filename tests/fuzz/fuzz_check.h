// fuzz_check.h: the one way a fuzz target reports a broken property: it prints what was
// expected and the value that broke it (quoted, so control bytes show), then aborts, which
// libFuzzer records as a crash with the input as reproducer. Never used for input the code
// is allowed to refuse: refusals are the documented exceptions, caught in each target.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace campaignd::fuzz {

// `value` with control bytes, quotes and bytes >= 0x7F shown as \xNN, for a report.
inline std::string printable(std::string_view value) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : value) {
        if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

// Aborts with `property` and `value` when `ok` is false.
inline void check(bool ok, const char* property, std::string_view value = {}) {
    if (ok) return;
    std::fprintf(stderr, "==campaignd-fuzz== property violated: %s\n  value: \"%s\"\n", property,
                 printable(value).c_str());
    std::abort();
}

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF),
// written independently of the code under test so that the check does not share its bugs.
inline bool isValidUtf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        std::size_t len;
        char32_t cp;
        char32_t min;
        if (c < 0x80) { ++i; continue; }
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return false;
        if (i + len > s.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const unsigned char d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

}  // namespace campaignd::fuzz

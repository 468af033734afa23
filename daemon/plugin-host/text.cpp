// text.cpp: see text.h. One UTF-8 decoder serves both the sanitiser (which repairs) and the
// checker (which refuses), so the two can never disagree on what "valid" means.
#include "plugin-host/text.h"

#include <algorithm>
#include <cstring>

namespace campaignd::plugins {
namespace {

bool isControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// The length of the valid UTF-8 sequence of two or more bytes starting at p[i], or 0 if the
// bytes there are not one (overlong forms and surrogates excluded).
std::size_t multiByteLength(const unsigned char* p, std::size_t i, std::size_t n) {
    const unsigned char c = p[i];
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;  // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return 0;
    for (std::size_t k = 2; k < len; ++k)
        if (p[i + k] < 0x80 || p[i + k] > 0xbf) return 0;
    return len;
}

}  // namespace

std::string sanitizeText(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t n = in.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            out += isControl(c) ? ' ' : static_cast<char>(c);
            ++i;
            continue;
        }
        const std::size_t len = multiByteLength(p, i, n);
        if (len == 0) {
            out += '?';
            ++i;
            continue;
        }
        out.append(in.data() + i, len);
        i += len;
    }
    return out;
}

std::string copyBounded(const char* text, std::size_t maxBytes) {
    if (text == nullptr) return {};
    return sanitizeText(std::string_view(text, strnlen(text, maxBytes)));
}

bool isCleanText(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            if (isControl(p[i])) return false;
            ++i;
            continue;
        }
        const std::size_t len = multiByteLength(p, i, n);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

bool hasControlCharacter(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return isControl(static_cast<unsigned char>(c)); });
}

bool fitsCString(std::string_view s) {
    return s.find('\0') == std::string_view::npos && s.size() <= kMaxSettingBytes;
}

}  // namespace campaignd::plugins

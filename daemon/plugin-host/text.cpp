// text.cpp: see text.h. One UTF-8 decoder serves both the sanitiser (which repairs) and the
// checker (which refuses), so the two can never disagree on what "valid" means.
#include "plugin-host/text.h"

#include <algorithm>
#include <cstring>

#include "core/utf8.h"

namespace campaignd::plugins {
namespace {

bool isControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// The length of the valid UTF-8 sequence of two or more bytes starting at in[i], or 0 if the
// bytes there are not one (core/utf8.h: overlong forms and surrogates excluded).
std::size_t multiByteLength(std::string_view in, std::size_t i) {
    char32_t cp;
    return utf8::decode(in, i, cp);
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
        const std::size_t len = multiByteLength(in, i);
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
        const std::size_t len = multiByteLength(s, i);
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

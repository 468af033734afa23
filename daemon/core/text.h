// text.h: small text helpers every layer needs the same: white space trimmed off a header or
// template value, and text escaped for HTML. Header-only, no allocation but the result.
#pragma once

#include <string>
#include <string_view>

namespace campaignd::text {

// `s` without leading and trailing spaces, tabs, CRs and LFs (not other Unicode space).
constexpr std::string_view trimWhitespace(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// `s` safe as HTML text and in attributes quoted either way: & < > " ' escaped ("&#39;" rather
// than "&apos;", which older Outlook versions show as it is).
inline std::string escapeHtml(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 16);
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

}  // namespace campaignd::text

// personalisation.cpp: checks a campaign's template. A short scanner over the tags (default
// delimiters only, since delimiter changes are refused) names what campaignd does not allow;
// kainjow's own parser then judges the structure (unclosed tags, unbalanced sections), so a
// template that passes here is one the renderer accepts.
#include "mail/personalisation.h"

#include <kainjow/mustache.hpp>

#include <algorithm>
#include <array>

namespace campaignd::mail {
namespace {

constexpr std::array<std::string_view, 3> kVariables = {"name", "email", "unsubscribe_url"};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

std::string knownList() {
    std::string out;
    for (std::string_view v : kVariables) {
        if (!out.empty()) out += ", ";
        out += "{{";
        out += v;
        out += "}}";
    }
    return out;
}

std::string shown(std::string_view tag) {
    std::string out;
    for (char c : tag.substr(0, 60)) out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
    if (tag.size() > 60) out += "...";
    return out;
}

}  // namespace

std::span<const std::string_view> templateVariables() { return kVariables; }

std::string validateTemplate(std::string_view text) {
    std::size_t pos = 0;
    while ((pos = text.find("{{", pos)) != std::string_view::npos) {
        const std::string line = "line " + std::to_string(1 + std::count(text.begin(), text.begin() + pos, '\n'));
        if (pos + 2 < text.size() && text[pos + 2] == '{')
            return line + ": " + shown(text.substr(pos, 20)) +
                   ": triple mustaches {{{...}}} are not allowed; write {{name}}: values are "
                   "escaped as each part needs";
        const std::size_t end = text.find("}}", pos + 2);
        if (end == std::string_view::npos) return line + ": a tag opened with {{ is never closed with }}";
        const std::string_view whole = text.substr(pos, end + 2 - pos);
        std::string_view body = trim(text.substr(pos + 2, end - pos - 2));
        pos = end + 2;
        if (body.empty()) return line + ": the empty tag {{}} is not allowed";
        const char kind = body.front();
        switch (kind) {
        case '!':
            continue;  // a comment
        case '&':
            return line + ": " + shown(whole) + ": unescaped tags {{&...}} are not allowed; write {{name}}";
        case '>':
            return line + ": " + shown(whole) + ": partials {{>...}} are not supported";
        case '=':
            return line + ": " + shown(whole) + ": changing the delimiters is not supported";
        case '#': case '^': case '/':
            body = trim(body.substr(1));
            break;
        default:
            break;
        }
        if (std::find(kVariables.begin(), kVariables.end(), body) == kVariables.end())
            return line + ": " + shown(whole) + ": unknown variable \"" + shown(body) +
                   "\"; the known variables are " + knownList();
    }
    const kainjow::mustache::mustache parsed{std::string(text)};
    if (!parsed.is_valid()) return parsed.error_message();
    return {};
}

}  // namespace campaignd::mail

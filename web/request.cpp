// request.cpp: see request.h.
#include "web/request.h"

#include <cctype>

#include "core/text.h"

namespace campaignd::web {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (lower(s[i]) != lower(prefix[i])) return false;
    return true;
}

// The value of `key` in an application/x-www-form-urlencoded body, if it is there exactly once
// and needs no decoding beyond '+'-less plain text (the values campaignd expects have none).
bool formHas(std::string_view body, std::string_view key, std::string_view value) {
    body = text::trimWhitespace(body);
    int found = 0;
    while (!body.empty()) {
        const std::size_t amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        const std::size_t eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == key) {
            if (pair.substr(eq + 1) != value) return false;
            ++found;
        }
        if (amp == std::string_view::npos) break;
        body.remove_prefix(amp + 1);
    }
    return found == 1;
}

// The part named `key` of a multipart/form-data body holds exactly `value`. Some providers
// send RFC 8058's POST as multipart/form-data.
bool multipartHas(std::string_view contentType, std::string_view body, std::string_view key,
                  std::string_view value) {
    const std::size_t b = contentType.find("boundary=");
    if (b == std::string_view::npos) return false;
    std::string_view boundary = contentType.substr(b + 9);
    boundary = boundary.substr(0, boundary.find(';'));
    boundary = text::trimWhitespace(boundary);
    if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"')
        boundary = boundary.substr(1, boundary.size() - 2);
    if (boundary.empty() || boundary.size() > 70) return false;
    const std::string delimiter = "--" + std::string(boundary);
    const std::string nameParam = "name=\"" + std::string(key) + "\"";
    std::size_t pos = body.find(delimiter);
    while (pos != std::string_view::npos) {
        const std::size_t next = body.find(delimiter, pos + delimiter.size());
        if (next == std::string_view::npos) break;
        std::string_view part = body.substr(pos + delimiter.size(), next - pos - delimiter.size());
        const std::size_t headersEnd = part.find("\r\n\r\n");
        if (headersEnd != std::string_view::npos && part.substr(0, headersEnd).find(nameParam) != std::string_view::npos)
            return text::trimWhitespace(part.substr(headersEnd + 4)) == value;
        pos = next;
    }
    return false;
}

}  // namespace

bool tokenShapeOk(std::string_view token) {
    if (token.empty() || token.size() > kMaxToken) return false;
    const std::size_t dash = token.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash > 20 || token[0] == '0') return false;
    for (std::size_t i = 0; i < dash; ++i)
        if (token[i] < '0' || token[i] > '9') return false;
    const std::string_view tag = token.substr(dash + 1);
    if (tag.empty() || tag.size() > 42) return false;
    for (char c : tag) {
        const char l = lower(c);
        if (!((l >= 'a' && l <= 'z') || (l >= '2' && l <= '7'))) return false;
    }
    return true;
}

Route parseTarget(std::string_view target) {
    Route route;
    if (target.size() > kMaxTarget) return route;
    target = target.substr(0, target.find_first_of("?#"));
    if (target == "/robots.txt") {
        route.kind = RouteKind::Robots;
        return route;
    }
    RouteKind kind;
    if (target.substr(0, 3) == "/u/") kind = RouteKind::Unsubscribe;
    else if (target.substr(0, 3) == "/v/") kind = RouteKind::View;
    else return route;
    std::string_view token = target.substr(3);
    if (!token.empty() && token.back() == '/') token.remove_suffix(1);
    if (!tokenShapeOk(token)) return route;
    route.kind = kind;
    route.token.reserve(token.size());
    for (char c : token) route.token += lower(c);
    return route;
}

PostKind classifyPost(std::string_view contentType, std::string_view body) {
    if (body.size() > kMaxBody) return PostKind::Invalid;
    const std::string_view type = text::trimWhitespace(contentType.substr(0, contentType.find(';')));
    if (startsWithIgnoreCase(type, "multipart/form-data") && type.size() == 19)
        return multipartHas(contentType, body, "List-Unsubscribe", "One-Click") ? PostKind::OneClick
                                                                                : PostKind::Invalid;
    if (!type.empty() && !(startsWithIgnoreCase(type, "application/x-www-form-urlencoded") && type.size() == 33))
        return PostKind::Invalid;
    if (formHas(body, "List-Unsubscribe", "One-Click")) return PostKind::OneClick;
    if (formHas(body, "unsubscribe", "yes")) return PostKind::Page;
    return PostKind::Invalid;
}

std::string escapeHtml(std::string_view text) { return text::escapeHtml(text); }

}  // namespace campaignd::web

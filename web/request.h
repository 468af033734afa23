// request.h: what campaignd-web reads from a request, as pure functions (fuzzed by
// tests/fuzz/web_request.cpp): the route and token of a request target, and which POST a body
// is. A token is only checked for shape here ("<decimal>-<base32>", at most 64 characters): the
// daemon, which holds the secret, decides whether it is real. Nothing here allocates more than
// its input's size.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace campaignd::web {

// Bounds of what is read from a request (the HTTP server enforces them: request.cpp says where).
inline constexpr std::size_t kMaxTarget = 256;       // octets of the request target
inline constexpr std::size_t kMaxBody = 4096;        // octets of a POST body
inline constexpr std::size_t kMaxToken = 64;         // octets of a token

enum class RouteKind {
    Unsubscribe,  // /u/TOKEN
    View,         // /v/TOKEN
    Robots,       // /robots.txt
    NotFound,     // anything else, or a token of the wrong shape
};

struct Route {
    RouteKind kind = RouteKind::NotFound;
    std::string token;  // lower case; only for Unsubscribe and View
};

// The route of a request target ("/u/12-abc...", optionally with a query, which is ignored).
// A token of the wrong shape is NotFound, as any unknown path.
Route parseTarget(std::string_view target);

// Whether `token` has the shape of a public token: 1-20 digits (no leading zero), '-', 1-42
// base32 letters (a-z, 2-7, either case); at most kMaxToken octets.
bool tokenShapeOk(std::string_view token);

enum class PostKind {
    OneClick,  // RFC 8058: List-Unsubscribe=One-Click (urlencoded or multipart/form-data)
    Page,      // the unsubscribe page's button: unsubscribe=yes
    Invalid,   // anything else
};

// Which POST `body` is, given its Content-Type (empty if none).
PostKind classifyPost(std::string_view contentType, std::string_view body);

// Text made safe for HTML text and for attribute values quoted with '"' or '\''.
std::string escapeHtml(std::string_view text);

}  // namespace campaignd::web

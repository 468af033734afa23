// web_request.cpp: fuzzes what campaignd-web and the daemon read from a request: the route and
// token of a request target (web/request.h parseTarget, tokenShapeOk), which POST a body is
// (classifyPost, the first line of the input being the Content-Type), the HTML escaping of
// values, and the daemon's decoding of a public token (mail/verp.h parsePublicToken). Properties:
// a routed token has the public token's shape and is lower case; what the daemon accepts for a
// fixed secret is only ever a token it would itself make for that campaign and recipient;
// escaped text holds no markup character; nothing reads past its input (ASan).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mail/verp.h"
#include "web/request.h"

namespace {

using campaignd::fuzz::check;
namespace web = campaignd::web;
namespace mail = campaignd::mail;

constexpr std::string_view kSecret = "fuzz-secret-of-at-least-16-octets";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    const web::Route route = web::parseTarget(input);
    if (route.kind == web::RouteKind::Unsubscribe || route.kind == web::RouteKind::View) {
        check(web::tokenShapeOk(route.token), "a routed token has the public token's shape", route.token);
        check(route.token.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos,
              "a routed token is lower case", route.token);
        check(input.size() <= web::kMaxTarget, "a routed target is within the bound", input);
    } else {
        check(route.token.empty(), "no token without a route", route.token);
    }

    const std::size_t newline = input.find('\n');
    const std::string_view contentType = newline == std::string_view::npos ? std::string_view() : input.substr(0, newline);
    const std::string_view body = newline == std::string_view::npos ? input : input.substr(newline + 1);
    const web::PostKind kind = web::classifyPost(contentType, body);
    if (kind == web::PostKind::OneClick)
        check(body.find("One-Click") != std::string_view::npos, "a one-click POST says One-Click", body);
    if (kind == web::PostKind::Page)
        check(body.find("unsubscribe=yes") != std::string_view::npos, "a page POST says unsubscribe=yes", body);

    const std::string escaped = web::escapeHtml(input);
    check(escaped.find_first_of("<>\"'") == std::string::npos, "escaped text holds no markup character", escaped);

    if (const auto named = mail::parsePublicToken(kSecret, input)) {
        check(named->campaignId > 0 && named->recipientId > 0, "a verified token names positive ids", input);
        const std::string made = mail::publicToken(kSecret, named->campaignId, named->recipientId);
        std::string lower(input);
        for (char& c : lower)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        check(lower == made, "only a token the daemon makes verifies", input);
    }
    return 0;
}

// server.cpp: see server.h. Every request ends in exactly one response with the same security
// headers; the journal line for it names the route, the method, the status and the campaign (the
// token's leading number), never an address or a whole token.
#include "web/server.h"

#include <microhttpd.h>
#include <signal.h>

#include <cstring>
#include <string>

#include "core/log.h"
#include "web/daemon_client.h"
#include "web/pages.h"
#include "web/request.h"

namespace campaignd::web {
namespace {

// No script, no external resource; the form may only post back here. The view page lets the
// campaign's own images (https) and inline styles show, as a mail client would.
constexpr const char* kPageCsp =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
constexpr const char* kViewCsp =
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'none'; base-uri 'none'; "
    "frame-ancestors 'none'";

struct RequestState {
    std::string body;
    bool tooLarge = false;
};

struct Reply {
    unsigned status = 200;
    std::string body;
    const char* contentType = "text/html; charset=utf-8";
    const char* csp = kPageCsp;
    bool allowHeader = false;
};

std::string campaignOf(const std::string& token) { return token.substr(0, token.find('-')); }

const char* routeName(RouteKind k) {
    switch (k) {
    case RouteKind::Unsubscribe: return "unsubscribe";
    case RouteKind::View: return "view";
    case RouteKind::Robots: return "robots";
    case RouteKind::NotFound: return "other";
    }
    return "other";
}

Reply notFound() { return {404, notFoundPage()}; }
Reply unavailable() {
    return {503, errorPage("Try again later", "This service cannot answer right now. Please try again later.")};
}

Reply handle(const std::string& method, const Route& route, const char* contentType, const RequestState& state) {
    const bool post = method == "POST";
    if (route.kind == RouteKind::Robots) {
        if (post) return {405, errorPage("Method not allowed", "Use GET."), "text/html; charset=utf-8", kPageCsp, true};
        return {200, "User-agent: *\nDisallow: /\n", "text/plain; charset=utf-8"};
    }
    if (route.kind == RouteKind::NotFound) return notFound();
    if (route.kind == RouteKind::View) {
        if (post) return {405, errorPage("Method not allowed", "Use GET."), "text/html; charset=utf-8", kPageCsp, true};
        const auto v = viewMessage(route.token);
        if (v.outcome == Outcome::NotFound) return notFound();
        if (v.outcome != Outcome::Ok) return unavailable();
        return {200, viewPage(v.subject, v.html), "text/html; charset=utf-8", kViewCsp};
    }
    // /u/TOKEN
    if (!post) {
        const auto d = describeToken(route.token);
        if (d.outcome == Outcome::NotFound) return notFound();
        if (d.outcome != Outcome::Ok) return unavailable();
        return {200, unsubscribePage(d.description)};
    }
    if (state.tooLarge) return {413, errorPage("Too large", "The request body is too large.")};
    const PostKind kind = classifyPost(contentType ? contentType : "", state.body);
    if (kind == PostKind::Invalid) return {400, errorPage("Bad request", "This is not an unsubscribe request.")};
    const auto d = unsubscribe(route.token, kind == PostKind::OneClick ? "one-click" : "page");
    if (d.outcome == Outcome::NotFound) return notFound();
    if (d.outcome != Outcome::Ok) return unavailable();
    // RFC 8058: a plain 200, no redirect, nothing to confirm.
    if (kind == PostKind::OneClick) return {200, "Unsubscribed.\n", "text/plain; charset=utf-8"};
    return {200, confirmationPage(d.description)};
}

MHD_Result queue(MHD_Connection* connection, const Reply& reply) {
    MHD_Response* response =
        MHD_create_response_from_buffer(reply.body.size(), const_cast<char*>(reply.body.data()), MHD_RESPMEM_MUST_COPY);
    if (!response) return MHD_NO;
    MHD_add_response_header(response, "Content-Type", reply.contentType);
    MHD_add_response_header(response, "Content-Security-Policy", reply.csp);
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(response, "X-Robots-Tag", "noindex, nofollow");
    MHD_add_response_header(response, "X-Frame-Options", "DENY");
    MHD_add_response_header(response, "Cache-Control", "no-store");
    if (reply.allowHeader) MHD_add_response_header(response, "Allow", "GET, HEAD, POST");
    const MHD_Result r = MHD_queue_response(connection, reply.status, response);
    MHD_destroy_response(response);
    return r;
}

void logReply(const std::string& method, const Route& route, unsigned status) {
    log::info("request", {{"HTTP_METHOD", method},
                          {"HTTP_ROUTE", routeName(route.kind)},
                          {"HTTP_STATUS", std::to_string(status)},
                          {"CAMPAIGN_ID", route.token.empty() ? std::string("-") : campaignOf(route.token)}});
}

// The Prometheus text exposition format, version 0.0.4 (what GetMetrics writes).
constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";

// campaignd-web --metrics: GET or HEAD /metrics (a query is ignored), nothing else.
Reply handleMetrics(const std::string& method, std::string_view target) {
    if (method != "GET" && method != "HEAD")
        return {405, "Use GET.\n", "text/plain; charset=utf-8", kPageCsp, true};
    if (target.substr(0, target.find('?')) != "/metrics") return {404, "Not found: try /metrics\n", "text/plain; charset=utf-8"};
    auto m = metrics();
    if (m.outcome != Outcome::Ok) return {503, "campaignd does not answer\n", "text/plain; charset=utf-8"};
    return {200, std::move(m.text), kMetricsType};
}

MHD_Result onMetricsRequest(void*, MHD_Connection* connection, const char* url, const char* methodC, const char*,
                            const char*, size_t* uploadSize, void** context) {
    // No body is kept: anything but GET or HEAD is answered (405) once its headers are in; the
    // body of a GET, if any, is read and dropped.
    if (*context && *uploadSize != 0) {
        *uploadSize = 0;
        return MHD_YES;
    }
    if (!*context) {
        *context = connection;  // the first call, with the headers: wait for the end of the request
        const std::string method = methodC ? methodC : "";
        if (method == "GET" || method == "HEAD") return MHD_YES;
    }
    const std::string method = methodC ? methodC : "";
    const Reply reply = handleMetrics(method, url ? url : "");
    log::info("request", {{"HTTP_METHOD", method}, {"HTTP_ROUTE", "metrics"}, {"HTTP_STATUS", std::to_string(reply.status)}});
    return queue(connection, reply);
}

MHD_Result onRequest(void*, MHD_Connection* connection, const char* url, const char* methodC, const char*,
                     const char* uploadData, size_t* uploadSize, void** context) {
    const std::string method = methodC ? methodC : "";
    auto* state = static_cast<RequestState*>(*context);
    if (!state) {
        // Headers are in: refuse what is not worth reading before any body arrives.
        if (method != "GET" && method != "HEAD" && method != "POST") {
            Reply r{405, errorPage("Method not allowed", "Use GET or POST."), "text/html; charset=utf-8", kPageCsp, true};
            logReply(method, Route{}, 405);
            return queue(connection, r);
        }
        if (std::strlen(url) > kMaxTarget) {
            logReply(method, Route{}, 414);
            return queue(connection, Reply{414, errorPage("URI too long", "The request target is too long.")});
        }
        if (const char* length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Content-Length")) {
            char* end = nullptr;
            const unsigned long long n = std::strtoull(length, &end, 10);
            if (n > kMaxBody) {
                logReply(method, Route{}, 413);
                return queue(connection, Reply{413, errorPage("Too large", "The request body is too large.")});
            }
        }
        *context = new RequestState;
        return MHD_YES;
    }
    if (*uploadSize != 0) {
        if (state->body.size() + *uploadSize > kMaxBody) {
            state->tooLarge = true;  // a chunked body past the bound: read and dropped, then 413
        } else {
            state->body.append(uploadData, *uploadSize);
        }
        *uploadSize = 0;
        return MHD_YES;
    }
    const Route route = parseTarget(url);
    const char* contentType = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Content-Type");
    const Reply reply = handle(method, route, contentType, *state);
    logReply(method, route, reply.status);
    return queue(connection, reply);
}

void onCompleted(void*, MHD_Connection*, void** context, MHD_RequestTerminationCode) {
    delete static_cast<RequestState*>(*context);
    *context = nullptr;
}

void onMetricsCompleted(void*, MHD_Connection*, void** context, MHD_RequestTerminationCode) { *context = nullptr; }

}  // namespace

int serve(const ServerSettings& settings) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // the server's threads inherit the mask
    signal(SIGPIPE, SIG_IGN);

    MHD_Daemon* daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, nullptr, nullptr,
        settings.metrics ? &onMetricsRequest : &onRequest, nullptr,
        MHD_OPTION_LISTEN_SOCKET, settings.listenFd,
        MHD_OPTION_THREAD_POOL_SIZE, static_cast<unsigned>(settings.threads),
        MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(settings.maxConnections),
        MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(settings.timeoutSeconds),
        // Bounds the request line and headers (and the read buffer): past it, 414 or 431.
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(8192),
        MHD_OPTION_NOTIFY_COMPLETED, settings.metrics ? &onMetricsCompleted : &onCompleted, nullptr,
        MHD_OPTION_END);
    if (!daemon) {
        log::error("cannot start the HTTP server on the listening socket");
        return 1;
    }
    log::info("serving", {{"HTTP_THREADS", std::to_string(settings.threads)},
                          {"HTTP_MAX_CONNECTIONS", std::to_string(settings.maxConnections)}});
    int received = 0;
    sigwait(&signals, &received);
    log::info("stopping");
    MHD_stop_daemon(daemon);
    return 0;
}

}  // namespace campaignd::web

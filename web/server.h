// server.h: campaignd-web's HTTP server, on libmicrohttpd.
//
// Why libmicrohttpd and not Poco::Net::HTTPServer (already linked by the daemon): this service
// faces the internet, and its failure mode is many slow or idle clients. libmicrohttpd reads
// every connection from an epoll loop, so 500 connections that send nothing cost 500 idle
// descriptors, not 500 threads; it has the bounds built in (MHD_OPTION_CONNECTION_LIMIT,
// MHD_OPTION_CONNECTION_TIMEOUT, MHD_OPTION_CONNECTION_MEMORY_LIMIT, which bounds the request
// line and headers and answers 414/431 past it) and takes a listening descriptor as it is
// (MHD_OPTION_LISTEN_SOCKET), which is what socket activation hands over. Poco's TCPServer gives
// each accepted connection a pool thread while it reads the request, so idle clients starve the
// pool until their timeout, and a ServerSocket cannot adopt an inherited descriptor in Poco 1.11
// without reaching into SocketImpl.
#pragma once

#include <string>

namespace campaignd::web {

struct ServerSettings {
    int listenFd = -1;            // a bound, listening TCP socket (ours or systemd's)
    unsigned threads = 4;         // worker threads, each with its own epoll loop and bus connection
    unsigned maxConnections = 1000;
    unsigned timeoutSeconds = 10; // a connection idle this long is closed
    // campaignd-web --metrics (campaignd-metrics.service): GET /metrics only, the daemon's
    // GetMetrics in the Prometheus text format; every other target is 404. The public side
    // (false) never serves /metrics.
    bool metrics = false;
};

// Serves until SIGTERM or SIGINT; returns the exit status.
int serve(const ServerSettings& settings);

}  // namespace campaignd::web

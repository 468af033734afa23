// main.cpp: campaignd-web, the public HTTP side of campaignd: the unsubscribe links (RFC 8058
// one-click and a page with a button) and "view in browser". It holds no secret and opens no
// database: it asks campaignd over the bus (org.campaignd.Campaignd1.Web), as its own user.
// The listening socket comes from systemd (campaignd-web.socket, or systemd-socket-activate),
// or from --listen ADDR:PORT. With --metrics it is the metrics side instead
// (campaignd-metrics.socket): GET /metrics, the daemon's GetMetrics, and nothing else; a
// process of its own, so that the public side never serves metrics and each can be enabled
// alone.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

#include "core/log.h"
#include "web/daemon_client.h"
#include "web/server.h"

namespace {

// A listening IPv4 TCP socket on "ADDR:PORT"; -1 (and a message) if it cannot be made.
int listenOn(const std::string& hostPort) {
    const auto colon = hostPort.rfind(':');
    if (colon == std::string::npos) {
        std::cerr << "campaignd-web: --listen wants ADDR:PORT, as in 127.0.0.1:8025\n";
        return -1;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    const std::string host = hostPort.substr(0, colon);
    char* end = nullptr;
    const unsigned long port = std::strtoul(hostPort.c_str() + colon + 1, &end, 10);
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 || *end != '\0' || port == 0 || port > 65535) {
        std::cerr << "campaignd-web: --listen " << hostPort << ": not an IPv4 ADDR:PORT\n";
        return -1;
    }
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 1024) != 0) {
        std::cerr << "campaignd-web: cannot listen on " << hostPort << ": " << std::strerror(errno) << "\n";
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

// Each connection is a descriptor: let the connection cap, not the soft limit, decide.
void raiseDescriptorLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"campaignd-web: unsubscribe links and \"view in browser\" for campaignd"};
    bool user = false;
    std::string listen;
    campaignd::web::ServerSettings server;
    campaignd::web::ClientSettings client;
    app.add_flag("--user", user, "Talk to campaignd on the session bus (as `campaignd --user`)");
    app.add_flag("--metrics", server.metrics,
                 "Serve GET /metrics (Prometheus) from campaignd's GetMetrics, and nothing else "
                 "(campaignd-metrics.socket)");
    app.add_option("--listen", listen, "Listen on ADDR:PORT instead of a socket from systemd");
    app.add_option("--threads", server.threads, "Worker threads (default 4)")->check(CLI::Range(1, 64));
    app.add_option("--max-connections", server.maxConnections, "Concurrent connections at most (default 1000)")
        ->check(CLI::Range(16, 100000));
    app.add_option("--timeout", server.timeoutSeconds, "Seconds an idle connection is kept (default 10)")
        ->check(CLI::Range(1, 600));
    app.set_version_flag("--version", std::string(CAMPAIGND_WEB_VERSION));
    CLI11_PARSE(app, argc, argv);

    const int inherited = sd_listen_fds(1);
    if (inherited > 1) {
        std::cerr << "campaignd-web: systemd passed " << inherited << " sockets; give it one\n";
        return 2;
    }
    if (inherited == 1 && !listen.empty()) {
        std::cerr << "campaignd-web: a socket came from systemd; --listen is not for that case\n";
        return 2;
    }
    if (inherited == 1) {
        server.listenFd = SD_LISTEN_FDS_START;
        if (sd_is_socket(server.listenFd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
            std::cerr << "campaignd-web: the socket from systemd is not a listening stream socket\n";
            return 2;
        }
    } else if (!listen.empty()) {
        server.listenFd = listenOn(listen);
        if (server.listenFd < 0) return 1;
    } else {
        std::cerr << "campaignd-web: no socket: start it from " << (server.metrics ? "campaignd-metrics.socket" : "campaignd-web.socket")
                  << " (or systemd-socket-activate), or give --listen ADDR:PORT\n";
        return 2;
    }
    fcntl(server.listenFd, F_SETFL, fcntl(server.listenFd, F_GETFL) | O_NONBLOCK);
    raiseDescriptorLimit();
    client.user = user;
    campaignd::web::configureClient(client);
    sd_notify(0, "READY=1");
    return campaignd::web::serve(server);
}

// main.cpp: campaignd, the daemon. Parses the command line and runs the daemon
// (app/daemon.h builds and serves it). SIGTERM and SIGINT stop it cleanly; SIGHUP re-reads the
// config and applies what can change without a restart (the log level, the admin group).
//
// Exit status: 0 after a clean stop, 1 when start-up fails, 2 for bad usage, 78 (EX_CONFIG)
// for a bad config, 75 (EX_TEMPFAIL) when another campaignd owns the bus name; the unit marks
// the last two as not worth restarting for. --check-config: 0, or 78 with every problem found
// (with --connect, a transport that cannot send now is one).
#include <CLI/CLI.hpp>
#include <sys/resource.h>

#include <csignal>

#include "app/check_config.h"
#include "app/daemon.h"
#include "core/buildconfig.h"

namespace {

// Connections= goes up to 1,000 sessions per transport, a descriptor each (and more for a
// plugin's own), past the usual soft limit of 1,024: take the hard limit, which is what it is
// for. Under systemd the unit sets LimitNOFILE= itself (and its filter refuses setrlimit).
void raiseDescriptorLimit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"campaignd: the bulk e-mail campaign daemon.\n"
                 "Keeps campaigns, recipients and groups and serves them on D-Bus as "
                 "org.campaignd.Campaignd1. Usually started by systemd (campaignd.service)."};
    campaignd::app::Options options;
    app.add_option("-c,--config", options.configPath,
                   "Config file (default " CAMPAIGND_CONF_DIR "/campaignd.conf, or "
                   "$XDG_CONFIG_HOME/campaignd/campaignd.conf with --user); drop-ins are read "
                   "from FILE.d/*.conf");
    app.add_flag("--user", options.user, "Serve on the session bus, as systemctl --user does");
    bool check = false;
    app.add_flag("--check-config", check,
                 "Check the config (every section and key, every plugin's settings and files, the "
                 "database reachable) without starting: prints each problem as FILE:LINE and exits "
                 "78, or prints what it checked and exits 0. Changes nothing.");
    app.add_flag("--connect", options.connect,
                 "With --check-config: also reach each transport as a session would (its SMTP "
                 "server connected to, TLS, the login; a Maildir writable), sending nothing. "
                 "Checks as the user it runs as.")
        ->needs("--check-config");
    app.set_version_flag("--version", CAMPAIGND_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    raiseDescriptorLimit();
    if (check) return campaignd::app::checkConfig(options);
    return campaignd::app::run(options);
}

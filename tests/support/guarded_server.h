// guarded_server.h: the one way a test fixture runs a server process. start() spawns it (the
// server itself in the foreground, or a command that starts a daemon whose pid is then read from
// its pid file), polls a ready check, and starts a guard: a shell that holds the read end of a
// pipe only this test process can write to, so that when the test dies without running
// destructors (a crash, SIGKILL from a ctest timeout) it reads EOF, signals the server, waits
// for it to go (SIGKILL after 10 s) and removes the server's directory. stop() retires the guard
// first, then stops the server the orderly way and waits until it has really exited.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace campaignd::test {

struct GuardedServerSpec {
    std::string name;                   // in error messages, e.g. "smtp-sink on 127.1.2.3:25000"
    std::vector<std::string> argv;      // what start() runs
    ProcessOptions options;             // for argv and stopCommand
    // Empty: argv is the server, run in the foreground as a Process (its own process group).
    // Else argv starts a daemon and exits 0, and the daemon's pid is the number in this file.
    std::filesystem::path pidFile;
    std::function<bool()> ready;        // polled until true; empty: ready once started
    std::chrono::milliseconds readyTimeout = 20s;  // for the ready check (and a start command)
    std::vector<std::string> stopCommand;  // an orderly stop; empty: send stopSignal
    int stopSignal = SIGTERM;           // to a foreground server's whole group, or the daemon
    int guardSignal = SIGTERM;          // what the guard sends when the test process has died
    std::filesystem::path guardRemoves;  // what the guard deletes once the server is gone ("": nothing)
    std::function<std::string()> logs;  // the server's log files, added to a start failure
};

class GuardedServer {
public:
    // Starts the server; throws std::runtime_error with what it printed (and its logs) if it
    // does not start or does not become ready in time (having stopped what did start).
    explicit GuardedServer(GuardedServerSpec spec);
    ~GuardedServer();
    GuardedServer(const GuardedServer&) = delete;
    GuardedServer& operator=(const GuardedServer&) = delete;

    // Starts it again after stop(), with the same command; does nothing while started.
    void start();
    // Idempotent. Waits up to `grace` for the server to exit before SIGKILL. Returns the exit
    // status of a foreground server (see Process), -1 for a daemon or when already stopped.
    int stop(std::chrono::milliseconds grace = 10s);

    bool started() const { return started_; }  // start()ed and not stop()ped
    bool running();                            // the server process is alive
    pid_t pid() const;                         // the server's (or daemon's) pid; -1 if none
    // A foreground server's Process (output, signals, exit status), kept after it exits until
    // the next start(). Throws std::logic_error for a daemon.
    Process& process();
    // What the foreground server printed, or what the daemon's start command printed.
    std::string output() const;

private:
    void startGuard();
    void stopGuard();
    [[noreturn]] void failStart(const std::string& why);

    GuardedServerSpec spec_;
    std::unique_ptr<Process> process_;  // foreground
    pid_t daemonPid_ = -1;
    std::string startOutput_;           // daemon: what its start command printed
    bool started_ = false;
    std::unique_ptr<Process> guard_;
    int guardPipe_ = -1;
};

}  // namespace campaignd::test

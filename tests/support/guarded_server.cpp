// guarded_server.cpp: see guarded_server.h. The guard is /bin/sh blocked in `read` on the pipe;
// the write end is close-on-exec and held only by this process, so EOF means the test process
// is gone (or stop() closed it after killing the guard). A zombie counts as gone: PID 1 here
// reaps nothing, so the guard reads /proc/PID/stat rather than trusting kill -0.
#include "support/guarded_server.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <iostream>
#include <stdexcept>

#include "support/temp_dir.h"

namespace campaignd::test {
namespace {

// $1 pid, $2 signal name, $3 "1" to signal the pid's whole process group, $4 what to remove.
constexpr const char* kGuardScript =
    "read _ignored;"
    " pid=$1; sig=$2; group=$3; remove=$4;"
    " alive() { [ -e /proc/$pid ] && ! grep -q ') [ZX]' /proc/$pid/stat 2>/dev/null; };"
    " if [ \"$group\" = 1 ]; then kill -s $sig -- -$pid 2>/dev/null || kill -s $sig $pid 2>/dev/null;"
    " else kill -s $sig $pid 2>/dev/null; fi;"
    " i=0; while [ $i -lt 100 ] && alive; do sleep 0.1; i=$((i+1)); done;"
    " if alive; then [ \"$group\" = 1 ] && kill -s KILL -- -$pid 2>/dev/null; kill -s KILL $pid 2>/dev/null; fi;"
    " [ -n \"$remove\" ] && rm -rf \"$remove\"";

std::string signalName(int sig) {
    const char* name = ::sigabbrev_np(sig);
    return name ? name : "TERM";
}

}  // namespace

GuardedServer::GuardedServer(GuardedServerSpec spec) : spec_(std::move(spec)) { start(); }

GuardedServer::~GuardedServer() {
    try {
        stop();
    } catch (const std::exception& e) {
        std::cerr << "campaignd-test: stopping " << spec_.name << ": " << e.what() << "\n";
    }
}

void GuardedServer::start() {
    if (started_) return;
    if (spec_.pidFile.empty()) {
        process_ = std::make_unique<Process>(spec_.argv, spec_.options);
        started_ = true;
        const bool ready =
            waitUntil([&] { return !process_->running() || !spec_.ready || spec_.ready(); }, spec_.readyTimeout) &&
            process_->running();
        if (!ready)
            failStart(process_->running() ? "not ready after " + std::to_string(spec_.readyTimeout.count()) + " ms"
                                          : "exited with status " + std::to_string(process_->exitStatus().value_or(-1)));
    } else {
        daemonPid_ = -1;
        startOutput_.clear();
        started_ = true;
        RunResult r;
        try {
            r = run(spec_.argv, spec_.options, spec_.readyTimeout);
        } catch (const std::runtime_error& e) {
            failStart(e.what());
        }
        startOutput_ = r.out + r.err;
        if (r.exitCode != 0) failStart("the start command exited with status " + std::to_string(r.exitCode));
        const bool ready = waitUntil(
            [&] {
                try {
                    daemonPid_ = pid_t(std::stol(readFile(spec_.pidFile)));
                } catch (const std::exception&) {
                    return false;
                }
                return daemonPid_ > 0 && (!spec_.ready || spec_.ready());
            },
            spec_.readyTimeout);
        if (!ready) failStart("not ready after " + std::to_string(spec_.readyTimeout.count()) + " ms");
    }
    startGuard();
}

void GuardedServer::failStart(const std::string& why) {
    std::string command;
    for (const auto& a : spec_.argv) command += (command.empty() ? "" : " ") + a;
    std::string message = spec_.name + " did not start: " + why + "\n" + command + "\n" + output();
    if (spec_.logs) message += "\n" + spec_.logs();
    try {
        stop(2s);
    } catch (const std::exception& e) {
        message += "\n(stopping it: " + std::string(e.what()) + ")";
    }
    throw std::runtime_error(message);
}

int GuardedServer::stop(std::chrono::milliseconds grace) {
    stopGuard();
    if (!started_) return -1;
    started_ = false;
    if (process_) {
        process_->signal(spec_.stopSignal);
        if (auto status = process_->wait(grace)) return *status;
        process_->kill();
        return process_->wait(10s).value_or(-1);
    }
    if (daemonPid_ <= 0) {
        try {
            daemonPid_ = pid_t(std::stol(readFile(spec_.pidFile)));
        } catch (const std::exception&) {
        }
    }
    if (!spec_.stopCommand.empty()) {
        const RunResult r = run(spec_.stopCommand, spec_.options, 90s);
        if (r.exitCode != 0) std::cerr << "campaignd-test: stopping " << spec_.name << ":\n" << r.out << r.err;
    } else if (daemonPid_ > 0) {
        ::kill(daemonPid_, spec_.stopSignal);
    }
    if (daemonPid_ > 0 && !waitForProcessExit(daemonPid_, grace)) {
        ::kill(daemonPid_, SIGKILL);
        waitForProcessExit(daemonPid_, 5s);
    }
    daemonPid_ = -1;
    return -1;
}

bool GuardedServer::running() {
    if (process_) return process_->running();
    return daemonPid_ > 0 && !processExited(daemonPid_);
}

pid_t GuardedServer::pid() const {
    if (!started_) return -1;
    return process_ ? process_->pid() : daemonPid_;
}

Process& GuardedServer::process() {
    if (!process_) throw std::logic_error(spec_.name + " is a daemon, not a foreground process");
    return *process_;
}

std::string GuardedServer::output() const { return process_ ? process_->out() + process_->err() : startOutput_; }

void GuardedServer::startGuard() {
    const pid_t target = pid();
    if (target <= 0) return;
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
        std::cerr << "campaignd-test: no guard for " << spec_.name << ": pipe2 failed\n";
        return;
    }
    ProcessOptions guardOptions;
    guardOptions.stdinFd = pipeFds[0];
    guardOptions.captureOutput = false;
    try {
        guard_ = std::make_unique<Process>(
            std::vector<std::string>{"/bin/sh", "-c", kGuardScript, "campaignd-test-guard", std::to_string(target),
                                     signalName(spec_.guardSignal), process_ ? "1" : "0", spec_.guardRemoves.string()},
            guardOptions);
        guardPipe_ = pipeFds[1];
    } catch (const std::exception& e) {
        std::cerr << "campaignd-test: no guard for " << spec_.name << ": " << e.what() << "\n";
        ::close(pipeFds[1]);
    }
    ::close(pipeFds[0]);
}

void GuardedServer::stopGuard() {
    if (guard_) {
        guard_->kill();
        guard_->wait(5s);
        guard_.reset();
    }
    if (guardPipe_ >= 0) {
        ::close(guardPipe_);
        guardPipe_ = -1;
    }
}

}  // namespace campaignd::test

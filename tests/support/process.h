// process.h: run a program from a test the way a user would, and see everything it said.
// stdout and stderr go to anonymous in-memory files (memfd), never pipes, so a child that
// writes megabytes cannot block and the test can read the output at any time, also while the
// child runs (to wait for a "ready" line). stdin is a given text or /dev/null. The child gets
// its own process group, so terminate()/kill() also reach what it started; a Process that is
// destroyed while running is killed and reaped. Descriptors other than 0-2 are not inherited.
// Exit status: the exit code, or 128 + the signal number (the shell's convention).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace campaignd::test {

using namespace std::chrono_literals;

struct ProcessOptions {
    std::map<std::string, std::string> env;      // set (added or replacing the inherited value)
    std::vector<std::string> unsetEnv;           // removed from the inherited environment
    bool clearEnv = false;                       // start from an empty environment instead
    std::optional<std::filesystem::path> workingDir;
    std::optional<std::string> stdinText;        // else stdin is /dev/null
    int stdinFd = -1;                            // or read this descriptor (the caller keeps it)
    std::optional<uid_t> uid;                    // run as this user (root only); the group is
    std::optional<gid_t> gid;                    // the user's primary group unless gid is set
    bool captureOutput = true;                   // false: inherit the test's stdout/stderr
};

struct UserIds {
    uid_t uid;
    gid_t gid;
};
// Looks up a system user ("nobody", "postgres"); nullopt if there is none.
std::optional<UserIds> lookupUser(const std::string& name);

class Process {
public:
    // Starts argv[0] (searched in PATH, the child's if env sets one). Throws
    // std::runtime_error if it cannot be started (not found, bad working dir, setuid failed).
    explicit Process(std::vector<std::string> argv, ProcessOptions options = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    std::string commandLine() const;

    bool running();
    // The exit status once it has exited, nullopt if still running after `timeout`.
    std::optional<int> wait(std::chrono::milliseconds timeout = 30s);
    // The exit status if it has exited (without waiting).
    std::optional<int> exitStatus() const { return status_; }

    void signal(int sig);  // to the whole process group
    void terminate();      // SIGTERM
    void kill();           // SIGKILL
    // SIGTERM, then SIGKILL after `grace`; returns the exit status.
    int stop(std::chrono::milliseconds grace = 5s);

    // Everything captured so far ("" when captureOutput is false).
    std::string out() const;
    std::string err() const;
    // Waits until stdout or stderr contains `text`; false on timeout or if it exits first
    // without having printed it.
    bool waitForOutput(std::string_view text, std::chrono::milliseconds timeout = 10s);

private:
    bool reap(bool block);

    std::vector<std::string> argv_;
    pid_t pid_ = -1;
    int outFd_ = -1;
    int errFd_ = -1;
    std::optional<int> status_;
};

struct RunResult {
    int exitCode = -1;
    std::string out;
    std::string err;
};

// Runs to completion. On timeout the process is killed and std::runtime_error is thrown with
// what it printed, so a hung child fails the test instead of hanging it.
RunResult run(const std::vector<std::string>& argv, const ProcessOptions& options = {},
              std::chrono::milliseconds timeout = 60s);

// Polls `condition` (every few milliseconds, backing off to 50 ms) until it holds.
bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Whether a process (not necessarily our child) has exited: /proc/PID/stat is gone or says
// zombie/dead. PID 1 in these containers reaps nothing, so kill(pid, 0) would still succeed
// for a zombie daemon; this does not.
bool processExited(pid_t pid);
bool waitForProcessExit(pid_t pid, std::chrono::milliseconds timeout);

}  // namespace campaignd::test

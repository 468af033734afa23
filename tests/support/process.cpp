// process.cpp: fork/execve with everything the child needs prepared before the fork (only
// async-signal-safe calls between fork and exec); an exec failure comes back to the parent
// over a close-on-exec pipe as an errno and a step name.
#include "support/process.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace campaignd::test {
namespace {

std::string readAll(int fd) {
    if (fd < 0) return {};
    std::string out;
    char buffer[65536];
    off_t offset = 0;
    for (;;) {
        const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buffer, std::size_t(n));
        offset += n;
    }
    return out;
}

int makeMemFile(const char* name) {
    const int fd = ::memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
    return fd;
}

std::string findExecutable(const std::string& name, const std::string& pathVariable) {
    if (name.find('/') != std::string::npos) return name;
    std::string_view path = pathVariable;
    while (true) {
        const auto colon = path.find(':');
        std::string dir(path.substr(0, colon));
        if (dir.empty()) dir = ".";
        const std::string candidate = dir + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) break;
        path.remove_prefix(colon + 1);
    }
    throw std::runtime_error("cannot run " + name + ": not found in PATH");
}

int decodeStatus(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

struct ChildFailure {
    int error;
    char step[28];
};

}  // namespace

std::optional<UserIds> lookupUser(const std::string& name) {
    struct passwd pw;
    struct passwd* result = nullptr;
    std::vector<char> buffer(16384);
    if (::getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &result) != 0 || !result)
        return std::nullopt;
    return UserIds{pw.pw_uid, pw.pw_gid};
}

Process::Process(std::vector<std::string> argv, ProcessOptions options) : argv_(std::move(argv)) {
    if (argv_.empty()) throw std::runtime_error("Process: empty argv");

    // The environment.
    std::map<std::string, std::string> env;
    if (!options.clearEnv)
        for (char** e = environ; e && *e; ++e) {
            std::string_view entry(*e);
            const auto eq = entry.find('=');
            if (eq != std::string_view::npos)
                env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
        }
    for (const auto& name : options.unsetEnv) env.erase(name);
    for (const auto& [name, value] : options.env) env[name] = value;
    std::vector<std::string> envStrings;
    for (const auto& [name, value] : env) envStrings.push_back(name + "=" + value);

    const auto pathIt = env.find("PATH");
    const std::string executable =
        findExecutable(argv_[0], pathIt != env.end() ? pathIt->second : "/usr/local/bin:/usr/bin:/bin");

    std::vector<char*> argvPointers;
    for (auto& a : argv_) argvPointers.push_back(a.data());
    argvPointers.push_back(nullptr);
    std::vector<char*> envPointers;
    for (auto& e : envStrings) envPointers.push_back(e.data());
    envPointers.push_back(nullptr);

    // stdin, stdout, stderr.
    int inFd = -1;
    if (options.stdinFd >= 0) {
        inFd = ::fcntl(options.stdinFd, F_DUPFD_CLOEXEC, 3);
        if (inFd < 0) throw std::runtime_error(std::string("dup stdin: ") + std::strerror(errno));
    } else if (options.stdinText) {
        inFd = makeMemFile("campaignd-test-stdin");
        const std::string& text = *options.stdinText;
        if (::write(inFd, text.data(), text.size()) != ssize_t(text.size()) || ::lseek(inFd, 0, SEEK_SET) != 0) {
            ::close(inFd);
            throw std::runtime_error("writing stdin text failed");
        }
    } else {
        inFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if (options.captureOutput) {
        outFd_ = makeMemFile("campaignd-test-stdout");
        errFd_ = makeMemFile("campaignd-test-stderr");
    }

    std::optional<gid_t> gid = options.gid;
    if (options.uid && !gid) {
        struct passwd pw;
        struct passwd* result = nullptr;
        std::vector<char> buffer(16384);
        if (::getpwuid_r(*options.uid, &pw, buffer.data(), buffer.size(), &result) == 0 && result)
            gid = pw.pw_gid;
        else
            gid = gid_t(*options.uid);
    }
    const std::string workingDir = options.workingDir ? options.workingDir->string() : std::string();

    int failPipe[2];
    if (::pipe2(failPipe, O_CLOEXEC) != 0) {
        ::close(inFd);
        throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    }

    const pid_t pid = ::fork();
    if (pid < 0) {
        const int error = errno;
        ::close(inFd);
        ::close(failPipe[0]);
        ::close(failPipe[1]);
        throw std::runtime_error(std::string("fork: ") + std::strerror(error));
    }
    if (pid == 0) {
        // Child: async-signal-safe calls only.
        auto die = [&](const char* step) {
            ChildFailure failure{errno, {}};
            std::strncpy(failure.step, step, sizeof failure.step - 1);
            [[maybe_unused]] auto n = ::write(failPipe[1], &failure, sizeof failure);
            ::_exit(127);
        };
        ::setpgid(0, 0);
        sigset_t all;
        sigemptyset(&all);
        ::sigprocmask(SIG_SETMASK, &all, nullptr);
        for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD}) ::signal(sig, SIG_DFL);
        if (::dup2(inFd, 0) < 0) die("dup2 stdin");
        if (outFd_ >= 0 && ::dup2(outFd_, 1) < 0) die("dup2 stdout");
        if (errFd_ >= 0 && ::dup2(errFd_, 2) < 0) die("dup2 stderr");
        if (!workingDir.empty() && ::chdir(workingDir.c_str()) != 0) die("chdir");
        if (options.uid || options.gid) {
            const gid_t g = *gid;
            if (::setgroups(1, &g) != 0) die("setgroups");
            if (::setgid(g) != 0) die("setgid");
            if (options.uid && ::setuid(*options.uid) != 0) die("setuid");
        }
        // Everything above 2 closes at exec (the failure pipe already does).
        if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
            for (int fd = 3; fd < 4096; ++fd)
                if (fd != failPipe[1]) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        ::execve(executable.c_str(), argvPointers.data(), envPointers.data());
        die("execve");
    }

    // Parent.
    pid_ = pid;
    ::setpgid(pid, pid);  // also here, so a signal sent right away reaches the group
    ::close(inFd);
    ::close(failPipe[1]);
    ChildFailure failure{};
    ssize_t n;
    do n = ::read(failPipe[0], &failure, sizeof failure);
    while (n < 0 && errno == EINTR);
    ::close(failPipe[0]);
    if (n > 0) {
        reap(true);
        throw std::runtime_error("cannot run " + commandLine() + ": " + failure.step + ": " +
                                 std::strerror(failure.error));
    }
}

Process::~Process() {
    if (pid_ > 0 && !status_ && !reap(false)) {
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        reap(true);
    }
    if (outFd_ >= 0) ::close(outFd_);
    if (errFd_ >= 0) ::close(errFd_);
}

std::string Process::commandLine() const {
    std::string line;
    for (const auto& a : argv_) {
        if (!line.empty()) line += ' ';
        line += a;
    }
    return line;
}

bool Process::reap(bool block) {
    if (status_) return true;
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == pid_) {
        status_ = decodeStatus(status);
        return true;
    }
    if (r < 0 && errno == ECHILD) {  // reaped elsewhere (a SIGCHLD handler); status unknown
        status_ = -1;
        return true;
    }
    return false;
}

bool Process::running() { return !reap(false); }

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
    if (waitUntil([&] { return reap(false); }, timeout)) return status_;
    return std::nullopt;
}

void Process::signal(int sig) {
    if (pid_ <= 0 || status_) return;
    if (::kill(-pid_, sig) != 0) ::kill(pid_, sig);
}

void Process::terminate() { signal(SIGTERM); }
void Process::kill() { signal(SIGKILL); }

int Process::stop(std::chrono::milliseconds grace) {
    terminate();
    if (auto status = wait(grace)) return *status;
    kill();
    reap(true);
    return *status_;
}

std::string Process::out() const { return readAll(outFd_); }
std::string Process::err() const { return readAll(errFd_); }

bool Process::waitForOutput(std::string_view text, std::chrono::milliseconds timeout) {
    bool exited = false;
    const bool seen = waitUntil(
        [&] {
            if (out().find(text) != std::string::npos || err().find(text) != std::string::npos)
                return true;
            exited = !running();
            return exited;
        },
        timeout);
    return seen && (!exited || out().find(text) != std::string::npos ||
                    err().find(text) != std::string::npos);
}

RunResult run(const std::vector<std::string>& argv, const ProcessOptions& options,
              std::chrono::milliseconds timeout) {
    ProcessOptions capture = options;
    capture.captureOutput = true;
    Process p(argv, capture);
    const auto status = p.wait(timeout);
    if (!status) {
        p.kill();
        p.wait(5s);
        throw std::runtime_error("timed out after " + std::to_string(timeout.count()) + " ms: " +
                                 p.commandLine() + "\nstdout:\n" + p.out() + "\nstderr:\n" + p.err());
    }
    return RunResult{*status, p.out(), p.err()};
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::milliseconds(1);
    while (true) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

bool processExited(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return true;
    std::string line;
    std::getline(stat, line);
    // "PID (comm) S ...": the state follows the last ')' (comm may contain parentheses).
    const auto paren = line.rfind(')');
    if (paren == std::string::npos || paren + 2 >= line.size()) return true;
    const char state = line[paren + 2];
    return state == 'Z' || state == 'X' || state == 'x';
}

bool waitForProcessExit(pid_t pid, std::chrono::milliseconds timeout) {
    return waitUntil([&] { return processExited(pid); }, timeout);
}

}  // namespace campaignd::test

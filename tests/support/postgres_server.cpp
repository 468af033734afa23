// postgres_server.cpp: initdb + pg_ctl, run as the postgres user when we are root, and a
// guard process holding the read end of a pipe: when this process dies, the pipe reads EOF
// and the guard sends the postmaster SIGQUIT (immediate shutdown) and removes the directory.
#include "support/postgres_server.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <pqxx/pqxx>
#include <stdexcept>

namespace campaignd::test {
namespace {

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char ch : s) {
        if (ch == '\'') out += "'\\''";
        else out += ch;
    }
    return out + "'";
}

constexpr const char* kGuardScript =
    "read _ignored;"  // returns at EOF: the test process has gone, or stop() closed the pipe
    " pid=$(head -n1 \"$1/postmaster.pid\" 2>/dev/null);"
    " if [ -n \"$pid\" ]; then kill -QUIT \"$pid\" 2>/dev/null; i=0;"
    "  while [ $i -lt 100 ] && [ -e /proc/$pid ] && ! grep -q ') [ZX]' /proc/$pid/stat 2>/dev/null;"
    "  do sleep 0.1; i=$((i+1)); done; fi;"
    " rm -rf \"$2\"";

}  // namespace

bool PostgresServer::available(const std::filesystem::path& binDir) {
    return ::access((binDir / "initdb").c_str(), X_OK) == 0 &&
           ::access((binDir / "pg_ctl").c_str(), X_OK) == 0;
}

ProcessOptions PostgresServer::asServerUser() const {
    ProcessOptions o;
    if (user_) {
        o.uid = user_->uid;
        o.gid = user_->gid;
    }
    o.workingDir = dir_.path();  // not the test's cwd, which the server user may not read
    o.env["LC_ALL"] = "C";
    o.unsetEnv = {"PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"};
    return o;
}

RunResult PostgresServer::pgctl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{(options_.binDir / "pg_ctl").string(), "-D", dataDir().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, asServerUser(), 90s);
}

PostgresServer::PostgresServer(PostgresServerOptions options)
    : options_(std::move(options)), dir_("campaignd-pg"), endpoint_(freeLoopbackEndpoint()) {
    if (!available(options_.binDir))
        throw std::runtime_error("PostgreSQL server binaries not found in " + options_.binDir.string());
    if (::geteuid() == 0) {
        user_ = lookupUser(options_.systemUser);
        if (!user_) throw std::runtime_error("no system user " + options_.systemUser + " to run PostgreSQL");
        dir_.chownTo(user_->uid, user_->gid);
    }

    const RunResult init = run({(options_.binDir / "initdb").string(), "-D", dataDir().string(), "-A",
                                "trust", "-E", "UTF8", "--no-locale", "-U", "postgres", "--no-sync"},
                               asServerUser(), 120s);
    if (init.exitCode != 0)
        throw std::runtime_error("initdb failed (" + std::to_string(init.exitCode) + "):\n" + init.out + init.err);

    std::string serverOptions = "-p " + std::to_string(endpoint_.port) + " -k " + quoted(dir_.str()) +
                                " -c listen_addresses=" + endpoint_.address +
                                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                                " -c max_connections=50 -c shared_buffers=16MB";
    for (const auto& setting : options_.settings) serverOptions += " -c " + quoted(setting);

    const RunResult start = pgctl({"-w", "-t", "60", "-l", (dir_ / "server.log").string(), "-o",
                                   serverOptions, "start"});
    if (start.exitCode != 0)
        throw std::runtime_error("pg_ctl start failed on " + endpoint_.hostPort() + ":\n" + start.out +
                                 start.err + "\nserver log:\n" + log());
    running_ = true;
    try {
        postmasterPid_ = std::stoi(readFile(dataDir() / "postmaster.pid"));
    } catch (const std::exception&) {
        postmasterPid_ = -1;
    }

    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) == 0) {
        ProcessOptions guardOptions;
        guardOptions.stdinFd = pipeFds[0];
        guardOptions.captureOutput = false;
        try {
            guard_ = std::make_unique<Process>(
                std::vector<std::string>{"/bin/sh", "-c", kGuardScript, "campaignd-pg-guard",
                                         dataDir().string(), dir_.str()},
                guardOptions);
            guardPipe_ = pipeFds[1];
        } catch (const std::exception& e) {
            std::cerr << "campaignd-test: no PostgreSQL guard: " << e.what() << "\n";
            ::close(pipeFds[1]);
        }
        ::close(pipeFds[0]);
    }
}

PostgresServer::~PostgresServer() {
    try {
        stop();
    } catch (const std::exception& e) {
        std::cerr << "campaignd-test: stopping PostgreSQL: " << e.what() << "\n";
    }
}

void PostgresServer::stop() {
    // The guard first, so it cannot race the orderly shutdown below.
    if (guard_) {
        guard_->kill();
        guard_->wait(5s);
        guard_.reset();
    }
    if (guardPipe_ >= 0) {
        ::close(guardPipe_);
        guardPipe_ = -1;
    }
    if (!running_) return;
    running_ = false;
    const RunResult stopped = pgctl({"-w", "-t", "60", "-m", "fast", "stop"});
    if (stopped.exitCode != 0)
        std::cerr << "campaignd-test: pg_ctl stop failed:\n" << stopped.out << stopped.err;
    if (postmasterPid_ > 0 && !waitForProcessExit(postmasterPid_, 10s)) {
        ::kill(postmasterPid_, SIGKILL);
        waitForProcessExit(postmasterPid_, 5s);
    }
}

std::string PostgresServer::url(std::string_view database) const {
    return "postgresql://postgres@" + endpoint_.hostPort() + "/" + std::string(database);
}

std::string PostgresServer::createDatabase(std::string_view prefix) {
    const std::string name = std::string(prefix) + "_" + std::to_string(::getpid()) + "_" +
                             std::to_string(++databases_);
    try {
        pqxx::connection admin(url("postgres"));
        pqxx::nontransaction tx(admin);
        tx.exec("CREATE DATABASE " + tx.quote_name(name));
    } catch (const std::exception& e) {
        throw std::runtime_error("CREATE DATABASE " + name + " failed: " + e.what());
    }
    return url(name);
}

void PostgresServer::dropDatabase(std::string_view name) {
    try {
        pqxx::connection admin(url("postgres"));
        pqxx::nontransaction tx(admin);
        tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(std::string(name)) + " WITH (FORCE)");
    } catch (const std::exception& e) {
        throw std::runtime_error("DROP DATABASE " + std::string(name) + " failed: " + e.what());
    }
}

RunResult PostgresServer::psql(std::string_view database, std::string_view sql) const {
    ProcessOptions o;
    o.unsetEnv = {"PGPASSWORD", "PGSERVICE"};
    return run({(options_.binDir / "psql").string(), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                "-h", endpoint_.address, "-p", std::to_string(endpoint_.port), "-U", "postgres", "-d",
                std::string(database), "-c", std::string(sql)},
               o, 60s);
}

std::string PostgresServer::log() const {
    try {
        return readFile(dir_ / "server.log");
    } catch (const std::exception&) {
        return {};
    }
}

}  // namespace campaignd::test

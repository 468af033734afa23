// postgres_server.cpp: initdb + pg_ctl, run as the postgres user when we are root; the
// postmaster is a GuardedServer daemon, whose guard (if the test dies) sends it SIGQUIT
// (immediate shutdown) and removes the directory.
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

    GuardedServerSpec spec;
    spec.name = "PostgreSQL on " + endpoint_.hostPort();
    spec.argv = {(options_.binDir / "pg_ctl").string(), "-D", dataDir().string(), "-w", "-t", "60", "-l",
                 (dir_ / "server.log").string(), "-o", serverOptions, "start"};
    spec.options = asServerUser();
    spec.pidFile = dataDir() / "postmaster.pid";
    spec.readyTimeout = 90s;
    spec.stopCommand = {(options_.binDir / "pg_ctl").string(), "-D", dataDir().string(), "-w", "-t", "60", "-m",
                        "fast", "stop"};
    spec.guardSignal = SIGQUIT;
    spec.guardRemoves = dir_.path();
    spec.logs = [this] { return "server log:\n" + log(); };
    server_ = std::make_unique<GuardedServer>(std::move(spec));
}

PostgresServer::~PostgresServer() {
    try {
        stop();
    } catch (const std::exception& e) {
        std::cerr << "campaignd-test: stopping PostgreSQL: " << e.what() << "\n";
    }
}

void PostgresServer::stop() {
    if (server_) server_->stop();
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

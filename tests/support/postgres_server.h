// postgres_server.h: a real, private PostgreSQL 15 for tests. initdb into a TempDir (owned by
// the `postgres` user when the test runs as root; the server never runs as root), then
// pg_ctl start listening only on a random loopback address and port (freeLoopbackEndpoint)
// and on a unix socket inside the temp dir; trust authentication; fsync off. Stopped with
// `pg_ctl stop -m fast` and removed when the object dies. If the test process dies without
// running destructors (a crash, SIGKILL from a ctest timeout), its guard (guarded_server.h)
// shuts the server down, so no postgres outlives its test.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/guarded_server.h"
#include "support/network.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::test {

struct PostgresServerOptions {
    std::filesystem::path binDir = "/usr/lib/postgresql/15/bin";
    std::vector<std::string> settings;  // extra "name=value" server settings (-c)
    std::string systemUser = "postgres";  // who runs the server when the test runs as root
};

class PostgresServer {
public:
    // Throws std::runtime_error with initdb's or the server log's text if it cannot start.
    explicit PostgresServer(PostgresServerOptions options = {});
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    // Whether the PostgreSQL server binaries are installed (tests may skip otherwise).
    static bool available(const std::filesystem::path& binDir = "/usr/lib/postgresql/15/bin");

    const Endpoint& endpoint() const { return endpoint_; }
    std::filesystem::path socketDir() const { return dir_.path(); }
    std::filesystem::path dataDir() const { return dir_ / "data"; }
    pid_t serverPid() const { return server_ ? server_->pid() : -1; }

    // postgresql://postgres@ADDR:PORT/DATABASE
    std::string url(std::string_view database = "postgres") const;
    // Creates a new, empty database with a unique name; returns its URL.
    std::string createDatabase(std::string_view prefix = "test");
    void dropDatabase(std::string_view name);
    // Runs SQL with psql (-X -A -t -v ON_ERROR_STOP=1): the output is the bare values, one row
    // per line, columns separated by '|'.
    RunResult psql(std::string_view database, std::string_view sql) const;

    std::string log() const;
    // Stops the server (idempotent); the destructor calls it.
    void stop();

private:
    ProcessOptions asServerUser() const;

    PostgresServerOptions options_;
    TempDir dir_;
    Endpoint endpoint_;
    std::optional<UserIds> user_;  // set when running as root
    std::unique_ptr<GuardedServer> server_;
    int databases_ = 0;
};

}  // namespace campaignd::test

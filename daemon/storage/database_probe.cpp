// database_probe.cpp: see database_probe.h.
#include "storage/database_probe.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "core/error.h"
#include "storage/migrations.h"
#include "storage/postgres_connection.h"

namespace campaignd::storage {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& what) { throw Error(ErrorCode::Failed, "database: " + what); }

void refuseNewer(const std::string& location, int version) {
    if (version > kLatestSchemaVersion)
        fail(location + " has schema version " + std::to_string(version) + ", newer than this campaignd understands (" +
             std::to_string(kLatestSchemaVersion) + ")");
}

// The schema version of an existing SQLite file, read without creating a file beside it. A
// database cleanly closed has no -wal file, and is read as immutable (no lock, no -shm made);
// one with a -wal file (a daemon runs, or stopped without a checkpoint) holds part of its
// content there, which an immutable read would not see: it is read as an ordinary read-only
// connection, which uses the -shm the daemon made.
int sqliteSchemaVersion(const fs::path& path) {
    sqlite3* raw = nullptr;
    std::error_code ec;
    const bool wal = fs::exists(path.string() + "-wal", ec);
    // A URI filename: '%', '?' and '#' in the path must not end or escape it.
    std::string uri = "file:";
    for (const char c : path.string()) {
        if (c == '%') uri += "%25";
        else if (c == '?') uri += "%3f";
        else if (c == '#') uri += "%23";
        else uri += c;
    }
    if (!wal) uri += "?immutable=1";
    const int rc = sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
    if (rc != SQLITE_OK) fail(path.string() + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    auto scalar = [&](const char* sql) -> std::optional<int> {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db.get(), sql, -1, &stmt, nullptr) != SQLITE_OK)
            fail(path.string() + ": " + sqlite3_errmsg(db.get()));
        std::optional<int> value;
        const int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW) value = sqlite3_column_int(stmt, 0);
        sqlite3_finalize(stmt);
        if (step != SQLITE_ROW && step != SQLITE_DONE) fail(path.string() + ": " + sqlite3_errmsg(db.get()));
        return value;
    };
    if (scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").value_or(0) == 0)
        return 0;
    return scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version").value_or(0);
}

DatabaseProbe probeSqlite(const fs::path& path) {
    if (path.empty()) throw Error(ErrorCode::InvalidArgument, "Database=sqlite: the path is empty");
    DatabaseProbe probe{"sqlite", path.string(), std::nullopt};
    std::error_code ec;
    if (fs::exists(path, ec)) {
        if (!fs::is_regular_file(path, ec)) fail(path.string() + " is not a file");
        if (::access(path.c_str(), R_OK | W_OK) != 0) fail(path.string() + " cannot be read and written by this user");
        probe.schemaVersion = sqliteSchemaVersion(path);
        refuseNewer(path.string(), *probe.schemaVersion);
        return probe;
    }
    // Created at start-up, with the directories above it: the nearest existing one must be
    // writable.
    fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    while (!fs::exists(dir, ec) && dir.has_parent_path() && dir != dir.parent_path()) dir = dir.parent_path();
    if (!fs::is_directory(dir, ec)) fail("cannot create " + path.string() + ": " + dir.string() + " is not a directory");
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        fail("cannot create " + path.string() + ": " + dir.string() + " is not writable by this user");
    return probe;
}

}  // namespace

DatabaseProbe probeDatabase(const std::string& url) {
    if (url.rfind("sqlite:", 0) == 0) return probeSqlite(url.substr(7));
    if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
        PostgresConnection db(url);  // connects; throws Error(Failed) with the reason
        DatabaseProbe probe{"postgresql", db.location(), currentSchemaVersion(db)};
        refuseNewer(db.location(), *probe.schemaVersion);
        return probe;
    }
    // The same message as opening it would give.
    const auto colon = url.find(':');
    throw Error(ErrorCode::InvalidArgument, "Database=: unknown scheme '" +
                                                (colon == std::string::npos ? url : url.substr(0, colon)) +
                                                "' (expected sqlite:PATH or postgresql://...)");
}

}  // namespace campaignd::storage

// sqlite_connection.h: the SQLite driver. Poco::Data::SQLite opens and owns the database
// handle; statements run on that handle through SQLite's own prepare/bind/step so that
// values keep their exact types (an INTEGER stays int64, NULL stays null). Opening creates the
// file and its directory, turns on WAL, foreign keys and a busy timeout. One thread at a time.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/sql_connection.h"

struct sqlite3;
struct sqlite3_stmt;

namespace Poco::Data {
class Session;
}

namespace campaignd::storage {

class SqliteConnection final : public SqlConnection {
public:
    explicit SqliteConnection(const std::filesystem::path& path);
    ~SqliteConnection() override;

    SqlDialect dialect() const override { return SqlDialect::SQLite; }
    std::string backendName() const override { return "sqlite"; }
    std::string location() const override { return path_.string(); }

    SqlRows query(std::string_view sql, const SqlParams& params) override;
    std::int64_t exec(std::string_view sql, const SqlParams& params) override;

    void begin() override;
    void beginDeferred() override;
    void beginRelaxed() override;
    void commit() override;
    void rollback() noexcept override;
    bool inTransaction() const override;

    // A prepared INSERT of its own, reused for every row; the writer must not outlive this.
    std::unique_ptr<SqlBulkWriter> bulkWriter(std::string table,
                                              std::vector<std::string> columns) override;

private:
    sqlite3_stmt* prepare(std::string_view sql);
    SqlRows run(std::string_view sql, const SqlParams& params, bool wantRows,
                std::int64_t* changes);
    void execPlain(const char* sql);
    void endRelaxed() noexcept;
    [[noreturn]] void fail(int rc, std::string_view context = {}) const;

    std::filesystem::path path_;
    std::unique_ptr<Poco::Data::Session> session_;
    sqlite3* db_ = nullptr;  // owned by session_
    // Prepared statements by their $N source text; finalised before the session closes.
    // Looked up by the caller's string_view, without copying the SQL (transparent hash).
    struct SqlHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
    };
    std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> statements_;
    bool relaxed_ = false;  // synchronous=NORMAL until the transaction ends
};

// "$1 ... $12" -> "?1 ... ?12", leaving quoted literals and identifiers alone.
std::string toSqlitePlaceholders(std::string_view sql);

}  // namespace campaignd::storage

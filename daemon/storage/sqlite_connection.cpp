// sqlite_connection.cpp: the SQLite driver (see sqlite_connection.h). Every statement runs
// on the handle Poco::Data::SQLite opened; durability is SQLite's default synchronous=FULL
// in WAL mode, so a committed ledger row survives a crash or power loss.
#include "storage/sqlite_connection.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <system_error>

#include "core/error.h"
#include "core/log.h"

namespace campaignd::storage {
namespace {

// How long a write waits for another connection's transaction before SQLITE_BUSY. The
// longest writer is a bulk import's merge (about 5 s for 1,000,000 rows on 2 cores, more
// under load); waiting is better than failing, and 20 s stays below D-Bus's default 25 s
// method-call timeout. Readers never wait in WAL mode.
constexpr int kBusyTimeoutMs = 20'000;
constexpr int kWalRetryMs = 5;

// SQLite's own busy timeout sleeps 1, 2, 5, 10, 15, 20, 25 ms ... between tries, far longer
// than a ledger commit holds the write lock (a few statements and one fsync), so senders that
// meet on the lock idled for milliseconds while it was free. This handler tries again after
// 50 us, doubling up to 2 ms, and gives up after the same kBusyTimeoutMs in total.
int busyHandler(void*, int count) {
    thread_local std::chrono::steady_clock::time_point since;  // one wait at a time per thread
    const auto now = std::chrono::steady_clock::now();
    if (count == 0) since = now;
    if (now - since >= std::chrono::milliseconds(kBusyTimeoutMs)) return 0;
    std::this_thread::sleep_for(std::chrono::microseconds(50) * (1 << std::min(count, 5)));
    return 1;
}

void registerPocoConnector() {
    static std::once_flag once;
    std::call_once(once, [] { Poco::Data::SQLite::Connector::registerConnector(); });
}

[[noreturn]] void failOn(sqlite3* db, std::string_view context) {
    throw Error(ErrorCode::Failed,
                "database: " + std::string(sqlite3_errmsg(db)) + " (" + std::string(context) + ")");
}

class SqliteBulkWriter final : public SqlBulkWriter {
public:
    SqliteBulkWriter(sqlite3* db, const std::string& table, const std::vector<std::string>& columns)
        : db_(db), columns_(int(columns.size())) {
        std::string sql = "INSERT INTO " + table + " (";
        std::string values;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            sql += (i ? ", " : "") + columns[i];
            values += (i ? ", ?" : "?") + std::to_string(i + 1);
        }
        sql += ") VALUES (" + values + ")";
        if (sqlite3_prepare_v3(db_, sql.c_str(), int(sql.size()), SQLITE_PREPARE_PERSISTENT,
                               &stmt_, nullptr) != SQLITE_OK)
            failOn(db_, "bulk insert into " + table);
    }
    ~SqliteBulkWriter() override { sqlite3_finalize(stmt_); }

    void write(std::span<const SqlBulkValue> row) override {
        if (!stmt_) throw Error(ErrorCode::Failed, "database: the bulk writer is finished");
        if (int(row.size()) != columns_)
            throw Error(ErrorCode::Failed, "database: bulk row has " + std::to_string(row.size()) +
                                               " fields, expected " + std::to_string(columns_));
        for (int i = 0; i < columns_; ++i) {
            const SqlBulkValue& v = row[std::size_t(i)];
            int rc;
            if (auto* n = std::get_if<std::int64_t>(&v))
                rc = sqlite3_bind_int64(stmt_, i + 1, *n);
            else {
                const auto text = std::get<std::string_view>(v);
                // SQLITE_STATIC: the view lives until sqlite3_step below has copied it.
                rc = sqlite3_bind_text64(stmt_, i + 1, text.data(), text.size(), SQLITE_STATIC,
                                         SQLITE_UTF8);
            }
            if (rc != SQLITE_OK) failOn(db_, "bulk insert");
        }
        const int rc = sqlite3_step(stmt_);
        sqlite3_reset(stmt_);
        if (rc != SQLITE_DONE) failOn(db_, "bulk insert");
    }

    void finish() override {
        sqlite3_finalize(stmt_);
        stmt_ = nullptr;
    }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    int columns_;
};

}  // namespace

std::string toSqlitePlaceholders(std::string_view sql) {
    std::string out;
    out.reserve(sql.size());
    char quote = 0;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char ch = sql[i];
        if (quote) {
            if (ch == quote) quote = 0;  // a doubled quote re-enters at once: same result
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
        } else if (ch == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            out.push_back('?');
            continue;
        }
        out.push_back(ch);
    }
    return out;
}

SqliteConnection::SqliteConnection(const std::filesystem::path& path) : path_(path) {
    if (path_.empty()) throw Error(ErrorCode::InvalidArgument, "Database=sqlite: the path is empty");
    if (path_.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(path_.parent_path(), ec);
        if (ec)
            throw Error(ErrorCode::Failed, "database: cannot create " +
                                               path_.parent_path().string() + ": " + ec.message());
    }
    registerPocoConnector();
    try {
        session_ = std::make_unique<Poco::Data::Session>(Poco::Data::SQLite::Connector::KEY,
                                                         path_.string());
        db_ = Poco::Data::SQLite::Utility::dbHandle(*session_);
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::Failed, "database: " + path_.string() + ": " + e.displayText());
    }
    if (!db_) throw Error(ErrorCode::Failed, "database: " + path_.string() + ": no handle");
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_handler(db_, busyHandler, nullptr);
    execPlain("PRAGMA foreign_keys = ON");
    // Switching a new file to WAL needs its exclusive lock, and SQLite answers SQLITE_BUSY at
    // once, without calling the busy handler, while another connection opening the same file
    // holds a lock (concurrent daemons or threads opening a fresh database): retry for as long
    // as the busy timeout would have waited.
    std::string mode;
    for (int waitedMs = 0;; waitedMs += kWalRetryMs) {
        sqlite3_stmt* stmt = nullptr;
        int rc = sqlite3_prepare_v2(db_, "PRAGMA journal_mode = WAL", -1, &stmt, nullptr);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(stmt);
            if (rc == SQLITE_ROW) {
                const auto* text = sqlite3_column_text(stmt, 0);
                mode = text ? reinterpret_cast<const char*>(text) : "";
            }
        }
        sqlite3_finalize(stmt);
        if (rc == SQLITE_ROW) break;
        const int primary = rc & 0xff;
        if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || waitedMs >= kBusyTimeoutMs)
            fail(rc, "switching to WAL mode");
        std::this_thread::sleep_for(std::chrono::milliseconds(kWalRetryMs));
    }
    if (mode != "wal")
        log::warning("SQLite database is not in WAL mode",
                     {{"DATABASE", path_.string()}});
}

SqliteConnection::~SqliteConnection() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    statements_.clear();
    if (inTransaction()) rollback();
    try {
        if (session_) session_->close();
    } catch (const Poco::Exception& e) {
        log::warning("closing the SQLite database failed",
                     {{"DATABASE", path_.string()}, {"ERROR", e.displayText()}});
    }
}

void SqliteConnection::fail(int rc, std::string_view context) const {
    std::string message = "database: ";
    message += db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    if (!context.empty()) {
        message += " (";
        message += context;
        message += ")";
    }
    throw Error(ErrorCode::Failed, message);
}

void SqliteConnection::execPlain(const char* sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(rc);
}

sqlite3_stmt* SqliteConnection::prepare(std::string_view sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
    const std::string translated = toSqlitePlaceholders(sql);
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, translated.c_str(), int(translated.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) fail(rc);
    if (!stmt) throw Error(ErrorCode::Failed, "database: empty statement");
    statements_.emplace(std::string(sql), stmt);
    return stmt;
}

SqlRows SqliteConnection::run(std::string_view sql, const SqlParams& params, bool wantRows,
                              std::int64_t* changes) {
    sqlite3_stmt* stmt = prepare(sql);
    // Reset on every exit so the statement never holds a read lock between calls.
    struct Reset {
        sqlite3_stmt* s;
        ~Reset() {
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
        }
    } reset{stmt};

    if (int(params.size()) != sqlite3_bind_parameter_count(stmt))
        throw Error(ErrorCode::Failed, "database: statement expects " +
                                           std::to_string(sqlite3_bind_parameter_count(stmt)) +
                                           " parameters, got " + std::to_string(params.size()));
    for (std::size_t i = 0; i < params.size(); ++i) {
        const int index = int(i + 1);
        int rc = SQLITE_OK;
        const SqlValue& v = params[i];
        if (std::holds_alternative<std::monostate>(v))
            rc = sqlite3_bind_null(stmt, index);
        else if (auto* n = std::get_if<std::int64_t>(&v))
            rc = sqlite3_bind_int64(stmt, index, *n);
        else if (auto* d = std::get_if<double>(&v))
            rc = sqlite3_bind_double(stmt, index, *d);
        else {
            const auto& s = std::get<std::string>(v);
            rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
        }
        if (rc != SQLITE_OK) fail(rc);
    }

    SqlRows rows;
    for (;;) {
        const int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) fail(rc);
        if (!wantRows) continue;
        const int columns = sqlite3_column_count(stmt);
        std::vector<SqlValue> values;
        values.reserve(std::size_t(columns));
        for (int c = 0; c < columns; ++c) {
            switch (sqlite3_column_type(stmt, c)) {
            case SQLITE_NULL: values.emplace_back(std::monostate{}); break;
            case SQLITE_INTEGER: values.emplace_back(std::int64_t(sqlite3_column_int64(stmt, c))); break;
            case SQLITE_FLOAT: values.emplace_back(sqlite3_column_double(stmt, c)); break;
            default: {
                const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
                values.emplace_back(std::string(text ? text : "", std::size_t(sqlite3_column_bytes(stmt, c))));
            }
            }
        }
        rows.emplace_back(std::move(values));
    }
    if (changes) *changes = sqlite3_changes64(db_);
    return rows;
}

SqlRows SqliteConnection::query(std::string_view sql, const SqlParams& params) {
    return run(sql, params, true, nullptr);
}

std::int64_t SqliteConnection::exec(std::string_view sql, const SqlParams& params) {
    std::int64_t changes = 0;
    run(sql, params, false, &changes);
    return changes;
}

void SqliteConnection::begin() { execPlain("BEGIN IMMEDIATE"); }

void SqliteConnection::beginDeferred() { execPlain("BEGIN DEFERRED"); }

// synchronous is the connection's setting, read when a transaction commits: NORMAL for this
// one (WAL mode: the commit is appended to the log, which the next FULL commit or checkpoint
// syncs), FULL again when it ends, however it ends.
void SqliteConnection::beginRelaxed() {
    execPlain("PRAGMA synchronous = NORMAL");
    relaxed_ = true;
    try {
        execPlain("BEGIN IMMEDIATE");
    } catch (...) {
        endRelaxed();
        throw;
    }
}

void SqliteConnection::endRelaxed() noexcept {
    if (!relaxed_) return;
    relaxed_ = false;
    if (sqlite3_exec(db_, "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr) != SQLITE_OK)
        log::warning("SQLite cannot restore synchronous=FULL", {{"DATABASE", path_.string()}, {"ERROR", sqlite3_errmsg(db_)}});
}

std::unique_ptr<SqlBulkWriter> SqliteConnection::bulkWriter(std::string table,
                                                            std::vector<std::string> columns) {
    if (!inTransaction())
        throw Error(ErrorCode::Failed, "database: a bulk write needs a transaction");
    return std::make_unique<SqliteBulkWriter>(db_, table, columns);
}

void SqliteConnection::commit() {
    const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) endRelaxed();
    if (rc != SQLITE_OK) {
        // A failed COMMIT (SQLITE_BUSY, I/O) may leave the transaction open: end it so the
        // connection stays usable, then report.
        const std::string message = sqlite3_errmsg(db_);
        rollback();
        throw Error(ErrorCode::Failed, "database: " + message);
    }
}

void SqliteConnection::rollback() noexcept {
    if (inTransaction()) {  // SQLite may already have rolled back on its own
        const int rc = sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK)
            log::warning("SQLite rollback failed",
                         {{"DATABASE", path_.string()}, {"ERROR", sqlite3_errmsg(db_)}});
    }
    endRelaxed();
}

bool SqliteConnection::inTransaction() const { return db_ && sqlite3_get_autocommit(db_) == 0; }

}  // namespace campaignd::storage

// sql_connection.h: the storage area's internal view of a database connection, so that the
// business SQL in SqlStore is written once. A driver runs one statement at a time with
// positional parameters written $1..$N (the SQLite driver rewrites them to ?N), returns rows
// of null/int64/double/text values, and owns BEGIN/COMMIT/ROLLBACK. Drivers never splice a
// value into SQL text. Every failure is Error(Failed, "database: <backend message>").
// Not part of the interface the rest of the daemon sees (that is store.h and its roles); tests
// use it to look under the store.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"

namespace campaignd::storage {

using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;
using SqlParams = std::vector<SqlValue>;

// One result row. The accessors convert between the representations a backend may choose
// (PostgreSQL returns a bigint SUM as numeric, SQLite an integer column as int64, ...) and
// throw Error(Failed) on a value that cannot be converted.
class SqlRow {
public:
    explicit SqlRow(std::vector<SqlValue> values) : values_(std::move(values)) {}

    std::size_t size() const { return values_.size(); }
    const SqlValue& at(std::size_t column) const;
    bool isNull(std::size_t column) const;
    std::int64_t int64(std::size_t column) const;  // null -> 0
    std::optional<std::int64_t> optionalInt64(std::size_t column) const;
    double real(std::size_t column) const;  // null -> 0.0
    std::string text(std::size_t column) const;  // null -> ""

private:
    std::vector<SqlValue> values_;
};

using SqlRows = std::vector<SqlRow>;

enum class SqlDialect { SQLite, PostgreSQL };

// The database aborted the transaction to resolve a conflict with another one (PostgreSQL:
// "deadlock detected", a serialization failure). Nothing of it was committed, and running the
// same transaction again is safe. Thrown by the drivers instead of a plain Error(Failed).
class TransientError : public Error {
public:
    explicit TransientError(const std::string& message) : Error(ErrorCode::Failed, message) {}
};

// A field for SqlBulkWriter: an integer or a text (never null). Views are used during write().
using SqlBulkValue = std::variant<std::int64_t, std::string_view>;

// Appends rows to one table fast: COPY ... FROM STDIN (libpqxx stream_to) on PostgreSQL, one
// prepared INSERT reused on SQLite. The table and column names are fixed strings of the
// caller's, never input. While a writer is open no other statement may run on its connection
// (a COPY holds the PostgreSQL connection). Destroying it unfinished abandons the stream; the
// caller then rolls back.
class SqlBulkWriter {
public:
    virtual ~SqlBulkWriter() = default;
    virtual void write(std::span<const SqlBulkValue> row) = 0;
    virtual void finish() = 0;  // ends the stream; errors in the data show here at the latest
};

class SqlConnection {
public:
    virtual ~SqlConnection() = default;

    virtual SqlDialect dialect() const = 0;
    // "sqlite" / "postgresql", and where the data lives (never a password).
    virtual std::string backendName() const = 0;
    virtual std::string location() const = 0;

    // Runs one statement; returns the rows it produced (RETURNING included).
    virtual SqlRows query(std::string_view sql, const SqlParams& params = {}) = 0;
    // Runs one statement; returns the number of rows it inserted, updated or deleted.
    virtual std::int64_t exec(std::string_view sql, const SqlParams& params = {}) = 0;

    // One level of transaction; nesting is SqlStore's business (savepoints). SQLite begins
    // IMMEDIATE, so a transaction that reads then writes never fails to upgrade its lock.
    virtual void begin() = 0;
    // A transaction that takes no write lock on the shared database before it writes there
    // (SQLite: BEGIN DEFERRED, for work on temporary tables; PostgreSQL: the same as begin()).
    virtual void beginDeferred() = 0;
    // Like begin(), for a transaction whose COMMIT does not wait for the disk (SQLite in WAL
    // mode: synchronous=NORMAL for it; PostgreSQL: SET LOCAL synchronous_commit TO off). What
    // it commits survives a crash of the process at once, and a crash of the machine as soon
    // as any later commit that waits has returned: both logs are written in order, and a
    // commit that waits flushes everything before it. For work whose loss to a power failure
    // breaks no promise (SqlStore says which).
    virtual void beginRelaxed() = 0;
    virtual void commit() = 0;
    virtual void rollback() noexcept = 0;  // a failure to roll back is logged, not thrown
    virtual bool inTransaction() const = 0;

    // Bulk append inside a transaction (see SqlBulkWriter).
    virtual std::unique_ptr<SqlBulkWriter> bulkWriter(std::string table,
                                                      std::vector<std::string> columns) = 0;
};

// Opens a connection for "sqlite:PATH" or a "postgresql://" / "postgres://" URL; does not
// touch the schema. Error(InvalidArgument) for an unknown scheme or an empty path.
std::unique_ptr<SqlConnection> openSqlConnection(const std::string& url);

// The URL with any password removed (user:secret@ and password=... both), for logs and
// location().
std::string redactDatabaseUrl(std::string_view url);

}  // namespace campaignd::storage

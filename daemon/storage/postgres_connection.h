// postgres_connection.h: the PostgreSQL driver, on libpqxx 6.4. A statement outside a
// transaction runs in a pqxx::nontransaction (autocommit); begin() opens a pqxx::work that
// every statement joins until commit() or rollback(). Parameters travel separately from the
// SQL text (PQexecParams), in text form. Results are typed by their column's type oid.
#pragma once

#include <memory>
#include <string>

#include "storage/sql_connection.h"

namespace campaignd::storage {

class PostgresConnection final : public SqlConnection {
public:
    // `url` is handed to libpq as given; location() is the URL without its password.
    explicit PostgresConnection(const std::string& url);
    ~PostgresConnection() override;

    SqlDialect dialect() const override { return SqlDialect::PostgreSQL; }
    std::string backendName() const override { return "postgresql"; }
    std::string location() const override { return location_; }

    SqlRows query(std::string_view sql, const SqlParams& params) override;
    std::int64_t exec(std::string_view sql, const SqlParams& params) override;

    void begin() override;
    void beginDeferred() override { begin(); }
    void beginRelaxed() override;
    void commit() override;
    void rollback() noexcept override;
    bool inTransaction() const override;

    // COPY table (columns) FROM STDIN through pqxx::stream_to, in the open transaction.
    std::unique_ptr<SqlBulkWriter> bulkWriter(std::string table,
                                              std::vector<std::string> columns) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string location_;
};

}  // namespace campaignd::storage

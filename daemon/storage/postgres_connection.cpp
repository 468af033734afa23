// postgres_connection.cpp: the PostgreSQL driver (see postgres_connection.h). Errors from
// libpqxx become Error(Failed, "database: <server message>"); the server's message never
// contains the connection password.
#include "storage/postgres_connection.h"

#include <pqxx/pqxx>

#include <array>
#include <charconv>

#include "core/error.h"
#include "core/log.h"

namespace campaignd::storage {
namespace {

// Type oids from pg_type.h (stable across PostgreSQL versions).
constexpr pqxx::oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26;
constexpr pqxx::oid kFloat4 = 700, kFloat8 = 701, kNumeric = 1700;

std::string trimmed(std::string message) {
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    return message;
}

[[noreturn]] void rethrowAsError(const std::exception& e) {
    // Not statement_completion_unknown (also a transaction_rollback): a COMMIT whose outcome
    // is unknown may have committed, so it is no conflict to run again blindly.
    if (dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr ||
        dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr)
        throw TransientError("database: " + trimmed(e.what()));
    throw Error(ErrorCode::Failed, "database: " + trimmed(e.what()));
}

SqlValue convert(const pqxx::field& f, pqxx::oid type) {
    if (f.is_null()) return std::monostate{};
    const char* text = f.c_str();
    const std::size_t size = f.size();
    switch (type) {
    case kBool: return std::int64_t(text[0] == 't' ? 1 : 0);
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid: {
        std::int64_t n = 0;
        auto [ptr, ec] = std::from_chars(text, text + size, n);
        if (ec != std::errc() || ptr != text + size)
            throw Error(ErrorCode::Failed, "database: bad integer '" + std::string(text, size) + "'");
        return n;
    }
    case kFloat4:
    case kFloat8: return std::stod(std::string(text, size));
    case kNumeric: {
        // An integral numeric (a SUM of bigints) stays exact; anything else is a double.
        std::int64_t n = 0;
        auto [ptr, ec] = std::from_chars(text, text + size, n);
        if (ec == std::errc() && ptr == text + size) return n;
        return std::stod(std::string(text, size));
    }
    default: return std::string(text, size);
    }
}

// libpqxx 6.4's stream_to takes a row as a tuple (std::array qualifies), so the width is a
// template argument; bulkWriter() picks it from the column count.
constexpr std::size_t kMaxBulkColumns = 8;

template <std::size_t N>
class PostgresBulkWriter final : public SqlBulkWriter {
public:
    PostgresBulkWriter(pqxx::work& work, const std::string& table, const std::vector<std::string>& columns) {
        try {
            stream_ = std::make_unique<pqxx::stream_to>(work, table, columns);
        } catch (const std::exception& e) {
            rethrowAsError(e);
        }
    }

    void write(std::span<const SqlBulkValue> row) override {
        if (!stream_) throw Error(ErrorCode::Failed, "database: the bulk writer is finished");
        if (row.size() != N)
            throw Error(ErrorCode::Failed, "database: bulk row has " + std::to_string(row.size()) +
                                               " fields, expected " + std::to_string(N));
        for (std::size_t i = 0; i < N; ++i) {
            if (auto* n = std::get_if<std::int64_t>(&row[i])) {
                char buffer[24];
                const auto result = std::to_chars(buffer, buffer + sizeof buffer, *n);
                fields_[i].assign(buffer, result.ptr);
            } else {
                fields_[i].assign(std::get<std::string_view>(row[i]));
            }
        }
        try {
            *stream_ << fields_;  // escaped for COPY's text format by libpqxx: data, not SQL
        } catch (const std::exception& e) {
            rethrowAsError(e);
        }
    }

    void finish() override {
        if (!stream_) return;
        auto stream = std::move(stream_);
        try {
            stream->complete();
        } catch (const std::exception& e) {
            rethrowAsError(e);
        }
    }

private:
    std::unique_ptr<pqxx::stream_to> stream_;
    std::array<std::string, N> fields_;  // reused row to row
};

template <std::size_t N = 1>
std::unique_ptr<SqlBulkWriter> makeBulkWriter(pqxx::work& work, const std::string& table,
                                              const std::vector<std::string>& columns) {
    if constexpr (N > kMaxBulkColumns) {
        throw Error(ErrorCode::Failed, "database: a bulk write of " + std::to_string(columns.size()) +
                                           " columns is not supported");
    } else {
        if (columns.size() == N) return std::make_unique<PostgresBulkWriter<N>>(work, table, columns);
        return makeBulkWriter<N + 1>(work, table, columns);
    }
}

}  // namespace

struct PostgresConnection::Impl {
    std::unique_ptr<pqxx::connection> connection;
    std::unique_ptr<pqxx::work> work;

    pqxx::result run(std::string_view sql, const SqlParams& params) {
        // Text-form parameters; nullptr is SQL NULL. Pointers stay valid while `texts` lives.
        std::vector<std::string> texts;
        texts.reserve(params.size());
        std::vector<const char*> pointers;
        pointers.reserve(params.size());
        for (const SqlValue& v : params) {
            if (std::holds_alternative<std::monostate>(v)) {
                texts.emplace_back();
            } else if (auto* n = std::get_if<std::int64_t>(&v)) {
                texts.push_back(std::to_string(*n));
            } else if (auto* d = std::get_if<double>(&v)) {
                texts.push_back(pqxx::to_string(*d));
            } else {
                texts.push_back(std::get<std::string>(v));
            }
        }
        for (std::size_t i = 0; i < params.size(); ++i)
            pointers.push_back(std::holds_alternative<std::monostate>(params[i]) ? nullptr
                                                                                  : texts[i].c_str());
        const std::string text(sql);
        const auto dynamic = pqxx::prepare::make_dynamic_params(pointers);
        if (work) return work->exec_params(text, dynamic);
        pqxx::nontransaction tx(*connection);
        return tx.exec_params(text, dynamic);
    }
};

PostgresConnection::PostgresConnection(const std::string& url)
    : impl_(std::make_unique<Impl>()), location_(redactDatabaseUrl(url)) {
    try {
        impl_->connection = std::make_unique<pqxx::connection>(url);
        // Quiet the NOTICEs ("relation already exists, skipping") libpqxx prints to stderr.
        pqxx::nontransaction tx(*impl_->connection);
        tx.exec("SET client_min_messages TO warning");
    } catch (const std::exception& e) {
        throw Error(ErrorCode::Failed, "database: cannot connect to " + location_ + ": " +
                                           trimmed(e.what()));
    }
}

PostgresConnection::~PostgresConnection() { rollback(); }

SqlRows PostgresConnection::query(std::string_view sql, const SqlParams& params) {
    pqxx::result r;
    try {
        r = impl_->run(sql, params);
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        rethrowAsError(e);
    }
    const auto columns = r.columns();
    std::vector<pqxx::oid> types;
    for (pqxx::row::size_type c = 0; c < columns; ++c) types.push_back(r.column_type(c));
    SqlRows rows;
    rows.reserve(r.size());
    for (const auto& row : r) {
        std::vector<SqlValue> values;
        values.reserve(columns);
        for (pqxx::row::size_type c = 0; c < columns; ++c) values.push_back(convert(row[c], types[c]));
        rows.emplace_back(std::move(values));
    }
    return rows;
}

std::int64_t PostgresConnection::exec(std::string_view sql, const SqlParams& params) {
    try {
        return std::int64_t(impl_->run(sql, params).affected_rows());
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        rethrowAsError(e);
    }
}

void PostgresConnection::begin() {
    if (impl_->work) throw Error(ErrorCode::Failed, "database: transaction already open");
    try {
        impl_->work = std::make_unique<pqxx::work>(*impl_->connection);
    } catch (const std::exception& e) {
        rethrowAsError(e);
    }
}

void PostgresConnection::beginRelaxed() {
    begin();
    try {
        exec("SET LOCAL synchronous_commit TO off", {});
    } catch (...) {
        rollback();
        throw;
    }
}

void PostgresConnection::commit() {
    if (!impl_->work) throw Error(ErrorCode::Failed, "database: no transaction to commit");
    auto work = std::move(impl_->work);
    try {
        work->commit();
    } catch (const std::exception& e) {
        rethrowAsError(e);  // pqxx has already aborted the transaction
    }
}

void PostgresConnection::rollback() noexcept {
    if (!impl_->work) return;
    auto work = std::move(impl_->work);
    try {
        work->abort();
    } catch (const std::exception& e) {
        log::warning("PostgreSQL rollback failed", {{"DATABASE", location_}, {"ERROR", trimmed(e.what())}});
    }
}

bool PostgresConnection::inTransaction() const { return impl_->work != nullptr; }

std::unique_ptr<SqlBulkWriter> PostgresConnection::bulkWriter(std::string table,
                                                              std::vector<std::string> columns) {
    if (!impl_->work) throw Error(ErrorCode::Failed, "database: a bulk write needs a transaction");
    return makeBulkWriter(*impl_->work, table, columns);
}

}  // namespace campaignd::storage

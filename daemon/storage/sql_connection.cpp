// sql_connection.cpp: value conversions for result rows, the connection factory keyed by
// the Database= URL's scheme, and password redaction for anything that is shown or logged.
#include "storage/sql_connection.h"

#include <charconv>

#include "core/error.h"
#include "storage/postgres_connection.h"
#include "storage/sqlite_connection.h"

namespace campaignd::storage {
namespace {

[[noreturn]] void badValue(std::size_t column, std::string_view want) {
    throw Error(ErrorCode::Failed, "database: column " + std::to_string(column) + " is not " +
                                       std::string(want));
}

bool startsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

const SqlValue& SqlRow::at(std::size_t column) const {
    if (column >= values_.size())
        throw Error(ErrorCode::Failed, "database: no column " + std::to_string(column));
    return values_[column];
}

bool SqlRow::isNull(std::size_t column) const {
    return std::holds_alternative<std::monostate>(at(column));
}

std::int64_t SqlRow::int64(std::size_t column) const {
    return optionalInt64(column).value_or(0);
}

std::optional<std::int64_t> SqlRow::optionalInt64(std::size_t column) const {
    const SqlValue& v = at(column);
    if (std::holds_alternative<std::monostate>(v)) return std::nullopt;
    if (auto* n = std::get_if<std::int64_t>(&v)) return *n;
    if (auto* d = std::get_if<double>(&v)) {
        if (*d != double(std::int64_t(*d))) badValue(column, "an integer");
        return std::int64_t(*d);
    }
    const auto& s = std::get<std::string>(v);
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || ptr != s.data() + s.size()) badValue(column, "an integer");
    return n;
}

double SqlRow::real(std::size_t column) const {
    const SqlValue& v = at(column);
    if (std::holds_alternative<std::monostate>(v)) return 0.0;
    if (auto* n = std::get_if<std::int64_t>(&v)) return double(*n);
    if (auto* d = std::get_if<double>(&v)) return *d;
    try {
        return std::stod(std::get<std::string>(v));
    } catch (const std::exception&) {
        badValue(column, "a number");
    }
}

std::string SqlRow::text(std::size_t column) const {
    const SqlValue& v = at(column);
    if (std::holds_alternative<std::monostate>(v)) return {};
    if (auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
    if (auto* d = std::get_if<double>(&v)) return std::to_string(*d);
    return std::get<std::string>(v);
}

std::unique_ptr<SqlConnection> openSqlConnection(const std::string& url) {
    if (startsWith(url, "sqlite:")) {
        const std::string path = url.substr(7);
        if (path.empty()) throw Error(ErrorCode::InvalidArgument, "Database=sqlite: the path is empty");
        return std::make_unique<SqliteConnection>(path);
    }
    if (startsWith(url, "postgresql://") || startsWith(url, "postgres://"))
        return std::make_unique<PostgresConnection>(url);
    const auto colon = url.find(':');
    const std::string scheme = colon == std::string::npos ? url : url.substr(0, colon);
    throw Error(ErrorCode::InvalidArgument,
                "Database=" + redactDatabaseUrl(url) + ": unknown scheme '" + scheme +
                    "' (expected sqlite:PATH or postgresql://...)");
}

std::string redactDatabaseUrl(std::string_view url) {
    const auto schemeEnd = url.find("://");
    if (schemeEnd == std::string_view::npos) return std::string(url);
    const std::size_t authorityStart = schemeEnd + 3;
    std::size_t authorityEnd = url.find_first_of("/?#", authorityStart);
    if (authorityEnd == std::string_view::npos) authorityEnd = url.size();
    std::string out(url.substr(0, authorityStart));
    std::string_view authority = url.substr(authorityStart, authorityEnd - authorityStart);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = authority.substr(0, at);
        out += userinfo.substr(0, userinfo.find(':'));
        out += authority.substr(at);
    } else {
        out += authority;
    }
    std::string_view rest = url.substr(authorityEnd);
    // Drop any password=... from the query string.
    const auto question = rest.find('?');
    if (question == std::string_view::npos) return out + std::string(rest);
    out += rest.substr(0, question + 1);
    std::string_view query = rest.substr(question + 1);
    std::string kept;
    while (!query.empty()) {
        const auto amp = query.find('&');
        std::string_view param = query.substr(0, amp);
        if (!startsWith(param, "password=") && !param.empty()) {
            if (!kept.empty()) kept += '&';
            kept += param;
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    if (kept.empty()) out.pop_back();  // no '?' with nothing after it
    return out + kept;
}

}  // namespace campaignd::storage

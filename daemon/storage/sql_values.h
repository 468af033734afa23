// sql_values.h: the value and row helpers the SqlStore files share (sql_store.h), internal to
// campaignd-storage. They turn model values into statement parameters and check what comes
// back: a status word the model does not know is Error(Failed), never a default. Generated SQL
// text here is placeholders only, never a value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/model.h"
#include "storage/sql_connection.h"

namespace campaignd::storage {

inline SqlValue nullable(const std::optional<std::int64_t>& v) {
    if (v) return *v;
    return std::monostate{};
}

inline SqlValue token(CampaignStatus s) { return std::string(toString(s)); }
inline SqlValue token(SubscriptionStatus s) { return std::string(toString(s)); }

inline SubscriptionStatus subscriptionStatusOf(const SqlRow& row, std::size_t column) {
    const std::string t = row.text(column);
    if (auto s = parseSubscriptionStatus(t)) return *s;
    throw Error(ErrorCode::Failed, "database: unknown subscription status '" + t + "'");
}

// "$first, $first+1, ..." for `count` parameters: generated text, never a value.
inline std::string placeholders(std::size_t first, std::size_t count) {
    std::string s;
    for (std::size_t i = 0; i < count; ++i) s += (i ? ", $" : "$") + std::to_string(first + i);
    return s;
}

}  // namespace campaignd::storage

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

// How many items the next statement of a batch carries when `left` remain: a power of two up
// to `most` (itself one), so a batched statement takes few shapes, each prepared once and kept
// in the connection's statement cache; the caller fills the last shape by repeating its last
// item, which the statement must treat as the same row again (IN lists, a join on a key).
inline std::size_t batchShape(std::size_t left, std::size_t most) {
    std::size_t n = 1;
    while (n < left && n < most) n *= 2;
    return n;
}

}  // namespace campaignd::storage

// sql_suppression.cpp: SuppressionStore over SQL (sql_store.h): unsubscribe records written
// only by the statement that changed the status (compare-and-set), the suppression list by
// address hash, and the erasure of an address from the ledger and the bounce records (rows
// kept for their counts; address and free text blanked). Every value travels as a parameter.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "core/error.h"
#include "rules/validation.h"
#include "storage/sql_store.h"
#include "storage/sql_values.h"

namespace campaignd::storage {
namespace {

constexpr const char* kRecordSelect =
    "SELECT id, recipient_id, campaign_id, source, unsubscribed_at FROM unsubscribe_events";

UnsubscribeRecord recordFrom(const SqlRow& row) {
    UnsubscribeRecord r;
    r.id = row.int64(0);
    r.recipientId = row.optionalInt64(1);
    r.campaignId = row.optionalInt64(2);
    const std::string token = row.text(3);
    const auto source = parseUnsubscribeSource(token);
    if (!source) throw Error(ErrorCode::Failed, "database: unknown unsubscribe source '" + token + "'");
    r.source = *source;
    r.at = row.int64(4);
    return r;
}

constexpr const char* kSuppressionSelect =
    "SELECT s.address_hash, s.reason, s.since, COALESCE(r.email, '') FROM suppressions s"
    " LEFT JOIN recipients r ON r.id = s.recipient_id";

SuppressionEntry suppressionFrom(const SqlRow& row) {
    return SuppressionEntry{row.text(0), row.text(1), row.int64(2), row.text(3)};
}

constexpr std::string_view kErased = "[erased]";
constexpr std::size_t kMinErasedNameLength = 4;  // shorter names are ordinary words too

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// `text` with every ASCII-case-insensitive occurrence of `what` replaced by "[erased]".
std::string scrubbed(const std::string& text, std::string_view what) {
    if (what.empty() || text.size() < what.size()) return text;
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        bool match = i + what.size() <= text.size();
        for (std::size_t k = 0; match && k < what.size(); ++k) match = lowerAscii(text[i + k]) == lowerAscii(what[k]);
        if (match) {
            out += kErased;
            i += what.size();
        } else {
            out.push_back(text[i++]);
        }
    }
    return out;
}

std::string scrubbedAll(const std::string& text, std::string_view email, std::string_view name) {
    std::string out = scrubbed(text, email);
    if (name.size() >= kMinErasedNameLength) out = scrubbed(out, name);
    return out;
}

}  // namespace

UnsubscribeChange SqlStore::recordUnsubscribe(Id recipient, std::optional<Id> campaign, UnsubscribeSource source,
                                              Usec at) {
    UnsubscribeChange c;
    transaction([&] {
        c = {};
        const SqlRows rows = query("SELECT status FROM recipients WHERE id = $1", {recipient});
        if (rows.empty()) return;
        c.before = subscriptionStatusOf(rows.front(), 0);
        // The compare-and-set: of two concurrent unsubscribes only one changes the row, and only
        // that one records.
        c.changed = exec("UPDATE recipients SET status = 'unsubscribed' WHERE id = $1 AND status <> 'unsubscribed'",
                         {recipient}) == 1;
        if (c.changed)
            exec("INSERT INTO unsubscribe_events (recipient_id, campaign_id, source, unsubscribed_at)"
                 " VALUES ($1, (SELECT id FROM campaigns WHERE id = $2), $3, $4)",
                 {recipient, nullable(campaign), std::string(toString(source)), at});
        c.record = lastUnsubscribe(recipient);
    });
    return c;
}

std::vector<UnsubscribeRecord> SqlStore::unsubscribeRecords(Id recipient, std::int64_t limit) {
    std::vector<UnsubscribeRecord> out;
    for (const SqlRow& row : query(std::string(kRecordSelect) + " WHERE recipient_id = $1 ORDER BY id DESC LIMIT $2",
                                   {recipient, limit}))
        out.push_back(recordFrom(row));
    return out;
}

std::optional<UnsubscribeRecord> SqlStore::lastUnsubscribe(Id recipient) {
    const SqlRows rows =
        query(std::string(kRecordSelect) + " WHERE recipient_id = $1 ORDER BY id DESC LIMIT 1", {recipient});
    if (rows.empty()) return std::nullopt;
    return recordFrom(rows.front());
}

bool SqlStore::insertSuppression(const SuppressionEntry& entry, std::optional<Id> recipient) {
    return exec("INSERT INTO suppressions (address_hash, reason, since, recipient_id) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (address_hash) DO NOTHING",
                {entry.addressHash, entry.reason, entry.since, nullable(recipient)}) == 1;
}

std::optional<SuppressionEntry> SqlStore::findSuppression(std::string_view addressHash) {
    const SqlRows rows = query(std::string(kSuppressionSelect) + " WHERE s.address_hash = $1", {std::string(addressHash)});
    if (rows.empty()) return std::nullopt;
    return suppressionFrom(rows.front());
}

bool SqlStore::deleteSuppression(std::string_view addressHash) {
    return exec("DELETE FROM suppressions WHERE address_hash = $1", {std::string(addressHash)}) == 1;
}

std::vector<SuppressionEntry> SqlStore::listSuppressions(std::int64_t limit, std::int64_t offset) {
    if (limit < 0 || offset < 0) throw Error(ErrorCode::InvalidArgument, "the limit and offset must not be negative");
    std::vector<SuppressionEntry> out;
    for (const SqlRow& row :
         query(std::string(kSuppressionSelect) + " ORDER BY s.address_hash LIMIT $1 OFFSET $2", {limit, offset}))
        out.push_back(suppressionFrom(row));
    return out;
}

ErasedRows SqlStore::eraseAddress(std::optional<Id> recipient, std::string_view email, std::string_view name) {
    ErasedRows erased;
    const std::string key = rules::emailKey(email);
    // A few rows per person (one per campaign, one per notice): read, scrub here, write back by
    // id. The address comparison is ASCII lower case on both backends (emailKey's rule); it
    // scans the tables, which an erasure, being rare, may.
    transaction([&] {
        erased = {};
        const SqlRows ledger = query(
            "SELECT id, fail_reason, last_error FROM campaign_recipients"
            " WHERE recipient_id = $1 OR lower(recipient_email) = $2 ORDER BY id",
            {nullable(recipient), key});
        for (const SqlRow& row : ledger) {
            exec("UPDATE campaign_recipients SET recipient_email = $2, fail_reason = $3, last_error = $4 WHERE id = $1",
                 {row.int64(0), std::string(kErased), scrubbedAll(row.text(1), email, name),
                  scrubbedAll(row.text(2), email, name)});
            ++erased.ledgerRows;
        }
        const SqlRows bounces = query(
            "SELECT id, diagnostic, notice_key, message_id, remote_mta FROM bounce_records"
            " WHERE recipient_id = $1 OR lower(recipient_email) = $2 ORDER BY id",
            {nullable(recipient), key});
        for (const SqlRow& row : bounces) {
            // (notice_key, recipient_email) is unique: each erased record gets a placeholder of
            // its own. A notice's own Message-ID (its key) may quote the address too.
            exec("UPDATE bounce_records SET recipient_email = $2, diagnostic = $3, notice_key = $4, message_id = $5,"
                 " remote_mta = $6 WHERE id = $1",
                 {row.int64(0), "[erased " + std::to_string(row.int64(0)) + "]", scrubbedAll(row.text(1), email, name),
                  row.isNull(2) ? SqlValue(std::monostate{}) : SqlValue(scrubbedAll(row.text(2), email, name)),
                  scrubbedAll(row.text(3), email, name), scrubbedAll(row.text(4), email, name)});
            ++erased.bounceRecords;
        }
    });
    return erased;
}

}  // namespace campaignd::storage

// sql_bounces.cpp: BounceStore over SQL (sql_store.h). A notice recorded twice is refused by
// the (notice_key, recipient_email) index without an error, so a caller's transaction carries
// on; each suppression change is one compare-and-set statement, read before and after in one
// transaction. Every value travels as a parameter.
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "storage/sql_store.h"
#include "storage/sql_values.h"

namespace campaignd::storage {

namespace {

constexpr const char* kBounceSelect =
    "SELECT b.id, b.campaign_id, b.recipient_id, b.recipient_email, b.status_code, b.reason, b.hard,"
    " b.action, b.diagnostic, b.remote_mta, b.message_id, b.source, b.notice_key, b.processed_at,"
    " b.matched_by, b.acted, b.same_as FROM bounce_records b";

BounceRecord bounceFrom(const SqlRow& row) {
    BounceRecord b;
    b.id = row.int64(0);
    b.campaignId = row.optionalInt64(1);
    b.recipientId = row.optionalInt64(2);
    b.recipientEmail = row.text(3);
    b.statusCode = row.text(4);
    b.reason = row.text(5);
    b.hard = row.int64(6) != 0;
    b.action = row.text(7);
    b.diagnostic = row.text(8);
    b.remoteMta = row.text(9);
    b.messageId = row.text(10);
    b.source = row.text(11);
    b.noticeKey = row.text(12);
    b.processedAt = row.int64(13);
    b.matchedBy = row.text(14);
    b.acted = row.int64(15) != 0;
    b.sameAs = row.optionalInt64(16);
    return b;
}

}  // namespace

std::optional<Id> SqlStore::insertBounce(const BounceRecord& b) {
    // ON CONFLICT on the unique (notice_key, recipient_email) index: a notice seen again (a
    // second fetch after a crash before \Seen, a second ingestion) records nothing and raises
    // no error, so the caller's transaction carries on, on both backends.
    SqlValue key = b.noticeKey.empty() ? SqlValue(std::monostate{}) : SqlValue(b.noticeKey);
    const SqlRows rows = query(
        "INSERT INTO bounce_records (campaign_id, recipient_id, recipient_email, status_code, reason,"
        " hard, action, diagnostic, remote_mta, message_id, source, notice_key, processed_at,"
        " matched_by, acted, same_as)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        " ON CONFLICT (notice_key, recipient_email) DO NOTHING RETURNING id",
        {nullable(b.campaignId), nullable(b.recipientId), b.recipientEmail, b.statusCode, b.reason,
         std::int64_t(b.hard ? 1 : 0), b.action, b.diagnostic, b.remoteMta, b.messageId, b.source,
         key, b.processedAt, b.matchedBy, std::int64_t(b.acted ? 1 : 0), nullable(b.sameAs)});
    if (rows.empty()) return std::nullopt;
    return rows.front().int64(0);
}

std::vector<BounceRecord> SqlStore::listBounces(const BounceFilter& filter) {
    if (filter.limit && *filter.limit < 0)
        throw Error(ErrorCode::InvalidArgument, "the limit must not be negative");
    if (filter.offset < 0) throw Error(ErrorCode::InvalidArgument, "the offset must not be negative");
    SqlParams params;
    std::string where = " WHERE 1 = 1";
    if (filter.campaign) {
        params.emplace_back(*filter.campaign);
        where += " AND b.campaign_id = $" + std::to_string(params.size());
    }
    if (filter.recipient) {
        params.emplace_back(*filter.recipient);
        where += " AND b.recipient_id = $" + std::to_string(params.size());
    }
    if (filter.reason) {
        params.emplace_back(*filter.reason);
        where += " AND b.reason = $" + std::to_string(params.size());
    }
    params.emplace_back(filter.limit.value_or(std::numeric_limits<std::int64_t>::max()));
    where += " ORDER BY b.id DESC LIMIT $" + std::to_string(params.size());
    params.emplace_back(filter.offset);
    where += " OFFSET $" + std::to_string(params.size());
    std::vector<BounceRecord> out;
    for (const SqlRow& row : query(std::string(kBounceSelect) + where, params)) out.push_back(bounceFrom(row));
    return out;
}

std::optional<Id> SqlStore::findSendingRejection(Id campaign, Id recipient) {
    const SqlRows rows = query("SELECT id FROM bounce_records WHERE campaign_id = $1 AND recipient_id = $2"
                               " AND source = 'smtp' AND action = 'failed' ORDER BY id LIMIT 1",
                               {campaign, recipient});
    if (rows.empty()) return std::nullopt;
    return rows.front().int64(0);
}

void SqlStore::recordBounceFetch(const BounceFetchRecord& f) {
    transaction([&] {
        exec("INSERT INTO bounce_fetches (finished_at, source_status, error, fetched, recorded)"
             " VALUES ($1, $2, $3, $4, $5)",
             {f.finishedAt, f.sourceStatus, f.error, f.fetched, f.recorded});
        exec("DELETE FROM bounce_fetches WHERE id NOT IN"
             " (SELECT id FROM bounce_fetches ORDER BY id DESC LIMIT $1)",
             {kKeptBounceFetches});
    });
}

std::optional<BounceFetchRecord> SqlStore::lastBounceFetch() {
    const SqlRows rows = query("SELECT finished_at, source_status, error, fetched, recorded FROM bounce_fetches"
                               " ORDER BY id DESC LIMIT 1");
    if (rows.empty()) return std::nullopt;
    const SqlRow& row = rows.front();
    return BounceFetchRecord{row.int64(0), row.text(1), row.text(2), row.int64(3), row.int64(4)};
}

std::optional<LedgerMatch> SqlStore::findLedgerByMessageId(std::string_view messageId) {
    if (messageId.empty()) return std::nullopt;
    const SqlRows rows = query("SELECT id, campaign_id, recipient_id, recipient_email FROM campaign_recipients"
                               " WHERE message_id = $1 ORDER BY id LIMIT 1",
                               {std::string(messageId)});
    if (rows.empty()) return std::nullopt;
    const SqlRow& row = rows.front();
    return LedgerMatch{row.int64(0), row.int64(1), row.optionalInt64(2), row.text(3)};
}

SuppressionChange SqlStore::changeSubscription(Id recipient, const std::function<void()>& change) {
    SuppressionChange c;
    auto read = [&](std::optional<SubscriptionStatus>& into) {
        const SqlRows rows = query("SELECT status, soft_bounce_count FROM recipients WHERE id = $1", {recipient});
        if (rows.empty()) return false;
        into = subscriptionStatusOf(rows.front(), 0);
        c.softBounceCount = rows.front().int64(1);
        return true;
    };
    transaction([&] {
        if (!read(c.before)) return;
        change();
        read(c.after);
    });
    return c;
}

SuppressionChange SqlStore::markRecipientBounced(Id recipient) {
    return changeSubscription(recipient, [&] {
        exec("UPDATE recipients SET status = 'bounced' WHERE id = $1 AND status = 'subscribed'", {recipient});
    });
}

SuppressionChange SqlStore::countSoftBounce(Id recipient, std::int64_t limit) {
    if (limit < 1) throw Error(ErrorCode::InvalidArgument, "the soft bounce limit must be at least 1");
    return changeSubscription(recipient, [&] {
        // One statement: the count and the compare-and-set on the status cannot be separated
        // by a concurrent bounce for the same recipient.
        exec("UPDATE recipients SET soft_bounce_count = soft_bounce_count + 1,"
             " status = CASE WHEN status = 'subscribed' AND soft_bounce_count + 1 >= $2"
             " THEN 'bounced' ELSE status END"
             " WHERE id = $1",
             {recipient, limit});
    });
}

void SqlStore::resetSoftBounces(Id recipient) {
    exec("UPDATE recipients SET soft_bounce_count = 0 WHERE id = $1 AND soft_bounce_count <> 0", {recipient});
}

CampaignBounceCounts SqlStore::campaignBounceCounts(Id campaign) {
    const SqlRows rows = query(
        "SELECT COALESCE(SUM(CASE WHEN hard = 1 AND action <> 'complaint' THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN action = 'complaint' THEN 1 ELSE 0 END), 0)"
        " FROM bounce_records WHERE campaign_id = $1 AND acted = 1",
        {campaign});
    CampaignBounceCounts counts;
    if (!rows.empty()) {
        counts.hardBounces = rows.front().int64(0);
        counts.complaints = rows.front().int64(1);
    }
    return counts;
}

}  // namespace campaignd::storage

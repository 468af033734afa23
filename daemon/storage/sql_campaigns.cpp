// sql_campaigns.cpp: CampaignStore over SQL (sql_store.h). A campaign's counts are read from
// campaign_counts, the ledger's kept counters (a few rows per campaign), never recounted; a
// status change is one compare-and-set statement. Every value travels as a parameter.
#include <string>
#include <vector>

#include "core/error.h"
#include "storage/sql_store.h"
#include "storage/sql_values.h"

namespace campaignd::storage {
namespace {

CampaignStatus campaignStatusOf(const SqlRow& row, std::size_t column) {
    const std::string t = row.text(column);
    if (auto s = parseCampaignStatus(t)) return *s;
    throw Error(ErrorCode::Failed, "database: unknown campaign status '" + t + "'");
}

// The ledger counts are sums over the campaign's few campaign_counts slots (a primary key
// range of at most 1 + kWorkerCounterSlots rows each), whatever the size of its ledger.
#define CAMPAIGND_KEPT_COUNT(column) \
    " (SELECT SUM(k." column ") FROM campaign_counts k WHERE k.campaign_id = c.id),"
constexpr const char* kCampaignSelect =
    "SELECT c.id, c.name, c.subject, c.html_content, c.text_content, c.from_address,"
    " c.scheduled_time, c.status, c.status_reason, c.created_at, c.updated_at,"
    CAMPAIGND_KEPT_COUNT("total") CAMPAIGND_KEPT_COUNT("sent") CAMPAIGND_KEPT_COUNT("failed")
    CAMPAIGND_KEPT_COUNT("pending") CAMPAIGND_KEPT_COUNT("unknown") CAMPAIGND_KEPT_COUNT("skipped")
    CAMPAIGND_KEPT_COUNT("in_flight")
    " c.transport, c.subject_tag, c.bounce_guard"
    " FROM campaigns c";
#undef CAMPAIGND_KEPT_COUNT

Campaign campaignFrom(const SqlRow& row) {
    Campaign c;
    c.id = row.int64(0);
    c.name = row.text(1);
    c.subject = row.text(2);
    c.htmlContent = row.text(3);
    c.textContent = row.text(4);
    c.fromAddress = row.text(5);
    c.scheduledTime = row.optionalInt64(6);
    c.status = campaignStatusOf(row, 7);
    c.statusReason = row.text(8);
    c.createdAt = row.int64(9);
    c.updatedAt = row.int64(10);
    c.recipientCount = row.int64(11);
    c.sentCount = row.int64(12);
    c.failedCount = row.int64(13);
    c.pendingCount = row.int64(14);
    c.unknownCount = row.int64(15);
    c.skippedCount = row.int64(16);
    c.inFlightCount = row.int64(17);
    c.transport = row.text(18);
    c.subjectTag = row.int64(19) != 0;
    const std::string guard = row.text(20);
    if (const auto g = parseBounceGuard(guard)) c.guard = *g;
    else throw Error(ErrorCode::Failed, "database: unknown bounce guard state '" + guard + "'");
    return c;
}

}  // namespace

// ---- campaigns ----------------------------------------------------------------------------

Id SqlStore::insertCampaign(const Campaign& c) {
    const SqlRows rows = query(
        "INSERT INTO campaigns (name, subject, html_content, text_content, from_address,"
        " scheduled_time, status, status_reason, created_at, updated_at, transport, subject_tag)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        {c.name, c.subject, c.htmlContent, c.textContent, c.fromAddress, nullable(c.scheduledTime),
         token(c.status), c.statusReason, c.createdAt, c.updatedAt, c.transport,
         std::int64_t(c.subjectTag ? 1 : 0)});
    if (rows.empty()) throw Error(ErrorCode::Failed, "database: INSERT returned no id");
    return rows.front().int64(0);
}

void SqlStore::updateCampaign(const Campaign& c) {
    const std::int64_t n = exec(
        "UPDATE campaigns SET name = $2, subject = $3, html_content = $4, text_content = $5,"
        " from_address = $6, scheduled_time = $7, status = $8, status_reason = $9, updated_at = $10,"
        " transport = $11, subject_tag = $12"
        " WHERE id = $1",
        {c.id, c.name, c.subject, c.htmlContent, c.textContent, c.fromAddress,
         nullable(c.scheduledTime), token(c.status), c.statusReason, c.updatedAt, c.transport,
         std::int64_t(c.subjectTag ? 1 : 0)});
    if (n == 0) throw Error(ErrorCode::NotFound, "campaign " + std::to_string(c.id) + " does not exist");
}

std::optional<Campaign> SqlStore::findCampaign(Id id) {
    const SqlRows rows = query(std::string(kCampaignSelect) + " WHERE c.id = $1", {id});
    if (rows.empty()) return std::nullopt;
    return campaignFrom(rows.front());
}

std::vector<Campaign> SqlStore::listCampaigns(std::optional<CampaignStatus> status) {
    const SqlRows rows =
        status ? query(std::string(kCampaignSelect) + " WHERE c.status = $1 ORDER BY c.id", {token(*status)})
               : query(std::string(kCampaignSelect) + " ORDER BY c.id");
    std::vector<Campaign> out;
    out.reserve(rows.size());
    for (const SqlRow& row : rows) out.push_back(campaignFrom(row));
    return out;
}

bool SqlStore::deleteCampaign(Id id) {
    // The ledger and its counters go with it (ON DELETE CASCADE); bounce records keep a NULL
    // campaign.
    return exec("DELETE FROM campaigns WHERE id = $1", {id}) > 0;
}

bool SqlStore::changeCampaignStatus(Id id, CampaignStatus from, CampaignStatus to,
                                    std::string_view reason, Usec now) {
    // One statement: the compare and the set cannot be separated by another writer.
    return exec("UPDATE campaigns SET status = $3, status_reason = $4, updated_at = $5"
                " WHERE id = $1 AND status = $2",
                {id, token(from), token(to), std::string(reason), now}) == 1;
}

void SqlStore::setCampaignGuard(Id id, BounceGuard guard) {
    exec("UPDATE campaigns SET bounce_guard = $2 WHERE id = $1", {id, std::string(toString(guard))});
}

std::vector<Group> SqlStore::campaignGroups(Id campaign) {
    const SqlRows rows = query(
        "SELECT g.id, g.name, g.created_at FROM campaign_groups cg"
        " JOIN recipient_groups g ON g.id = cg.group_id WHERE cg.campaign_id = $1 ORDER BY g.id",
        {campaign});
    std::vector<Group> out;
    out.reserve(rows.size());
    for (const SqlRow& row : rows) out.push_back(Group{row.int64(0), row.text(1), row.int64(2), 0});
    return out;
}

std::vector<Id> SqlStore::dueCampaigns(Usec now) {
    const SqlRows rows = query(
        "SELECT id FROM campaigns WHERE status = 'scheduled' AND scheduled_time <= $1"
        " ORDER BY scheduled_time, id",
        {now});
    std::vector<Id> out;
    out.reserve(rows.size());
    for (const SqlRow& row : rows) out.push_back(row.int64(0));
    return out;
}

}  // namespace campaignd::storage

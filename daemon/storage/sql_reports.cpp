// sql_reports.cpp: ReportStore over SQL (sql_store.h): the dashboard and a campaign's summary
// from the kept counters (only failure and bounce reasons group rows), and its failed and
// unknown ledger rows in pages by ledger id. Reads only; ties sort the same on both backends.
#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "storage/sql_store.h"
#include "storage/sql_values.h"

namespace campaignd::storage {
namespace {

constexpr std::array kAllCampaignStatuses{CampaignStatus::Draft,     CampaignStatus::Scheduled,
                                          CampaignStatus::InProgress, CampaignStatus::Paused,
                                          CampaignStatus::Completed,  CampaignStatus::Cancelled};

}  // namespace

Dashboard SqlStore::dashboard() {
    Dashboard d;
    const SqlRows totals = query(
        "SELECT (SELECT COUNT(*) FROM recipients),"
        " (SELECT COUNT(*) FROM recipients WHERE status = 'subscribed'),"
        " (SELECT COUNT(*) FROM campaigns),"
        " (SELECT COUNT(*) FROM recipient_groups),"
        " s.sent, s.failed, s.pending, s.unknown, s.skipped, s.in_flight,"
        " (SELECT COUNT(*) FROM unsubscribe_events),"
        " (SELECT COUNT(*) FROM suppressions)"
        // The kept counters of every campaign: a few rows per campaign, not every ledger row.
        " FROM (SELECT SUM(sent) AS sent, SUM(failed) AS failed, SUM(pending) AS pending,"
        " SUM(unknown) AS unknown, SUM(skipped) AS skipped, SUM(in_flight) AS in_flight"
        " FROM campaign_counts) s");
    if (!totals.empty()) {
        const SqlRow& row = totals.front();
        d.totalRecipients = row.int64(0);
        d.subscribedRecipients = row.int64(1);
        d.totalCampaigns = row.int64(2);
        d.totalGroups = row.int64(3);
        d.sent = row.int64(4);
        d.failed = row.int64(5);
        d.pending = row.int64(6);
        d.unknown = row.int64(7);
        d.skipped = row.int64(8);
        d.inFlight = row.int64(9);
        d.unsubscribes = row.int64(10);
        d.suppressed = row.int64(11);
    }
    std::map<std::string, std::int64_t> byToken;
    for (const SqlRow& row : query("SELECT status, COUNT(*) FROM campaigns GROUP BY status"))
        byToken[row.text(0)] = row.int64(1);
    // Every status, in the enum's order, zeros included: a stable shape for clients.
    for (CampaignStatus s : kAllCampaignStatuses) {
        auto it = byToken.find(std::string(toString(s)));
        d.campaignsByStatus.emplace_back(s, it == byToken.end() ? 0 : it->second);
    }
    // The sending guard's figures of the campaigns sending or paused (a handful): each one's
    // kept counters and one indexed count of its bounce records.
    for (const Campaign& c : listCampaigns(CampaignStatus::InProgress)) d.rates.push_back(campaignRates(c));
    for (const Campaign& c : listCampaigns(CampaignStatus::Paused)) d.rates.push_back(campaignRates(c));
    std::sort(d.rates.begin(), d.rates.end(), [](const auto& a, const auto& b) { return a.campaignId < b.campaignId; });
    d.bouncesByReason = bouncesByReason(std::nullopt);
    return d;
}

std::vector<std::pair<std::string, std::int64_t>> SqlStore::bouncesByReason(std::optional<Id> campaign) {
    // Bounces: failures and complaints; a delay or a success notice is not a bounce, nor is a
    // notice repeating one already recorded (same_as).
    std::vector<std::pair<std::string, std::int64_t>> out;
    const std::string where = campaign ? " AND campaign_id = $1" : "";
    const SqlParams params = campaign ? SqlParams{*campaign} : SqlParams{};
    for (const SqlRow& row : query("SELECT reason, COUNT(*) FROM bounce_records"
                                   " WHERE action IN ('failed', 'complaint') AND same_as IS NULL" + where +
                                       " GROUP BY reason",
                                   params))
        out.emplace_back(row.text(0), row.int64(1));
    // Most frequent first; ties byte-wise by reason, the same on both backends.
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    return out;
}

RecipientHistory SqlStore::recipientHistory(Id recipient, std::int64_t limit) {
    RecipientHistory h;
    for (const SqlRow& row : query("SELECT cr.campaign_id, c.name, cr.status, COALESCE(cr.outcome_at, 0),"
                                   " CASE WHEN cr.fail_reason <> '' THEN cr.fail_reason ELSE COALESCE(cr.last_error, '') END,"
                                   " cr.attempts, COALESCE(cr.message_id, '')"
                                   " FROM campaign_recipients cr JOIN campaigns c ON c.id = cr.campaign_id"
                                   " WHERE cr.recipient_id = $1 ORDER BY cr.campaign_id DESC LIMIT $2",
                                   {recipient, limit})) {
        RecipientCampaignEntry e;
        e.campaignId = row.int64(0);
        e.campaignName = row.text(1);
        e.status = row.text(2);
        e.outcomeAt = row.int64(3);
        e.reason = row.text(4);
        e.attempts = row.int64(5);
        e.messageId = row.text(6);
        h.campaigns.push_back(std::move(e));
    }
    BounceFilter bounces;
    bounces.recipient = recipient;
    bounces.limit = limit;
    h.bounces = listBounces(bounces);
    h.unsubscribes = unsubscribeRecords(recipient, limit);
    return h;
}

CampaignRates SqlStore::campaignRates(const Campaign& c) {
    CampaignRates r;
    r.campaignId = c.id;
    r.name = c.name;
    r.status = c.status;
    r.guard = c.guard;
    r.attempts = c.sentCount + c.failedCount + c.unknownCount;
    r.delivered = c.sentCount;
    const CampaignBounceCounts bounces = campaignBounceCounts(c.id);
    r.hardBounces = bounces.hardBounces;
    r.complaints = bounces.complaints;
    return r;
}

std::int64_t SqlStore::unsubscribesSince(Usec since) {
    return query("SELECT COUNT(*) FROM unsubscribe_events WHERE unsubscribed_at >= $1", {since}).at(0).int64(0);
}

CampaignSummary SqlStore::campaignSummary(Id campaign) {
    CampaignSummary s;
    s.campaignId = campaign;
    // The counts from the kept counters; only the failure reasons below group ledger rows.
    const SqlRows counts = query("SELECT SUM(total), SUM(sent), SUM(failed), SUM(pending), SUM(unknown),"
                                 " SUM(skipped), SUM(in_flight) FROM campaign_counts WHERE campaign_id = $1",
                                 {campaign});
    if (!counts.empty()) {
        const SqlRow& row = counts.front();
        s.total = row.int64(0);
        s.sent = row.int64(1);
        s.failed = row.int64(2);
        s.pending = row.int64(3);
        s.unknown = row.int64(4);
        s.skipped = row.int64(5);
        s.inFlight = row.int64(6);
    }
    s.successPercent = s.total == 0 ? 0.0 : double(s.sent) * 100.0 / double(s.total);
    for (const SqlRow& row : query("SELECT fail_reason, COUNT(*) FROM campaign_recipients"
                                   " WHERE campaign_id = $1 AND status = 'failed' GROUP BY fail_reason",
                                   {campaign}))
        s.failureReasons.emplace_back(row.text(0), row.int64(1));
    // Most frequent first; ties byte-wise by reason, the same on both backends.
    const auto byCount = [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    };
    std::sort(s.failureReasons.begin(), s.failureReasons.end(), byCount);
    s.bouncesByReason = bouncesByReason(campaign);
    for (const auto& [reason, n] : s.bouncesByReason) s.bounces += n;
    // Unsubscribes recorded with this campaign (they outlive the recipients' deletion).
    s.unsubscribes =
        query("SELECT COUNT(*) FROM unsubscribe_events WHERE campaign_id = $1", {campaign}).at(0).int64(0);
    s.unsubscribePercent = s.sent == 0 ? 0.0 : double(s.unsubscribes) * 100.0 / double(s.sent);
    if (const auto c = findCampaign(campaign)) s.rates = campaignRates(*c);
    return s;
}

std::vector<LedgerProblem> SqlStore::campaignProblems(Id campaign, Id afterLedgerId, std::size_t limit) {
    std::vector<LedgerProblem> out;
    if (limit == 0) return out;
    for (const SqlRow& row : query("SELECT l.id, l.recipient_email, COALESCE(r.name, ''), l.status,"
                                   " CASE WHEN l.fail_reason <> '' THEN l.fail_reason ELSE l.last_error END,"
                                   " l.attempts"
                                   " FROM campaign_recipients l LEFT JOIN recipients r ON r.id = l.recipient_id"
                                   " WHERE l.campaign_id = $1 AND l.status IN ('failed', 'unknown') AND l.id > $2"
                                   " ORDER BY l.id LIMIT $3",
                                   {campaign, afterLedgerId, static_cast<std::int64_t>(limit)})) {
        LedgerProblem p;
        p.ledgerId = row.int64(0);
        p.email = row.text(1);
        p.name = row.text(2);
        p.status = row.text(3) == toString(DeliveryStatus::Unknown) ? DeliveryStatus::Unknown : DeliveryStatus::Failed;
        p.reason = row.text(4);
        p.attempts = row.int64(5);
        out.push_back(std::move(p));
    }
    return out;
}

CampaignRecipientPage SqlStore::campaignRecipients(Id campaign, const CampaignRecipientFilter& filter) {
    CampaignRecipientPage page;
    // The total from the kept counters: one column of a few rows, whatever the ledger's size.
    const char* column = "total";
    std::vector<DeliveryStatus> states;  // the ledger statuses of the state; empty: all
    if (filter.state) {
        switch (*filter.state) {
        case SendState::Pending: column = "pending"; states = {DeliveryStatus::Pending}; break;
        case SendState::InFlight:
            column = "in_flight";
            states = {DeliveryStatus::Sending, DeliveryStatus::HandedOver};
            break;
        case SendState::Sent: column = "sent"; states = {DeliveryStatus::Sent}; break;
        case SendState::Failed: column = "failed"; states = {DeliveryStatus::Failed}; break;
        case SendState::Unknown: column = "unknown"; states = {DeliveryStatus::Unknown}; break;
        case SendState::Skipped: column = "skipped"; states = {DeliveryStatus::Skipped}; break;
        }
    }
    const SqlRows total = query(std::string("SELECT COALESCE(SUM(") + column +
                                    "), 0) FROM campaign_counts WHERE campaign_id = $1",
                                {campaign});
    if (!total.empty()) page.total = total.front().int64(0);
    if (filter.limit <= 0) return page;
    // In the claim index's order (campaign_id, status, id): a page reads only its own rows and
    // the offset's, never the rest of the campaign's ledger, and sorts nothing (SQLite: no
    // temporary B-tree), whether it is of one status, of in flight's two or of all of them. An
    // id order across all states would need one more index on (campaign_id, id), kept up by
    // every attach, for no gain a reader would see.
    SqlParams params{campaign, filter.limit, std::max<std::int64_t>(filter.offset, 0)};
    for (const DeliveryStatus s : states) params.emplace_back(std::string(toString(s)));
    const std::string where = states.empty() ? "l.campaign_id = $1"
                                             : "l.campaign_id = $1 AND l.status IN (" + placeholders(4, states.size()) + ")";
    for (const SqlRow& row :
         query("SELECT l.id, l.recipient_email, COALESCE(r.name, ''), l.status,"
               " CASE l.status WHEN 'failed' THEN l.fail_reason WHEN 'sent' THEN '' ELSE l.last_error END,"
               " CASE WHEN l.status IN ('sending', 'handed_over') THEN l.claimed_at"
               " WHEN l.status = 'sent' THEN COALESCE(l.outcome_at, l.sent_at) ELSE l.outcome_at END,"
               " l.attempts"
               " FROM campaign_recipients l LEFT JOIN recipients r ON r.id = l.recipient_id"
               " WHERE " + where + " ORDER BY l.status, l.id LIMIT $2 OFFSET $3",
               params)) {
        CampaignRecipient c;
        c.ledgerId = row.int64(0);
        c.email = row.text(1);
        c.name = row.text(2);
        const auto status = parseDeliveryStatus(row.text(3));
        if (!status)
            throw Error(ErrorCode::Failed, "database: unknown ledger status '" + row.text(3) + "'");
        c.state = sendStateOf(*status);
        c.reply = row.text(4);
        if (!row.isNull(5)) c.at = row.int64(5);
        c.attempts = row.int64(6);
        page.recipients.push_back(std::move(c));
    }
    return page;
}

}  // namespace campaignd::storage

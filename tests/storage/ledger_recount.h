// ledger_recount.h: the test's own recount of the send ledger, for comparing with the counts
// the store keeps (campaign_counts, migration 5). It counts campaign_recipients rows with its
// own SQL through the given connection and never reads campaign_counts, so a counter the store
// forgot to move, or moved twice, shows as a difference.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "storage/sql_connection.h"
#include "storage/store.h"

namespace campaignd::test {

struct LedgerRecount {
    std::int64_t total = 0, pending = 0, inFlight = 0, sent = 0, failed = 0, unknown = 0, skipped = 0;
    std::int64_t other = 0;  // rows in a status none of the above counts (there must be none)
};

// Recounts one campaign's ledger, or every campaign's (campaign 0).
inline LedgerRecount recountLedger(storage::SqlConnection& sql, Id campaign) {
    LedgerRecount r;
    const std::string where = campaign == 0 ? "" : " WHERE campaign_id = $1";
    const storage::SqlParams params = campaign == 0 ? storage::SqlParams{} : storage::SqlParams{campaign};
    for (const storage::SqlRow& row :
         sql.query("SELECT status, COUNT(*) FROM campaign_recipients" + where + " GROUP BY status", params)) {
        const std::string status = row.text(0);
        const std::int64_t n = row.int64(1);
        r.total += n;
        if (status == "pending") r.pending += n;
        else if (status == "sending" || status == "handed_over") r.inFlight += n;
        else if (status == "sent") r.sent += n;
        else if (status == "failed") r.failed += n;
        else if (status == "unknown") r.unknown += n;
        else if (status == "skipped") r.skipped += n;
        else r.other += n;
    }
    return r;
}

// The campaign read through the store (findCampaign, campaignSummary) has the recount's
// counts, and they add up: total == pending + in flight + sent + failed + unknown + skipped.
inline void expectCountsMatchLedger(storage::Store& store, storage::SqlConnection& sql, Id campaign, const std::string& step) {
    SCOPED_TRACE("counters after: " + step);
    const LedgerRecount r = recountLedger(sql, campaign);
    EXPECT_EQ(r.other, 0);
    EXPECT_EQ(r.pending + r.inFlight + r.sent + r.failed + r.unknown + r.skipped, r.total);
    const auto c = store.findCampaign(campaign);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->recipientCount, r.total);
    EXPECT_EQ(c->pendingCount, r.pending);
    EXPECT_EQ(c->inFlightCount, r.inFlight);
    EXPECT_EQ(c->sentCount, r.sent);
    EXPECT_EQ(c->failedCount, r.failed);
    EXPECT_EQ(c->unknownCount, r.unknown);
    EXPECT_EQ(c->skippedCount, r.skipped);
    EXPECT_EQ(c->pendingCount + c->inFlightCount + c->sentCount + c->failedCount + c->unknownCount +
                  c->skippedCount,
              c->recipientCount);
    const CampaignSummary s = store.campaignSummary(campaign);
    EXPECT_EQ(s.total, r.total);
    EXPECT_EQ(s.pending, r.pending);
    EXPECT_EQ(s.inFlight, r.inFlight);
    EXPECT_EQ(s.sent, r.sent);
    EXPECT_EQ(s.failed, r.failed);
    EXPECT_EQ(s.unknown, r.unknown);
    EXPECT_EQ(s.skipped, r.skipped);
}

// The dashboard's ledger totals equal the recount over every campaign.
inline void expectDashboardMatchesLedger(storage::Store& store, storage::SqlConnection& sql, const std::string& step) {
    SCOPED_TRACE("dashboard after: " + step);
    const LedgerRecount r = recountLedger(sql, 0);
    const Dashboard d = store.dashboard();
    EXPECT_EQ(d.pending, r.pending);
    EXPECT_EQ(d.inFlight, r.inFlight);
    EXPECT_EQ(d.sent, r.sent);
    EXPECT_EQ(d.failed, r.failed);
    EXPECT_EQ(d.unknown, r.unknown);
    EXPECT_EQ(d.skipped, r.skipped);
}

}  // namespace campaignd::test

// report_service.h: the campaign report (the original design's generate_campaign_report and its
// "automatically emailed to admin after campaign completion"): the failures as a formula-safe
// CSV, the report data a reporter plugin renders, and the mail to the administrator, composed by
// a reporter plugin and sent through the campaign's own transport session.
// Promises: every CSV cell goes through csvCell; the CSV holds at most maxFailureRows rows and
// the report says how many there were in all; the mail goes to [Daemon] AdminEmail= only.
// Refuses: a report without an admin address (InvalidArgument), an unknown campaign (NotFound).
#pragma once

#include <cstddef>
#include <string>

#include "core/model.h"
#include "plugin-host/plugin_host.h"
#include "storage/campaign_store.h"
#include "storage/report_store.h"

namespace campaignd::services {

struct ReportSettings {
    std::string adminEmail;             // To, and the envelope sender; normalised ([Daemon])
    std::string from;                   // the From mailbox; "": "campaignd <adminEmail>"
    std::size_t maxFailureRows = 10000; // rows in the attached CSV (the first ones by ledger id)
};

// "email,name,status,reason,attempts" + CRLF.
std::string failuresCsvHeader();
// One CSV line (CRLF) for a failed or unknown ledger row, every cell through csvCell.
std::string failuresCsvRow(const storage::LedgerProblem& problem);

// The report of campaign `id` as of `now`: its summary, and the first maxFailureRows failures as
// CSV. Throws Error(NotFound) for an unknown campaign, Error(Failed) from the database.
plugins::CampaignReport buildCampaignReport(storage::CampaignStore& campaigns, storage::ReportStore& reports, Id id,
                                            const ReportSettings& settings, Usec now);

struct ReportDelivery {
    plugins::DeliveryOutcome outcome = plugins::DeliveryOutcome::Unknown;  // Sent when the server took it
    std::string text;       // the transport's words (the server's reply)
    std::string messageId;  // the report's Message-ID
};

// Builds the report, has `reporter` compose it, and sends it to settings.adminEmail through
// `session` (the campaign's transport; its own connection). Throws Error(InvalidArgument)
// without an admin address, Error(NotFound) for an unknown campaign, Error(Failed) when the
// reporter fails or the session fails (with the transport's message).
ReportDelivery mailCampaignReport(storage::CampaignStore& campaigns, storage::ReportStore& reports,
                                  const plugins::ReporterHandle& reporter,
                                  plugins::TransportSession& session, const ReportSettings& settings, Id id,
                                  Usec now);

}  // namespace campaignd::services

// report_format.h: `campaignd-ctl campaign report` as text and as CSV, from the campaign's
// GetSummary dictionary. The CSV is one table (section,item,value): the counts, then one row per
// failure reason and per bounce reason; every cell goes through the daemon's csvCell, so a
// reason that begins with =, +, - or @ cannot run as a formula in a spreadsheet. No I/O here.
#pragma once

#include <cstdint>
#include <string>

#include "variant_json.h"

namespace campaignd::ctl {

// "section,item,value" + CRLF, then rows: summary/<count>/<n> (total, sent, failed, unknown,
// skipped, pending, in_flight, bounces, unsubscribes, then the sending guard's attempts,
// delivered, hard_bounces, complaints; success_percent with one decimal),
// failure_reason/<reason>/<count>, bounce_reason/<reason>/<count>. CRLF line ends (RFC 4180).
std::string reportCsv(std::uint64_t campaignId, const Dict& summary);

// The report for a person: the counts aligned, the success percentage (for a campaign cancelled
// part-way, `status` "cancelled", how far it got instead: sent / total would count everyone it
// never tried as a failure), the failure reasons and the bounce reasons as tables.
std::string reportText(std::uint64_t campaignId, const std::string& name, const std::string& status,
                       const Dict& summary);

// The sending guard's two rates of a campaign (GetSummary's, or a dashboard guard_rates entry:
// attempts, delivered, hard_bounces, complaints), each with its figures: "3.00% (12 of 400
// attempts)", "-" before the first attempt.
std::string hardBounceRateText(const Dict& figures);
std::string complaintRateText(const Dict& figures);
// The providers' published limits the rates are shown next to, one line each.
extern const char* const kHardBounceReference;
extern const char* const kComplaintReference;
// "watching" (armed), "paused it" (tripped), "off (resumed with --force)".
std::string guardStateText(const std::string& token);

}  // namespace campaignd::ctl

// report_format.cpp: see report_format.h.
#include "report_format.h"

#include <cstdio>

#include "rules/csv_export.h"
#include "table.h"

namespace campaignd::ctl {
namespace {

using rules::csvCell;

const char* const kCounts[] = {"total", "sent", "failed", "unknown", "skipped", "pending", "in_flight", "bounces",
                               "unsubscribes", "attempts", "delivered", "hard_bounces", "complaints"};

std::string rateText(std::uint64_t part, std::uint64_t whole, const char* of) {
    if (whole == 0) return "- (no " + std::string(of) + " yet)";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
    return std::string(buffer) + " (" + std::to_string(part) + " of " + std::to_string(whole) + " " + of + ")";
}

std::string percentText(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f", value);
    return buffer;
}

void row(std::string& out, std::string_view section, std::string_view item, std::string_view value) {
    out += csvCell(section);
    out += ',';
    out += csvCell(item);
    out += ',';
    out += csvCell(value);
    out += "\r\n";
}

}  // namespace

// Where the limits come from: Google's "Email sender guidelines" (support.google.com/a/answer/
// 81126) and Yahoo's "Sender Best Practices" (senders.yahooinc.com/best-practices) ask bulk
// senders to keep the spam rate reported in Postmaster Tools below 0.1% and never to reach
// 0.3%. Neither publishes a bounce limit; Amazon SES's Developer Guide ("Sending review process
// FAQs") puts an account under review at a 5% bounce rate and may pause its sending at 10%.
const char* const kHardBounceReference = "keep under 5% (Amazon SES reviews a sender at 5%, may pause at 10%)";
const char* const kComplaintReference = "keep under 0.1%, never 0.3% (Gmail and Yahoo sender guidelines)";

std::string hardBounceRateText(const Dict& figures) {
    return rateText(dictUint(figures, "hard_bounces"), dictUint(figures, "attempts"), "attempts");
}

std::string complaintRateText(const Dict& figures) {
    return rateText(dictUint(figures, "complaints"), dictUint(figures, "delivered"), "delivered");
}

std::string guardStateText(const std::string& token) {
    if (token == "armed") return "watching";
    if (token == "tripped") return "paused the campaign";
    if (token == "off") return "off (resumed with --force)";
    return token.empty() ? "-" : token;
}

std::string reportCsv(std::uint64_t campaignId, const Dict& summary) {
    std::string out = "section,item,value\r\n";
    row(out, "summary", "campaign", std::to_string(campaignId));
    for (const char* key : kCounts) row(out, "summary", key, std::to_string(dictUint(summary, key)));
    row(out, "summary", "success_percent", percentText(dictDouble(summary, "success_percent")));
    row(out, "summary", "unsubscribe_percent", percentText(dictDouble(summary, "unsubscribe_percent")));
    for (const auto& [reason, count] : dictCounts(summary, "failure_reasons"))
        row(out, "failure_reason", reason, std::to_string(count));
    for (const auto& [reason, count] : dictCounts(summary, "bounces_by_reason"))
        row(out, "bounce_reason", reason, std::to_string(count));
    return out;
}

std::string reportText(std::uint64_t campaignId, const std::string& name, const std::string& status,
                       const Dict& summary) {
    const std::string success =
        status == "cancelled" ? "none: cancelled after sending to " + std::to_string(dictUint(summary, "sent")) +
                                    " of " + std::to_string(dictUint(summary, "total"))
                              : percentText(dictDouble(summary, "success_percent")) + "%";
    std::string out = renderFields({
        {"Campaign", std::to_string(campaignId) + (name.empty() ? "" : " (" + name + ")")},
        {"Total", std::to_string(dictUint(summary, "total"))},
        {"Sent", std::to_string(dictUint(summary, "sent"))},
        {"Failed", std::to_string(dictUint(summary, "failed"))},
        {"Unknown", std::to_string(dictUint(summary, "unknown"))},
        {"Skipped", std::to_string(dictUint(summary, "skipped"))},
        {"Pending", std::to_string(dictUint(summary, "pending"))},
        {"In flight", std::to_string(dictUint(summary, "in_flight"))},
        {"Success", success},
        {"Bounces", std::to_string(dictUint(summary, "bounces"))},
        {"Unsubscribes", std::to_string(dictUint(summary, "unsubscribes")) + " (" +
                             percentText(dictDouble(summary, "unsubscribe_percent")) + "% of sent)"},
    });
    // The sending guard's two rates, next to the providers' published limits.
    out += '\n';
    out += renderFields({
        {"Hard bounces", hardBounceRateText(summary)},
        {"  limit", kHardBounceReference},
        {"Complaints", complaintRateText(summary)},
        {"  limit", kComplaintReference},
        {"Sending guard", guardStateText(dictString(summary, "bounce_guard"))},
    });
    out += '\n';
    const auto reasons = dictCounts(summary, "failure_reasons");
    if (reasons.empty()) {
        out += "No failures.\n";
    } else {
        Table table({"FAILURE REASON", "COUNT"});
        table.setAlign(1, Align::Right);
        for (const auto& [reason, count] : reasons) table.addRow({reason, std::to_string(count)});
        out += table.render();
    }
    const auto bounces = dictCounts(summary, "bounces_by_reason");
    if (!bounces.empty()) {
        out += '\n';
        Table table({"BOUNCE REASON", "COUNT"});
        table.setAlign(1, Align::Right);
        for (const auto& [reason, count] : bounces) table.addRow({reason, std::to_string(count)});
        out += table.render();
    }
    return out;
}

}  // namespace campaignd::ctl

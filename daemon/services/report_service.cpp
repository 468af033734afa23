// report_service.cpp: see report_service.h. The CSV is paged out of the ledger (1000 rows a
// query) so a campaign with many failures never loads them all; the Message-ID is random.
#include "services/report_service.h"

#include <random>

#include "core/error.h"
#include "core/log.h"
#include "rules/csv_export.h"

namespace campaignd::services {
namespace {

constexpr std::size_t kPage = 1000;

std::string domainOf(const std::string& address) {
    const auto at = address.rfind('@');
    return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

std::string randomHex() {
    std::random_device device;
    const std::uint64_t value = (std::uint64_t(device()) << 32) ^ device();
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(value));
    return buffer;
}

}  // namespace

std::string failuresCsvHeader() { return "email,name,status,reason,attempts\r\n"; }

std::string failuresCsvRow(const storage::LedgerProblem& p) {
    std::string line = rules::csvCell(p.email);
    line += ',';
    line += rules::csvCell(p.name);
    line += ',';
    line += rules::csvCell(toString(p.status));
    line += ',';
    line += rules::csvCell(p.reason);
    line += ',';
    line += std::to_string(p.attempts);
    line += "\r\n";
    return line;
}

plugins::CampaignReport buildCampaignReport(storage::CampaignStore& campaigns, storage::ReportStore& reports, Id id,
                                            const ReportSettings& settings, Usec now) {
    const auto campaign = campaigns.findCampaign(id);
    if (!campaign) throw Error(ErrorCode::NotFound, "campaign " + std::to_string(id) + " does not exist");
    const CampaignSummary summary = reports.campaignSummary(id);

    plugins::CampaignReport r;
    r.campaignId = std::uint64_t(id);
    r.campaignName = campaign->name;
    r.campaignSubject = campaign->subject;
    r.finalStatus = std::string(toString(campaign->status));
    r.finishedAt = now;
    r.total = std::uint64_t(summary.total);
    r.sent = std::uint64_t(summary.sent);
    r.failed = std::uint64_t(summary.failed);
    r.unknown = std::uint64_t(summary.unknown);
    r.skipped = std::uint64_t(summary.skipped);
    r.pending = std::uint64_t(summary.pending);
    r.inFlight = std::uint64_t(summary.inFlight);
    r.successPercent = summary.successPercent;
    for (const auto& [reason, count] : summary.failureReasons) r.reasons.emplace_back(reason, std::uint64_t(count));
    r.failuresTotal = r.failed + r.unknown;

    if (r.failuresTotal > 0 && settings.maxFailureRows > 0) {
        r.failuresCsv = failuresCsvHeader();
        Id after = 0;
        while (r.failuresListed < settings.maxFailureRows) {
            const auto page = reports.campaignProblems(
                id, after, std::min<std::size_t>(kPage, settings.maxFailureRows - r.failuresListed));
            for (const auto& p : page) r.failuresCsv += failuresCsvRow(p);
            r.failuresListed += page.size();
            if (page.size() < kPage) break;
            after = page.back().ledgerId;
        }
    }
    r.to = settings.adminEmail;
    r.from = settings.from.empty() ? "campaignd <" + settings.adminEmail + ">" : settings.from;
    r.messageId = "<report." + std::to_string(id) + "." + std::to_string(now) + "." + randomHex() + "@" +
                  domainOf(settings.adminEmail) + ">";
    r.date = now;
    return r;
}

ReportDelivery mailCampaignReport(storage::CampaignStore& campaigns, storage::ReportStore& reports,
                                  const plugins::ReporterHandle& reporter,
                                  plugins::TransportSession& session, const ReportSettings& settings, Id id,
                                  Usec now) {
    if (settings.adminEmail.empty())
        throw Error(ErrorCode::InvalidArgument, "no [Daemon] AdminEmail= to send the report of campaign " +
                                                    std::to_string(id) + " to");
    const plugins::CampaignReport report = buildCampaignReport(campaigns, reports, id, settings, now);
    std::string message;
    try {
        message = reporter.compose(report);
    } catch (const std::exception& e) {
        throw Error(ErrorCode::Failed, "composing the report of campaign " + std::to_string(id) + ": " + e.what());
    }

    plugins::OutgoingMessage out;
    out.token = 1;
    out.envelopeFrom = settings.adminEmail;
    out.recipient = settings.adminEmail;
    out.messageId = report.messageId;
    out.data = message;
    ReportDelivery delivery;
    delivery.messageId = report.messageId;
    const plugins::SendStatus status = session.send(std::span<const plugins::OutgoingMessage>(&out, 1),
                                                    [&](const plugins::DeliveryResult& r) {
                                                        delivery.outcome = r.outcome;
                                                        delivery.text = r.text;
                                                    });
    const std::string campaignId = std::to_string(id);
    if (!status.ok()) {
        log::warning("campaign report not sent: " + status.message,
                     {{"CAMPAIGN_ID", campaignId}, {"RECIPIENT", settings.adminEmail}});
        throw Error(ErrorCode::Failed, "sending the report of campaign " + campaignId + ": " + status.message);
    }
    log::info("campaign report mailed: " + delivery.text,
              {{"CAMPAIGN_ID", campaignId},
               {"RECIPIENT", settings.adminEmail},
               {"STATUS", std::string(plugins::toString(delivery.outcome))},
               {"PLUGIN", reporter.pluginName()}});
    return delivery;
}

}  // namespace campaignd::services

// reporter.cpp: see reporter.h. The output trampoline (reportWrite) is noexcept and stops the
// plugin at the host's size limit; compose() turns every failure into one ReportError.
#include "plugin-host/reporter.h"

#include <utility>

#include "plugin-host/boundary.h"
#include "plugin-host/text.h"

namespace campaignd::plugins {

namespace {

struct ReportOutput {
    std::string data;
    std::size_t maxBytes = 0;
    bool overflow = false;
};

campaignd_status reportWrite(void* ctx, const char* data, std::size_t len, campaignd_error* err) noexcept {
    auto& out = *static_cast<ReportOutput*>(ctx);
    if (len == 0) return CAMPAIGND_OK;
    if (data == nullptr) {
        campaignd_error_set(err, "write() was given NULL data");
        return CAMPAIGND_ERR_INVALID_ARGUMENT;
    }
    if (len > out.maxBytes - out.data.size()) {
        out.overflow = true;
        campaignd_error_set(err, "the report message is larger than the host's limit");
        return CAMPAIGND_ERR_FAILED;
    }
    try {
        out.data.append(data, len);
    } catch (...) {
        campaignd_error_set(err, "out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
    return CAMPAIGND_OK;
}

}  // namespace

std::string ReporterHandle::compose(const CampaignReport& report, std::size_t maxBytes) const {
    for (const auto& [field, value] : {std::pair<const char*, const std::string*>{"From", &report.from},
                                       {"To", &report.to},
                                       {"Message-ID", &report.messageId},
                                       {"the campaign name", &report.campaignName},
                                       {"the campaign subject", &report.campaignSubject},
                                       {"the final status", &report.finalStatus}})
        requireNoControl(*value, std::string("report: ") + field);

    std::vector<campaignd_report_reason> reasons(report.reasons.size());
    for (std::size_t i = 0; i < reasons.size(); ++i)
        reasons[i] = {report.reasons[i].first.c_str(), report.reasons[i].second};
    campaignd_report c{};
    c.struct_size = sizeof c;
    c.campaign_id = report.campaignId;
    c.campaign_name = report.campaignName.c_str();
    c.campaign_subject = report.campaignSubject.c_str();
    c.final_status = report.finalStatus.c_str();
    c.finished_at = report.finishedAt;
    c.total = report.total;
    c.sent = report.sent;
    c.failed = report.failed;
    c.unknown = report.unknown;
    c.skipped = report.skipped;
    c.pending = report.pending;
    c.in_flight = report.inFlight;
    c.success_percent = report.successPercent;
    c.reasons = reasons.empty() ? nullptr : reasons.data();
    c.reason_count = reasons.size();
    c.failures_csv = report.failuresCsv.empty() ? nullptr : report.failuresCsv.data();
    c.failures_csv_len = report.failuresCsv.size();
    c.failures_listed = report.failuresListed;
    c.failures_total = report.failuresTotal;
    c.from = report.from.c_str();
    c.to = report.to.c_str();
    c.message_id = report.messageId.c_str();
    c.date = report.date;

    ReportOutput out;
    out.maxBytes = maxBytes;
    campaignd_report_output output{};
    output.struct_size = sizeof output;
    output.output_ctx = &out;
    output.write = &reportWrite;

    const PluginCallResult r = callPlugin("reporter " + plugin_->name() + ": ", "compose", [&](campaignd_error* err) {
        return plugin_->reporterTable()->compose(plugin_->instance(), &c, &output, err);
    });
    if (!r.ok()) throw ReportError(r.failure());
    const std::string& who = r.who;
    if (out.overflow) throw ReportError(who + "the message is larger than " + std::to_string(maxBytes) + " bytes");
    if (out.data.empty()) throw ReportError(who + "compose returned OK but wrote nothing");
    return std::move(out.data);
}

}  // namespace campaignd::plugins

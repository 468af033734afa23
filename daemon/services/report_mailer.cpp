// report_mailer.cpp: see report_mailer.h. One worker thread, a queue under a mutex; its stores
// are opened on that thread (a store is used by one thread at a time) and kept for the next
// report.
#include "services/report_mailer.h"

#include "core/error.h"
#include "core/log.h"
#include "core/thread_name.h"

namespace campaignd::services {

ReportMailer::ReportMailer(Dependencies dependencies, ReportSettings settings)
    : deps_(std::move(dependencies)), settings_(std::move(settings)) {
    thread_ = std::thread([this] {
        nameThisThread("cd-report");
        run();
    });
}

ReportMailer::~ReportMailer() { stop(); }

void ReportMailer::campaignCompleted(const Campaign& completed) {
    try {
        const std::string id = std::to_string(completed.id);
        if (settings_.adminEmail.empty()) {
            log::notice("no campaign report: [Daemon] AdminEmail= is not set", {{"CAMPAIGN_ID", id}});
            return;
        }
        if (!deps_.reporter()) {
            log::notice("no campaign report: no reporter plugin is running (report-mailer.so)", {{"CAMPAIGN_ID", id}});
            return;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) {
            log::warning("no campaign report: the daemon is stopping", {{"CAMPAIGN_ID", id}});
            return;
        }
        queue_.push_back(completed);
        wake_.notify_all();
    } catch (const std::exception& e) {
        log::error(std::string("cannot queue the campaign report: ") + e.what(),
                   {{"CAMPAIGN_ID", std::to_string(completed.id)}});
    }
}

void ReportMailer::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
        for (const auto& c : queue_)
            log::warning("campaign report not sent: the daemon stopped first", {{"CAMPAIGN_ID", std::to_string(c.id)}});
        queue_.clear();
        wake_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
}

bool ReportMailer::waitIdle(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return wake_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

std::uint64_t ReportMailer::sentCount() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sent_;
}

std::uint64_t ReportMailer::failedCount() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return failed_;
}

void ReportMailer::run() {
    std::unique_ptr<storage::CampaignStore> campaigns;
    std::unique_ptr<storage::ReportStore> reports;
    for (;;) {
        Campaign campaign;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping
            campaign = std::move(queue_.front());
            queue_.pop_front();
            busy_ = true;
        }
        bool sent = false;
        try {
            if (!campaigns) campaigns = deps_.openCampaigns();
            if (!reports) reports = deps_.openReports();
            mailOne(campaign, *campaigns, *reports);
            sent = true;
        } catch (const std::exception& e) {
            log::error(std::string("campaign report not sent: ") + e.what(), {{"CAMPAIGN_ID", std::to_string(campaign.id)}});
            campaigns.reset();  // a broken connection is opened anew for the next one
            reports.reset();
        }
        std::lock_guard<std::mutex> lock(mutex_);
        (sent ? sent_ : failed_)++;
        busy_ = false;
        wake_.notify_all();
    }
}

void ReportMailer::mailOne(const Campaign& campaign, storage::CampaignStore& campaigns,
                           storage::ReportStore& reports) {
    const auto reporter = deps_.reporter();
    if (!reporter) throw Error(ErrorCode::Failed, "no reporter plugin is running (report-mailer.so)");
    const auto transport = deps_.transportFor(campaign);
    if (!transport) throw Error(ErrorCode::Failed, "no transport is configured for the campaign");
    const auto handle = deps_.transport(transport->plugin);
    if (!handle)
        throw Error(ErrorCode::Failed, "transport " + transport->name + ": plugin " + transport->plugin + " is not running");
    std::unique_ptr<plugins::TransportSession> session;
    try {
        session = handle->openSession(transport->name, transport->settings);
    } catch (const plugins::TransportError& e) {
        throw Error(ErrorCode::Failed, e.what());
    }
    const ReportDelivery delivery =
        mailCampaignReport(campaigns, reports, *reporter, *session, settings_, campaign.id, deps_.clock());
    if (delivery.outcome != plugins::DeliveryOutcome::Sent)
        throw Error(ErrorCode::Failed, "transport " + transport->name + " said " +
                                           std::string(plugins::toString(delivery.outcome)) + ": " + delivery.text);
}

}  // namespace campaignd::services

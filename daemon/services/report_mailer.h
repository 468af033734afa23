// report_mailer.h: the report mail after a campaign completes (issue 3 item 7), off the io
// thread: campaignCompleted() queues the campaign and returns at once; a thread of its own
// gathers the report from a store of its own, has the reporter plugin compose it, opens a
// session of the campaign's transport (its own, or the default one) and sends it to [Daemon]
// AdminEmail=. Promises: one attempt per completed campaign, its outcome logged with
// CAMPAIGN_ID= (a failure never touches the campaign or its ledger); stop() lets the report in
// progress finish and drops the rest, logged. Refuses nothing loudly: without an admin address,
// a reporter plugin or a transport there is no report, and the log says why.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/model.h"
#include "plugin-host/plugin_host.h"
#include "core/clock.h"
#include "services/report_service.h"
#include "storage/campaign_store.h"
#include "storage/report_store.h"

namespace campaignd::services {

// A transport as the config names it: "[Transport NAME]" with Plugin= and the plugin's keys.
struct ReportTransport {
    std::string name;
    std::string plugin;
    std::map<std::string, std::string> settings;
};

class ReportMailer {
public:
    struct Dependencies {
        // Called on the mailer's thread: the first time, and again after a failure.
        std::function<std::unique_ptr<storage::CampaignStore>()> openCampaigns;
        std::function<std::unique_ptr<storage::ReportStore>()> openReports;
        std::function<std::optional<plugins::ReporterHandle>()> reporter;
        std::function<std::optional<plugins::TransportHandle>(const std::string& plugin)> transport;
        // The transport a campaign's mail goes through; nullopt when none is configured.
        std::function<std::optional<ReportTransport>(const Campaign& campaign)> transportFor;
        Clock clock;
    };

    ReportMailer(Dependencies dependencies, ReportSettings settings);
    ~ReportMailer();  // stop()
    ReportMailer(const ReportMailer&) = delete;
    ReportMailer& operator=(const ReportMailer&) = delete;

    // Queues the report of a campaign that just completed. Never throws (a CompletionListener
    // must not); returns at once.
    void campaignCompleted(const Campaign& completed);
    // Finishes the report in progress, drops the queued ones (logged) and joins the thread.
    void stop();
    // Waits until nothing is queued or in progress; false on timeout. For tests and shutdown.
    bool waitIdle(std::chrono::milliseconds timeout);
    // How many reports were sent (the transport said SENT) and how many failed, so far.
    std::uint64_t sentCount() const;
    std::uint64_t failedCount() const;

private:
    void run();
    void mailOne(const Campaign& campaign, storage::CampaignStore& campaigns, storage::ReportStore& reports);

    Dependencies deps_;
    ReportSettings settings_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Campaign> queue_;
    bool busy_ = false;
    bool stopping_ = false;
    std::uint64_t sent_ = 0;
    std::uint64_t failed_ = 0;
    std::thread thread_;
};

}  // namespace campaignd::services

// engine.cpp: see engine.h. The engine's public surface and its runs: checking, starting,
// stopping and recovering campaigns, a run's end, the progress monitor. The sessions are in
// sessions.cpp (the network thread), the database work in ledger.cpp (a run's ledger thread).
// Threading: see run.h. Everything meant for the bus or the campaign's status is posted to the
// io_context thread.
//
// Why a message is never sent twice: the network thread submits only the rows that
// markHandedOver moved (committed durably first, on the ledger thread); a row cancelled,
// recovered or claimed by another daemon since the claim is not moved and its message is
// dropped. Everything after the hand-over is recorded per row by recordOutcomes, which applies
// only to rows still claimed by this run and handed over; if the daemon dies before that
// commit, recover() at the next start makes the row `unknown`, never pending.
#include "delivery/engine.h"

#include <boost/asio/post.hpp>

#include <malloc.h>

#include "core/error.h"
#include "core/log.h"
#include "delivery/run.h"
#include "delivery/state_files.h"
#include "core/clock.h"
#include "core/thread_name.h"

namespace campaignd::delivery {
namespace {

using namespace std::chrono_literals;

constexpr auto kProgressInterval = 500ms;   // at most two progress reports a second per campaign
constexpr auto kRateWindow = 5s;
// Threads that open and close sessions (a plugin may connect in open(); a session's destructor
// waits for the replies of what was written): never one per connection.
constexpr std::size_t kBlockingThreads = 4;

// Runs one of the owner's callbacks on the io thread: an exception must not unwind io.run()
// (a status change another daemon made first, a database that went away for a moment).
template <typename F>
void safely(const char* what, Id campaign, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        log::warning(std::string(what) + ": " + e.what(), {{"CAMPAIGN_ID", std::to_string(campaign)}});
    }
}


}  // namespace

DeliveryEngine::DeliveryEngine(boost::asio::io_context& io, const config::Config& config, Environment env)
    : io_(io), config_(config), env_(std::move(env)) {
    policy_.maxAttempts = config_.sending.maxAttempts;
    policy_.baseDelay = std::chrono::microseconds(config_.sending.retryDelayUsec);
    blocking_ = std::make_unique<boost::asio::thread_pool>(kBlockingThreads);
    results_ = std::make_shared<ResultInbox>();
    netWork_.emplace(net_.get_executor());
    netThread_ = std::thread([this] {
        nameThisThread("cd-net");
        for (;;) {
            try {
                net_.run();
                return;
            } catch (const std::exception& e) {
                log::error(std::string("the sending engine's network thread: ") + e.what());
            }
        }
    });
    monitor_ = std::thread([this] {
        nameThisThread("cd-progress");
        monitor();
    });
}

DeliveryEngine::~DeliveryEngine() {
    stopAll();
    {
        std::lock_guard lock(monitorMutex_);
        monitorStop_ = true;
    }
    monitorWake_.notify_all();
    if (monitor_.joinable()) monitor_.join();
    // Every session was closed by stopAll(); what the pool still runs are their destructors.
    blocking_->join();
    netWork_.reset();
    net_.stop();
    if (netThread_.joinable()) netThread_.join();
}

Usec DeliveryEngine::now() const { return env_.now ? env_.now() : campaignd::systemNow(); }

const std::string& DeliveryEngine::instanceId() {
    std::lock_guard lock(mutex_);
    if (instanceId_.empty()) {
        instanceId_ = !config_.sending.instanceId.empty()
                          ? config_.sending.instanceId
                          : loadOrCreateStateFile(config_.stateDirectory + "/instance-id", false, newInstanceId);
    }
    return instanceId_;
}

std::string DeliveryEngine::workerName(Id campaign, unsigned worker) const {
    std::lock_guard lock(mutex_);
    return instanceId_ + ":" + std::to_string(campaign) + ":" + std::to_string(worker);
}

const std::string& DeliveryEngine::verpSecret() {
    std::lock_guard lock(mutex_);
    if (verpSecret_.empty()) {
        const auto path = config_.sending.verpSecretFile.empty() ? config_.stateDirectory + "/verp-secret"
                                                                 : config_.sending.verpSecretFile;
        verpSecret_ = loadOrCreateStateFile(path, true, newSecret);
    }
    return verpSecret_;
}

mail::VerpSettings DeliveryEngine::verpSettings() {
    const auto& sending = config_.sending;
    mail::VerpSettings v;
    v.prefix = sending.verpPrefix;
    v.delimiter = sending.verpDelimiter;
    v.domain = sending.envelopeDomain;
    v.secret = verpSecret();
    return v;
}

namespace {

// The campaign's From domain, as its messages carry it.
std::string campaignFromDomain(const Campaign& campaign, const std::string& defaultFrom) {
    return mail::fromDomain(campaign.fromAddress.empty() ? defaultFrom : campaign.fromAddress);
}

}  // namespace

mail::MessageSettings DeliveryEngine::messageSettings(const Campaign& campaign) {
    mail::MessageSettings s;
    const auto& sending = config_.sending;
    s.defaultFrom = sending.from.empty() ? config_.adminEmail : sending.from;
    s.messageIdDomain = sending.messageIdDomain;
    s.verp = verpSettings();
    // Aligned by default: with no EnvelopeDomain=, the envelope sender is in the campaign's own
    // From domain (or EnvelopeSubdomain= under it), so SPF can align with the From.
    const std::string from = campaignFromDomain(campaign, s.defaultFrom);
    if (s.verp.domain.empty())
        s.verp.domain = sending.envelopeSubdomain.empty() || from.empty() ? from : sending.envelopeSubdomain + "." + from;
    s.unsubscribeUrl = sending.unsubscribeUrl;
    s.unsubscribeMailto = sending.unsubscribeMailto;
    // [Web] PublicURL=: campaignd-web's pages. A site's own UnsubscribeURL= still wins.
    if (const std::string& web = config_.web.publicUrl; !web.empty()) {
        if (s.unsubscribeUrl.empty()) s.unsubscribeUrl = web + "/u/{campaign_id}-{token}";
        s.viewUrl = web + "/v/{campaign_id}-{token}";
    }
    s.subjectTag = campaign.subjectTag;
    s.feedbackSenderId = sending.feedbackSenderId;
    s.dkim = mail::signerFor(env_.dkim, from);
    return s;
}

mail::Alignment DeliveryEngine::alignment(const Campaign& campaign) {
    const mail::MessageSettings s = messageSettings(campaign);
    return mail::judgeAlignment(campaignFromDomain(campaign, s.defaultFrom), s.verp.domain, s.dkim.get());
}

std::shared_ptr<DeliveryEngine::Transport> DeliveryEngine::transportShared(const config::TransportConfig& t) {
    std::lock_guard lock(mutex_);
    auto& slot = transports_[t.name];
    if (!slot) slot = std::make_shared<Transport>(t);
    return slot;
}

void DeliveryEngine::check(const Campaign& campaign) {
    const auto* transport = config::transportFor(config_, campaign.transport);
    if (!transport) {
        if (config_.transports.empty())
            throw Error(ErrorCode::InvalidArgument,
                        "no transport is configured: add a [Transport NAME] section (Plugin=maildir or smtp) "
                        "to the daemon's config");
        throw Error(ErrorCode::InvalidArgument,
                    campaign.transport.empty()
                        ? std::string("no default transport: set [Sending] DefaultTransport= or give the campaign one")
                        : "campaign " + std::to_string(campaign.id) + " uses transport \"" + campaign.transport +
                              "\", which is not configured");
    }
    if (!env_.transport || !env_.transport(transport->plugin))
        throw Error(ErrorCode::InvalidArgument, "transport \"" + transport->name + "\": the plugin \"" +
                                                    transport->plugin + "\" is not a running transport plugin");
    try {
        mail::CampaignTemplate tmpl(campaign, messageSettings(campaign));
    } catch (const Error& e) {
        throw Error(ErrorCode::InvalidArgument, "campaign " + std::to_string(campaign.id) + " cannot be sent: " + e.what());
    }
}

void DeliveryEngine::start(const Campaign& campaign) {
    check(campaign);
    instanceId();
    {
        std::lock_guard lock(mutex_);
        if (const auto it = runs_.find(campaign.id); it != runs_.end()) {
            if (!it->second->stop) return;  // already sending
            restartAfterStop_[campaign.id] = campaign;  // once the stopping run has ended
            return;
        }
    }
    auto run = std::make_shared<Run>();
    run->campaign = campaign;
    run->transport = *config::transportFor(config_, campaign.transport);
    run->handle = env_.transport(run->transport.plugin);
    run->shared = transportShared(run->transport);
    auto settings = messageSettings(campaign);
    // One deterministic list per campaign: the attached group with the lowest id (the oldest),
    // so every message of a campaign, across pauses and restarts, carries the same List-Id.
    if (env_.campaignGroups)
        if (const auto groups = env_.campaignGroups(campaign.id); !groups.empty())
            settings.list = mail::MessageSettings::ListIdentity{groups.front().name,
                                                                mail::listLabel(groups.front().name, groups.front().id)};
    for (const auto& warning : alignment(campaign).warnings())
        log::warning(warning, {{"CAMPAIGN_ID", std::to_string(campaign.id)}});
    run->tmpl = std::make_shared<const mail::CampaignTemplate>(campaign, settings);
    launch(run);
}

void DeliveryEngine::launch(const std::shared_ptr<Run>& run) {
    // What the io thread freed before (attaching a million recipients, a report) stays mapped
    // in glibc's main arena, hundreds of MiB for a million rows, and would be resident for the
    // whole send: give it back now (measured: 403 MiB -> 40 MiB during a 1,000,000 send).
    malloc_trim(0);
    run->worker = workerName(run->campaign.id, 0);
    // The rate's first sample is the start: the first report (half a second in) has a rate.
    run->started = std::chrono::steady_clock::now();
    run->samples.emplace_back(run->started, 0);
    {
        std::lock_guard lock(mutex_);
        runs_[run->campaign.id] = run;
    }
    log::info("sending started", {{"CAMPAIGN_ID", std::to_string(run->campaign.id)},
                                  {"TRANSPORT", run->transport.name},
                                  {"CONNECTIONS", std::to_string(run->transport.connections)}});
    run->ledgerThread = std::thread([this, run] {
        nameThisThread("cd-ledger-" + std::to_string(run->campaign.id));
        try {
            ledgerLoop(run);
        } catch (const std::exception& e) {
            log::error(std::string("the sending ledger thread failed: ") + e.what(),
                       {{"CAMPAIGN_ID", std::to_string(run->campaign.id)}});
        }
        {
            std::lock_guard lock(run->endMutex);
            run->ledgerExited = true;
        }
        run->endWake.notify_all();
        boost::asio::post(io_, [this, run] { runEnded(run); });
    });
    boost::asio::post(net_, [this, run] { netStart(run); });
    monitorWake_.notify_all();
}

void DeliveryEngine::stop(Id campaign) {
    std::shared_ptr<Run> run;
    {
        std::lock_guard lock(mutex_);
        restartAfterStop_.erase(campaign);
        const auto it = runs_.find(campaign);
        if (it == runs_.end()) return;
        run = it->second;
    }
    run->stop = true;
    boost::asio::post(net_, [this, run] { netStop(run); });
}

bool DeliveryEngine::running(Id campaign) const {
    std::lock_guard lock(mutex_);
    return runs_.count(campaign) > 0;
}

void DeliveryEngine::stopAll() {
    std::map<Id, std::shared_ptr<Run>> runs;
    {
        std::lock_guard lock(mutex_);
        restartAfterStop_.clear();
        runs = runs_;
    }
    for (auto& [id, run] : runs) {
        run->stop = true;
        boost::asio::post(net_, [this, run = run] { netStop(run); });
    }
    for (auto& [id, run] : runs) {
        {
            std::unique_lock lock(run->endMutex);
            run->endWake.wait(lock, [&] { return run->ledgerExited; });
        }
        if (run->ledgerThread.joinable()) run->ledgerThread.join();
    }
    std::lock_guard lock(mutex_);
    for (auto& [id, run] : runs) runs_.erase(id);
}

storage::RecoveredClaims DeliveryEngine::recover(storage::SendLedger& ledger) {
    storage::RecoveredClaims total;
    std::string id = config_.sending.instanceId;
    if (id.empty()) {
        const auto existing = readStateFile(config_.stateDirectory + "/instance-id");
        if (!existing) return total;  // this daemon never claimed anything
        id = *existing;
    }
    {
        std::lock_guard lock(mutex_);
        instanceId_ = id;
    }
    return ledger.recoverInstance(id);
}

void DeliveryEngine::runEnded(const std::shared_ptr<Run>& run) {
    if (run->ledgerThread.joinable()) run->ledgerThread.join();
    std::optional<Campaign> restart;
    {
        std::lock_guard lock(mutex_);
        const auto it = runs_.find(run->campaign.id);
        if (it == runs_.end() || it->second != run) return;  // stopAll() took it
        runs_.erase(it);
        if (const auto r = restartAfterStop_.find(run->campaign.id); r != restartAfterStop_.end()) {
            restart = r->second;
            restartAfterStop_.erase(r);
        }
    }
    log::info(run->allDone ? "sending done" : "sending stopped",
              {{"CAMPAIGN_ID", std::to_string(run->campaign.id)}});
    // A pause the engine decided, now that every outcome of the run is recorded and its
    // unsent claims are pending again.
    if (!run->pauseReason.empty()) {
        if (env_.mustPause)
            safely("cannot pause the campaign", run->campaign.id, [&] { env_.mustPause(run->campaign.id, run->pauseReason); });
        return;
    }
    if (restart) {
        try {
            start(*restart);
        } catch (const std::exception& e) {
            if (env_.mustPause) safely("cannot pause the campaign", restart->id, [&] { env_.mustPause(restart->id, e.what()); });
        }
        return;
    }
    // A last report with the run's mean rate: a campaign that ends between two of the
    // monitor's reports (or before the first) still tells its watchers how fast it went.
    if (env_.progress && run->outcomes.load() > 0) {
        safely("cannot report progress", run->campaign.id, [&] {
            const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - run->started).count();
            if (const auto c = env_.openCampaigns()->findCampaign(run->campaign.id); c && secs > 0)
                env_.progress(Progress{*c, static_cast<double>(run->outcomes.load()) / secs});
        });
    }
    if (run->allDone && env_.finished)
        safely("cannot complete the campaign", run->campaign.id, [&] { env_.finished(run->campaign.id); });
}

// ---- progress ----------------------------------------------------------------------------

void DeliveryEngine::monitor() {
    std::unique_ptr<storage::CampaignStore> store;
    for (;;) {
        {
            std::unique_lock lock(monitorMutex_);
            monitorWake_.wait_for(lock, kProgressInterval, [this] { return monitorStop_; });
            if (monitorStop_) return;
        }
        std::vector<std::shared_ptr<Run>> runs;
        {
            std::lock_guard lock(mutex_);
            for (const auto& [id, run] : runs_) runs.push_back(run);
        }
        if (runs.empty() || !env_.progress) continue;
        try {
            if (!store) store = env_.openCampaigns();
            for (const auto& run : runs) {
                const auto c = store->findCampaign(run->campaign.id);
                if (!c) continue;
                const auto t = std::chrono::steady_clock::now();
                run->samples.emplace_back(t, run->outcomes.load());
                while (run->samples.size() > 2 && t - run->samples.front().first > kRateWindow) run->samples.pop_front();
                double rate = 0;
                const auto& [t0, n0] = run->samples.front();
                const double secs = std::chrono::duration<double>(t - t0).count();
                if (secs > 0) rate = static_cast<double>(run->samples.back().second - n0) / secs;
                const bool changed = !run->lastReported || run->lastReported->sentCount != c->sentCount ||
                                     run->lastReported->failedCount != c->failedCount ||
                                     run->lastReported->pendingCount != c->pendingCount ||
                                     run->lastReported->unknownCount != c->unknownCount ||
                                     run->lastReported->skippedCount != c->skippedCount ||
                                     run->lastReported->inFlightCount != c->inFlightCount;
                if (!changed) continue;
                run->lastReported = c;
                boost::asio::post(io_, [this, p = Progress{*c, rate}] {
                    safely("cannot report progress", p.campaign.id, [&] { env_.progress(p); });
                });
            }
        } catch (const std::exception& e) {
            log::warning(std::string("cannot read sending progress: ") + e.what());
            store.reset();
        }
    }
}

}  // namespace campaignd::delivery

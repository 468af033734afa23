// engine.cpp: see engine.h. Threading: a Run's workers share only the Run's atomics and
// condition variable, the transport's throttles (each thread-safe) and the compiled template
// (render() is thread-safe). Each worker owns its stores and its TransportSession. Everything
// meant for the bus or the campaign's status is posted to the io_context thread.
//
// Why a message is never sent twice: a worker gives the transport only the rows that
// markHandedOver moved (committed durably first); a row cancelled, recovered or claimed by
// another worker since the claim is not moved and its message is dropped. Everything after the
// hand-over is recorded per row by recordOutcomes, which applies only to rows still claimed by
// this worker and handed over; if the daemon dies before that commit, recover() at the next
// start makes the row `unknown`, never pending.
#include "delivery/engine.h"

#include <boost/asio/post.hpp>

#include <malloc.h>

#include <algorithm>
#include <deque>
#include <random>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "delivery/pipeline.h"
#include "delivery/state_files.h"
#include "services/clock.h"

namespace campaignd::delivery {
namespace {

using namespace std::chrono_literals;
using Kind = storage::LedgerOutcome::Kind;

constexpr auto kStopPoll = 100ms;           // how often a waiting worker looks at the stop flag
constexpr auto kCallTarget = 250ms;         // a call into the transport returns within about this
constexpr auto kIdlePoll = 500ms;           // nothing due now, but work left (retries, others)
constexpr auto kProgressInterval = 500ms;   // at most two progress reports a second per campaign
constexpr auto kRateWindow = 5s;
constexpr auto kReconnectBase = 1s;
constexpr auto kReconnectCap = 30s;

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

double random01() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

std::string stripBrackets(const std::string& id) {
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') return id.substr(1, id.size() - 2);
    return id;
}

std::string domainOfAddress(const std::string& from) {
    const auto at = from.rfind('@');
    if (at == std::string::npos) return {};
    auto end = from.find('>', at);
    return from.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
}

}  // namespace

struct DeliveryEngine::Transport {
    Transport(const config::TransportConfig& t) : bucket(t.maxPerSecond), domains(t.maxPerDomain), freeSlots(t.connections) {}
    TokenBucket bucket;
    DomainLimiter domains;
    std::mutex mutex;
    std::condition_variable slotFreed;
    unsigned freeSlots;
};

struct DeliveryEngine::Run {
    Campaign campaign;
    config::TransportConfig transport;
    std::optional<plugins::TransportHandle> handle;
    std::shared_ptr<Transport> shared;
    std::shared_ptr<const mail::CampaignTemplate> tmpl;

    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> outcomes{0};
    std::mutex mutex;
    std::condition_variable wake;
    std::vector<std::thread> threads;
    unsigned workersLeft = 0;
    bool allDone = true;
    bool pausePosted = false;

    std::chrono::steady_clock::time_point started;  // set before the run is published

    // The monitor's own.
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> samples;
    std::optional<Campaign> lastReported;

    // Sleeps up to `d`; false when the run is stopping.
    bool waitFor(std::chrono::nanoseconds d) {
        std::unique_lock lock(mutex);
        wake.wait_for(lock, d, [this] { return stop.load(); });
        return !stop.load();
    }
    void requestStop() {
        {
            std::lock_guard lock(mutex);
            stop = true;
        }
        wake.notify_all();
    }
};

DeliveryEngine::DeliveryEngine(boost::asio::io_context& io, const config::Config& config, Environment env)
    : io_(io), config_(config), env_(std::move(env)) {
    policy_.maxAttempts = config_.sending.maxAttempts;
    policy_.baseDelay = std::chrono::microseconds(config_.sending.retryDelayUsec);
    monitor_ = std::thread([this] { monitor(); });
}

DeliveryEngine::~DeliveryEngine() {
    stopAll();
    {
        std::lock_guard lock(monitorMutex_);
        monitorStop_ = true;
    }
    monitorWake_.notify_all();
    if (monitor_.joinable()) monitor_.join();
}

Usec DeliveryEngine::now() const { return env_.now ? env_.now() : services::systemNow(); }

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
    v.domain = !sending.envelopeDomain.empty()
                   ? sending.envelopeDomain
                   : domainOfAddress(sending.from.empty() ? config_.adminEmail : sending.from);
    v.secret = verpSecret();
    return v;
}

mail::MessageSettings DeliveryEngine::messageSettings(const Campaign& campaign) {
    mail::MessageSettings s;
    const auto& sending = config_.sending;
    s.defaultFrom = sending.from.empty() ? config_.adminEmail : sending.from;
    s.messageIdDomain = sending.messageIdDomain;
    s.verp = verpSettings();
    s.unsubscribeUrl = sending.unsubscribeUrl;
    s.unsubscribeMailto = sending.unsubscribeMailto;
    s.subjectTag = campaign.subjectTag;
    return s;
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
    run->tmpl = std::make_shared<const mail::CampaignTemplate>(campaign, messageSettings(campaign));
    launch(run);
}

void DeliveryEngine::launch(const std::shared_ptr<Run>& run) {
    const unsigned n = run->transport.connections;
    // What the io thread freed before (attaching a million recipients, a report) stays mapped
    // in glibc's main arena, hundreds of MiB for a million rows, and would be resident for the
    // whole send: give it back now (measured: 403 MiB -> 40 MiB during a 1,000,000 send).
    malloc_trim(0);
    // The rate's first sample is the start: the first report (half a second in) has a rate.
    run->started = std::chrono::steady_clock::now();
    run->samples.emplace_back(run->started, 0);
    {
        std::lock_guard lock(mutex_);
        runs_[run->campaign.id] = run;
    }
    {
        std::lock_guard lock(run->mutex);
        run->workersLeft = n;
    }
    log::info("sending started", {{"CAMPAIGN_ID", std::to_string(run->campaign.id)},
                                  {"TRANSPORT", run->transport.name},
                                  {"CONNECTIONS", std::to_string(n)}});
    for (unsigned i = 0; i < n; ++i) run->threads.emplace_back([this, run, i] { work(run, i); });
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
    run->requestStop();
    std::lock_guard lock(run->shared->mutex);
    run->shared->slotFreed.notify_all();
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
        run->requestStop();
        {
            std::lock_guard lock(run->shared->mutex);
            run->shared->slotFreed.notify_all();
        }
    }
    for (auto& [id, run] : runs)
        for (auto& t : run->threads)
            if (t.joinable()) t.join();
    std::lock_guard lock(mutex_);
    for (auto& [id, run] : runs) runs_.erase(id);
}

storage::RecoveredClaims DeliveryEngine::recover(storage::CampaignStore& campaigns, storage::SendLedger& ledger) {
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
    for (const auto& c : campaigns.listCampaigns(std::nullopt)) {
        if (c.inFlightCount == 0) continue;
        for (unsigned k = 0; k < kMaxConnections; ++k) {
            const auto r = ledger.recoverInterrupted(workerName(c.id, k));
            total.unknown += r.unknown;
            total.released += r.released;
        }
    }
    return total;
}

// ---- a worker ----------------------------------------------------------------------------
//
// Two threads per worker, joined by a WorkerPipeline (pipeline.h): the sender (this function's
// thread) owns the transport session and commits each chunk's hand-over right before giving it
// to the transport; the ledger thread (ledgerLoop) claims and renders the next batch and
// records the outcomes of earlier chunks meanwhile, each on its own store. Rows the ledger
// thread has claimed but the sender has not handed over are only `sending`: a crash leaves
// them pending again, and a stop releases them like any other unsent claim.

namespace {

struct Item {
    Id ledgerId = 0;
    Id recipientId = 0;
    std::int64_t attempts = 0;
    std::string domain;
    mail::ComposedMessage message;
};

struct PreparedBatch {
    std::vector<Item> items;
};

struct OutcomeBatch {
    std::vector<storage::LedgerOutcome> outcomes;
    std::vector<RecordedOutcome> recorded;  // for the listener; empty when there is none
};

using Pipeline = WorkerPipeline<PreparedBatch, OutcomeBatch>;

}  // namespace

struct DeliveryEngine::Pipe : Pipeline {};

void DeliveryEngine::ledgerLoop(const std::shared_ptr<Run>& run, const std::string& worker, Pipe& pipe) {
    const Id campaignId = run->campaign.id;
    const std::string cid = std::to_string(campaignId);
    std::unique_ptr<storage::SendLedger> store;
    unsigned dbFailures = 0;
    auto openStore = [&] {
        if (store) return true;
        try {
            store = env_.openLedger();
            return true;
        } catch (const std::exception& e) {
            log::warning(std::string("sender cannot open the database: ") + e.what(), {{"CAMPAIGN_ID", cid}});
            return false;
        }
    };
    // Records outcomes, retrying while the database is away; false if it gave up (stop).
    auto record = [&](const std::vector<storage::LedgerOutcome>& batch) {
        for (unsigned attempt = 1;; ++attempt) {
            try {
                if (!openStore()) throw Error(ErrorCode::Failed, "no database connection");
                store->recordOutcomes(worker, batch, now());
                return true;
            } catch (const std::exception& e) {
                log::error(std::string("cannot record delivery outcomes (retrying): ") + e.what(), {{"CAMPAIGN_ID", cid}});
                if (!run->waitFor(retryDelay(kReconnectBase, attempt, kReconnectCap, random01))) {
                    log::error("stopping with outcomes unrecorded; they become unknown at the next start",
                               {{"CAMPAIGN_ID", cid}});
                    return false;
                }
            }
        }
    };

    std::vector<storage::LedgerOutcome> failures;
    auto notBefore = Pipeline::Clock::now();
    for (;;) {
        auto task = pipe.next(notBefore, kStopPoll);
        if (task.outcomes) {
            auto& b = *task.outcomes;
            if (record(b.outcomes)) {
                run->outcomes += b.outcomes.size();
                if (env_.outcomes && !b.recorded.empty()) {
                    try {
                        env_.outcomes(b.recorded);
                    } catch (const std::exception& e) {
                        log::error(std::string("an outcome listener failed: ") + e.what(), {{"CAMPAIGN_ID", cid}});
                    }
                }
            }
            notBefore = Pipeline::Clock::now();  // rows may be due again (deferred) or the end near
            continue;
        }
        if (task.finish) return;
        if (!task.prepare) continue;
        if (run->stop) {  // claim nothing more; the sender closes the pipeline soon
            notBefore = Pipeline::Clock::now() + kStopPoll;
            continue;
        }

        std::vector<storage::ClaimedRecipient> claimed;
        try {
            if (!openStore()) throw Error(ErrorCode::Failed, "no database connection");
            claimed = store->claimBatch(campaignId, worker, config_.sending.batchSize, now());
            if (claimed.empty() && !store->campaignHasWorkLeft(campaignId)) {
                pipe.announceNoMoreWork();
                continue;
            }
            dbFailures = 0;
        } catch (const std::exception& e) {
            log::warning(std::string("cannot claim recipients (retrying): ") + e.what(), {{"CAMPAIGN_ID", cid}});
            notBefore = Pipeline::Clock::now() + retryDelay(kReconnectBase, ++dbFailures, kReconnectCap, random01);
            continue;
        }
        if (claimed.empty()) {
            notBefore = Pipeline::Clock::now() + kIdlePoll;
            continue;
        }

        // Render the batch. A recipient the renderer refuses fails before any transport.
        PreparedBatch batch;
        batch.items.reserve(claimed.size());
        failures.clear();
        for (auto& c : claimed) {
            Recipient r;
            r.id = c.recipientId;
            r.email = std::move(c.email);
            r.name = std::move(c.name);
            try {
                Item item;
                item.message = run->tmpl->render(r);
                item.ledgerId = c.ledgerId;
                item.recipientId = c.recipientId;
                item.attempts = c.attempts;
                item.domain = recipientDomain(r.email);
                batch.items.push_back(std::move(item));
            } catch (const std::exception& e) {
                failures.push_back({c.ledgerId, Kind::Failed, std::string("cannot compose the message: ") + e.what(), {}});
            }
        }
        if (!failures.empty() && record(failures)) run->outcomes += failures.size();
        if (!batch.items.empty()) pipe.offer(std::move(batch));
    }
}

void DeliveryEngine::work(const std::shared_ptr<Run>& run, unsigned index) {
    const Id campaignId = run->campaign.id;
    const std::string worker = workerName(campaignId, index);
    const std::string cid = std::to_string(campaignId);
    auto& shared = *run->shared;
    bool done = false;
    std::string pause;

    // Holds one of the transport's Connections= while the worker runs.
    bool haveSlot = false;
    auto releaseSlot = [&] {
        if (!haveSlot) return;
        {
            std::lock_guard lock(shared.mutex);
            ++shared.freeSlots;
        }
        shared.slotFreed.notify_one();
        haveSlot = false;
    };

    try {
        std::unique_ptr<storage::SendLedger> store;
        for (unsigned attempt = 1; !store && !run->stop; ++attempt) {
            try {
                store = env_.openLedger();
            } catch (const std::exception& e) {
                log::warning(std::string("sender cannot open the database: ") + e.what(), {{"CAMPAIGN_ID", cid}});
                run->waitFor(retryDelay(kReconnectBase, attempt, kReconnectCap, random01));
            }
        }
        {
            std::unique_lock lock(shared.mutex);
            while (!run->stop && shared.freeSlots == 0) shared.slotFreed.wait_for(lock, kStopPoll);
            if (!run->stop) {
                --shared.freeSlots;
                haveSlot = true;
            }
        }

        // The ledger thread; closed and joined on every way out of this block, so that its
        // claims have ended before the unsent ones are released below.
        Pipe pipe;
        std::thread ledger;
        if (haveSlot) ledger = std::thread([this, &run, &worker, &pipe] {
            try {
                ledgerLoop(run, worker, pipe);
            } catch (const std::exception& e) {
                log::error(std::string("the sender's ledger thread failed: ") + e.what(),
                           {{"CAMPAIGN_ID", std::to_string(run->campaign.id)}});
                run->requestStop();
            }
        });
        struct JoinLedger {
            Pipeline& pipe;
            std::thread& t;
            ~JoinLedger() {
                pipe.close();
                if (t.joinable()) t.join();
            }
        } joinLedger{pipe, ledger};

        std::unique_ptr<plugins::TransportSession> session;
        unsigned reconnects = 0;
        PreparedBatch batch;
        std::vector<Item>& items = batch.items;
        std::vector<std::size_t> waiting, chunk, rest;
        std::vector<storage::HandOver> handOvers;
        std::vector<plugins::OutgoingMessage> outgoing;
        std::vector<plugins::DeliveryResult> results;
        ChunkSizer sizer(kCallTarget);  // a stop waits for at most one call

        auto pauseWith = [&](const std::string& reason) {
            pause = reason;
            run->requestStop();
        };

        unsigned dbFailures = 0;
        while (!run->stop && haveSlot) {
            const auto taken = pipe.take(batch, kStopPoll);
            if (taken == Pipeline::Take::Done) {
                done = true;
                break;
            }
            if (taken == Pipeline::Take::Timeout) continue;

            waiting.resize(items.size());
            for (std::size_t i = 0; i < items.size(); ++i) waiting[i] = i;
            while (!waiting.empty() && !run->stop) {
                if (!session) {
                    try {
                        session = run->handle->openSession(run->transport.name, run->transport.settings);
                        if (reconnects > 0)
                            log::info("transport session reopened", {{"CAMPAIGN_ID", cid}, {"TRANSPORT", run->transport.name}});
                    } catch (const plugins::TransportError& e) {
                        if (sessionAction(e.status()) == SessionAction::Pause) {
                            pauseWith(pauseReason(run->transport.name, e.status(), e.what()));
                            break;
                        }
                        ++reconnects;
                        log::warning(std::string("cannot open a transport session (retrying): ") + e.what(),
                                     {{"CAMPAIGN_ID", cid}, {"TRANSPORT", run->transport.name}});
                        run->waitFor(retryDelay(kReconnectBase, reconnects, kReconnectCap, random01));
                        continue;
                    }
                }

                // Throttles: tokens for as many as are waiting, then a domain slot each.
                std::chrono::nanoseconds wait{};
                const std::size_t tokens = shared.bucket.take(sizer.limit(waiting.size()), wait);
                if (tokens == 0) {
                    run->waitFor(std::min<std::chrono::nanoseconds>(wait, kStopPoll));
                    continue;
                }
                chunk.clear();
                rest.clear();
                for (const std::size_t i : waiting) {
                    if (chunk.size() < tokens && shared.domains.tryAcquire(items[i].domain)) chunk.push_back(i);
                    else rest.push_back(i);
                }
                shared.bucket.giveBack(tokens - chunk.size());
                if (chunk.empty()) {
                    run->waitFor(20ms);  // every domain of the batch is at its limit
                    continue;
                }
                auto releaseDomains = [&] {
                    for (const std::size_t i : chunk) shared.domains.release(items[i].domain);
                };

                // THE EXACTLY-ONCE LINE: only rows whose hand-over committed go to the transport.
                handOvers.clear();
                for (const std::size_t i : chunk) handOvers.push_back({items[i].ledgerId, stripBrackets(items[i].message.messageId)});
                std::vector<Id> moved;
                try {
                    moved = store->markHandedOver(worker, handOvers);
                } catch (const std::exception& e) {
                    releaseDomains();
                    log::warning(std::string("cannot record the hand-over (retrying): ") + e.what(), {{"CAMPAIGN_ID", cid}});
                    run->waitFor(retryDelay(kReconnectBase, ++dbFailures, kReconnectCap, random01));
                    continue;  // nothing was handed over: the chunk stays waiting
                }
                dbFailures = 0;
                waiting.swap(rest);
                std::map<Id, std::size_t> byLedger;  // of the moved ones
                {
                    std::size_t m = 0;
                    for (const std::size_t i : chunk) {
                        if (m < moved.size() && moved[m] == items[i].ledgerId) {
                            byLedger[items[i].ledgerId] = i;
                            ++m;
                        }
                    }
                }
                outgoing.clear();
                for (const auto& [ledgerId, i] : byLedger) {
                    const auto& msg = items[i].message;
                    outgoing.push_back({static_cast<std::uint64_t>(ledgerId), msg.envelopeFrom, msg.recipient,
                                        msg.messageId, msg.data});
                }
                results.clear();
                plugins::SendStatus status;
                if (!outgoing.empty()) {
                    try {
                        const auto began = std::chrono::steady_clock::now();
                        status = session->send(outgoing, [&](const plugins::DeliveryResult& r) { results.push_back(r); });
                        sizer.sent(outgoing.size(), std::chrono::steady_clock::now() - began);
                    } catch (const std::invalid_argument& e) {
                        // Refused by the host before the plugin saw it: not sent, and sending it
                        // again would be refused the same way.
                        results.clear();
                        for (const auto& o : outgoing)
                            results.push_back({o.token, plugins::DeliveryOutcome::Failed, 0, "",
                                               std::string("refused before sending: ") + e.what()});
                    } catch (const std::exception& e) {
                        // Results may be missing: whatever has none may have gone out.
                        std::set<std::uint64_t> have;
                        for (const auto& r : results) have.insert(r.token);
                        for (const auto& o : outgoing)
                            if (!have.count(o.token))
                                results.push_back({o.token, plugins::DeliveryOutcome::Unknown, 0, "", e.what()});
                        status = {plugins::TransportStatus::Failed, e.what()};
                    }
                }
                releaseDomains();

                // The outcomes go to the ledger thread, which records them while this thread
                // sends the next chunk. Until that commit the rows stay handed_over: a crash
                // meanwhile makes them unknown, never pending.
                OutcomeBatch recordedBatch;
                recordedBatch.outcomes.reserve(results.size());
                const Usec t = now();
                for (const auto& r : results) {
                    const auto it = byLedger.find(static_cast<Id>(r.token));
                    if (it == byLedger.end()) continue;
                    const Item& item = items[it->second];
                    recordedBatch.outcomes.push_back(decideOutcome(item.ledgerId, item.attempts, r, policy_, t, status.message, random01));
                    if (env_.outcomes)
                        recordedBatch.recorded.push_back({campaignId, item.ledgerId, item.recipientId, item.message.recipient,
                                                          stripBrackets(item.message.messageId), r,
                                                          recordedBatch.outcomes.back()});
                }
                if (!recordedBatch.outcomes.empty()) pipe.giveOutcomes(std::move(recordedBatch));
                if (!status.ok()) {
                    session.reset();
                    if (sessionAction(status.status) == SessionAction::Pause) {
                        pauseWith(pauseReason(run->transport.name, status.status, status.message));
                        break;
                    }
                    ++reconnects;
                    log::warning("transport session failed; reconnecting: " + status.message,
                                 {{"CAMPAIGN_ID", cid}, {"TRANSPORT", run->transport.name}});
                    run->waitFor(retryDelay(kReconnectBase, reconnects, kReconnectCap, random01));
                } else if (reconnects > 0 && !outgoing.empty()) {
                    reconnects = 0;
                }
            }
        }
        session.reset();
        // The ledger thread records what it was given and stops claiming; then what this
        // worker claimed and never handed over goes back to pending. It holds no batch now, so
        // a later run under the same name cannot be confused with these claims.
        pipe.close();
        if (ledger.joinable()) ledger.join();
        if (!done && store) {
            for (unsigned attempt = 1; attempt <= 5; ++attempt) {
                try {
                    store->releaseClaims(campaignId, worker);
                    break;
                } catch (const std::exception& e) {
                    log::warning(std::string("cannot release claims: ") + e.what(), {{"CAMPAIGN_ID", cid}});
                    std::this_thread::sleep_for(retryDelay(kReconnectBase, attempt, 5s, random01));
                }
            }
        }
    } catch (const std::exception& e) {
        log::error(std::string("sender failed: ") + e.what(), {{"CAMPAIGN_ID", cid}});
        pause = std::string("the sender failed: ") + e.what();
        done = false;
    }
    releaseSlot();
    workerExited(run, done, pause);
}

void DeliveryEngine::workerExited(const std::shared_ptr<Run>& run, bool done, const std::string& pauseReason) {
    bool last = false;
    bool postPause = false;
    {
        std::lock_guard lock(run->mutex);
        if (!done) run->allDone = false;
        if (!pauseReason.empty() && !run->pausePosted) {
            run->pausePosted = true;
            postPause = true;
        }
        last = --run->workersLeft == 0;
    }
    if (!pauseReason.empty()) {
        run->requestStop();
        std::lock_guard lock(run->shared->mutex);
        run->shared->slotFreed.notify_all();
    }
    if (postPause && env_.mustPause) {
        log::warning("pausing: " + pauseReason, {{"CAMPAIGN_ID", std::to_string(run->campaign.id)}});
        boost::asio::post(io_, [this, id = run->campaign.id, pauseReason] {
            safely("cannot pause the campaign", id, [&] { env_.mustPause(id, pauseReason); });
        });
    }
    if (last) boost::asio::post(io_, [this, run] { runEnded(run); });
}

void DeliveryEngine::runEnded(const std::shared_ptr<Run>& run) {
    for (auto& t : run->threads)
        if (t.joinable()) t.join();
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

// worker_sender.cpp: a sending worker's sender thread (see run.h, engine.h): it holds one of
// the transport's connections, takes the batches the ledger thread prepared, and for each
// chunk the throttles allow commits the hand-over (markHandedOver) before the transport sees
// a message, sends only the rows that moved, and hands the outcomes back to be recorded. On
// its way out it releases what it claimed and never handed over.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/metrics.h"
#include "delivery/run.h"

namespace campaignd::delivery {
namespace {

using namespace detail;

constexpr auto kCallTarget = 250ms;  // a call into the transport returns within about this

std::string stripBrackets(const std::string& id) {
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') return id.substr(1, id.size() - 2);
    return id;
}

}  // namespace

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
        metrics::TransportCounters counters(run->transport.name);  // core/metrics.h
        auto closeSession = [&] {
            if (session) counters.sessionClosed();
            session.reset();
        };
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
                        counters.sessionOpened();
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
                counters.handedOver(moved.size());
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
                        const auto took = std::chrono::steady_clock::now() - began;
                        sizer.sent(outgoing.size(), took);
                        // Each message of a pipelined group waited for the whole call.
                        const double seconds = std::chrono::duration<double>(took).count();
                        for (const auto& r : results) {
                            counters.sendDuration(seconds);
                            counters.reply(r.smtpCode);
                        }
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
                    closeSession();
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
        closeSession();
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

}  // namespace campaignd::delivery

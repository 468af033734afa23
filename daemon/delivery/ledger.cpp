// ledger.cpp: a run's ledger thread (see run.h, engine.h), the only one of the run that talks
// to the database. It claims ahead and renders, and answers the sessions' requests: every
// request that arrived while it was committing goes into ONE hand-over (a group commit), with
// the outcomes the network thread queued since the last (handOverAndRecord: one durable commit
// for both), and only then are the moved rows delivered to the network thread for submit().
// Outcomes with no hand-over to go with them are recorded on their own. It hands over only
// what a session asked for right now, so a stop leaves little handed over and unsubmitted; what
// it claimed and never handed over goes back to pending when the run ends. It never gives a
// message to a transport itself. A recipient the renderer refuses fails here.
#include <algorithm>
#include <deque>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include "core/error.h"
#include "core/log.h"
#include "core/metrics.h"
#include "delivery/run.h"

namespace campaignd::delivery {
namespace {

using namespace detail;
using Kind = storage::LedgerOutcome::Kind;

constexpr auto kIdleWait = 500ms;  // nothing due now, but work left (retries, others)

std::string_view statusWord(Kind kind) {
    switch (kind) {
    case Kind::Sent: return "sent";
    case Kind::Failed: return "failed";
    case Kind::Deferred: return "deferred";
    case Kind::Unknown: return "unknown";
    }
    return "unknown";
}

// One journal line per delivery outcome once it is recorded, as Postfix logs each delivery:
// the campaign, the recipient (by id: no address in the journal), the transport, the status
// and the server's reply, as fields (journalctl CAMPAIGN_ID=7 STATUS=failed).
// On stderr, a batch's lines go out in one write (log::Batch).
void logDeliveries(const std::vector<RecordedOutcome>& recorded, const std::string& transport) {
    log::Batch lines;
    for (const auto& o : recorded) {
        const std::string_view status = statusWord(o.outcome.kind);
        std::string reply = o.result.text;
        if (reply.empty()) reply = o.outcome.reason;
        lines.add(log::Level::Info, "delivery " + std::string(status),
                  {{"CAMPAIGN_ID", std::to_string(o.campaignId)},
                   {"RECIPIENT_ID", std::to_string(o.recipientId)},
                   {"TRANSPORT", transport},
                   {"STATUS", std::string(status)},
                   {"REPLY", reply}});
    }
}

std::string stripBrackets(const std::string& id) {
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') return id.substr(1, id.size() - 2);
    return id;
}

}  // namespace

void DeliveryEngine::ledgerLoop(const std::shared_ptr<Run>& run) {
    const Id campaignId = run->campaign.id;
    const std::string cid = std::to_string(campaignId);
    const std::string& worker = run->worker;
    auto& q = run->ledger;
    auto& shared = *run->shared;
    std::unique_ptr<storage::SendLedger> store;
    auto openStore = [&] {
        if (!store) store = env_.openLedger();
    };
    using Clock = std::chrono::steady_clock;

    metrics::TransportCounters counters(run->transport.name);  // core/metrics.h
    // What the database is told of a batch of outcomes.
    auto ledgerOutcomes = [](const std::vector<PendingOutcome>& batch) {
        std::vector<storage::LedgerOutcome> outcomes;
        outcomes.reserve(batch.size());
        for (const auto& p : batch) outcomes.push_back(p.outcome);
        return outcomes;
    };
    // Once a batch is committed: the rate, the counters, the journal, the listeners.
    auto recorded = [&](std::vector<PendingOutcome>& batch) {
        std::vector<RecordedOutcome> told;
        for (auto& p : batch) {
            counters.outcome(statusWord(p.outcome.kind));
            if (p.recorded) told.push_back(std::move(*p.recorded));
        }
        run->outcomes += batch.size();
        if (config_.sending.logDeliveries) logDeliveries(told, run->transport.name);
        if (env_.outcomes && !told.empty()) {
            try {
                env_.outcomes(told);
            } catch (const std::exception& e) {
                log::error(std::string("an outcome listener failed: ") + e.what(), {{"CAMPAIGN_ID", cid}});
            }
        }
        batch.clear();
    };
    // Records outcomes on their own, retrying while the database is away (up to five times
    // once the run finishes: then they become unknown at the next start).
    auto record = [&](std::vector<PendingOutcome>& batch) {
        if (batch.empty()) return;
        const auto outcomes = ledgerOutcomes(batch);
        for (unsigned attempt = 1;; ++attempt) {
            try {
                openStore();
                store->recordOutcomes(worker, outcomes, now());
                break;
            } catch (const std::exception& e) {
                store.reset();
                log::error(std::string("cannot record delivery outcomes (retrying): ") + e.what(), {{"CAMPAIGN_ID", cid}});
                std::unique_lock lock(q.mutex);
                if (q.finish && attempt >= 5) {
                    log::error("stopping with outcomes unrecorded; they become unknown at the next start",
                               {{"CAMPAIGN_ID", cid}});
                    batch.clear();
                    return;
                }
                q.wake.wait_for(lock, retryDelay(kReconnectBase, attempt, kReconnectCap, random01));
            }
        }
        recorded(batch);
    };

    std::deque<Item> pool;                 // claimed and rendered, not handed over
    std::vector<Request> waiting;          // requests not answered yet, oldest first
    std::vector<PendingOutcome> outcomes;  // taken from the queue, not recorded yet
    std::vector<PendingOutcome> failures;  // rendering refused these
    std::vector<Item> spent;               // submitted by the network thread, to free
    Clock::time_point claimNotBefore{};    // nothing due before then (or the database away)
    unsigned dbFailures = 0;
    bool noMoreWork = false;
    bool stopped = false;
    bool blocked = false;  // the pool's every domain is at its limit: wait for an outcome

    // Answers every waiting request with nothing (the run stops or has no work left).
    auto answerEmpty = [&] {
        for (auto& r : waiting)
            boost::asio::post(net_, [this, r] {
                if (auto s = r.session.lock()) delivered(s, r.count, {});
            });
        waiting.clear();
    };

    for (;;) {
        bool finish = false;
        {
            std::unique_lock lock(q.mutex);
            // Woken by outcomes (they free domain slots and may end the work), requests, the
            // stop, or the time the next claim may be tried; never by polling.
            auto ready = [&] {
                if (!q.outcomes.empty() || q.finish || (q.stop && !stopped) || !q.requests.empty()) return true;
                return !waiting.empty() && !blocked && Clock::now() >= claimNotBefore;
            };
            if (!waiting.empty() && !blocked && claimNotBefore > Clock::now())
                q.wake.wait_until(lock, claimNotBefore, ready);
            else
                q.wake.wait(lock, ready);
            if (outcomes.empty())
                outcomes.swap(q.outcomes);
            else  // a hand-over that failed left its outcomes here
                std::move(q.outcomes.begin(), q.outcomes.end(), std::back_inserter(outcomes));
            q.outcomes.clear();
            for (auto& r : q.requests) waiting.push_back(std::move(r));
            q.requests.clear();
            spent.swap(q.spent);
            finish = q.finish;
            stopped = stopped || q.stop;
        }
        spent.clear();  // freed here, where they were allocated (LedgerQueue::spent)
        if (!outcomes.empty()) blocked = false;
        // The outcomes go into the hand-over's commit when one follows now (one commit for
        // both: the steady state); they are recorded on their own everywhere else.
        if (finish) {
            record(outcomes);
            break;
        }
        if (stopped || noMoreWork) {
            record(outcomes);
            answerEmpty();
            continue;
        }
        if (waiting.empty()) {
            record(outcomes);
            continue;
        }

        std::size_t wanted = 0;
        for (const auto& r : waiting) wanted += r.count;

        // Claim ahead: what the requests want, and a batch more for the next ones.
        if (pool.size() < wanted && Clock::now() >= claimNotBefore) {
            // The outcomes wait for the hand-over's commit: no outcome makes a row claimable
            // now (a deferred one is due later), so the claim does not need them.
            const std::size_t limit = std::max<std::size_t>(config_.sending.batchSize, wanted - pool.size());
            std::vector<storage::ClaimedRecipient> claimed;
            try {
                openStore();
                claimed = store->claimBatch(campaignId, worker, std::min<std::size_t>(limit, 10000), now());
                if (claimed.empty() && pool.empty()) {
                    record(outcomes);  // "no work left" must see them
                    openStore();
                }
                if (claimed.empty() && pool.empty() && !store->campaignHasWorkLeft(campaignId)) {
                    noMoreWork = true;
                    boost::asio::post(net_, [this, run] {
                        run->allDone = true;
                        netStop(run);
                    });
                    answerEmpty();
                    continue;
                }
                dbFailures = 0;
            } catch (const std::exception& e) {
                store.reset();
                log::warning(std::string("cannot claim recipients (retrying): ") + e.what(), {{"CAMPAIGN_ID", cid}});
                claimNotBefore = Clock::now() + retryDelay(kReconnectBase, ++dbFailures, kReconnectCap, random01);
                continue;
            }
            if (claimed.empty() && pool.empty()) claimNotBefore = Clock::now() + kIdleWait;
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
                    pool.push_back(std::move(item));
                } catch (const std::exception& e) {
                    failures.push_back({{c.ledgerId, Kind::Failed, std::string("cannot compose the message: ") + e.what(), {}}, {}});
                }
            }
            record(failures);
        }
        if (pool.empty()) {
            record(outcomes);
            continue;
        }

        // Choose, for each waiting request in turn, items whose domain has a free slot.
        std::vector<std::vector<Item>> chosen(waiting.size());
        std::vector<storage::HandOver> handOvers;
        {
            std::deque<Item> rest;
            std::size_t w = 0;
            while (!pool.empty()) {
                while (w < waiting.size() && chosen[w].size() >= waiting[w].count) ++w;
                if (w == waiting.size()) break;
                Item item = std::move(pool.front());
                pool.pop_front();
                if (!shared.domains.tryAcquire(item.domain)) {
                    rest.push_back(std::move(item));
                    continue;
                }
                handOvers.push_back({item.ledgerId, stripBrackets(item.message.messageId)});
                chosen[w].push_back(std::move(item));
            }
            for (auto it = rest.rbegin(); it != rest.rend(); ++it) pool.push_front(std::move(*it));
        }
        blocked = handOvers.empty();
        if (blocked) {  // every domain at its limit: an outcome wakes us
            record(outcomes);
            continue;
        }

        // THE EXACTLY-ONCE LINE: one durable commit for every request that is answered now,
        // with the outcomes that arrived meanwhile; only the rows it moved reach the network
        // thread, and only after it returned. If it fails, nothing of it is committed: the
        // items go back to the pool and the outcomes wait for the next try.
        std::vector<Id> moved;
        try {
            openStore();
            moved = store->handOverAndRecord(worker, handOvers, ledgerOutcomes(outcomes), now());
            dbFailures = 0;
        } catch (const std::exception& e) {
            store.reset();
            log::warning(std::string("cannot record the hand-over (retrying): ") + e.what(), {{"CAMPAIGN_ID", cid}});
            for (auto it = chosen.rbegin(); it != chosen.rend(); ++it)
                for (auto i = it->rbegin(); i != it->rend(); ++i) {
                    shared.domains.release(i->domain);
                    pool.push_front(std::move(*i));
                }
            claimNotBefore = Clock::now() + retryDelay(kReconnectBase, ++dbFailures, kReconnectCap, random01);
            continue;
        }
        recorded(outcomes);
        counters.handedOver(moved.size());
        std::size_t m = 0;
        std::vector<Request> still;
        std::vector<std::pair<Request, std::vector<Item>>> deliveries;  // one post for them all
        for (std::size_t w = 0; w < waiting.size(); ++w) {
            std::vector<Item> items;
            for (auto& item : chosen[w]) {
                // moved is in the order given: a row not moved (cancelled, recovered) is dropped.
                if (m < moved.size() && moved[m] == item.ledgerId) {
                    ++m;
                    items.push_back(std::move(item));
                } else {
                    shared.domains.release(item.domain);
                }
            }
            if (items.empty())
                still.push_back(std::move(waiting[w]));
            else
                deliveries.emplace_back(std::move(waiting[w]), std::move(items));
        }
        waiting.swap(still);
        if (!deliveries.empty())
            boost::asio::post(net_, [this, deliveries = std::move(deliveries)]() mutable {
                for (auto& [r, items] : deliveries) {
                    if (auto s = r.session.lock()) {
                        delivered(s, r.count, std::move(items));
                    } else {
                        // Cannot happen while the run holds its sessions; never silently lost.
                        log::error("handed-over messages for a session that is gone; they become unknown at the next start");
                    }
                }
            });
    }

    // Every session has closed and every outcome it had is recorded: what this run claimed and
    // never handed over goes back to pending (the pool, and rows claimed meanwhile).
    if (!run->allDone) {
        for (unsigned attempt = 1; attempt <= 5; ++attempt) {
            try {
                openStore();
                store->releaseClaims(campaignId, worker);
                break;
            } catch (const std::exception& e) {
                store.reset();
                log::warning(std::string("cannot release claims: ") + e.what(), {{"CAMPAIGN_ID", cid}});
                std::this_thread::sleep_for(retryDelay(kReconnectBase, attempt, 5s, random01));
            }
        }
    }
}

}  // namespace campaignd::delivery

// worker_ledger.cpp: a sending worker's ledger thread (see run.h, engine.h): it claims the
// next batch (claimBatch), renders it and offers it to the sender, and records the outcomes
// the sender hands back (recordOutcomes), each on its own store, retrying while the database
// is away. It never gives a message to a transport: the hand-over is the sender's
// (worker_sender.cpp). A recipient the renderer refuses fails here, before any transport.
#include <string>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "core/metrics.h"
#include "delivery/run.h"

namespace campaignd::delivery {
namespace {

using namespace detail;
using Kind = storage::LedgerOutcome::Kind;

constexpr auto kIdlePoll = 500ms;  // nothing due now, but work left (retries, others)

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
void logDeliveries(const std::vector<RecordedOutcome>& recorded, const std::string& transport) {
    for (const auto& o : recorded) {
        const std::string_view status = statusWord(o.outcome.kind);
        std::string reply = o.result.text;
        if (reply.empty()) reply = o.outcome.reason;
        log::info("delivery " + std::string(status),
                  {{"CAMPAIGN_ID", std::to_string(o.campaignId)},
                   {"RECIPIENT_ID", std::to_string(o.recipientId)},
                   {"TRANSPORT", transport},
                   {"STATUS", std::string(status)},
                   {"REPLY", reply}});
    }
}

}  // namespace

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
    metrics::TransportCounters counters(run->transport.name);  // core/metrics.h
    auto notBefore = Pipeline::Clock::now();
    for (;;) {
        auto task = pipe.next(notBefore, kStopPoll);
        if (task.outcomes) {
            auto& b = *task.outcomes;
            if (record(b.outcomes)) {
                run->outcomes += b.outcomes.size();
                for (const auto& o : b.outcomes) counters.outcome(statusWord(o.kind));
                if (config_.sending.logDeliveries) logDeliveries(b.recorded, run->transport.name);
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

}  // namespace campaignd::delivery

// sessions.cpp: the engine's network thread (see run.h, engine.h). Every session of every run
// is an object here, driven by posted events: a session asks its run's ledger thread for as
// many messages as its window has room for and MaxPerSecond= allows (a timer when the bucket
// is empty), submits what the ledger delivers (handed over and committed before it arrives
// here), and turns each result into an outcome for the ledger to record. A session that ended
// with a connection failure reopens after a backoff timer; AUTH and TLS failures pause the
// campaign. On a stop the ledger hands nothing more over and every session closes once the
// messages it holds (committed hand-overs, its window) are answered. Nothing here blocks:
// opening and destroying an AsyncSession run on the engine's blocking pool.
#include <algorithm>
#include <iterator>

#include <boost/asio/post.hpp>

#include "core/log.h"
#include "delivery/run.h"

namespace campaignd::delivery {
namespace {

using namespace detail;

std::string stripBrackets(const std::string& id) {
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') return id.substr(1, id.size() - 2);
    return id;
}

}  // namespace

void DeliveryEngine::netStart(const std::shared_ptr<Run>& run) {
    if (run->stop) {
        netStop(run);
        return;
    }
    addSessions(run);
}

// Opens sessions up to Connections= while the transport has free slots; a run that wants more
// waits in the transport's queue and gets the next slot freed.
void DeliveryEngine::addSessions(const std::shared_ptr<Run>& run) {
    auto& t = *run->shared;
    while (!run->stopping && run->sessions.size() < run->transport.connections) {
        if (t.open >= t.connections) {
            bool queued = false;
            for (const auto& w : t.waiting)
                if (w.lock() == run) queued = true;
            if (!queued) t.waiting.push_back(run);
            return;
        }
        ++t.open;
        auto s = std::make_shared<Session>(net_, run);
        run->sessions.push_back(s);
        openSession(s);
    }
}

void DeliveryEngine::releaseSlot(const std::shared_ptr<Transport>& t) {
    --t->open;
    while (!t->waiting.empty()) {
        auto run = t->waiting.front().lock();
        t->waiting.pop_front();
        if (run && !run->stopping) {
            addSessions(run);
            return;
        }
    }
}

void DeliveryEngine::openSession(const std::shared_ptr<Session>& s) {
    s->opening = true;
    std::weak_ptr<Session> weak = s;
    plugins::AsyncEvents events;
    events.result = [this, weak, inbox = results_](const plugins::DeliveryResult& r) {
        bool first = false;
        {
            std::lock_guard lock(inbox->mutex);
            first = inbox->results.empty();
            inbox->results.emplace_back(weak, r);
        }
        // The event posted for the first takes this one too. A session's end is posted after
        // its last result was put here, so it is handled after that result.
        if (first) boost::asio::post(net_, [this, inbox] { takeResults(*inbox); });
    };
    events.ended = [this, weak](const plugins::SendStatus& status) {
        boost::asio::post(net_, [this, weak, status] {
            if (auto s = weak.lock()) sessionEnded(s, status);
        });
    };
    boost::asio::post(*blocking_, [this, s, events = std::move(events)]() mutable {
        const auto& run = *s->run;
        try {
            auto async = run.handle->openAsync(run.transport.name, run.transport.settings, std::move(events));
            boost::asio::post(net_, [this, s, a = std::shared_ptr<plugins::AsyncSession>(std::move(async))] { opened(s, a); });
        } catch (const plugins::TransportError& e) {
            boost::asio::post(net_, [this, s, st = e.status(), m = std::string(e.what())] { openFailed(s, st, m); });
        } catch (const std::exception& e) {
            boost::asio::post(net_, [this, s, m = std::string(e.what())] { openFailed(s, plugins::TransportStatus::Failed, m); });
        }
    });
}


void DeliveryEngine::opened(const std::shared_ptr<Session>& s, std::shared_ptr<plugins::AsyncSession> async) {
    s->opening = false;
    s->ended = false;
    s->async = std::move(async);
    s->counters.sessionOpened();
    if (s->reconnects > 0)
        log::info("transport session reopened",
                  {{"CAMPAIGN_ID", std::to_string(s->run->campaign.id)}, {"TRANSPORT", s->run->transport.name}});
    if (s->run->stopping) {
        closeSession(s);
        return;
    }
    refill(s);
}

void DeliveryEngine::openFailed(const std::shared_ptr<Session>& s, plugins::TransportStatus status,
                                const std::string& message) {
    s->opening = false;
    auto& run = s->run;
    if (run->stopping) {
        retire(s);
        return;
    }
    if (sessionAction(status) == SessionAction::Pause) {
        pauseRun(run, pauseReason(run->transport.name, status, message));
        retire(s);
        return;
    }
    ++s->reconnects;
    log::warning("cannot open a transport session (retrying): " + message,
                 {{"CAMPAIGN_ID", std::to_string(run->campaign.id)}, {"TRANSPORT", run->transport.name}});
    s->timerArmed = true;
    s->timer.expires_after(retryDelay(kReconnectBase, s->reconnects, kReconnectCap, random01));
    s->timer.async_wait([this, s](const boost::system::error_code&) {
        s->timerArmed = false;
        if (s->run->stopping) retire(s);
        else openSession(s);
    });
}

// Asks the ledger for what the window has room for, as far as MaxPerSecond= allows now.
void DeliveryEngine::refill(const std::shared_ptr<Session>& s) {
    auto& run = *s->run;
    if (run.stopping || !s->async || s->ended || s->closing || s->timerArmed) return;
    const std::size_t busy = s->inFlight.size() + s->requested;
    const std::size_t window = s->window.size();
    if (busy >= window) return;
    std::chrono::nanoseconds wait{};
    const std::size_t granted = run.shared->bucket.take(window - busy, wait);
    if (granted == 0) {
        s->timerArmed = true;
        s->timer.expires_after(wait);
        s->timer.async_wait([this, s](const boost::system::error_code&) {
            s->timerArmed = false;
            refill(s);
        });
        return;
    }
    s->requested += granted;
    run.ledger.push(run.answered, Request{s, granted}, run.submitted);  // with the outcomes answered before it
}

// The ledger answered a request: these rows are handed over (committed).
void DeliveryEngine::delivered(const std::shared_ptr<Session>& s, std::size_t asked, std::vector<Item> items) {
    auto& run = *s->run;
    s->requested -= asked;
    run.shared->bucket.giveBack(asked - items.size());
    if (!items.empty()) {
        if (s->async && !s->ended && !s->closing) {
            std::vector<plugins::OutgoingMessage> outgoing;
            outgoing.reserve(items.size());
            const auto t = std::chrono::steady_clock::now();
            s->window.submitted(t, s->inFlight.size());
            for (auto& item : items) {
                const auto& msg = item.message;
                outgoing.push_back({static_cast<std::uint64_t>(item.ledgerId), msg.envelopeFrom, msg.recipient,
                                    msg.messageId, msg.data});
                s->inFlight[static_cast<std::uint64_t>(item.ledgerId)] =
                    InFlight{item.ledgerId, item.recipientId, item.attempts, item.domain, msg.recipient,
                             stripBrackets(msg.messageId), t};
            }
            try {
                // Copies the messages and returns at once; each gets exactly one result event
                // (NotHandedOver, posted, when the session has ended meanwhile).
                s->async->submit(outgoing);
            } catch (const std::invalid_argument& e) {
                // Refused by the host before the plugin saw it: not sent, and sending it again
                // would be refused the same way.
                for (const auto& o : outgoing)
                    answered(s, {o.token, plugins::DeliveryOutcome::Failed, 0, "",
                                 std::string("refused before sending: ") + e.what()});
            }
        } else {
            // The session ended or is closing: these never left (pending again, at once).
            for (auto& item : items) {
                s->inFlight[static_cast<std::uint64_t>(item.ledgerId)] =
                    InFlight{item.ledgerId, item.recipientId, item.attempts, item.domain, item.message.recipient,
                             stripBrackets(item.message.messageId), std::chrono::steady_clock::now()};
                answered(s, {static_cast<std::uint64_t>(item.ledgerId), plugins::DeliveryOutcome::NotHandedOver, 0, "",
                             "the session ended before it"});
            }
        }
        std::move(items.begin(), items.end(), std::back_inserter(run.submitted));  // the ledger frees them
    }
    afterEvent(s);
}

// Every result reported since the last time, in order; then each session they were for asks
// for more (or closes), once.
void DeliveryEngine::takeResults(ResultInbox& inbox) {
    std::vector<std::pair<std::weak_ptr<Session>, plugins::DeliveryResult>> results;
    {
        std::lock_guard lock(inbox.mutex);
        results.swap(inbox.results);
    }
    std::vector<std::shared_ptr<Session>> touched;
    for (const auto& [weak, r] : results) {
        auto s = weak.lock();
        if (!s) continue;
        answered(s, r);
        if (std::find(touched.begin(), touched.end(), s) == touched.end()) touched.push_back(std::move(s));
    }
    for (const auto& s : touched) afterEvent(s);
}

void DeliveryEngine::answered(const std::shared_ptr<Session>& s, const plugins::DeliveryResult& r) {
    const auto it = s->inFlight.find(r.token);
    if (it == s->inFlight.end()) return;  // AsyncSession answers each token once
    auto& run = *s->run;
    const InFlight f = std::move(it->second);
    s->inFlight.erase(it);
    run.shared->domains.release(f.domain);
    const auto t = std::chrono::steady_clock::now();
    s->window.answered(t);
    if (r.outcome != plugins::DeliveryOutcome::NotHandedOver) {
        s->reconnects = 0;  // the server answered: the next failure starts the backoff afresh
        s->counters.sendDuration(std::chrono::duration<double>(t - f.submittedAt).count());
        s->counters.reply(r.smtpCode);
    }
    PendingOutcome p;
    p.outcome = decideOutcome(f.ledgerId, f.attempts, r, policy_, now(), s->endMessage, random01);
    if (env_.outcomes)
        p.recorded = RecordedOutcome{run.campaign.id, f.ledgerId, f.recipientId, f.recipient, f.messageId, r, p.outcome};
    run.answered.push_back(std::move(p));  // to the ledger at the end of this event (afterEvent)
}

// After a delivery or a result: ask for more, or, when the run stops, close the session once
// what it was given is answered (within its window's time). The event's outcomes reach the
// ledger with the request that follows them (refill), so that one commit records them and
// hands the next messages over; alone when no request follows.
void DeliveryEngine::afterEvent(const std::shared_ptr<Session>& s) {
    auto& run = *s->run;
    if (!run.stopping && !s->closing && !s->ended) refill(s);
    if (!run.answered.empty()) run.ledger.push(run.answered, std::nullopt, run.submitted);
    if (!run.stopping) return;
    if (s->inFlight.empty() && s->requested == 0) closeSession(s);
    maybeFinish(s->run);
}

void DeliveryEngine::sessionEnded(const std::shared_ptr<Session>& s, const plugins::SendStatus& status) {
    // Every message it had has its result already (AsyncSession's promise, in order on this
    // thread): nothing more goes to it. Its destruction runs on the pool.
    s->ended = true;
    s->endMessage = status.message;
    auto& run = s->run;
    if (!run->stopping && sessionAction(status.status) == SessionAction::Pause) {
        pauseRun(run, pauseReason(run->transport.name, status.status, status.message));
        return;  // pauseRun closed it
    }
    if (!run->stopping) {
        ++s->reconnects;
        log::warning("transport session failed; reconnecting: " + status.message,
                     {{"CAMPAIGN_ID", std::to_string(run->campaign.id)}, {"TRANSPORT", run->transport.name}});
    }
    closeSession(s);
}

// Destroys the session's AsyncSession on the pool (it waits for the replies to what was
// written; the rest is reported NotHandedOver), then sessionClosed() on this thread.
void DeliveryEngine::closeSession(const std::shared_ptr<Session>& s) {
    if (!s->async || s->closing) {
        if (!s->async && !s->opening && !s->timerArmed && s->run->stopping) retire(s);
        return;
    }
    s->closing = true;
    boost::asio::post(*blocking_, [this, s, async = std::move(s->async)]() mutable {
        async.reset();  // its last events are posted before this returns
        boost::asio::post(net_, [this, s] { sessionClosed(s); });
    });
}

void DeliveryEngine::sessionClosed(const std::shared_ptr<Session>& s) {
    s->closing = false;
    s->counters.sessionClosed();
    // Messages it was given and never answered cannot be left: AsyncSession answers them all.
    auto& run = s->run;
    if (run->stopping) {
        retire(s);
        return;
    }
    // A connection failure: back off, then a new session.
    s->ended = false;
    s->timerArmed = true;
    s->timer.expires_after(retryDelay(kReconnectBase, std::max(1u, s->reconnects), kReconnectCap, random01));
    s->timer.async_wait([this, s](const boost::system::error_code&) {
        s->timerArmed = false;
        if (s->run->stopping) retire(s);
        else openSession(s);
    });
}

// The session is gone for good (the run stops): its slot is freed.
void DeliveryEngine::retire(const std::shared_ptr<Session>& s) {
    if (s->retired) return;
    s->retired = true;
    auto& run = s->run;
    releaseSlot(run->shared);
    maybeFinish(run);
}

void DeliveryEngine::pauseRun(const std::shared_ptr<Run>& run, const std::string& reason) {
    // The owner is told when the run has ended (runEnded), once every outcome is recorded.
    if (run->pauseReason.empty()) {
        run->pauseReason = reason;
        log::warning("pausing: " + reason, {{"CAMPAIGN_ID", std::to_string(run->campaign.id)}});
    }
    run->stop = true;
    netStop(run);
}

// The run stops (pause, cancel, shutdown, a pause the engine decided, or no work left): the
// ledger hands nothing more over, and every session closes as soon as what it holds is
// answered (its window: about 250 ms of its server's pace).
void DeliveryEngine::netStop(const std::shared_ptr<Run>& run) {
    if (!run->stopping) {
        run->stopping = true;
        {
            std::lock_guard lock(run->ledger.mutex);
            run->ledger.stop = true;
        }
        run->ledger.wake.notify_one();
        auto& waiting = run->shared->waiting;
        for (auto it = waiting.begin(); it != waiting.end();)
            it = it->lock() == run ? waiting.erase(it) : std::next(it);
    }
    for (const auto& s : std::vector<std::shared_ptr<Session>>(run->sessions)) {
        if (s->timerArmed) s->timer.cancel();  // a reconnect's handler sees the stop and retires it
        // What it was given was handed over (committed): it gets its result, then the session
        // closes (afterEvent). A session that ended already closes now.
        if (s->ended || (s->inFlight.empty() && s->requested == 0)) closeSession(s);
    }
    maybeFinish(run);
}

// Once every session is retired and every request answered, the ledger records what is left
// and ends the run.
void DeliveryEngine::maybeFinish(const std::shared_ptr<Run>& run) {
    if (!run->stopping || run->finishSent) return;
    for (const auto& s : run->sessions)
        if (!s->retired || s->requested > 0 || !s->inFlight.empty()) return;
    run->finishSent = true;
    {
        std::lock_guard lock(run->ledger.mutex);
        run->ledger.finish = true;
    }
    run->ledger.wake.notify_one();
    // The sessions' last references to the run (and theirs to each other) go.
    run->sessions.clear();
}

}  // namespace campaignd::delivery

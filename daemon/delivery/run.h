// run.h: the engine's internals shared by its files (engine.cpp, ledger.cpp, sessions.cpp),
// not part of its API: a campaign's Run, a transport's shared throttles and sessions, a
// session's state on the network thread, and what the network thread and a run's ledger
// thread pass each other (requests for messages, deliveries of handed-over messages, outcomes).
// Ownership of threads: a Session and the Transport's slot count are touched only on the
// engine's network thread; LedgerQueue is the one thing both sides lock; the throttles and the
// Run's atomics are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "core/metrics.h"
#include "delivery/engine.h"
#include "plugin-host/async_session.h"

namespace campaignd::delivery {
namespace detail {

using namespace std::chrono_literals;

constexpr auto kReconnectBase = 1s;
constexpr auto kReconnectCap = 30s;
// A session's window answers within about this (SessionWindow): what a pause waits for.
constexpr auto kWindowTarget = 250ms;
// Messages in flight per session, at most: the window stays below it on a slow or far server
// (kWindowTarget decides); on a fast one, a larger window lets each hand-over commit carry
// more rows, which is what sets the loopback rate: 16 -> 64 -> 128 measured in BENCHMARKS.md
// ("the ledger's commits", "the ledger's statements").
constexpr std::size_t kMaxWindow = 128;
constexpr std::size_t kFirstWindow = 2;  // before a session has seen a reply

inline double random01() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// A rendered message of a claimed ledger row.
struct Item {
    Id ledgerId = 0;
    Id recipientId = 0;
    std::int64_t attempts = 0;
    std::string domain;
    mail::ComposedMessage message;
};

// What a session keeps of a submitted message until its result.
struct InFlight {
    Id ledgerId = 0;
    Id recipientId = 0;
    std::int64_t attempts = 0;
    std::string domain;
    std::string recipient;
    std::string messageId;  // without angle brackets
    std::chrono::steady_clock::time_point submittedAt;
};

// One outcome for the ledger thread to record, and what listeners are told.
struct PendingOutcome {
    storage::LedgerOutcome outcome;
    std::optional<RecordedOutcome> recorded;  // when there are listeners
};

}  // namespace detail


// A session asked the ledger for `count` messages: the ledger answers each request once, with
// 0..count handed-over messages (a delivery), when it has at least one for it, or when the run
// stops or has no work left.
struct DeliveryEngine::Request {
    std::weak_ptr<Session> session;
    std::size_t count = 0;
};

// Between the network thread and a run's ledger thread.
struct DeliveryEngine::LedgerQueue {
    std::mutex mutex;
    std::condition_variable wake;
    std::vector<Request> requests;
    std::vector<detail::PendingOutcome> outcomes;
    // Items the network thread has submitted (the plugin copied them), freed by the ledger
    // thread that rendered them: glibc frees a large block under the lock of the arena it came
    // from, so freeing them on the network thread made the two threads wait for each other's
    // malloc (futex calls in the ledger's profile).
    std::vector<detail::Item> spent;
    bool stop = false;    // hand nothing more over: answer every request empty
    bool finish = false;  // every session has closed: record what is left, release, exit

    // What one event of the network thread gives the ledger thread: the outcomes it answered
    // and the request it made after them (if any), under one lock, so that the ledger finds
    // both when it wakes and commits them together. Wakes it only when the queue was empty
    // (it takes the whole queue at once, so a non-empty one has a wake-up on its way).
    // The items already submitted ride along, for the ledger thread to free (see spent).
    void push(std::vector<detail::PendingOutcome>& answered, std::optional<Request> request,
              std::vector<detail::Item>& submitted) {
        bool first = false;
        {
            std::lock_guard lock(mutex);
            first = outcomes.empty() && requests.empty();
            if (outcomes.empty())
                outcomes.swap(answered);
            else
                std::move(answered.begin(), answered.end(), std::back_inserter(outcomes));
            if (request) requests.push_back(std::move(*request));
            if (spent.empty())
                spent.swap(submitted);
            else
                std::move(submitted.begin(), submitted.end(), std::back_inserter(spent));
        }
        answered.clear();
        submitted.clear();
        if (first) wake.notify_one();
    }
};

// A transport's throttles, shared by its sessions in every campaign. bucket and domains are
// thread-safe (the ledger thread takes domain slots); the rest is the network thread's.
struct DeliveryEngine::Transport {
    explicit Transport(const config::TransportConfig& t)
        : bucket(t.maxPerSecond), domains(t.maxPerDomain), connections(t.connections) {}
    TokenBucket bucket;
    DomainLimiter domains;
    unsigned connections;
    unsigned open = 0;                        // sessions holding one of the Connections=
    std::deque<std::weak_ptr<Run>> waiting;   // runs that want more sessions, first come first
};

struct DeliveryEngine::Run {
    Campaign campaign;
    config::TransportConfig transport;
    std::optional<plugins::TransportHandle> handle;
    std::shared_ptr<Transport> shared;
    std::shared_ptr<const mail::CampaignTemplate> tmpl;
    std::string worker;  // claimed_by of this run's claims

    std::atomic<bool> stop{false};            // set by stop() on any thread; acted on by the network thread
    std::atomic<std::uint64_t> outcomes{0};  // recorded, for the rate
    // The network thread's: outcomes answered in the current event, for the ledger with the
    // request that follows them (DeliveryEngine::afterEvent).
    std::vector<detail::PendingOutcome> answered;
    std::vector<detail::Item> submitted;  // for LedgerQueue::spent, with the next push

    LedgerQueue ledger;
    std::thread ledgerThread;

    // The network thread's.
    bool stopping = false;      // seen the stop (or the end of the work)
    bool allDone = false;       // the ledger found no work left
    std::string pauseReason;    // the first pause a session asked for
    std::vector<std::shared_ptr<Session>> sessions;  // open, opening, or between reconnects
    bool finishSent = false;

    // Set by the ledger thread as it exits (stopAll waits for it).
    std::mutex endMutex;
    std::condition_variable endWake;
    bool ledgerExited = false;

    std::chrono::steady_clock::time_point started;  // set before the run is published

    // The monitor's own.
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> samples;
    std::optional<Campaign> lastReported;
};

// The results the plugins' threads reported for every session of the engine and the network
// thread has not taken yet: one event is posted per burst, however many sessions and results
// it holds (each post may wake the network thread), in the order they were reported.
struct DeliveryEngine::ResultInbox {
    std::mutex mutex;
    std::vector<std::pair<std::weak_ptr<Session>, plugins::DeliveryResult>> results;
};

// One connection of a run, on the network thread. Its AsyncSession's events are posted to the
// network thread with a weak pointer; opening and destroying the AsyncSession (both may block
// on the plugin) run on the engine's blocking pool.
struct DeliveryEngine::Session : std::enable_shared_from_this<Session> {
    Session(boost::asio::io_context& net, std::shared_ptr<Run> r)
        : run(std::move(r)), timer(net), window(detail::kWindowTarget, detail::kMaxWindow, detail::kFirstWindow),
          counters(run->transport.name) {}
    std::shared_ptr<Run> run;
    std::shared_ptr<plugins::AsyncSession> async;  // null while opening, reconnecting or closed; sole owner
    bool opening = false;
    bool closing = false;   // its AsyncSession is being destroyed on the pool
    bool ended = false;     // the session said it ended: nothing more is submitted to it
    bool retired = false;   // gone for good (the run stops): no reconnect
    std::size_t requested = 0;  // asked of the ledger, not yet delivered
    std::unordered_map<std::uint64_t, detail::InFlight> inFlight;
    boost::asio::steady_timer timer;  // throttle waits and reconnect backoff
    bool timerArmed = false;
    unsigned reconnects = 0;
    SessionWindow window;
    metrics::TransportCounters counters;
    std::string endMessage;  // the session's last failure, for NotHandedOver outcomes
};

}  // namespace campaignd::delivery

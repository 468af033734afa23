// run.h: the engine's internals shared by its files (engine.cpp, worker_ledger.cpp,
// worker_sender.cpp), not part of its API: a campaign's Run (stop flag, worker count, the
// monitor's samples), a transport's shared throttles, and what a worker's two threads pass
// each other (batches of rendered messages, batches of outcomes). Only the Run's atomics,
// mutex and condition variable, and the throttles (each thread-safe), are shared by threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "delivery/engine.h"
#include "delivery/pipeline.h"

namespace campaignd::delivery {
namespace detail {

using namespace std::chrono_literals;

constexpr auto kStopPoll = 100ms;  // how often a waiting worker looks at the stop flag
constexpr auto kReconnectBase = 1s;
constexpr auto kReconnectCap = 30s;

inline double random01() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// A worker: two threads, joined by a WorkerPipeline (pipeline.h): the sender (work(),
// worker_sender.cpp) owns the transport session and commits each chunk's hand-over right
// before giving it to the transport; the ledger thread (ledgerLoop, worker_ledger.cpp) claims
// and renders the next batch and records the outcomes of earlier chunks meanwhile, each on its
// own store. Rows the ledger thread has claimed but the sender has not handed over are only
// `sending`: a crash leaves them pending again, and a stop releases them like any other unsent
// claim.

// A rendered message of a claimed ledger row, on its way to the sender.
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

}  // namespace detail

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

struct DeliveryEngine::Pipe : detail::Pipeline {};

}  // namespace campaignd::delivery

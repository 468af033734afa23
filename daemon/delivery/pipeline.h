// pipeline.h: the hand-off between the two threads of one sending worker, so that a
// connection is not idle while its worker talks to the database. The ledger thread claims
// and renders the next batch, and records the outcomes of earlier ones, while the sender
// thread has the current batch on the wire. It promises: at most one prepared batch waits
// (plus the one the sender holds), so memory stays bounded per connection; outcomes are
// handed to the ledger thread before anything else it does, and all of them are handed out
// before it is told to finish. It refuses nothing and knows nothing of the ledger: the
// exactly-once line (markHandedOver's commit before the transport) stays with the sender.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace campaignd::delivery {

template <typename Batch, typename Outcomes>
class WorkerPipeline {
public:
    using Clock = std::chrono::steady_clock;

    // ---- the ledger thread --------------------------------------------------------------

    // What the ledger thread should do next.
    struct Task {
        std::optional<Outcomes> outcomes;  // record these first
        bool prepare = false;              // there is room: claim and render a batch, then offer()
        bool finish = false;               // the sender has closed and every outcome was handed out
    };

    // Waits until outcomes are queued (returned first, in order), or the sender has closed and
    // none are left (finish), or there is room for a prepared batch and `prepareNotBefore` has
    // passed and no more work was announced (prepare), or `timeout` passes (an empty Task).
    Task next(Clock::time_point prepareNotBefore, std::chrono::nanoseconds timeout) {
        std::unique_lock lock(mutex_);
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            Task t;
            if (!outcomes_.empty()) {
                t.outcomes = std::move(outcomes_.front());
                outcomes_.pop_front();
                changed_.notify_all();
                return t;
            }
            if (closed_) {
                t.finish = true;
                return t;
            }
            const auto now = Clock::now();
            if (!prepared_ && !noMoreWork_ && now >= prepareNotBefore) {
                t.prepare = true;
                return t;
            }
            if (now >= deadline) return t;
            auto until = deadline;
            if (!prepared_ && !noMoreWork_ && prepareNotBefore < until) until = prepareNotBefore;
            changed_.wait_until(lock, until);
        }
    }

    // A prepared batch, after next() said prepare. Dropped if the sender has closed (the
    // caller's rows are still only claimed, and released with the rest of its claims).
    void offer(Batch batch) {
        {
            std::lock_guard lock(mutex_);
            if (closed_) return;
            prepared_ = std::move(batch);
        }
        changed_.notify_all();
    }

    // Nothing to claim and nothing left to wait for: the sender's take() says Done once it
    // has taken every prepared batch.
    void announceNoMoreWork() {
        {
            std::lock_guard lock(mutex_);
            noMoreWork_ = true;
        }
        changed_.notify_all();
    }

    // ---- the sender thread --------------------------------------------------------------

    enum class Take { Got, Timeout, Done };  // Got: `out` holds the batch

    // Takes the prepared batch, waiting up to `timeout` for one.
    Take take(Batch& out, std::chrono::nanoseconds timeout) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, timeout, [this] { return prepared_.has_value() || noMoreWork_; });
        if (prepared_) {
            out = std::move(*prepared_);
            prepared_.reset();
            changed_.notify_all();
            return Take::Got;
        }
        return noMoreWork_ ? Take::Done : Take::Timeout;
    }

    // Outcomes for the ledger thread to record, in the order given.
    void giveOutcomes(Outcomes outcomes) {
        {
            std::lock_guard lock(mutex_);
            outcomes_.push_back(std::move(outcomes));
        }
        changed_.notify_all();
    }

    // The sender will give nothing more: the ledger thread records what is queued, then its
    // next() says finish. A batch still prepared is dropped.
    void close() {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
            prepared_.reset();
        }
        changed_.notify_all();
    }

    // Wakes a waiting next() or take() early (e.g. the run is stopping).
    void wake() { changed_.notify_all(); }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::optional<Batch> prepared_;
    std::deque<Outcomes> outcomes_;
    bool noMoreWork_ = false;
    bool closed_ = false;
};

}  // namespace campaignd::delivery

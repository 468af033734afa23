// unsubscribe_recorder.cpp: see unsubscribe_recorder.h.
#include "services/unsubscribe_recorder.h"

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "core/log.h"

namespace campaignd::services {

UnsubscribeRecorder::UnsubscribeRecorder(Environment environment, std::size_t maxBatch)
    : env_(std::move(environment)),
      maxBatch_(std::max<std::size_t>(maxBatch, 1)),
      recipients_(*env_.store, *env_.store, env_.clock, env_.suppressionSecret),
      web_(*env_.store, *env_.store, recipients_, env_.settings, env_.secret),
      thread_([this] { run(); }) {}

UnsubscribeRecorder::~UnsubscribeRecorder() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    if (counts_.requests > 0)
        log::info("web unsubscribes recorded", {{"REQUESTS", std::to_string(counts_.requests)},
                                                {"COMMITS", std::to_string(counts_.commits)},
                                                {"LARGEST_BATCH", std::to_string(counts_.largestBatch)}});
}

void UnsubscribeRecorder::submit(std::string token, UnsubscribeSource how, Answer answer) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(Request{std::move(token), how, std::move(answer), std::nullopt, nullptr, false});
    }
    wake_.notify_one();
}

UnsubscribeRecorder::Counts UnsubscribeRecorder::counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

void UnsubscribeRecorder::run() {
    for (;;) {
        std::deque<Request> batch;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything has been answered
            const std::size_t n = std::min(queue_.size(), maxBatch_);
            std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n), std::back_inserter(batch));
            queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
        }
        record(batch);
        for (auto& r : batch) {
            if (r.description) logWebUnsubscribe({*r.description, r.changed}, r.how);
            r.answer(std::move(r.description), r.error);
        }
    }
}

// One transaction for the batch; a request that fails alone (find(): a token that does not
// verify, a campaign or recipient deleted since) fails before it writes anything, so the others
// go on. If the commit itself fails, every request is done again in a transaction of its own.
void UnsubscribeRecorder::record(std::deque<Request>& batch) {
    std::uint64_t commits = 0;
    try {
        env_.store->transaction([&] {
            for (auto& r : batch) {
                r.description.reset();
                r.error = nullptr;
                r.changed = false;
                try {
                    auto done = web_.unsubscribe(r.token, r.how);
                    r.description = std::move(done.description);
                    r.changed = done.changed;
                } catch (const Error& e) {
                    if (e.code() != ErrorCode::NotFound && e.code() != ErrorCode::InvalidArgument) throw;
                    r.error = std::current_exception();
                }
            }
        });
        commits = 1;
    } catch (const std::exception& e) {
        log::warning(std::string("recording ") + std::to_string(batch.size()) +
                     " unsubscribes together failed; recording each alone: " + e.what());
        for (auto& r : batch) {
            recordOne(r);
            if (!r.error) ++commits;
        }
    }
    std::lock_guard lock(mutex_);
    counts_.requests += batch.size();
    counts_.commits += commits;
    counts_.largestBatch = std::max<std::uint64_t>(counts_.largestBatch, batch.size());
}

void UnsubscribeRecorder::recordOne(Request& r) {
    r.description.reset();
    r.error = nullptr;
    r.changed = false;
    try {
        env_.store->transaction([&] {
            auto done = web_.unsubscribe(r.token, r.how);
            r.description = std::move(done.description);
            r.changed = done.changed;
        });
    } catch (...) {
        r.description.reset();
        r.changed = false;
        r.error = std::current_exception();
    }
}

}  // namespace campaignd::services

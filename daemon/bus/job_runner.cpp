// job_runner.cpp: see job_runner.h. Threading: a job's thread touches only its own job, what
// its work captured, and the Shared state (its turn, its `threadDone`, under the mutex); the
// state, the result and the callbacks change only on the io thread (finish()), which the
// thread reaches by posting, and only while the runner is alive.
#include "bus/job_runner.h"

#include <boost/asio/post.hpp>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "core/thread_name.h"

namespace campaignd::bus {

using SteadyClock = std::chrono::steady_clock;

namespace {
constexpr auto kKeepFinished = std::chrono::hours(1);

std::uint64_t busNow() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

VariantMap failure(std::string_view name, const std::string& message) {
    return {{"error_name", sdbus::Variant(std::string(name))}, {"error", sdbus::Variant(message)}};
}
}  // namespace

std::string_view toString(JobState state) {
    switch (state) {
    case JobState::Running: return "running";
    case JobState::Completed: return "completed";
    case JobState::Failed: return "failed";
    case JobState::Cancelled: return "cancelled";
    }
    return "failed";
}

struct JobRunner::Job {
    std::uint64_t id = 0;
    std::string kind;
    uid_t owner = 0;
    Work work;
    Finished finished;
    std::atomic<bool> cancelRequested{false};
    std::uint64_t startedAt = busNow();
    // Set by the thread, under Shared::mutex, when its work returned.
    bool threadDone = false;
    JobState outcome = JobState::Running;
    VariantMap outcomeResult;
    // Set on the io thread when the job ends.
    JobState state = JobState::Running;
    VariantMap result;
    std::uint64_t finishedAt = 0;
    SteadyClock::time_point ended{};
    std::thread thread;
};

JobRunner::JobRunner(boost::asio::io_context& io, Finished everyJob, std::function<void()> abandon,
                     std::chrono::milliseconds grace)
    : io_(io), everyJob_(std::move(everyJob)), abandon_(std::move(abandon)), grace_(grace) {}

JobRunner::~JobRunner() {
    cancelAll();
    std::vector<std::shared_ptr<Job>> stuck;
    {
        std::unique_lock lock(shared_->mutex);
        const auto allDone = [this] {
            for (const auto& [id, job] : jobs_)
                if (job->thread.joinable() && !job->threadDone) return false;
            return true;
        };
        shared_->changed.wait_for(lock, grace_, allDone);
        for (const auto& [id, job] : jobs_)
            if (job->thread.joinable() && !job->threadDone) stuck.push_back(job);
        // From here on no thread posts to io_ or touches this object.
        shared_->alive = false;
    }
    for (const auto& [id, job] : jobs_)
        if (job->thread.joinable() && job->threadDone) job->thread.join();
    if (stuck.empty()) return;
    for (const auto& job : stuck)
        log::warning("not waiting any longer for a job: it is inside a call that cannot be interrupted "
                     "(what it had not committed is done again next time)",
                     {{"JOB_ID", std::to_string(job->id)}, {"JOB_KIND", job->kind}});
    if (abandon_) abandon_();
    for (const auto& job : stuck) job->thread.detach();
}

std::uint64_t JobRunner::start(const std::string& kind, const JobLimits& limits, uid_t owner, Work work,
                               Finished finished) {
    auto job = std::make_shared<Job>();
    {
        std::lock_guard lock(shared_->mutex);
        std::size_t running = 0;
        for (const auto& [id, j] : jobs_) running += j->kind == kind && j->state == JobState::Running;
        if (running >= limits.running + limits.waiting) throw Error(ErrorCode::InvalidState, limits.busy);
        job->id = nextId_++;
        job->kind = kind;
        job->owner = owner;
        job->work = std::move(work);
        job->finished = std::move(finished);
        jobs_[job->id] = job;
    }
    job->thread = std::thread([this, job, maxRunning = std::max<std::size_t>(limits.running, 1)] {
        nameThisThread("cd-job");
        run(job, maxRunning);
    });
    return job->id;
}

void JobRunner::run(const std::shared_ptr<Job>& job, std::size_t maxRunning) {
    const std::shared_ptr<Shared> shared = shared_;  // outlives the runner if need be
    bool turn = false;
    {
        std::unique_lock lock(shared->mutex);
        shared->changed.wait(lock, [&] { return job->cancelRequested.load() || shared->active[job->kind] < maxRunning; });
        if (!job->cancelRequested.load()) {
            ++shared->active[job->kind];
            turn = true;
        }
    }
    JobState state = JobState::Completed;
    VariantMap result;
    if (!turn) {
        state = JobState::Cancelled;
        result = failure(dbusErrorName(ErrorCode::Failed), "cancelled before it started");
    } else {
        try {
            result = job->work(JobControl(job->cancelRequested));
        } catch (const Error& e) {
            state = job->cancelRequested.load() ? JobState::Cancelled : JobState::Failed;
            result = failure(dbusErrorName(e.code()), e.what());
        } catch (const std::exception& e) {
            state = job->cancelRequested.load() ? JobState::Cancelled : JobState::Failed;
            result = failure(dbusErrorName(ErrorCode::Failed), e.what());
        }
        job->work = nullptr;  // what it captured (descriptors, stores) goes now, on this thread
    }
    {
        std::lock_guard lock(shared->mutex);
        if (turn) --shared->active[job->kind];
        job->threadDone = true;
        job->outcome = state;
        job->outcomeResult = std::move(result);
        if (shared->alive) boost::asio::post(io_, [this, job, shared] {
            if (shared->alive) finish(job);
        });
    }
    shared->changed.notify_all();
}

void JobRunner::finish(const std::shared_ptr<Job>& job) {
    if (job->thread.joinable()) job->thread.join();
    {
        std::lock_guard lock(shared_->mutex);
        job->state = job->outcome;
        job->result = std::move(job->outcomeResult);
        job->finishedAt = busNow();
        job->ended = SteadyClock::now();
    }
    const JobSnapshot s = snapshot(*job);
    if (job->finished) job->finished(s);
    job->finished = nullptr;
    if (everyJob_) everyJob_(s);
    forgetOld();
}

void JobRunner::forgetOld() {
    std::lock_guard lock(shared_->mutex);
    const auto now = SteadyClock::now();
    for (auto it = jobs_.begin(); it != jobs_.end();) {
        if (it->second->state != JobState::Running && now - it->second->ended > kKeepFinished)
            it = jobs_.erase(it);
        else
            ++it;
    }
}

JobSnapshot JobRunner::snapshot(const Job& job) {
    return {job.id, job.kind, job.state, job.owner, job.startedAt, job.finishedAt, job.result};
}

std::optional<JobSnapshot> JobRunner::find(std::uint64_t id) const {
    std::lock_guard lock(shared_->mutex);
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    return snapshot(*it->second);
}

std::optional<std::uint64_t> JobRunner::runningOf(std::string_view kind) const {
    std::lock_guard lock(shared_->mutex);
    for (const auto& [id, job] : jobs_)
        if (job->kind == kind && job->state == JobState::Running) return id;
    return std::nullopt;
}

void JobRunner::cancel(std::uint64_t id) {
    {
        std::lock_guard lock(shared_->mutex);
        const auto it = jobs_.find(id);
        if (it == jobs_.end()) throw Error(ErrorCode::NotFound, "no job with id " + std::to_string(id));
        if (it->second->state != JobState::Running)
            throw Error(ErrorCode::InvalidState,
                        "job " + std::to_string(id) + " is " + std::string(toString(it->second->state)));
        it->second->cancelRequested = true;
    }
    shared_->changed.notify_all();
}

void JobRunner::cancelAll() {
    {
        std::lock_guard lock(shared_->mutex);
        for (auto& [id, job] : jobs_) job->cancelRequested = true;
    }
    shared_->changed.notify_all();
}

}  // namespace campaignd::bus

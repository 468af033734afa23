// job_runner.h: long bus calls as jobs (systemd-importd's transfers). A handler checks its
// arguments and the caller's rights on the bus thread, then start()s the work: the call returns
// the job's id at once, the work runs on a thread of its own (with its own store; it never
// touches the bus) and its end reaches the io thread, which owns the bus connection, as the
// job's own callback and then the runner's (Manager.JobFinished). A finished job is kept for
// find() an hour. cancel() sets a flag the work polls. Refuses: more jobs of a kind than its
// limits allow. Destruction cancels every job and waits a few seconds; a job still inside a
// call that cannot be interrupted (a plugin's network wait) is then left to `abandon`.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/io_context.hpp>

#include "bus/variant_map.h"

namespace campaignd::bus {

enum class JobState { Running, Completed, Failed, Cancelled };
// "running", "completed", "failed", "cancelled"
std::string_view toString(JobState state);

// What a job's work sees of its job. Safe to use from the job's thread.
class JobControl {
public:
    explicit JobControl(const std::atomic<bool>& cancelRequested) : cancelRequested_(cancelRequested) {}
    bool cancelled() const { return cancelRequested_.load(); }

private:
    const std::atomic<bool>& cancelRequested_;
};

// How many jobs of one kind may run at once, and how many more may wait for their turn.
struct JobLimits {
    std::size_t running = 1;
    std::size_t waiting = 0;
    std::string busy;  // the InvalidState message when both are taken
};

// A job as find() shows it.
struct JobSnapshot {
    std::uint64_t id = 0;
    std::string kind;
    JobState state = JobState::Running;
    uid_t owner = 0;
    std::uint64_t startedAt = 0;   // bus time (microseconds since the epoch)
    std::uint64_t finishedAt = 0;  // 0 while running
    // What the work returned; for a failed or cancelled job: error_name s, error s.
    VariantMap result;
};

class JobRunner {
public:
    // The work: runs on the job's thread; what it returns is the job's result. An Error it
    // throws fails the job with the error's D-Bus name and message (cancelled instead when a
    // cancel was requested); so does any other exception, as Failed.
    using Work = std::function<VariantMap(const JobControl&)>;
    // Called on the io thread when a job ends.
    using Finished = std::function<void(const JobSnapshot& job)>;

    // `everyJob` is called for every job that ends, after the job's own callback. `abandon` is
    // called by the destructor when a job's thread did not end within the grace period, before
    // the runner lets go of it; it should end the process (the thread may still use the plugins
    // and stores that are destroyed after the runner). Unset: such a thread is detached.
    JobRunner(boost::asio::io_context& io, Finished everyJob, std::function<void()> abandon = {},
              std::chrono::milliseconds grace = std::chrono::seconds(3));
    ~JobRunner();  // after the io_context stopped: cancels, joins (see `abandon`)
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    // Call on the io thread. Starts `work` as a job of `kind` for the user `owner`; returns its
    // id. Error(InvalidState, limits.busy) when `kind` has limits.running + limits.waiting jobs
    // already; beyond limits.running the job's thread waits for a turn (it is "running").
    std::uint64_t start(const std::string& kind, const JobLimits& limits, uid_t owner, Work work,
                        Finished finished = {});

    // The job, or nullopt for an unknown (or long finished) id.
    std::optional<JobSnapshot> find(std::uint64_t id) const;
    // The id of a running job of `kind`, if any (the oldest).
    std::optional<std::uint64_t> runningOf(std::string_view kind) const;
    // Error(NotFound) for an unknown id; Error(InvalidState) when it is not running.
    void cancel(std::uint64_t id);
    void cancelAll();

private:
    struct Job;
    // What a job's thread shares with the runner; the thread holds it too, so a thread let go
    // of by the destructor touches nothing of the runner that is gone.
    struct Shared {
        std::mutex mutex;
        std::condition_variable changed;  // a turn was freed, a cancel requested, a thread ended
        std::map<std::string, std::size_t, std::less<>> active;  // per kind: threads past their turn
        std::atomic<bool> alive{true};  // false once the destructor let go of the running threads
    };

    void run(const std::shared_ptr<Job>& job, std::size_t maxRunning);
    void finish(const std::shared_ptr<Job>& job);
    void forgetOld();
    static JobSnapshot snapshot(const Job& job);

    boost::asio::io_context& io_;
    Finished everyJob_;
    std::function<void()> abandon_;
    std::chrono::milliseconds grace_;
    std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
    // Under shared_->mutex:
    std::uint64_t nextId_ = 1;
    std::map<std::uint64_t, std::shared_ptr<Job>> jobs_;
};

}  // namespace campaignd::bus

// job_runner_test.cpp: the JobRunner that long bus calls run on (daemon/bus/job_runner.h),
// without a bus: the test thread plays the io thread. A job's result, its failure (with the
// error's D-Bus name) and its cancellation reach the callbacks there and stay visible to
// find(); a kind's limits queue and then refuse jobs; a job stuck past the grace period at
// destruction is handed to `abandon` instead of hanging the daemon's stop.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "bus/job_runner.h"
#include "core/error.h"

namespace campaignd::bus {
namespace {

using namespace std::chrono_literals;

class JobRunnerTest : public ::testing::Test {
protected:
    // Runs the io_context until `done` holds (at most 10 s).
    template <typename Condition>
    bool runUntil(Condition done) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            io_.restart();
            io_.run_for(20ms);
        }
        return true;
    }

    boost::asio::io_context io_;
    std::vector<JobSnapshot> ended_;
};

TEST_F(JobRunnerTest, AJobsResultReachesBothCallbacksOnTheIoThread) {
    const auto ioThread = std::this_thread::get_id();
    std::vector<std::string> calls;
    JobRunner jobs(io_, [&](const JobSnapshot& j) {
        EXPECT_EQ(std::this_thread::get_id(), ioThread);
        calls.push_back("every");
        ended_.push_back(j);
    });
    std::thread::id workThread;
    const auto id = jobs.start("test", {}, 1000, [&](const JobControl&) {
        workThread = std::this_thread::get_id();
        return VariantMap{{"count", sdbus::Variant(std::uint64_t{7})}};
    }, [&](const JobSnapshot&) { calls.push_back("own"); });
    EXPECT_EQ(jobs.find(id)->state, JobState::Running);
    ASSERT_TRUE(runUntil([&] { return !ended_.empty(); }));
    EXPECT_NE(workThread, ioThread);
    EXPECT_EQ(calls, (std::vector<std::string>{"own", "every"}));
    const auto job = jobs.find(id);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->state, JobState::Completed);
    EXPECT_EQ(job->kind, "test");
    EXPECT_EQ(job->owner, 1000u);
    EXPECT_GT(job->finishedAt, 0u);
    EXPECT_EQ(job->result.at("count").get<std::uint64_t>(), 7u);
    EXPECT_FALSE(jobs.find(id + 1));
}

TEST_F(JobRunnerTest, AnErrorFailsTheJobWithItsDbusNameAndMessage) {
    JobRunner jobs(io_, [&](const JobSnapshot& j) { ended_.push_back(j); });
    jobs.start("test", {}, 0, [](const JobControl&) -> VariantMap {
        throw Error(ErrorCode::InvalidArgument, "not a mail message: the input is empty");
    });
    ASSERT_TRUE(runUntil([&] { return !ended_.empty(); }));
    EXPECT_EQ(ended_[0].state, JobState::Failed);
    EXPECT_EQ(ended_[0].result.at("error_name").get<std::string>(), "org.campaignd.Campaignd1.Error.InvalidArgument");
    EXPECT_EQ(ended_[0].result.at("error").get<std::string>(), "not a mail message: the input is empty");
}

TEST_F(JobRunnerTest, CancelIsSeenByTheWorkAndEndsTheJobCancelled) {
    JobRunner jobs(io_, [&](const JobSnapshot& j) { ended_.push_back(j); });
    const auto id = jobs.start("test", {}, 0, [](const JobControl& control) -> VariantMap {
        while (!control.cancelled()) std::this_thread::sleep_for(5ms);
        throw Error(ErrorCode::Failed, "stopped");
    });
    jobs.cancel(id);
    ASSERT_TRUE(runUntil([&] { return !ended_.empty(); }));
    EXPECT_EQ(ended_[0].state, JobState::Cancelled);
    EXPECT_EQ(toString(ended_[0].state), "cancelled");
    try {
        jobs.cancel(id);
        FAIL() << "a finished job was cancelled";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidState);
    }
    try {
        jobs.cancel(id + 1);
        FAIL() << "an unknown job was cancelled";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotFound);
    }
}

TEST_F(JobRunnerTest, AKindsLimitsQueueThenRefuseJobs) {
    JobRunner jobs(io_, [&](const JobSnapshot& j) { ended_.push_back(j); });
    auto release = std::make_shared<std::atomic<bool>>(false);
    auto inside = std::make_shared<std::atomic<int>>(0);
    auto most = std::make_shared<std::atomic<int>>(0);
    auto work = [release, inside, most](const JobControl&) {
        const int now = ++*inside;
        if (now > *most) *most = now;
        while (!*release) std::this_thread::sleep_for(5ms);
        --*inside;
        return VariantMap{};
    };
    const JobLimits limits{1, 1, "busy: try later"};
    const auto first = jobs.start("k", limits, 0, work);
    const auto second = jobs.start("k", limits, 0, work);
    try {
        jobs.start("k", limits, 0, work);
        FAIL() << "a third job was taken";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidState);
        EXPECT_STREQ(e.what(), "busy: try later");
    }
    EXPECT_EQ(jobs.runningOf("k"), first);
    // Another kind has limits of its own.
    jobs.start("other", limits, 0, [](const JobControl&) { return VariantMap{}; });
    ASSERT_TRUE(runUntil([&] { return ended_.size() == 1; }));
    *release = true;
    ASSERT_TRUE(runUntil([&] { return ended_.size() == 3; }));
    EXPECT_EQ(most->load(), 1) << "the waiting job ran while the first did";
    EXPECT_EQ(jobs.find(second)->state, JobState::Completed);
    EXPECT_FALSE(jobs.runningOf("k"));
}

TEST_F(JobRunnerTest, AJobWaitingForItsTurnIsCancelledWithoutRunning) {
    JobRunner jobs(io_, [&](const JobSnapshot& j) { ended_.push_back(j); });
    auto release = std::make_shared<std::atomic<bool>>(false);
    auto firstRunning = std::make_shared<std::atomic<bool>>(false);
    jobs.start("k", {1, 1, "busy"}, 0, [release, firstRunning](const JobControl&) {
        *firstRunning = true;
        while (!*release) std::this_thread::sleep_for(5ms);
        return VariantMap{};
    });
    // The first job has its turn before the second is queued (threads start in any order).
    ASSERT_TRUE(runUntil([&] { return firstRunning->load(); }));
    auto ran = std::make_shared<std::atomic<bool>>(false);
    const auto waiting = jobs.start("k", {1, 1, "busy"}, 0, [ran](const JobControl&) {
        *ran = true;
        return VariantMap{};
    });
    jobs.cancel(waiting);
    ASSERT_TRUE(runUntil([&] { return ended_.size() == 1; }));
    EXPECT_EQ(ended_[0].id, waiting);
    EXPECT_EQ(ended_[0].state, JobState::Cancelled);
    EXPECT_FALSE(*ran);
    *release = true;
    ASSERT_TRUE(runUntil([&] { return ended_.size() == 2; }));
}

TEST_F(JobRunnerTest, DestructionCancelsJobsAndAbandonsOnlyAStuckOne) {
    auto release = std::make_shared<std::atomic<bool>>(false);
    auto stuckEnded = std::make_shared<std::atomic<bool>>(false);
    auto politeSawCancel = std::make_shared<std::atomic<bool>>(false);
    auto running = std::make_shared<std::atomic<int>>(0);
    int abandoned = 0;
    std::chrono::steady_clock::time_point started;
    {
        JobRunner jobs(io_, {}, [&] { ++abandoned; }, 200ms);
        jobs.start("polite", {}, 0, [politeSawCancel, running](const JobControl& control) {
            ++*running;
            while (!control.cancelled()) std::this_thread::sleep_for(5ms);
            *politeSawCancel = true;
            return VariantMap{};
        });
        // A plugin call that cannot be interrupted: it ignores the cancel.
        jobs.start("stuck", {}, 0, [release, stuckEnded, running](const JobControl&) {
            ++*running;
            while (!*release) std::this_thread::sleep_for(5ms);
            *stuckEnded = true;
            return VariantMap{};
        });
        // Both are inside their work before the runner goes (a job cancelled before its turn
        // never runs, which another test shows).
        ASSERT_TRUE(runUntil([&] { return running->load() == 2; }));
        started = std::chrono::steady_clock::now();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "the destructor waited for the stuck job";
    EXPECT_TRUE(*politeSawCancel);
    EXPECT_EQ(abandoned, 1);
    // The detached thread still ends (it must not touch the runner).
    *release = true;
    for (int i = 0; i < 400 && !*stuckEnded; ++i) std::this_thread::sleep_for(5ms);
    EXPECT_TRUE(*stuckEnded);
}

}  // namespace
}  // namespace campaignd::bus

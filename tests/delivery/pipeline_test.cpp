// pipeline_test.cpp: WorkerPipeline, the hand-off between a sending worker's sender thread and
// its ledger thread, on real threads: batches reach the sender in order and at most one waits
// ahead; every outcome given is handed to the ledger side, in order, before it is told to
// finish, also after close(); a batch offered after close() is dropped; "no more work" ends
// the sender's loop only after it took every prepared batch. Waits are bounded (generous
// timeouts) and the checks are on what arrived, never on how long it took.
#include "delivery/pipeline.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace campaignd::delivery {
namespace {

using namespace std::chrono_literals;
using Pipe = WorkerPipeline<int, std::vector<int>>;

TEST(WorkerPipeline, LedgerIsAskedToPrepareOnlyWhileThereIsRoom) {
    Pipe pipe;
    auto t = pipe.next(Pipe::Clock::now(), 1s);
    ASSERT_TRUE(t.prepare);
    pipe.offer(1);
    // One batch is waiting: no second one is asked for; the wait ends empty.
    t = pipe.next(Pipe::Clock::now(), 50ms);
    EXPECT_FALSE(t.prepare);
    EXPECT_FALSE(t.outcomes);
    EXPECT_FALSE(t.finish);
    int got = 0;
    ASSERT_EQ(pipe.take(got, 1s), Pipe::Take::Got);
    EXPECT_EQ(got, 1);
    EXPECT_TRUE(pipe.next(Pipe::Clock::now(), 1s).prepare);
}

TEST(WorkerPipeline, PrepareWaitsForItsTimeButOutcomesDoNot) {
    Pipe pipe;
    const auto later = Pipe::Clock::now() + 1h;
    EXPECT_FALSE(pipe.next(later, 20ms).prepare);
    pipe.giveOutcomes({7});
    const auto t = pipe.next(later, 10s);
    ASSERT_TRUE(t.outcomes);
    EXPECT_EQ(*t.outcomes, std::vector<int>{7});
}

TEST(WorkerPipeline, OutcomesComeFirstAndInOrderThenFinishAfterClose) {
    Pipe pipe;
    pipe.giveOutcomes({1});
    pipe.giveOutcomes({2, 3});
    pipe.close();
    auto t = pipe.next(Pipe::Clock::now(), 1s);
    ASSERT_TRUE(t.outcomes);
    EXPECT_EQ(*t.outcomes, std::vector<int>{1});
    t = pipe.next(Pipe::Clock::now(), 1s);
    ASSERT_TRUE(t.outcomes);
    EXPECT_EQ(*t.outcomes, (std::vector<int>{2, 3}));
    t = pipe.next(Pipe::Clock::now(), 1s);
    EXPECT_TRUE(t.finish);
    EXPECT_FALSE(t.prepare);
}

TEST(WorkerPipeline, BatchOfferedAfterCloseIsDroppedAndNoMoreWorkEndsTheSenderAfterTheLastBatch) {
    Pipe closed;
    closed.close();
    closed.offer(5);
    int got = 0;
    EXPECT_EQ(closed.take(got, 20ms), Pipe::Take::Timeout);

    Pipe pipe;
    pipe.offer(9);
    pipe.announceNoMoreWork();
    ASSERT_EQ(pipe.take(got, 1s), Pipe::Take::Got);
    EXPECT_EQ(got, 9);
    EXPECT_EQ(pipe.take(got, 1s), Pipe::Take::Done);
    EXPECT_FALSE(pipe.next(Pipe::Clock::now(), 20ms).prepare);
}

// The two sides on their own threads, as the engine runs them: every batch prepared is sent
// exactly once and in order, every outcome given is recorded exactly once and in order, and
// the ledger side ends only after it recorded the last one.
TEST(WorkerPipeline, ThreadsExchangeEveryBatchAndEveryOutcomeExactlyOnce) {
    constexpr int kBatches = 2000;
    Pipe pipe;
    std::vector<int> recorded;
    std::thread ledger([&] {
        int next = 0;
        for (;;) {
            auto t = pipe.next(Pipe::Clock::now(), 10s);
            if (t.outcomes) {
                recorded.insert(recorded.end(), t.outcomes->begin(), t.outcomes->end());
                continue;
            }
            if (t.finish) return;
            if (!t.prepare) continue;
            if (next == kBatches) {
                pipe.announceNoMoreWork();
                continue;
            }
            pipe.offer(next++);
        }
    });
    std::vector<int> sent;
    for (;;) {
        int b = -1;
        const auto r = pipe.take(b, 10s);
        if (r == Pipe::Take::Done) break;
        ASSERT_EQ(r, Pipe::Take::Got);
        sent.push_back(b);
        pipe.giveOutcomes({b});
    }
    pipe.close();
    ledger.join();
    ASSERT_EQ(sent.size(), std::size_t(kBatches));
    ASSERT_EQ(recorded.size(), std::size_t(kBatches));
    for (int i = 0; i < kBatches; ++i) {
        EXPECT_EQ(sent[std::size_t(i)], i);
        EXPECT_EQ(recorded[std::size_t(i)], i);
    }
}

}  // namespace
}  // namespace campaignd::delivery

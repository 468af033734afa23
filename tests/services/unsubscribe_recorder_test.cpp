// unsubscribe_recorder_test.cpp: campaignd-web's unsubscribes in group commits
// (services/unsubscribe_recorder.h) against a real SQLite database, the recorder on a store of
// its own as in the daemon: requests that arrive while a commit cannot run are committed
// together, each is answered once with what WebService says, a token that does not verify
// fails alone, and nothing queued is lost when the recorder stops.
#include "services/unsubscribe_recorder.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "mail/verp.h"
#include "service_fixture.h"

namespace campaignd::services::test {
namespace {

constexpr const char* kSecret = "a test secret of 32 octets......";

class UnsubscribeRecorderTest : public ServiceTest {
protected:
    struct Answered {
        std::optional<TokenDescription> description;
        std::string error;  // the Error's message, "" when it succeeded
        ErrorCode code = ErrorCode::Failed;
    };

    UnsubscribeRecorder::Environment environment() {
        return {storage::openStore("sqlite:" + (dir / "campaignd.db").string()), clock, kSecret,
                [](const Campaign&) {
                    mail::MessageSettings s;
                    s.defaultFrom = "News Team <news@example.org>";
                    return s;
                },
                [] { return std::string(kSecret); }};
    }

    UnsubscribeRecorder::Answer collect(std::size_t index) {
        return [this, index](std::optional<TokenDescription> d, std::exception_ptr error) {
            Answered a;
            a.description = std::move(d);
            if (error) {
                try {
                    std::rethrow_exception(error);
                } catch (const Error& e) {
                    a.error = e.what();
                    a.code = e.code();
                } catch (const std::exception& e) {
                    a.error = e.what();
                }
            }
            std::lock_guard lock(mutex);
            ASSERT_FALSE(answers[index].has_value()) << "request " << index << " answered twice";
            answers[index] = std::move(a);
            ++answered;
            done.notify_all();
        };
    }

    // Waits (bounded, so that a lost answer fails instead of hanging) for `n` answers.
    bool waitForAnswers(std::size_t n) {
        std::unique_lock lock(mutex);
        return done.wait_for(lock, std::chrono::seconds(30), [&] { return answered >= n; });
    }

    std::vector<Recipient> people(std::size_t n) {
        std::vector<Recipient> list;
        for (std::size_t i = 0; i < n; ++i) list.push_back(person("p" + std::to_string(i) + "@example.org"));
        return list;
    }

    std::mutex mutex;
    std::condition_variable done;
    std::map<std::size_t, std::optional<Answered>> answers;
    std::size_t answered = 0;
};

TEST_F(UnsubscribeRecorderTest, RequestsThatArriveWhileTheDatabaseIsBusyAreCommittedTogether) {
    const Campaign c = draft();
    const auto list = people(20);
    UnsubscribeRecorder recorder(environment());
    // The test's own connection holds the write lock: the recorder's first transaction waits
    // for it, and every request submitted meanwhile queues behind it.
    store->transaction([&] {
        person("holder@example.org");
        for (std::size_t i = 0; i < list.size(); ++i)
            recorder.submit(mail::publicToken(kSecret, c.id, list[i].id), UnsubscribeSource::OneClick, collect(i));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    });
    ASSERT_TRUE(waitForAnswers(list.size()));

    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& a = answers[i];
        ASSERT_TRUE(a.has_value());
        ASSERT_EQ(a->error, "") << i;
        ASSERT_TRUE(a->description.has_value());
        EXPECT_EQ(a->description->recipientId, list[i].id);
        EXPECT_EQ(a->description->campaignId, c.id);
        EXPECT_TRUE(a->description->unsubscribed);
        EXPECT_EQ(a->description->sender, "News Team");
        const Recipient after = recipients.get(list[i].email);
        EXPECT_EQ(after.status, SubscriptionStatus::Unsubscribed) << list[i].email;
        const auto record = store->lastUnsubscribe(list[i].id);
        ASSERT_TRUE(record.has_value());
        EXPECT_EQ(record->source, UnsubscribeSource::OneClick);
        EXPECT_EQ(record->campaignId, std::optional<Id>(c.id));
    }
    const auto counts = recorder.counts();
    EXPECT_EQ(counts.requests, list.size());
    // One commit for what the recorder took before the write lock stopped it (the first
    // request, or the first few: however the threads were scheduled), one for all the others,
    // which arrived while it waited: a commit per request would be 20.
    EXPECT_LE(counts.commits, 2u);
    EXPECT_GE(counts.largestBatch, list.size() / 2);
}

TEST_F(UnsubscribeRecorderTest, ATokenThatDoesNotVerifyFailsAloneAndTheRestOfItsBatchIsRecorded) {
    const Campaign c = draft();
    const auto list = people(3);
    UnsubscribeRecorder recorder(environment());
    std::string forged = mail::publicToken(kSecret, c.id, list[1].id);
    forged.back() = forged.back() == 'a' ? 'b' : 'a';
    store->transaction([&] {
        person("holder@example.org");
        recorder.submit(mail::publicToken(kSecret, c.id, list[0].id), UnsubscribeSource::Page, collect(0));
        recorder.submit(forged, UnsubscribeSource::Page, collect(1));
        recorder.submit(mail::publicToken(kSecret, c.id + 100, list[2].id), UnsubscribeSource::Page, collect(2));
        recorder.submit(mail::publicToken(kSecret, c.id, list[2].id), UnsubscribeSource::Page, collect(3));
    });
    ASSERT_TRUE(waitForAnswers(4));

    EXPECT_EQ(answers[0]->error, "");
    EXPECT_EQ(answers[1]->code, ErrorCode::NotFound);
    EXPECT_FALSE(answers[1]->description.has_value());
    EXPECT_EQ(answers[2]->code, ErrorCode::NotFound);  // a campaign that does not exist
    EXPECT_EQ(answers[3]->error, "");
    EXPECT_EQ(recipients.get(list[0].email).status, SubscriptionStatus::Unsubscribed);
    EXPECT_EQ(recipients.get(list[1].email).status, SubscriptionStatus::Subscribed);
    EXPECT_EQ(recipients.get(list[2].email).status, SubscriptionStatus::Unsubscribed);
    EXPECT_EQ(store->lastUnsubscribe(list[2].id)->source, UnsubscribeSource::Page);
}

TEST_F(UnsubscribeRecorderTest, TheSameRecipientTwiceInOneBatchIsRecordedOnceAndBothAreAnswered) {
    const Campaign c = draft();
    const auto list = people(1);
    UnsubscribeRecorder recorder(environment());
    const std::string token = mail::publicToken(kSecret, c.id, list[0].id);
    store->transaction([&] {
        person("holder@example.org");
        recorder.submit(token, UnsubscribeSource::OneClick, collect(0));
        recorder.submit(token, UnsubscribeSource::Page, collect(1));
    });
    ASSERT_TRUE(waitForAnswers(2));
    EXPECT_EQ(answers[0]->error, "");
    EXPECT_EQ(answers[1]->error, "");
    EXPECT_TRUE(answers[1]->description->unsubscribed);
    // The first one's record stands (an old link or a second press changes nothing).
    EXPECT_EQ(store->lastUnsubscribe(list[0].id)->source, UnsubscribeSource::OneClick);
}

TEST_F(UnsubscribeRecorderTest, WhatIsQueuedWhenTheRecorderStopsIsRecordedAndAnswered) {
    const Campaign c = draft();
    const auto list = people(10);
    {
        UnsubscribeRecorder recorder(environment());
        store->transaction([&] {
            person("holder@example.org");
            for (std::size_t i = 0; i < list.size(); ++i)
                recorder.submit(mail::publicToken(kSecret, c.id, list[i].id), UnsubscribeSource::OneClick,
                                collect(i));
        });
    }  // stops here, with requests possibly still queued
    EXPECT_EQ(answered, list.size());
    for (const auto& r : list) EXPECT_EQ(recipients.get(r.email).status, SubscriptionStatus::Unsubscribed);
}

}  // namespace
}  // namespace campaignd::services::test

// async_session_test.cpp: AsyncSession (ABI 1.6 submit) through the "transport" test plugin,
// which reports from a thread of its own, and through "transport-send" (the same plugin built
// without submit), which the host drives through send() on a thread of the session. Whatever
// the plugin does, every message submitted gets exactly one result; after an end nothing more
// is taken; close reports what was never written as not handed over.
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "plugin_host_fixture.h"

namespace {

using campaignd::plugins::AsyncEvents;
using campaignd::plugins::AsyncSession;
using campaignd::plugins::DeliveryOutcome;
using campaignd::plugins::DeliveryResult;
using campaignd::plugins::OutgoingMessage;
using campaignd::plugins::SendStatus;
using campaignd::plugins::TransportStatus;

// What the events said, collected across threads.
struct Seen {
    std::mutex mutex;
    std::condition_variable changed;
    std::map<std::uint64_t, std::vector<DeliveryOutcome>> results;
    std::vector<SendStatus> ends;
    std::thread::id lastThread;

    AsyncEvents events() {
        return {[this](const DeliveryResult& r) {
                    std::lock_guard lock(mutex);
                    results[r.token].push_back(r.outcome);
                    lastThread = std::this_thread::get_id();
                    changed.notify_all();
                },
                [this](const SendStatus& s) {
                    std::lock_guard lock(mutex);
                    ends.push_back(s);
                    changed.notify_all();
                }};
    }
    // Waits (bounded, for a broken build not to hang) until n tokens have a result.
    bool waitFor(std::size_t n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, std::chrono::seconds(30), [&] { return results.size() >= n; });
    }
    std::size_t count(DeliveryOutcome o) {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (const auto& [token, outcomes] : results) n += outcomes.size() == 1 && outcomes[0] == o;
        return n;
    }
    bool eachOnce() {
        std::lock_guard lock(mutex);
        for (const auto& [token, outcomes] : results)
            if (outcomes.size() != 1) return false;
        return true;
    }
};

class AsyncSessionTest : public PluginHostTest, public ::testing::WithParamInterface<const char*> {
protected:
    void SetUp() override {
        PluginHostTest::SetUp();
        install(TEST_PLUGIN_TRANSPORT, "transport.so");
        install(TEST_PLUGIN_TRANSPORT_SEND, "transport-send.so");
        host_ = std::make_unique<PluginHost>(dir_, lookup());
        host_->start();
    }
    void TearDown() override {
        host_.reset();
        PluginHostTest::TearDown();
    }
    std::unique_ptr<AsyncSession> open(Seen& seen, const std::map<std::string, std::string>& settings = {}) {
        return host_->transport(GetParam())->openAsync("campaign-mail", settings, seen.events());
    }
    // Messages with tokens first, first+1, ... to the recipients.
    std::vector<OutgoingMessage> batch(std::uint64_t first, const std::vector<std::string>& recipients) {
        std::vector<OutgoingMessage> out;
        for (std::size_t i = 0; i < recipients.size(); ++i) {
            OutgoingMessage m;
            m.token = first + i;
            m.envelopeFrom = "bounces@example.org";
            m.recipient = recipients[i];
            m.messageId = "<" + std::to_string(first + i) + "@campaignd>";
            m.data = data_;
            out.push_back(std::move(m));
        }
        return out;
    }
    std::vector<std::string> many(std::size_t n, const std::string& who = "a@example.org") {
        return std::vector<std::string>(n, who);
    }

    std::string data_ = "Subject: hi\r\n\r\nHello\r\n";
    std::unique_ptr<PluginHost> host_;
};

TEST_P(AsyncSessionTest, SubmitReturnsAndEveryMessageGetsItsOwnResultFromAnotherThread) {
    Seen seen;
    auto session = open(seen);
    EXPECT_EQ(session->native(), std::string(GetParam()) == "transport");
    std::string data(100000, 'x');  // copied by submit: this buffer goes before the results come
    {
        auto first = batch(1, {"a@example.org", "defer@example.org", "fail@example.org", "unknown@example.org"});
        std::string scratch = data;
        for (auto& m : first) m.data = scratch;
        ASSERT_TRUE(session->submit(first).ok());
        scratch.assign(scratch.size(), '\0');
    }
    ASSERT_TRUE(session->submit(batch(5, many(96))).ok());
    ASSERT_TRUE(seen.waitFor(100));
    EXPECT_TRUE(seen.eachOnce());
    EXPECT_EQ(seen.count(DeliveryOutcome::Sent), 97u);
    EXPECT_EQ(seen.results[2], std::vector<DeliveryOutcome>{DeliveryOutcome::Deferred});
    EXPECT_EQ(seen.results[3], std::vector<DeliveryOutcome>{DeliveryOutcome::Failed});
    EXPECT_EQ(seen.results[4], std::vector<DeliveryOutcome>{DeliveryOutcome::Unknown});
    EXPECT_TRUE(seen.lastThread != std::this_thread::get_id());  // (thread::id does not print here)
    EXPECT_EQ(session->outstanding(), 0u);
    session.reset();
    EXPECT_TRUE(seen.ends.empty());  // a plain close is no end
}

TEST_P(AsyncSessionTest, AnEndReportsWhatWasNotWrittenAsNotHandedOverAndRefusesTheNext) {
    Seen seen;
    // The send() plugin fails at index 3 of its batch; the submit one ends after 3 results.
    auto session = open(seen, {{"EndAt", "3"}, {"FailAt", "3"}, {"FailStatus", "auth"}});
    ASSERT_TRUE(session->submit(batch(1, many(10))).ok());
    ASSERT_TRUE(seen.waitFor(10));
    {
        std::unique_lock lock(seen.mutex);
        ASSERT_TRUE(seen.changed.wait_for(lock, std::chrono::seconds(30), [&] { return !seen.ends.empty(); }));
    }
    EXPECT_TRUE(seen.eachOnce());
    EXPECT_EQ(seen.count(DeliveryOutcome::Sent), 3u);
    EXPECT_EQ(seen.count(DeliveryOutcome::NotHandedOver), 7u);
    ASSERT_EQ(seen.ends.size(), 1u);
    EXPECT_EQ(seen.ends[0].status, TransportStatus::Auth);
    // Taken no more: reported not handed over at once, with the end's status.
    const SendStatus again = session->submit(batch(100, many(2)));
    EXPECT_EQ(again.status, TransportStatus::Auth);
    EXPECT_EQ(seen.results[100], std::vector<DeliveryOutcome>{DeliveryOutcome::NotHandedOver});
    EXPECT_EQ(seen.results[101], std::vector<DeliveryOutcome>{DeliveryOutcome::NotHandedOver});
    session.reset();
    EXPECT_EQ(seen.ends.size(), 1u);
}

TEST_P(AsyncSessionTest, ClosingWithMessagesNeverWrittenReportsThemNotHandedOver) {
    Seen seen;
    auto session = open(seen, {{"Hold", "yes"}});
    if (!session->native()) {
        // The send() thread may be inside send() with some: it is enough that all are answered
        // once, and only what never reached send() is not handed over.
        ASSERT_TRUE(session->submit(batch(1, many(5))).ok());
        session.reset();
        EXPECT_EQ(seen.results.size(), 5u);
        EXPECT_TRUE(seen.eachOnce());
        EXPECT_EQ(seen.count(DeliveryOutcome::Sent) + seen.count(DeliveryOutcome::NotHandedOver), 5u);
        return;
    }
    ASSERT_TRUE(session->submit(batch(1, many(5))).ok());
    EXPECT_EQ(session->outstanding(), 5u);
    session.reset();
    EXPECT_EQ(seen.count(DeliveryOutcome::NotHandedOver), 5u);
    EXPECT_TRUE(seen.eachOnce());
    EXPECT_TRUE(seen.ends.empty());
}

TEST_P(AsyncSessionTest, ARefusedSubmitTakesNothingAndReportsItNotHandedOver) {
    if (std::string(GetParam()) != "transport") GTEST_SKIP() << "send() plugins have no submit to refuse";
    Seen seen;
    auto session = open(seen, {{"SubmitStatus", "tls"}});
    const SendStatus s = session->submit(batch(1, many(3)));
    EXPECT_EQ(s.status, TransportStatus::Tls);
    EXPECT_NE(s.message.find("SubmitStatus=tls"), std::string::npos) << s.message;
    EXPECT_EQ(seen.count(DeliveryOutcome::NotHandedOver), 3u);
    EXPECT_EQ(session->outstanding(), 0u);
    EXPECT_EQ(session->submit(batch(10, many(1))).status, TransportStatus::Tls);
}

TEST_P(AsyncSessionTest, ATokenStillOutstandingAndMalformedMessagesAreRefusedBeforeThePlugin) {
    Seen seen;
    auto session = open(seen, {{"Hold", "yes"}});
    if (session->native()) {  // the send() thread answers at once: nothing stays outstanding
        ASSERT_TRUE(session->submit(batch(1, many(2))).ok());
        EXPECT_THROW(session->submit(batch(2, many(1))), std::invalid_argument);
    }
    auto bad = batch(50, {"x@example.org\r\nRCPT TO:<y@example.org>"});
    EXPECT_THROW(session->submit(bad), std::exception);
    EXPECT_FALSE(seen.results.contains(50));
}

INSTANTIATE_TEST_SUITE_P(Plugins, AsyncSessionTest, ::testing::Values("transport", "transport-send"),
                         [](const auto& info) { return std::string(info.param) == "transport" ? "submit" : "send"; });

}  // namespace

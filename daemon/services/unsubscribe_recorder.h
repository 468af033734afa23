// unsubscribe_recorder.h: campaignd-web's unsubscribes, recorded in group commits. Each one
// must be durable before it is answered (a provider that got its 200 will not ask again), and a
// durable commit costs an fsync: one commit per unsubscribe on the bus thread held a wave of
// one-click POSTs to about 1,000 a second (BENCHMARKS.md). Here the bus thread only submit()s;
// a thread of the recorder's own, with a store of its own, takes every request that has arrived
// while its previous commit ran, records them all in one transaction through WebService (the
// same rules as one at a time) and, once that commit is done, answers each. Nothing waits on
// purpose: alone, a request is committed at once; under load the batch is whatever queued
// meanwhile, up to a maximum batch. A batch whose commit fails is done again one request per
// transaction, so one request's failure is never another's. A token that does not verify
// answers NotFound without a write, like any failure of find() alone.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/model.h"
#include "services/web_service.h"
#include "storage/store.h"

namespace campaignd::services {

class UnsubscribeRecorder {
public:
    // Called on the recorder's thread, after the commit: the description, or the error the
    // synchronous WebService::unsubscribe would have thrown (an Error, or another exception).
    using Answer = std::function<void(std::optional<TokenDescription>, std::exception_ptr)>;

    struct Environment {
        std::unique_ptr<storage::Store> store;  // the recorder's own, on the daemon's database
        Clock clock;
        std::string suppressionSecret;  // as RecipientService's
        WebService::MessageSettingsFor settings;  // called on the recorder's thread
        WebService::VerpSecret secret;            // called on the recorder's thread
    };
    // What the recorder has done, for tests and the journal.
    struct Counts {
        std::uint64_t requests = 0;
        std::uint64_t commits = 0;  // transactions that committed a batch (or one request of it)
        std::uint64_t largestBatch = 0;
    };

    // At most `maxBatch` requests go in one transaction.
    explicit UnsubscribeRecorder(Environment environment, std::size_t maxBatch = 256);
    // Answers everything still queued (recorded as usual), then stops the thread.
    ~UnsubscribeRecorder();
    UnsubscribeRecorder(const UnsubscribeRecorder&) = delete;
    UnsubscribeRecorder& operator=(const UnsubscribeRecorder&) = delete;

    // Queues an unsubscribe (WebService::unsubscribe's arguments); `answer` is called once.
    void submit(std::string token, UnsubscribeSource how, Answer answer);
    Counts counts() const;

private:
    struct Request {
        std::string token;
        UnsubscribeSource how;
        Answer answer;
        std::optional<TokenDescription> description;
        std::exception_ptr error;
        bool changed = false;
    };
    void run();
    void record(std::deque<Request>& batch);
    void recordOne(Request& request);

    Environment env_;
    std::size_t maxBatch_;
    RecipientService recipients_;
    WebService web_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Request> queue_;
    Counts counts_;
    bool stopping_ = false;
    std::thread thread_;  // last: started when everything above exists
};

}  // namespace campaignd::services

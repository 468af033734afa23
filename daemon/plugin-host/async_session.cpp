// async_session.cpp: see async_session.h. One Core per session holds the tokens taken and not
// yet answered; the plugin's sink (native) or the fallback thread (send()) removes a token as
// its result arrives, and whatever is left when the session ends is reported by the host:
// NotHandedOver when a plugin that kept the rules said it ended, Unknown otherwise. Events are
// emitted under their own mutex, so the caller's handlers never run two at once per session.
#include "plugin-host/async_session.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/thread_name.h"
#include "plugin-host/boundary.h"
#include "plugin-host/text.h"

namespace campaignd::plugins {

// A message the fallback thread owns until it hands it to send().
struct QueuedMessage {
    OutgoingMessage message;  // its data views `data` below
    std::string data;
};

struct AsyncSession::Core {
    const RunningPlugin* plugin = nullptr;
    std::string transportName;
    AsyncEvents events;
    std::string who;  // "transport NAME (plugin P): "

    mutable std::mutex mutex;
    std::unordered_set<std::uint64_t> outstanding;
    bool ended = false;     // end() ran: everything taken has been reported
    bool refusing = false;  // submit() takes nothing more (ended, or the plugin refused)
    bool closing = false;   // the destructor runs: no ended event
    SendStatus endStatus;   // why it refuses
    std::size_t breaches = 0;

    std::mutex emitMutex;  // one event at a time

    // Native (ABI 1.6).
    void* session = nullptr;
    campaignd_submit_sink sink{};

    // Fallback: send() on a thread of the session's.
    std::unique_ptr<TransportSession> sync;
    std::condition_variable wake;
    std::deque<QueuedMessage> queue;
    std::thread thread;

    void breach(const std::string& what) {
        {
            std::lock_guard lock(mutex);
            ++breaches;
        }
        log::warning("transport plugin broke the ABI: " + what, {{"PLUGIN", plugin->name()}, {"TRANSPORT", transportName}});
    }

    void emit(const DeliveryResult& r) {
        std::lock_guard lock(emitMutex);
        try {
            if (events.result) events.result(r);
        } catch (const std::exception& e) {
            log::error(who + "a result's handler threw: " + e.what(), {{"PLUGIN", plugin->name()}});
        } catch (...) {
            log::error(who + "a result's handler threw", {{"PLUGIN", plugin->name()}});
        }
    }

    void emitMissing(const std::vector<std::uint64_t>& tokens, DeliveryOutcome outcome) {
        for (std::uint64_t token : tokens) {
            DeliveryResult r;
            r.token = token;
            r.outcome = outcome;
            r.text = outcome == DeliveryOutcome::NotHandedOver ? "not handed over: the session ended before it"
                                                               : "no result from the transport plugin";
            emit(r);
        }
    }

    void emitEnded(const SendStatus& status) {
        std::lock_guard lock(emitMutex);
        try {
            if (events.ended) events.ended(status);
        } catch (const std::exception& e) {
            log::error(who + "the end's handler threw: " + e.what(), {{"PLUGIN", plugin->name()}});
        } catch (...) {
            log::error(who + "the end's handler threw", {{"PLUGIN", plugin->name()}});
        }
    }

    // The session ended with `status`: every token still outstanding (and `more`) is reported,
    // then the end (unless closing). Returns false when it had already ended.
    bool end(SendStatus status, bool trusted) {
        std::vector<std::uint64_t> left;
        bool announce = false;
        {
            std::lock_guard lock(mutex);
            if (ended) return false;
            ended = true;
            if (!refusing) endStatus = status;
            refusing = true;
            trusted = trusted && breaches == 0;
            left.assign(outstanding.begin(), outstanding.end());
            outstanding.clear();
            announce = !closing;
        }
        emitMissing(left, trusted ? DeliveryOutcome::NotHandedOver : DeliveryOutcome::Unknown);
        if (announce) {
            log::warning("transport session ended (" + std::string(toString(status.status)) + "): " + status.message,
                         {{"PLUGIN", plugin->name()}, {"TRANSPORT", transportName}});
            emitEnded(status);
        }
        return true;
    }

    // Takes the token's result off the outstanding set; false (a breach) when it was not there.
    bool answered(std::uint64_t token) {
        std::lock_guard lock(mutex);
        return outstanding.erase(token) == 1;
    }

    void fallbackLoop();
};

namespace {

constexpr std::size_t kFallbackBatch = 256;

void nativeResult(void* ctx, const campaignd_delivery_result* r) noexcept {
    auto& core = *static_cast<AsyncSession::Core*>(ctx);
    try {
        std::string breach;
        if (!detail::checkDeliveryResult(r, breach)) {
            core.breach(breach);
            return;
        }
        if (!core.answered(r->token)) {
            core.breach("a result for token " + std::to_string(r->token) +
                        " it does not hold (never given, answered already, or after the session ended)");
            return;
        }
        const DeliveryResult out = detail::readDeliveryResult(*r, breach);
        if (!breach.empty()) core.breach(breach);
        core.emit(out);
    } catch (...) {
        // Out of memory while copying: the token stays outstanding and is reported at the end.
    }
}

void nativeEnded(void* ctx, campaignd_status status, const char* message) noexcept {
    auto& core = *static_cast<AsyncSession::Core*>(ctx);
    try {
        bool trusted = true;
        if (status == CAMPAIGND_OK) {
            core.breach("ended() with CAMPAIGND_OK");
            trusted = false;
        }
        const TransportStatus kind = status == CAMPAIGND_OK ? TransportStatus::Failed : transportStatusOf(status);
        const std::string said = copyBounded(message, kErrorBufferBytes);
        if (!core.end({kind, core.who + (said.empty() ? std::string("the session ended") : said)}, trusted))
            core.breach("ended() called twice");
    } catch (...) {
    }
}

}  // namespace

void AsyncSession::Core::fallbackLoop() {
    for (;;) {
        std::deque<QueuedMessage> batch;
        {
            std::unique_lock lock(mutex);
            wake.wait(lock, [&] { return !queue.empty() || closing || ended; });
            if (closing || ended) break;
            const std::size_t n = std::min(queue.size(), kFallbackBatch);
            for (std::size_t i = 0; i < n; ++i) {
                batch.push_back(std::move(queue.front()));
                queue.pop_front();
            }
        }
        std::vector<OutgoingMessage> messages;
        messages.reserve(batch.size());
        for (const QueuedMessage& q : batch) messages.push_back(q.message);
        SendStatus status;
        try {
            status = sync->send(messages, [&](const DeliveryResult& r) {
                if (answered(r.token)) emit(r);
            });
        } catch (const std::exception& e) {
            // A plugin that threw: TransportSession reported the rest Unknown already.
            status = {TransportStatus::Failed, who + e.what()};
        }
        if (!status.ok()) {
            {
                std::lock_guard lock(mutex);
                queue.clear();  // their tokens are still outstanding: end() reports them
            }
            end(status, true);
            return;
        }
    }
    // Closing: what was queued never reached send().
    {
        std::lock_guard lock(mutex);
        queue.clear();
    }
    end({TransportStatus::Failed, who + "the session was closed"}, true);
}

AsyncSession::AsyncSession(std::shared_ptr<Core> core) : core_(std::move(core)) {}

AsyncSession::~AsyncSession() {
    {
        std::lock_guard lock(core_->mutex);
        core_->closing = true;
    }
    if (core_->thread.joinable()) {
        core_->wake.notify_all();
        core_->thread.join();
        core_->sync.reset();  // closes the plugin's session
        return;
    }
    try {
        const PluginCallResult r = callPlugin("", "close", [&](campaignd_error*) {
            core_->plugin->transportTable()->close(core_->session);
            return CAMPAIGND_OK;
        });
        if (r.threw) core_->breach("close threw an exception");
        // The plugin answered every written message and ended the rest; anything left it
        // forgot, and it may have gone out.
        core_->end({TransportStatus::Failed, core_->who + "the session was closed"}, false);
    } catch (...) {
    }
}

const std::string& AsyncSession::pluginName() const { return core_->plugin->name(); }
const std::string& AsyncSession::transportName() const { return core_->transportName; }
bool AsyncSession::native() const { return !core_->sync; }

std::size_t AsyncSession::outstanding() const {
    std::lock_guard lock(core_->mutex);
    return core_->outstanding.size();
}

SendStatus AsyncSession::submit(std::span<const OutgoingMessage> messages) {
    detail::checkOutgoing(messages, "transport submit");
    Core& core = *core_;
    std::vector<std::uint64_t> refused;
    SendStatus endStatus;
    {
        std::lock_guard lock(core.mutex);
        for (const auto& m : messages)
            if (core.outstanding.contains(m.token))
                throw std::invalid_argument("transport submit: token " + std::to_string(m.token) +
                                            " is still outstanding in the session");
        if (core.refusing || core.closing) {
            endStatus = core.refusing ? core.endStatus : SendStatus{TransportStatus::Failed, core.who + "the session is closing"};
        } else {
            for (const auto& m : messages) core.outstanding.insert(m.token);
            if (core.sync) {
                for (const auto& m : messages) {
                    QueuedMessage& q = core.queue.emplace_back();
                    q.data.assign(m.data);
                    q.message = m;
                    q.message.data = q.data;
                }
                core.wake.notify_one();
                return {};
            }
        }
    }
    if (!endStatus.ok()) {
        for (const auto& m : messages) refused.push_back(m.token);
        core.emitMissing(refused, DeliveryOutcome::NotHandedOver);
        return endStatus;
    }
    if (messages.empty()) return {};

    const detail::OutgoingStructs c(messages);
    const PluginCallResult r = callPlugin(core.who, "submit", [&](campaignd_error* err) {
        return core.plugin->transportTable()->submit(core.session, c.pointers.data(), c.pointers.size(), &core.sink,
                                                     err);
    });
    if (r.ok()) return {};
    // It took none (a plugin that threw may have taken some: those are Unknown, never resent).
    {
        std::lock_guard lock(core.mutex);
        for (const auto& m : messages)
            if (core.outstanding.erase(m.token) == 1) refused.push_back(m.token);
    }
    core.emitMissing(refused, r.threw ? DeliveryOutcome::Unknown : DeliveryOutcome::NotHandedOver);
    const SendStatus failed{r.threw ? TransportStatus::Failed : transportStatusOf(r.status), r.failure()};
    // The session takes nothing more; what it holds still gets its results from the plugin.
    {
        std::lock_guard lock(core.mutex);
        if (!core.refusing) {
            core.refusing = true;
            core.endStatus = failed;
        }
    }
    return failed;
}

std::unique_ptr<AsyncSession> TransportHandle::openAsync(const std::string& transportName,
                                                         const std::map<std::string, std::string>& settings,
                                                         AsyncEvents events) const {
    auto core = std::make_shared<AsyncSession::Core>();
    core->plugin = plugin_;
    core->transportName = transportName;
    core->events = std::move(events);
    core->who = "transport " + transportName + " (plugin " + plugin_->name() + "): ";
    const campaignd_transport* table = plugin_->transportTable();
    if (table != nullptr && table->submit != nullptr) {
        // Opened as for send(); the TransportSession is released without closing, and the
        // session pointer is the AsyncSession's from here on.
        std::unique_ptr<TransportSession> opened = openSession(transportName, settings);
        core->session = opened->release();
        core->sink.struct_size = sizeof core->sink;
        core->sink.sink_ctx = core.get();
        core->sink.result = &nativeResult;
        core->sink.ended = &nativeEnded;
    } else {
        core->sync = openSession(transportName, settings);
        core->thread = std::thread([c = core.get()] {
            nameThisThread("cd-send-compat");
            c->fallbackLoop();
        });
    }
    return std::unique_ptr<AsyncSession>(new AsyncSession(std::move(core)));
}

}  // namespace campaignd::plugins

// transport_plugin.cpp: a test transport (ABI 1.5) driven by its session's settings, the keys of
// "[Transport NAME]" that open() receives:
//   OpenStatus=auth|tls|connection|failed|invalid  open() fails with that status, naming NAME
//   OpenThrow=yes          open() throws (against the ABI)
//   Order=reverse          results in reverse order
//   Drop=I                 no result for the message at index I (send still returns OK)
//   ForeignToken=yes       first a result for token 987654321, which it was not given
//   Duplicate=yes          a second result for the first message
//   BadOutcome=yes         outcome 42 for the first message
//   FailAt=I, FailStatus=auth|tls|connection|failed
//                          results for the messages before I, then return that status
//   FailUnknown=yes        with FailAt: report message I as UNKNOWN first (its "." went out)
//   ThrowInSend=yes        throw (against the ABI) after the first result
//   CloseMarker=PATH       "close NAME" appended to PATH by close()
// and its submit() (ABI 1.6; left out when built with TRANSPORT_SEND_ONLY, as "transport-send"):
// a thread per session takes what was submitted, one message at a time, and reports as send()
// would (the recipient decides), from that thread:
//   EndAt=N, FailStatus=...  after N results, ended() with that status (default connection)
//   Hold=yes               writes nothing until close(): close() then ends the session with
//                          CAMPAIGND_ERR_CANCELLED (nothing held was written)
//   SubmitStatus=...       submit() refuses with that status, taking nothing
// and its validate() (ABI 1.4), which opens nothing:
//   ValidateBad=KEY        INVALID_ARGUMENT naming KEY and the section; bad_key is KEY's index
//                          (the count when KEY is not among the settings: "missing")
//   ValidateIndex=N        with ValidateBad: bad_key is N, whatever it is
//   ValidateStatus=failed  CAMPAIGND_ERR_FAILED ("cannot check")
//   ValidateThrow=yes      throws (against the ABI)
// and its probe() (ABI 1.5):
//   ProbeStatus=auth|tls|connection|failed|invalid  fails with that status, "probe NAME: STATUS"
//   ProbeThrow=yes         throws (against the ABI)
//   ProbeFound=TEXT        on success, TEXT is what it says it reached (default: nothing)
// Each message's outcome comes from its recipient: "defer..." DEFERRED 451 4.7.1, "fail..."
// FAILED 550 5.1.1, "unknown..." UNKNOWN, "garbage..." SENT with out-of-range code, malformed
// enhanced status and a 5000-byte text with control bytes; anything else SENT 250 2.0.0 with
// "from=<F> rcpt=<R> id=<I> bytes=<N> data=<first 20 bytes>" as its text.
#include <campaignd/plugin.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Queued {
    uint64_t token;
    std::string from, rcpt, id, data;
};

struct Session {
    std::string name;
    std::map<std::string, std::string> settings;
    // submit(): the queue and the thread that empties it.
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Queued> queue;
    const campaignd_submit_sink* sink = nullptr;
    bool closing = false, ended = false;
    std::thread thread;
    std::string get(const std::string& key) const {
        auto it = settings.find(key);
        return it == settings.end() ? std::string() : it->second;
    }
};

campaignd_status statusNamed(const std::string& s) {
    if (s == "auth") return CAMPAIGND_ERR_AUTH;
    if (s == "tls") return CAMPAIGND_ERR_TLS;
    if (s == "connection") return CAMPAIGND_ERR_CONNECTION;
    if (s == "invalid") return CAMPAIGND_ERR_INVALID_ARGUMENT;
    return CAMPAIGND_ERR_FAILED;
}

campaignd_status transportOpen(void* instance, const char* transportName, const char* const* keys,
                               const char* const* values, size_t count, void** session, campaignd_error* err) {
    (void)instance;
    auto* s = new Session;
    s->name = transportName;
    for (size_t i = 0; i < count; ++i) s->settings[keys[i]] = values[i];
    const std::string openStatus = s->get("OpenStatus");
    if (s->get("OpenThrow") == "yes") {
        delete s;
        throw std::runtime_error("OpenThrow=yes");
    }
    if (!openStatus.empty()) {
        const std::string m = "OpenStatus=" + openStatus + " in [Transport " + s->name + "]";
        campaignd_error_set(err, m.c_str());
        delete s;
        return statusNamed(openStatus);
    }
    *session = s;
    return CAMPAIGND_OK;
}

campaignd_status transportValidate(void* instance, const char* section, const char* const* keys,
                                   const char* const* values, size_t count, size_t* badKey, campaignd_error* err) {
    (void)instance;
    std::map<std::string, std::string> settings;
    for (size_t i = 0; i < count; ++i) settings[keys[i]] = values[i];
    if (settings["ValidateThrow"] == "yes") throw std::runtime_error("ValidateThrow=yes");
    if (settings["ValidateStatus"] == "failed") {
        campaignd_error_set(err, "cannot check");
        return CAMPAIGND_ERR_FAILED;
    }
    const std::string bad = settings["ValidateBad"];
    if (bad.empty()) return CAMPAIGND_OK;
    *badKey = count;
    for (size_t i = 0; i < count; ++i)
        if (bad == keys[i]) *badKey = i;
    if (!settings["ValidateIndex"].empty()) *badKey = std::strtoul(settings["ValidateIndex"].c_str(), nullptr, 10);
    const std::string m = bad + "= is bad in [" + section + "]";
    campaignd_error_set(err, m.c_str());
    return CAMPAIGND_ERR_INVALID_ARGUMENT;
}

campaignd_status transportProbe(void* instance, const char* transportName, const char* const* keys,
                                const char* const* values, size_t count, campaignd_error* found, campaignd_error* err) {
    (void)instance;
    std::map<std::string, std::string> settings;
    for (size_t i = 0; i < count; ++i) settings[keys[i]] = values[i];
    if (settings["ProbeThrow"] == "yes") throw std::runtime_error("ProbeThrow=yes");
    const std::string status = settings["ProbeStatus"];
    if (status.empty()) {
        campaignd_error_set(found, settings["ProbeFound"].c_str());
        return CAMPAIGND_OK;
    }
    campaignd_error_set(err, ("probe " + std::string(transportName) + ": " + status).c_str());
    if (status == "auth") return CAMPAIGND_ERR_AUTH;
    if (status == "tls") return CAMPAIGND_ERR_TLS;
    if (status == "connection") return CAMPAIGND_ERR_CONNECTION;
    if (status == "invalid") return CAMPAIGND_ERR_INVALID_ARGUMENT;
    return CAMPAIGND_ERR_FAILED;
}

void report(const campaignd_delivery_sink* sink, const campaignd_outgoing_message* m, int32_t outcome = 0) {
    const std::string rcpt = m->recipient;
    campaignd_delivery_result r{};
    r.struct_size = sizeof r;
    r.token = m->token;
    std::string text;
    if (rcpt.rfind("defer", 0) == 0) {
        r.outcome = CAMPAIGND_DELIVERY_DEFERRED;
        r.smtp_code = 451;
        r.enhanced_status = "4.7.1";
        text = "greylisted, try again later";
    } else if (rcpt.rfind("fail", 0) == 0) {
        r.outcome = CAMPAIGND_DELIVERY_FAILED;
        r.smtp_code = 550;
        r.enhanced_status = "5.1.1";
        text = "no such user";
    } else if (rcpt.rfind("unknown", 0) == 0) {
        r.outcome = CAMPAIGND_DELIVERY_UNKNOWN;
        text = "connection lost after DATA";
    } else if (rcpt.rfind("garbage", 0) == 0) {
        r.outcome = CAMPAIGND_DELIVERY_SENT;
        r.smtp_code = 1000;
        r.enhanced_status = "9.9.9";
        text = "bad\x01\n\xff" + std::string(5000, 'x');
    } else {
        r.outcome = CAMPAIGND_DELIVERY_SENT;
        r.smtp_code = 250;
        r.enhanced_status = "2.0.0";
        text = std::string("from=<") + m->envelope_from + "> rcpt=<" + rcpt + "> id=<" + m->message_id +
               "> bytes=" + std::to_string(m->data_len) + " data=" +
               std::string(m->data, m->data_len < 20 ? m->data_len : 20);
    }
    if (outcome != 0) r.outcome = outcome;
    r.text = text.c_str();
    sink->result(sink->sink_ctx, &r);
}

campaignd_status transportSend(void* session, const campaignd_outgoing_message* const* messages, size_t count,
                               const campaignd_delivery_sink* sink, campaignd_error* err) {
    const Session& s = *static_cast<Session*>(session);
    std::vector<size_t> order;
    for (size_t i = 0; i < count; ++i) order.push_back(s.get("Order") == "reverse" ? count - 1 - i : i);
    const long drop = s.get("Drop").empty() ? -1 : std::atol(s.get("Drop").c_str());
    const long failAt = s.get("FailAt").empty() ? -1 : std::atol(s.get("FailAt").c_str());
    if (s.get("ForeignToken") == "yes") {
        campaignd_delivery_result r{};
        r.struct_size = sizeof r;
        r.token = 987654321;
        r.outcome = CAMPAIGND_DELIVERY_SENT;
        sink->result(sink->sink_ctx, &r);
    }
    bool first = true;
    for (size_t i : order) {
        if (static_cast<long>(i) == failAt) {
            if (s.get("FailUnknown") == "yes") report(sink, messages[i], CAMPAIGND_DELIVERY_UNKNOWN);
            const std::string m = "connection lost at message " + std::to_string(i);
            campaignd_error_set(err, m.c_str());
            return statusNamed(s.get("FailStatus"));
        }
        if (static_cast<long>(i) == drop) continue;
        report(sink, messages[i], first && s.get("BadOutcome") == "yes" ? 42 : 0);
        if (first && s.get("Duplicate") == "yes") report(sink, messages[i]);
        if (first && s.get("ThrowInSend") == "yes") throw std::runtime_error("ThrowInSend=yes");
        first = false;
    }
    return CAMPAIGND_OK;
}

// The submit thread: one message at a time, reported as send() would.
void submitLoop(Session* s) {
    const long endAt = s->get("EndAt").empty() ? -1 : std::atol(s->get("EndAt").c_str());
    const bool hold = s->get("Hold") == "yes";
    long done = 0;
    std::unique_lock lock(s->mutex);
    for (;;) {
        s->wake.wait(lock, [&] { return s->closing || (!hold && !s->queue.empty()); });
        if (s->closing) break;
        Queued q = std::move(s->queue.front());
        s->queue.pop_front();
        lock.unlock();
        campaignd_outgoing_message m{};
        m.struct_size = sizeof m;
        m.token = q.token;
        m.envelope_from = q.from.c_str();
        m.recipient = q.rcpt.c_str();
        m.message_id = q.id.c_str();
        m.data = q.data.data();
        m.data_len = q.data.size();
        campaignd_delivery_sink sink{sizeof sink, s->sink->sink_ctx, s->sink->result};
        report(&sink, &m);
        lock.lock();
        if (++done == endAt) {
            s->ended = true;
            s->queue.clear();
            const std::string why = "connection lost after " + std::to_string(done) + " messages";
            lock.unlock();
            s->sink->ended(s->sink->sink_ctx, statusNamed(s->get("FailStatus").empty() ? "connection" : s->get("FailStatus")),
                           why.c_str());
            lock.lock();
        }
    }
    if (!s->queue.empty() && !s->ended) {
        s->ended = true;
        lock.unlock();
        s->sink->ended(s->sink->sink_ctx, CAMPAIGND_ERR_CANCELLED, "closed with messages not written");
    }
}

[[maybe_unused]] campaignd_status transportSubmit(void* session, const campaignd_outgoing_message* const* messages, size_t count,
                                 const campaignd_submit_sink* sink, campaignd_error* err) {
    Session& s = *static_cast<Session*>(session);
    if (!s.get("SubmitStatus").empty()) {
        campaignd_error_set(err, ("SubmitStatus=" + s.get("SubmitStatus")).c_str());
        return statusNamed(s.get("SubmitStatus"));
    }
    std::lock_guard lock(s.mutex);
    if (s.ended) {
        campaignd_error_set(err, "the session ended");
        return CAMPAIGND_ERR_CONNECTION;
    }
    s.sink = sink;
    for (size_t i = 0; i < count; ++i) {
        const campaignd_outgoing_message* m = messages[i];
        s.queue.push_back({m->token, m->envelope_from, m->recipient, m->message_id, std::string(m->data, m->data_len)});
    }
    if (!s.thread.joinable()) s.thread = std::thread(submitLoop, &s);
    s.wake.notify_one();
    return CAMPAIGND_OK;
}

void transportClose(void* session) {
    auto* s = static_cast<Session*>(session);
    {
        std::lock_guard lock(s->mutex);
        s->closing = true;
    }
    s->wake.notify_one();
    if (s->thread.joinable()) s->thread.join();
    const std::string marker = s->get("CloseMarker");
    if (!marker.empty()) {
        if (std::FILE* f = std::fopen(marker.c_str(), "a")) {
            std::fprintf(f, "close %s\n", s->name.c_str());
            std::fclose(f);
        }
    }
    delete s;
}

campaignd_status transportStart(const campaignd_host* host, void** instance, campaignd_error* err) {
    (void)host;
    (void)err;
    *instance = nullptr;
    return CAMPAIGND_OK;
}

void transportStop(void* instance) { (void)instance; }

#ifdef TRANSPORT_SEND_ONLY
// Built against 1.5: the table ends at probe.
const campaignd_transport kTransport = {CAMPAIGND_FIELD_END(campaignd_transport, probe), transportOpen, transportSend,
                                       transportClose, transportValidate, transportProbe, nullptr};
#else
const campaignd_transport kTransport = {sizeof(campaignd_transport), transportOpen, transportSend, transportClose,
                                       transportValidate, transportProbe, transportSubmit};
#endif

const campaignd_plugin_descriptor kDescriptor = {
    CAMPAIGND_PLUGIN_ABI_MAJOR,
    CAMPAIGND_PLUGIN_ABI_MINOR,
    sizeof(campaignd_plugin_descriptor),
#ifdef TRANSPORT_SEND_ONLY
    "transport-send",
#else
    "transport",
#endif
    "1.2.0",
    "Test transport driven by its settings",
    CAMPAIGND_CAP_TRANSPORT,
    transportStart,
    transportStop,
    nullptr,  // importer
    &kTransport,
};

}  // namespace

extern "C" CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor* campaignd_plugin_entry_v1(void) {
    return &kDescriptor;
}

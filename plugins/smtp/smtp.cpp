// smtp.cpp: the "smtp" transport plugin (ABI 1.6): the ABI's side of the ESMTP client in
// smtp_client.h (Boost.Asio, PIPELINING, STARTTLS or smtps, AUTH). The instance owns one event
// thread (EventLoop) on which every session runs; one session is one Client, i.e. one SMTP
// connection that carries many messages. submit() queues and returns at once, results and the
// end going to the host's sink from the event thread; send() is submit() and a wait, its
// results reported on the caller's thread. validate() checks a section's settings with open()'s
// own parser (smtp_settings.h), connecting to nothing; probe() connects, logs in and quits.
// Promises: every message gets SENT/DEFERRED/FAILED from the server's own reply (code, RFC 3463
// status, text), or UNKNOWN when the connection was lost after its final "." went out, or no
// result at all when it was not handed over (then send() fails, or ended() says, CONNECTION,
// AUTH, TLS or CANCELLED); the password is read from a file or a systemd credential at open and
// never appears in a log line, an error message or a result. Refuses what smtp_settings.h
// refuses, and sending unauthenticated when Username= is set.
#include <campaignd/plugin.h>
#include <string.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "smtp_client.h"
#include "smtp_settings.h"

namespace {

using namespace campaignd::smtp;

// The plugin instance: its event thread, on which all its sessions run.
struct Instance {
    EventLoop loop;
};

// A result of a send() call, kept until send() reports it on its caller's thread.
struct Collected {
    std::uint64_t token;
    Outcome outcome;
    int code;
    std::string enhanced, text;
};

struct Session {
    ~Session() {
        client.reset();  // its events use this session
        ::explicit_bzero(password.data(), password.size());
    }

    std::string password;  // a copy kept only to scrub it from messages, as a last defence
    std::unique_ptr<Client> client;

    // submit() (ABI 1.6): the host's sink, set by the first submit.
    std::atomic<const campaignd_submit_sink*> sink{nullptr};
    std::string enhanced, text;  // a result's strings, NUL-terminated for the sink; event thread

    // send(): submit, then wait here for every result or the end.
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<Collected> collected;
    std::optional<SendStatus> ended;
};

std::string scrubbed(const Session& s, std::string text) {
    if (!s.password.empty())
        for (auto at = text.find(s.password); at != std::string::npos; at = text.find(s.password, at))
            text.replace(at, s.password.size(), "(password)");
    return text;
}

int32_t outcomeOf(Outcome o) {
    switch (o) {
    case Outcome::Sent: return CAMPAIGND_DELIVERY_SENT;
    case Outcome::Deferred: return CAMPAIGND_DELIVERY_DEFERRED;
    case Outcome::Failed: return CAMPAIGND_DELIVERY_FAILED;
    default: return CAMPAIGND_DELIVERY_UNKNOWN;
    }
}

campaignd_status codeOf(Failure f) {
    switch (f) {
    case Failure::None: return CAMPAIGND_OK;
    case Failure::Connection: return CAMPAIGND_ERR_CONNECTION;
    case Failure::Tls: return CAMPAIGND_ERR_TLS;
    case Failure::Auth: return CAMPAIGND_ERR_AUTH;
    case Failure::Cancelled: return CAMPAIGND_ERR_CANCELLED;
    default: return CAMPAIGND_ERR_FAILED;
    }
}

// A session-level status for the ABI, its message (scrubbed of the password) in err.
campaignd_status statusOf(const Session& s, const SendStatus& status, campaignd_error* err) {
    if (status.failure == Failure::None) return CAMPAIGND_OK;
    campaignd_error_set(err, scrubbed(s, status.message).c_str());
    return codeOf(status.failure);
}

// The client's events, for both ways of using a session: to the host's submit sink when there
// is one, else collected for the send() that waits.
ClientEvents eventsFor(Session* s) {
    ClientEvents events;
    events.result = [s](const Result& r) {
        if (const campaignd_submit_sink* sink = s->sink.load()) {
            s->enhanced.assign(r.enhanced);
            s->text = scrubbed(*s, std::string(r.text));
            campaignd_delivery_result out{};
            out.struct_size = sizeof out;
            out.token = r.token;
            out.outcome = outcomeOf(r.outcome);
            out.smtp_code = r.code;
            out.enhanced_status = s->enhanced.c_str();
            out.text = s->text.c_str();
            sink->result(sink->sink_ctx, &out);
            return;
        }
        std::lock_guard lock(s->mutex);
        s->collected.push_back({r.token, r.outcome, r.code, std::string(r.enhanced), std::string(r.text)});
        s->changed.notify_all();
    };
    events.ended = [s](const SendStatus& status) {
        if (const campaignd_submit_sink* sink = s->sink.load()) {
            const std::string why = scrubbed(*s, status.message);
            sink->ended(sink->sink_ctx, codeOf(status.failure), why.c_str());
            return;
        }
        std::lock_guard lock(s->mutex);
        s->ended = status;
        s->changed.notify_all();
    };
    return events;
}

campaignd_status smtpOpen(void* instance, const char* transportName, const char* const* keys,
                          const char* const* values, std::size_t count, void** session,
                          campaignd_error* err) noexcept {
    (void)transportName;
    try {
        auto s = std::make_unique<Session>();
        Settings settings;
        SettingError error{CAMPAIGND_ERR_INVALID_ARGUMENT, ""};
        if (!parseSettings(keys, values, count, settings, error)) {
            ::explicit_bzero(settings.password.data(), settings.password.size());
            campaignd_error_set(err, error.message.c_str());
            return error.status;
        }
        s->password = settings.password;
        // Connects when the first message comes.
        s->client = std::make_unique<Client>(static_cast<Instance*>(instance)->loop, std::move(settings),
                                             eventsFor(s.get()));
        *session = s.release();
        return CAMPAIGND_OK;
    } catch (...) {
        campaignd_error_set(err, "smtp: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

std::vector<OwnedMessage> owned(const campaignd_outgoing_message* const* messages, std::size_t count) {
    std::vector<OwnedMessage> batch;
    batch.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const campaignd_outgoing_message& m = *messages[i];
        batch.push_back({m.token, m.envelope_from != nullptr ? m.envelope_from : "",
                         m.recipient != nullptr ? m.recipient : "",
                         std::string(m.data != nullptr ? m.data : "", m.data != nullptr ? m.data_len : 0)});
    }
    return batch;
}

// ABI 1.6: queued on the session, which the event thread works off; returns at once.
campaignd_status smtpSubmit(void* session, const campaignd_outgoing_message* const* messages, std::size_t count,
                            const campaignd_submit_sink* sink, campaignd_error* err) noexcept {
    Session& s = *static_cast<Session*>(session);
    try {
        if (sink == nullptr) {
            campaignd_error_set(err, "smtp: submit without a sink");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        const campaignd_submit_sink* expected = nullptr;
        if (!s.sink.compare_exchange_strong(expected, sink) && expected != sink) {
            campaignd_error_set(err, "smtp: submit with another sink than before on this session");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        if (count == 0) return CAMPAIGND_OK;
        return statusOf(s, s.client->submit(owned(messages, count)), err);
    } catch (const std::exception& e) {
        campaignd_error_set(err, (std::string("smtp: ") + e.what()).c_str());
        return CAMPAIGND_ERR_FAILED;
    } catch (...) {
        campaignd_error_set(err, "smtp: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

// The synchronous ABI: submit, wait for every result (or the end), and report them on the
// caller's thread, as send() promises.
campaignd_status smtpSend(void* session, const campaignd_outgoing_message* const* messages, std::size_t count,
                          const campaignd_delivery_sink* sink, campaignd_error* err) noexcept {
    Session& s = *static_cast<Session*>(session);
    try {
        if (count == 0) return CAMPAIGND_OK;
        {
            std::lock_guard lock(s.mutex);
            s.collected.clear();
        }
        SendStatus status = s.client->submit(owned(messages, count));
        std::vector<Collected> results;
        if (status.failure == Failure::None) {
            std::unique_lock lock(s.mutex);
            s.changed.wait(lock, [&] { return s.collected.size() >= count || s.ended; });
            results.swap(s.collected);
            if (s.ended && results.size() < count) status = *s.ended;
        }
        for (const Collected& r : results) {
            const std::string text = scrubbed(s, r.text);
            campaignd_delivery_result out{};
            out.struct_size = sizeof out;
            out.token = r.token;
            out.outcome = outcomeOf(r.outcome);
            out.smtp_code = r.code;
            out.enhanced_status = r.enhanced.c_str();
            out.text = text.c_str();
            sink->result(sink->sink_ctx, &out);
        }
        return statusOf(s, status, err);
    } catch (const std::exception& e) {
        campaignd_error_set(err, (std::string("smtp: ") + e.what()).c_str());
        return CAMPAIGND_ERR_FAILED;
    } catch (...) {
        campaignd_error_set(err, "smtp: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

// Waits for the written messages' results (within the reply time-outs); the rest end
// CANCELLED through the sink's ended(); nothing is reported after it.
void smtpClose(void* session) noexcept {
    auto* s = static_cast<Session*>(session);
    s->client->close();
    delete s;
}

// ABI 1.4: the settings as open() reads them (parseSettings), with nothing opened: no handle,
// no connection. The password it had to read is wiped at once.
campaignd_status smtpValidate(void* instance, const char* section, const char* const* keys,
                              const char* const* values, std::size_t count, std::size_t* badKey,
                              campaignd_error* err) noexcept {
    (void)instance;
    (void)section;
    try {
        Settings settings;
        SettingError error{CAMPAIGND_ERR_INVALID_ARGUMENT, "", count};
        const bool ok = parseSettings(keys, values, count, settings, error);
        ::explicit_bzero(settings.password.data(), settings.password.size());
        if (ok) return CAMPAIGND_OK;
        if (badKey != nullptr) *badKey = error.key;
        campaignd_error_set(err, error.message.c_str());
        return error.status;
    } catch (...) {
        campaignd_error_set(err, "smtp: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

// ABI 1.5: a session that connects, logs in and quits at once (Client::probe).
campaignd_status smtpProbe(void* instance, const char* transportName, const char* const* keys,
                           const char* const* values, std::size_t count, campaignd_error* found,
                           campaignd_error* err) noexcept {
    void* opened = nullptr;
    const campaignd_status status = smtpOpen(instance, transportName, keys, values, count, &opened, err);
    if (status != CAMPAIGND_OK) return status;
    std::unique_ptr<Session> s(static_cast<Session*>(opened));
    try {
        std::string what;
        const SendStatus probed = s->client->probe(what);
        if (probed.failure == Failure::None) campaignd_error_set(found, scrubbed(*s, what).c_str());
        return statusOf(*s, probed, err);
    } catch (const std::exception& e) {
        campaignd_error_set(err, (std::string("smtp: ") + e.what()).c_str());
        return CAMPAIGND_ERR_FAILED;
    } catch (...) {
        campaignd_error_set(err, "smtp: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

// One event thread for all the sessions of the instance (they are objects on its io_context:
// one thread is plenty on the machines this runs on, and keeps results of one session ordered).
campaignd_status smtpStart(const campaignd_host* host, void** instance, campaignd_error* err) noexcept {
    (void)host;
    try {
        *instance = new Instance();
        return CAMPAIGND_OK;
    } catch (const std::exception& e) {
        campaignd_error_set(err, (std::string("smtp: cannot start the event thread: ") + e.what()).c_str());
        return CAMPAIGND_ERR_FAILED;
    }
}

// The host closed every session before: the event thread has nothing left to run.
void smtpStop(void* instance) noexcept { delete static_cast<Instance*>(instance); }

const campaignd_transport kTransport = {sizeof(campaignd_transport), smtpOpen, smtpSend, smtpClose, smtpValidate,
                                       smtpProbe, smtpSubmit};

const campaignd_plugin_descriptor kDescriptor = {
    CAMPAIGND_PLUGIN_ABI_MAJOR,
    CAMPAIGND_PLUGIN_ABI_MINOR,
    sizeof(campaignd_plugin_descriptor),
    "smtp",
    "2.0.0",
    "Sends through an SMTP server (Boost.Asio; PIPELINING, CHUNKING, STARTTLS or smtps, AUTH; one connection for many messages, all sessions on one event thread)",
    CAMPAIGND_CAP_TRANSPORT,
    smtpStart,
    smtpStop,
    nullptr,  // importer
    &kTransport,
};

}  // namespace

extern "C" CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor* campaignd_plugin_entry_v1(void) {
    return &kDescriptor;
}

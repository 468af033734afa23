// smtp.cpp: the "smtp" transport plugin (ABI 1.5): the ABI's side of the ESMTP client in
// smtp_client.h (Boost.Asio, PIPELINING, STARTTLS or smtps, AUTH). One session is one Client,
// i.e. one SMTP connection that carries many messages; validate() checks a section's settings
// with open()'s own parser (smtp_settings.h), connecting to nothing; probe() connects, logs in
// and quits, for campaignd --check-config --connect.
// Promises: every message gets SENT/DEFERRED/FAILED from the server's own reply (code, RFC 3463
// status, text), or UNKNOWN when the connection was lost after its final "." went out, or no
// result at all when it was not handed over (then send() fails with CONNECTION, AUTH or TLS);
// the password is read from a file or a systemd credential at open and never appears in a log
// line, an error message or a result. Refuses what smtp_settings.h refuses, and sending
// unauthenticated when Username= is set.
#include <campaignd/plugin.h>
#include <string.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "smtp_client.h"
#include "smtp_settings.h"

namespace {

using namespace campaignd::smtp;

struct Session {
    ~Session() { ::explicit_bzero(password.data(), password.size()); }

    std::unique_ptr<Client> client;
    std::string password;  // a copy kept only to scrub it from messages, as a last defence
    std::vector<Message> batch;  // reused
    std::string enhanced, text;  // a result's strings, NUL-terminated for the sink; reused
};

std::string scrubbed(const Session& s, std::string text) {
    if (!s.password.empty())
        for (auto at = text.find(s.password); at != std::string::npos; at = text.find(s.password, at))
            text.replace(at, s.password.size(), "(password)");
    return text;
}

campaignd_status smtpOpen(void* instance, const char* transportName, const char* const* keys,
                          const char* const* values, std::size_t count, void** session,
                          campaignd_error* err) noexcept {
    (void)instance;
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
        s->client = std::make_unique<Client>(std::move(settings));  // connects on the first send
        *session = s.release();
        return CAMPAIGND_OK;
    } catch (...) {
        campaignd_error_set(err, "smtp: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

// A session-level status for the ABI, its message (scrubbed of the password) in err.
campaignd_status statusOf(const Session& s, const SendStatus& status, campaignd_error* err) {
    if (status.failure == Failure::None) return CAMPAIGND_OK;
    campaignd_error_set(err, scrubbed(s, status.message).c_str());
    switch (status.failure) {
    case Failure::Connection: return CAMPAIGND_ERR_CONNECTION;
    case Failure::Tls: return CAMPAIGND_ERR_TLS;
    case Failure::Auth: return CAMPAIGND_ERR_AUTH;
    default: return CAMPAIGND_ERR_FAILED;
    }
}

int32_t outcomeOf(Outcome o) {
    switch (o) {
    case Outcome::Sent: return CAMPAIGND_DELIVERY_SENT;
    case Outcome::Deferred: return CAMPAIGND_DELIVERY_DEFERRED;
    case Outcome::Failed: return CAMPAIGND_DELIVERY_FAILED;
    default: return CAMPAIGND_DELIVERY_UNKNOWN;
    }
}

campaignd_status smtpSend(void* session, const campaignd_outgoing_message* const* messages, std::size_t count,
                          const campaignd_delivery_sink* sink, campaignd_error* err) noexcept {
    Session& s = *static_cast<Session*>(session);
    try {
        s.batch.clear();
        for (std::size_t i = 0; i < count; ++i) {
            const campaignd_outgoing_message& m = *messages[i];
            s.batch.push_back({m.token, m.envelope_from != nullptr ? m.envelope_from : "",
                               m.recipient != nullptr ? m.recipient : "",
                               std::string_view(m.data != nullptr ? m.data : "", m.data != nullptr ? m.data_len : 0)});
        }
        std::string& enhanced = s.enhanced;
        std::string& text = s.text;
        const SendStatus status = s.client->send(s.batch.data(), s.batch.size(), [&](const Result& r) {
            enhanced.assign(r.enhanced);
            text.assign(r.text);
            campaignd_delivery_result out{};
            out.struct_size = sizeof out;
            out.token = r.token;
            out.outcome = outcomeOf(r.outcome);
            out.smtp_code = r.code;
            out.enhanced_status = enhanced.c_str();
            out.text = text.c_str();
            sink->result(sink->sink_ctx, &out);
        });
        return statusOf(s, status, err);
    } catch (const std::exception& e) {
        campaignd_error_set(err, (std::string("smtp: ") + e.what()).c_str());
        return CAMPAIGND_ERR_FAILED;
    } catch (...) {
        campaignd_error_set(err, "smtp: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

void smtpClose(void* session) noexcept { delete static_cast<Session*>(session); }

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

campaignd_status smtpStart(const campaignd_host* host, void** instance, campaignd_error* err) noexcept {
    (void)host;
    (void)err;
    *instance = nullptr;
    return CAMPAIGND_OK;
}

void smtpStop(void* instance) noexcept { (void)instance; }

const campaignd_transport kTransport = {sizeof(campaignd_transport), smtpOpen, smtpSend, smtpClose, smtpValidate,
                                       smtpProbe};

const campaignd_plugin_descriptor kDescriptor = {
    CAMPAIGND_PLUGIN_ABI_MAJOR,
    CAMPAIGND_PLUGIN_ABI_MINOR,
    sizeof(campaignd_plugin_descriptor),
    "smtp",
    "2.0.0",
    "Sends through an SMTP server (Boost.Asio; PIPELINING, STARTTLS or smtps, AUTH, one connection for many messages)",
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

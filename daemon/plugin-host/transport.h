// transport.h: the transport capability (ABI 1.2), as the daemon sees it. A TransportHandle
// opens sessions with checked settings; a TransportSession hands over batches and accounts for
// every message exactly once, whatever the plugin reports, trusting a plugin's "not handed
// over" only when it kept the rules; validate() asks the plugin about settings before any
// session (ABI 1.4); probe() asks whether a transport could send now (ABI 1.5). Refuses: settings that are no C string, and envelope fields with control
// characters (they become SMTP commands and headers).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "plugin-host/running_plugin.h"
#include "plugin-host/settings_check.h"

namespace campaignd::plugins {

class AsyncSession;
struct AsyncEvents;

// ---- The transport capability, for the daemon (ABI 1.2) -------------------------------------

// How a session-level call ended. Ok; Auth (credentials refused: pause the campaign); Tls (TLS
// required or failed: pause); Connection (connect failed, dropped, timed out: reconnect, retry);
// Failed (anything else: a bad setting, an unwritable Maildir, a plugin that broke the ABI).
enum class TransportStatus { Ok, Auth, Tls, Connection, Failed };

std::string_view toString(TransportStatus status);
// A plugin's status as a TransportStatus: AUTH, TLS, CONNECTION as such; any other failure
// (an unknown value included) Failed. Shared by the transport and bounce-source adapters.
TransportStatus transportStatusOf(campaignd_status status);

// TransportHandle::openSession's failure: the status (never Ok) and a sentence for a person
// (the plugin's message, bounded and sanitised, prefixed with the plugin and transport names).
class TransportError : public std::runtime_error {
public:
    TransportError(TransportStatus status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    TransportStatus status() const { return status_; }

private:
    TransportStatus status_;
};

// One message to hand over. The host refuses (std::invalid_argument from send(), before the
// plugin is called) a batch with a duplicate token, or an envelopeFrom, recipient or messageId
// containing NUL, CR, LF or another control character: the plugin builds SMTP commands and
// headers from them. data: RFC 5322 with CRLF line ends; viewed, not copied: it must stay valid
// during send().
struct OutgoingMessage {
    std::uint64_t token = 0;   // the caller's id (e.g. the ledger row), unique within a batch
    std::string envelopeFrom;  // "" is the null sender
    std::string recipient;
    std::string messageId;
    std::string_view data;
};

// Sent, Deferred, Failed, Unknown: what the plugin said (CAMPAIGND_DELIVERY_*; a value the host
// does not know is Unknown). NotHandedOver: the plugin gave no result for the message and its
// send() returned a failure: by the ABI it never left, so it can be sent again safely.
enum class DeliveryOutcome { Sent, Deferred, Failed, Unknown, NotHandedOver };

std::string_view toString(DeliveryOutcome outcome);

// One message's result, the host's own copy.
struct DeliveryResult {
    std::uint64_t token = 0;
    DeliveryOutcome outcome = DeliveryOutcome::Unknown;
    int smtpCode = 0;            // 200-599, or 0 (none, or the plugin's value was out of range)
    std::string enhancedStatus;  // "5.1.1" (RFC 3463 syntax), or "" (none, or malformed)
    std::string text;            // the server's reply or the error; sanitised, at most 4096 bytes
};

struct SendStatus {
    TransportStatus status = TransportStatus::Ok;
    std::string message;  // empty when Ok
    bool ok() const { return status == TransportStatus::Ok; }
};

// An open session of a transport plugin: one connection. Used by one thread at a time (several
// sessions may run concurrently). Closes the plugin's session when destroyed. Must not outlive
// the PluginHost's stop().
class TransportSession {
public:
    ~TransportSession();
    TransportSession(const TransportSession&) = delete;
    TransportSession& operator=(const TransportSession&) = delete;

    const std::string& pluginName() const;
    const std::string& transportName() const { return transportName_; }

    // Hands the messages to the plugin and calls onResult exactly once for every message, on
    // this thread: first the plugin's results as they come (in the plugin's order), then, once
    // the plugin has returned, one for each message it gave no result:
    //   - NotHandedOver when send returned a failure status (the ABI says it was not handed
    //     over: the caller may send it again, through a new session);
    //   - Unknown when send returned OK (it may have gone out: never resend), when the plugin
    //     threw, or when it broke the contract in this call (a token it was not given, a second
    //     result for a token, a malformed result): a plugin that breaks the rules is not trusted
    //     to have kept the message back.
    // Results for foreign tokens and second results are dropped and logged. The returned status
    // is the plugin's (AUTH/TLS/CONNECTION as such; anything else Failed). After a non-Ok status
    // the session is broken: later calls return Failed and report every message NotHandedOver
    // without calling the plugin; open a new session.
    // An exception from onResult is caught before it can reach the plugin, later results are
    // still matched but no longer passed on, and it is rethrown here once the plugin has
    // returned (the caller's ledger then has in-flight messages it must treat as unknown).
    // Throws std::invalid_argument for a malformed batch (see OutgoingMessage), before the
    // plugin is called; otherwise only std::bad_alloc and what onResult threw.
    SendStatus send(std::span<const OutgoingMessage> messages,
                    const std::function<void(const DeliveryResult&)>& onResult);

private:
    friend class TransportHandle;
    // The plugin's session, which this no longer closes (AsyncSession takes it over).
    void* release() {
        released_ = true;
        return session_;
    }
    TransportSession(const RunningPlugin* plugin, std::string transportName, void* session)
        : plugin_(plugin), transportName_(std::move(transportName)), session_(session) {}
    const RunningPlugin* plugin_;
    std::string transportName_;
    void* session_;
    bool broken_ = false;
    bool released_ = false;
};

// Shared by the adapters of send() and submit() (transport.cpp, async_session.cpp).
namespace detail {
// Whether the plugin's result can be read at all (non-NULL, large enough); breach says why not.
bool checkDeliveryResult(const campaignd_delivery_result* r, std::string& breach);
// The host's copy of a checked result: fields bounded and cleaned, an outcome outside the ABI
// read as Unknown (breach then says so).
DeliveryResult readDeliveryResult(const campaignd_delivery_result& r, std::string& breach);
// Throws std::invalid_argument for a malformed batch (see OutgoingMessage); `call` names it.
void checkOutgoing(std::span<const OutgoingMessage> messages, const char* call);
// The C structs of a batch, pointing into the messages (which must outlive this).
struct OutgoingStructs {
    explicit OutgoingStructs(std::span<const OutgoingMessage> messages);
    std::vector<campaignd_outgoing_message> structs;
    std::vector<const campaignd_outgoing_message*> pointers;
};
}  // namespace detail

// What TransportHandle::probe found.
struct TransportProbe {
    enum class Verdict {
        Reached,      // the transport could send now; message: what the plugin says it reached
        Unsupported,  // the plugin has no probe (built against an older minor): nothing was tried
        Failed,       // status and message say what open() or send() would have met
    };
    Verdict verdict = Verdict::Unsupported;
    TransportStatus status = TransportStatus::Failed;  // Failed only: AUTH, TLS, CONNECTION or Failed
    bool badSetting = false;  // Failed only: the plugin found a setting wrong (INVALID_ARGUMENT)
    std::string message;      // the plugin's words, bounded and sanitised (no transport prefix)
};

// A running transport plugin. Cheap to copy; valid until PluginHost::stop() or the host's
// destruction, like the RunningPlugin it refers to.
class TransportHandle {
public:
    const std::string& pluginName() const { return plugin_->name(); }

    // Opens a session for "[Transport transportName]" with its settings (key -> value, without
    // Plugin=). Throws TransportError with the plugin's status and message when it fails (or
    // when a key or value contains a NUL byte, or the plugin threw, which the ABI forbids).
    // Thread-safe.
    std::unique_ptr<TransportSession> openSession(const std::string& transportName,
                                                  const std::map<std::string, std::string>& settings) const;

    // Asks the plugin whether the settings of "[Transport transportName]" are good, without
    // opening anything (ABI 1.4 validate; Unchecked for a plugin without it). Thread-safe.
    SettingsCheck validate(const std::string& transportName, const std::map<std::string, std::string>& settings) const;

    // Asks the plugin whether "[Transport transportName]" could send now (ABI 1.5 probe): its
    // server reached, TLS and the login as a session would, nothing handed over. Blocks for the
    // plugin's time-outs. Thread-safe. Throws only std::bad_alloc.
    TransportProbe probe(const std::string& transportName, const std::map<std::string, std::string>& settings) const;

    // Opens a session driven by submit() (async_session.h): the plugin's own submit (ABI 1.6)
    // when it has one, else its send() on a thread of the session. Throws as openSession().
    // Thread-safe.
    std::unique_ptr<AsyncSession> openAsync(const std::string& transportName,
                                            const std::map<std::string, std::string>& settings,
                                            AsyncEvents events) const;
    // Whether the plugin submits itself (ABI 1.6).
    bool submits() const;

private:
    friend class PluginHost;
    explicit TransportHandle(const RunningPlugin* plugin) : plugin_(plugin) {}
    const RunningPlugin* plugin_;
};

}  // namespace campaignd::plugins

// plugin_host.h: loads campaignd's plugins (plugins/include/campaignd/plugin.h) from one
// directory at start-up, in sorted file-name order, and stops them in reverse order at the end.
// Promises: a plugin that does not load, has no entry point, the wrong ABI, a bad or duplicate
// name, or whose start() fails or throws is recorded as "failed" or "rejected" with its reason,
// logged, and skipped; nothing a plugin returns is trusted (strings are copied and bounded);
// start() and stop() never throw. Capability calls go through typed wrappers (ImporterHandle)
// that build the C structs, bound what comes back and let no exception cross the boundary.
// Refuses: to protect against a plugin that crashes in its own code, which shares the daemon's
// process.
#pragma once

#include <campaignd/plugin.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace campaignd::plugins {

// What the daemon lends its plugins through the host table (ABI 1.1): its own validation, so a
// plugin applies exactly the daemon's rules. Both throw campaignd::Error (InvalidArgument, with
// a sentence for a person) on invalid input and must be safe to call concurrently. An empty
// function makes the matching host function answer CAMPAIGND_ERR_UNSUPPORTED.
struct HostServices {
    // rules::normalizeEmail: the normalised address.
    std::function<std::string(std::string_view)> normalizeEmail;
    // rules::checkHeaderValue: refuses CR, LF, NUL, control characters, invalid UTF-8.
    std::function<void(std::string_view field, std::string_view value)> checkHeaderValue;
};

// "running": started and serving. "failed": it could not be loaded or its start() failed (an
// environment or configuration problem). "rejected": the host refused the object before
// starting it (no entry point, another ABI, a bad descriptor, a duplicate name, unsafe file).
// "stopped": it ran and was stopped by PluginHost::stop().
class ImporterHandle;
class TransportHandle;
class ReporterHandle;
class BounceSourceHandle;

enum class PluginState { Running, Failed, Rejected, Stopped };

std::string_view toString(PluginState state);

// "transport", "importer", "bounce-source", "reporter"; an unknown bit N as "unknown-bit-N".
std::vector<std::string> capabilityNames(std::uint64_t capabilities);

// What the daemon shows about one plugin file (e.g. over D-Bus). Strings are the host's
// bounded, sanitised copies; name, version and description are empty when the descriptor
// was never read or was refused before they were.
struct PluginInfo {
    std::string name;
    std::filesystem::path path;
    std::string version;
    std::string description;
    PluginState state = PluginState::Rejected;
    std::string error;  // why it failed or was rejected; empty when running
    std::uint64_t capabilityBits = 0;
    std::vector<std::string> capabilities;  // capabilityNames(capabilityBits)
    std::uint32_t abiMajor = 0;
    std::uint32_t abiMinor = 0;
};

// A started plugin, for the services that call its capability tables (later work). Owned by
// the PluginHost; valid until PluginHost::stop() or the host's destruction.
class RunningPlugin {
public:
    const std::string& name() const { return name_; }
    std::uint64_t capabilities() const { return capabilities_; }
    bool hasCapability(std::uint64_t bit) const { return (capabilities_ & bit) == bit; }

    // The plugin's descriptor, copied: fields past the plugin's own struct_size are zero, so a
    // field appended in a later minor is NULL/0 for a plugin built before it existed.
    const campaignd_plugin_descriptor& descriptor() const { return descriptor_; }
    // The struct_size the plugin declared (may exceed sizeof for a newer-minor plugin).
    std::size_t descriptorSize() const { return descriptorSize_; }
    // The instance pointer from start(), to pass back to the plugin's capability calls.
    void* instance() const { return instance_; }

    // The plugin's importer table, copied when the plugin has CAMPAIGND_CAP_IMPORTER and a
    // usable table (non-NULL, struct_size covering import, import non-NULL); nullptr otherwise.
    const campaignd_importer* importerTable() const { return hasImporter_ ? &importer_ : nullptr; }
    // The transport table, likewise (ABI 1.2: CAMPAIGND_CAP_TRANSPORT, a non-NULL table whose
    // struct_size covers close, open/send/close non-NULL); nullptr otherwise.
    const campaignd_transport* transportTable() const { return hasTransport_ ? &transport_ : nullptr; }
    // The reporter table, likewise (ABI 1.3: CAMPAIGND_CAP_REPORTER, a non-NULL table whose
    // struct_size covers compose, compose non-NULL); nullptr otherwise.
    const campaignd_reporter* reporterTable() const { return hasReporter_ ? &reporter_ : nullptr; }
    // The bounce source table, likewise (ABI 1.3: CAMPAIGND_CAP_BOUNCE_SOURCE, a non-NULL table
    // whose struct_size covers fetch, fetch non-NULL); nullptr otherwise.
    const campaignd_bounce_source* bounceSourceTable() const { return hasBounceSource_ ? &bounceSource_ : nullptr; }

private:
    friend class PluginHost;
    campaignd_reporter reporter_{};
    bool hasReporter_ = false;
    campaignd_importer importer_{};
    bool hasImporter_ = false;
    campaignd_transport transport_{};
    bool hasTransport_ = false;
    campaignd_bounce_source bounceSource_{};
    bool hasBounceSource_ = false;
    std::string name_;
    std::uint64_t capabilities_ = 0;
    campaignd_plugin_descriptor descriptor_{};
    std::size_t descriptorSize_ = 0;
    void* instance_ = nullptr;
};

class PluginHost {
public:
    // Values of the daemon config's "[Plugin NAME]" section: (plugin name, key) -> value, or
    // nullopt when the key is absent. Plugins call config_get from their own threads, so it
    // must be safe to call concurrently (a read-only config object is).
    using ConfigLookup =
        std::function<std::optional<std::string>(const std::string& plugin, const std::string& key)>;

    // Does not touch the directory yet; start() does. A null lookup means "no config". Without
    // services, the host functions normalize_email and check_header_value are unsupported.
    PluginHost(std::filesystem::path directory, ConfigLookup config);
    PluginHost(std::filesystem::path directory, ConfigLookup config, HostServices services);
    // stop()s what still runs.
    ~PluginHost();

    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    // Scans the directory for "*.so" regular files, sorted by file name, and loads and starts
    // each in turn. A missing or unreadable directory is logged and means no plugins. Call once,
    // from one thread; a second call is a no-op. Never throws.
    void start();

    // Gives the services to plugins started afterwards; call it before start() (later calls
    // are logged and ignored, as running plugins may be using the current ones).
    void setHostServices(HostServices services);

    // Stops the running plugins in reverse start order, then unloads them. Idempotent; never
    // throws. After it, the running plugins show as "stopped".
    void stop();

    // Every plugin file seen, in load order, with its state and reason.
    std::vector<PluginInfo> plugins() const;

    // A running plugin by its descriptor name, or nullptr.
    const RunningPlugin* findPlugin(std::string_view name) const;
    // The running plugins with all of the given CAMPAIGND_CAP_* bits, in load order.
    std::vector<const RunningPlugin*> pluginsWithCapability(std::uint64_t capability) const;

    const std::filesystem::path& directory() const { return directory_; }

    // The running importer plugins (CAMPAIGND_CAP_IMPORTER with an importer table), in load
    // order; and one by name (nullopt if it is not running or is not an importer).
    std::vector<ImporterHandle> importers() const;
    std::optional<ImporterHandle> importer(std::string_view name) const;

    // The running transport plugins (CAMPAIGND_CAP_TRANSPORT with a transport table), in load
    // order; and one by plugin name ("maildir", "smtp"; nullopt if not running or no transport).
    std::vector<TransportHandle> transports() const;
    std::optional<TransportHandle> transport(std::string_view pluginName) const;

    // The running reporter plugins (CAMPAIGND_CAP_REPORTER with a reporter table), in load
    // order; and one by plugin name ("report-mailer"; nullopt if not running or no reporter).
    std::vector<ReporterHandle> reporters() const;
    std::optional<ReporterHandle> reporter(std::string_view pluginName) const;
    // The running bounce sources (CAMPAIGND_CAP_BOUNCE_SOURCE with a table), in load order.
    std::vector<BounceSourceHandle> bounceSources() const;

private:
    struct Slot;

    void loadOne(const std::filesystem::path& path);

    std::filesystem::path directory_;
    ConfigLookup config_;
    HostServices services_;
    bool started_ = false;
    std::vector<std::unique_ptr<Slot>> slots_;
};

// ---- The importer capability, for the daemon ------------------------------------------------

enum class ImportSubscription { Unspecified, Subscribed, Unsubscribed };

// One valid row. The views point into the plugin's memory and are valid during the row
// callback only: copy what you keep. The host has bounded them and checked they are valid
// UTF-8 without control characters (the plugin validated them with the daemon's services).
struct ImportRow {
    std::uint64_t line = 0;  // 1-based input line where the row starts (the header is line 1)
    std::string_view email;  // normalised
    std::string_view name;   // "" when the file has none
    ImportSubscription subscription = ImportSubscription::Unspecified;
    std::span<const std::string_view> groups;  // non-empty, trimmed names
};

struct ImportOptions {
    char delimiter = 0;            // 0: the plugin detects it
    std::vector<std::string> map;  // "email=COLUMN", "name=COLUMN", ...
    std::uint64_t maxBytes = 0;    // 0: no limit
};

// The daemon's side of an import. Called on the thread that called ImporterHandle::import(),
// in input order. An exception thrown by one stops the import; import() rethrows it.
struct ImportSink {
    std::function<void(const ImportRow& row)> row;
    // A skipped row: its line and a sentence for a person.
    std::function<void(std::uint64_t line, std::string_view reason)> rowError;
    // rows read (valid and skipped), input bytes up to the end of the last row; return false
    // to cancel. May be empty.
    std::function<bool(std::uint64_t rows, std::uint64_t bytes)> progress;
};

enum class ImportOutcome {
    Completed,  // the whole input was read; every row went to row or rowError
    Rejected,   // a structural error rejects the whole import (message names the line)
    Cancelled,  // progress returned false
    Failed,     // the plugin failed (I/O, a plugin bug, a broken status); message says what
};

struct ImportResult {
    ImportOutcome outcome = ImportOutcome::Failed;
    std::string message;  // empty when Completed; bounded, sanitised copy of the plugin's text
    std::uint64_t rows = 0;   // rows handed to row()
    std::uint64_t rowErrors = 0;  // rows handed to rowError()
};

std::string_view toString(ImportOutcome outcome);

// A running importer plugin. Cheap to copy; valid until PluginHost::stop() or the host's
// destruction, like the RunningPlugin it refers to.
class ImporterHandle {
public:
    const std::string& pluginName() const { return plugin_->name(); }

    // Runs one import of the input on fd (read from its current position, never closed here or
    // by the plugin). Blocks until the plugin returns. Never lets an exception into the plugin:
    // an exception from a sink callback is caught there, the plugin is told to stop (a failure
    // status), and the exception is rethrown here once the plugin has returned. Otherwise never
    // throws except std::bad_alloc. Thread-safe: imports may run concurrently.
    ImportResult import(int fd, const ImportOptions& options, const ImportSink& sink) const;

private:
    friend class PluginHost;
    explicit ImporterHandle(const RunningPlugin* plugin) : plugin_(plugin) {}
    const RunningPlugin* plugin_;
};

// ---- The transport capability, for the daemon (ABI 1.2) -------------------------------------

// How a session-level call ended. Ok; Auth (credentials refused: pause the campaign); Tls (TLS
// required or failed: pause); Connection (connect failed, dropped, timed out: reconnect, retry);
// Failed (anything else: a bad setting, an unwritable Maildir, a plugin that broke the ABI).
enum class TransportStatus { Ok, Auth, Tls, Connection, Failed };

std::string_view toString(TransportStatus status);

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
    TransportSession(const RunningPlugin* plugin, std::string transportName, void* session)
        : plugin_(plugin), transportName_(std::move(transportName)), session_(session) {}
    const RunningPlugin* plugin_;
    std::string transportName_;
    void* session_;
    bool broken_ = false;
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

private:
    friend class PluginHost;
    explicit TransportHandle(const RunningPlugin* plugin) : plugin_(plugin) {}
    const RunningPlugin* plugin_;
};

// ---- The reporter capability, for the daemon (ABI 1.3) --------------------------------------

// A finished campaign's report, as the host hands it to a reporter plugin (campaignd_report).
struct CampaignReport {
    std::uint64_t campaignId = 0;
    std::string campaignName;
    std::string campaignSubject;
    std::string finalStatus;       // "completed", "cancelled"
    std::int64_t finishedAt = 0;   // microseconds since the epoch
    std::uint64_t total = 0, sent = 0, failed = 0, unknown = 0, skipped = 0, pending = 0, inFlight = 0;
    double successPercent = 0.0;
    std::vector<std::pair<std::string, std::uint64_t>> reasons;  // most frequent first
    std::string failuresCsv;        // formula-safe CSV, CRLF, with a header row
    std::uint64_t failuresListed = 0;
    std::uint64_t failuresTotal = 0;
    std::string from;               // a mailbox for the From header
    std::string to;                 // the admin address
    std::string messageId;          // "<...>"
    std::int64_t date = 0;          // microseconds since the epoch
};

// ReporterHandle::compose's failure: the plugin's message (bounded, sanitised, prefixed with the
// plugin's name), or the host's own when the plugin broke the rules.
class ReportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A running reporter plugin. Cheap to copy; valid until PluginHost::stop() or the host's
// destruction, like the RunningPlugin it refers to.
class ReporterHandle {
public:
    const std::string& pluginName() const { return plugin_->name(); }

    // The complete message the plugin composed for `report` (RFC 5322, CRLF), at most maxBytes.
    // Throws std::invalid_argument before calling the plugin when from, to, messageId, the
    // campaign's name or subject contain a control character (CR, LF, NUL, ...); ReportError
    // when the plugin fails, throws, returns nothing, or writes more than maxBytes.
    // Thread-safe.
    std::string compose(const CampaignReport& report, std::size_t maxBytes = std::size_t(64) << 20) const;

private:
    friend class PluginHost;
    explicit ReporterHandle(const RunningPlugin* plugin) : plugin_(plugin) {}
    const RunningPlugin* plugin_;
};

// ---- The bounce-source capability, for the daemon (ABI 1.3) ----------------------------------

// What the host does with one message: returns once what it says is committed. Throwing
// Error(InvalidArgument) says "no readable mail message": the plugin marks it processed and goes
// on. Any other exception stops the run; fetch() rethrows it once the plugin has returned.
using BounceMessageSink = std::function<void(std::string_view id, std::string_view data)>;

struct BounceFetchStatus {
    // Ok; Auth (login refused); Tls; Connection (refused, dropped, timed out); Failed (a bad
    // setting, the server said no, a plugin that broke the ABI).
    TransportStatus status = TransportStatus::Ok;
    std::string message;  // empty when Ok; the plugin's words, bounded, prefixed with its name
    bool ok() const { return status == TransportStatus::Ok; }
};

// A running bounce-source plugin. Cheap to copy; valid until PluginHost::stop().
class BounceSourceHandle {
public:
    const std::string& pluginName() const { return plugin_->name(); }
    // One run of the source with `settings` (key -> value pairs, e.g. the [Bounces] section).
    // Blocks until the plugin returns. Never lets an exception into the plugin.
    BounceFetchStatus fetch(const std::vector<std::pair<std::string, std::string>>& settings,
                            const BounceMessageSink& sink) const;

private:
    friend class PluginHost;
    explicit BounceSourceHandle(const RunningPlugin* plugin) : plugin_(plugin) {}
    const RunningPlugin* plugin_;
};

}  // namespace campaignd::plugins

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
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace campaignd::plugins {

// What the daemon lends its plugins through the host table (ABI 1.1): its own validation, so a
// plugin applies exactly the daemon's rules. Both throw campaignd::Error (InvalidArgument, with
// a sentence for a person) on invalid input and must be safe to call concurrently. An empty
// function makes the matching host function answer CAMPAIGND_ERR_UNSUPPORTED.
struct HostServices {
    // services::normalizeEmail: the normalised address.
    std::function<std::string(std::string_view)> normalizeEmail;
    // services::checkHeaderValue: refuses CR, LF, NUL, control characters, invalid UTF-8.
    std::function<void(std::string_view field, std::string_view value)> checkHeaderValue;
};

// "running": started and serving. "failed": it could not be loaded or its start() failed (an
// environment or configuration problem). "rejected": the host refused the object before
// starting it (no entry point, another ABI, a bad descriptor, a duplicate name, unsafe file).
// "stopped": it ran and was stopped by PluginHost::stop().
class ImporterHandle;

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

private:
    friend class PluginHost;
    campaignd_importer importer_{};
    bool hasImporter_ = false;
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

}  // namespace campaignd::plugins

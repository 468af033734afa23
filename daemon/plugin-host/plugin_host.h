// plugin_host.h: loads campaignd's plugins (plugins/include/campaignd/plugin.h) from one
// directory at start-up, in sorted file-name order, and stops them in reverse order at the end.
// Promises: a plugin that does not load, has no entry point, the wrong ABI, a bad or duplicate
// name, or whose start() fails or throws is recorded as "failed" or "rejected" with its reason,
// logged, and skipped; nothing a plugin returns is trusted (strings are copied and bounded);
// start() and stop() never throw. Capability calls go through typed handles (importer.h,
// transport.h, reporter.h, bounce_source.h); select() chooses the one plugin to use for a
// capability. Refuses: to protect against a plugin that crashes in its own code, which shares
// the daemon's process.
#pragma once

#include <campaignd/plugin.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin-host/async_session.h"
#include "plugin-host/bounce_source.h"
#include "plugin-host/importer.h"
#include "plugin-host/reporter.h"
#include "plugin-host/running_plugin.h"
#include "plugin-host/transport.h"

namespace campaignd::plugins {

// What PluginHost::select() found for one capability.
struct PluginSelection {
    // The plugin to use; nullptr when none offers the capability, or when `error` is set.
    const RunningPlugin* plugin = nullptr;
    // Set when the choice is wrong: the named plugin does not run or lacks the capability, or
    // several offer it and none was named. A sentence for a person, naming every candidate.
    std::string error;
    // The running plugins that offer the capability, in load order.
    std::vector<std::string> candidates;
    bool ok() const { return error.empty(); }
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

    // The one plugin to use for `capability` (one CAMPAIGND_CAP_* bit), by the config's choice
    // `configuredName` ("" when the config names none):
    //   - named: that plugin if it runs and serves the capability; else an error saying it does
    //     not run (with its state and reason when the file was seen) or is not one;
    //   - not named: the only running plugin that serves it; an error naming every candidate
    //     when several do; nothing (no error) when none does.
    // "Serves" means its table was adopted (RunningPlugin::serves), not just the bit.
    PluginSelection select(std::uint64_t capability, std::string_view configuredName) const;

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
    // The running bounce sources (CAMPAIGND_CAP_BOUNCE_SOURCE with a table), in load order;
    // and one by plugin name ("imap-bounce"; nullopt if not running or no bounce source).
    std::vector<BounceSourceHandle> bounceSources() const;
    std::optional<BounceSourceHandle> bounceSource(std::string_view pluginName) const;

private:
    struct Slot;

    void loadOne(const std::filesystem::path& path);
    // The running plugins that serve `capability`, in load order.
    std::vector<const RunningPlugin*> serving(std::uint64_t capability) const;

    std::filesystem::path directory_;
    ConfigLookup config_;
    HostServices services_;
    bool started_ = false;
    std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace campaignd::plugins

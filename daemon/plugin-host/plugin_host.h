// plugin_host.h: loads campaignd's plugins (plugins/include/campaignd/plugin.h) from one
// directory at start-up, in sorted file-name order, and stops them in reverse order at the end.
// Promises: a plugin that does not load, has no entry point, the wrong ABI, a bad or duplicate
// name, or whose start() fails or throws is recorded as "failed" or "rejected" with its reason,
// logged, and skipped; nothing a plugin returns is trusted (strings are copied and bounded);
// start() and stop() never throw. Refuses: to protect against a plugin that crashes in its own
// code, which shares the daemon's process.
#pragma once

#include <campaignd/plugin.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace campaignd::plugins {

// "running": started and serving. "failed": it could not be loaded or its start() failed (an
// environment or configuration problem). "rejected": the host refused the object before
// starting it (no entry point, another ABI, a bad descriptor, a duplicate name, unsafe file).
// "stopped": it ran and was stopped by PluginHost::stop().
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

private:
    friend class PluginHost;
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

    // Does not touch the directory yet; start() does. A null lookup means "no config".
    PluginHost(std::filesystem::path directory, ConfigLookup config);
    // stop()s what still runs.
    ~PluginHost();

    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    // Scans the directory for "*.so" regular files, sorted by file name, and loads and starts
    // each in turn. A missing or unreadable directory is logged and means no plugins. Call once,
    // from one thread; a second call is a no-op. Never throws.
    void start();

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

private:
    struct Slot;

    void loadOne(const std::filesystem::path& path);

    std::filesystem::path directory_;
    ConfigLookup config_;
    bool started_ = false;
    std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace campaignd::plugins

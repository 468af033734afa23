// running_plugin.h: what the host knows about one plugin file (PluginInfo, for the bus) and
// about one started plugin (RunningPlugin, for the capability adapters): its copied descriptor,
// its instance, and the capability tables the loader adopted. A table is there only when the
// plugin's descriptor and table were large enough and its required functions non-NULL, so an
// adapter never checks the ABI again. Owned by the PluginHost; valid until its stop().
#pragma once

#include <campaignd/plugin.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace campaignd::plugins {

class PluginHost;

// What the daemon lends its plugins through the host table (ABI 1.1): its own validation, so a
// plugin applies exactly the daemon's rules. Both throw campaignd::Error (InvalidArgument, with
// a sentence for a person) on invalid input and must be safe to call concurrently. An empty
// function makes the matching host function answer CAMPAIGND_ERR_UNSUPPORTED.
struct HostServices {
    // The daemon's normalizeEmail (its validation rules): the normalised address.
    std::function<std::string(std::string_view)> normalizeEmail;
    // The daemon's checkHeaderValue: refuses CR, LF, NUL, control characters, invalid UTF-8.
    std::function<void(std::string_view field, std::string_view value)> checkHeaderValue;
};

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

// A started plugin, for the capability adapters. Owned by the PluginHost; valid until
// PluginHost::stop() or the host's destruction.
class RunningPlugin {
public:
    const std::string& name() const { return name_; }
    std::uint64_t capabilities() const { return capabilities_; }
    bool hasCapability(std::uint64_t bit) const { return (capabilities_ & bit) == bit; }
    // Whether the host can use it for every capability in `bits`: the bit is set and the
    // loader adopted the capability's table (a bit without a usable table is shown, not used).
    bool serves(std::uint64_t bits) const;

    // The plugin's descriptor, copied: fields past the plugin's own struct_size are zero, so a
    // field appended in a later minor is NULL/0 for a plugin built before it existed.
    const campaignd_plugin_descriptor& descriptor() const { return descriptor_; }
    // The struct_size the plugin declared (may exceed sizeof for a newer-minor plugin).
    std::size_t descriptorSize() const { return descriptorSize_; }
    // The instance pointer from start(), to pass back to the plugin's capability calls.
    void* instance() const { return instance_; }

    // The plugin's importer table, copied when the plugin has CAMPAIGND_CAP_IMPORTER and a
    // usable table (non-NULL, struct_size covering import, import non-NULL); nullptr otherwise.
    const campaignd_importer* importerTable() const { return importer_ ? &*importer_ : nullptr; }
    // The transport table, likewise (ABI 1.2: CAMPAIGND_CAP_TRANSPORT, a non-NULL table whose
    // struct_size covers close, open/send/close non-NULL); nullptr otherwise.
    const campaignd_transport* transportTable() const { return transport_ ? &*transport_ : nullptr; }
    // The reporter table, likewise (ABI 1.3: CAMPAIGND_CAP_REPORTER, a non-NULL table whose
    // struct_size covers compose, compose non-NULL); nullptr otherwise.
    const campaignd_reporter* reporterTable() const { return reporter_ ? &*reporter_ : nullptr; }
    // The bounce source table, likewise (ABI 1.3: CAMPAIGND_CAP_BOUNCE_SOURCE, a non-NULL table
    // whose struct_size covers fetch, fetch non-NULL); nullptr otherwise.
    const campaignd_bounce_source* bounceSourceTable() const { return bounceSource_ ? &*bounceSource_ : nullptr; }

private:
    friend class PluginHost;
    std::string name_;
    std::uint64_t capabilities_ = 0;
    campaignd_plugin_descriptor descriptor_{};
    std::size_t descriptorSize_ = 0;
    void* instance_ = nullptr;
    // The adopted capability tables (see capabilities.h), copied at start.
    std::optional<campaignd_importer> importer_;
    std::optional<campaignd_transport> transport_;
    std::optional<campaignd_reporter> reporter_;
    std::optional<campaignd_bounce_source> bounceSource_;
};

}  // namespace campaignd::plugins

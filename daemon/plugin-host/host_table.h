// host_table.h: the host table (campaignd_host) each plugin gets at start(), and the context
// behind its host_ctx. The functions in it (log, config_get, normalize_email,
// check_header_value) are noexcept C-callable shims: they check the context and their
// arguments, bound what they read, answer with a status and a message, and never call back
// into the plugin.
#pragma once

#include <campaignd/plugin.h>

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "plugin-host/plugin_host.h"

namespace campaignd::plugins {

// Per plugin: the host table handed to start() and what its functions need. Its address is
// the table's host_ctx, so it lives on the heap and stays put until the plugin is stopped (or,
// for a plugin that broke the ABI, as long as the PluginHost).
struct PluginHostContext {
    static constexpr std::uint64_t kMagic = 0x63616d7068737431ULL;  // "camphst1"
    std::uint64_t magic = kMagic;
    std::string pluginName;
    const PluginHost::ConfigLookup* config = nullptr;
    const HostServices* services = nullptr;  // the PluginHost's; fixed once start() ran
    campaignd_host table{};
    // Every value config_get handed out, kept so the pointer stays valid until stop():
    // per key, the values in the order they were first seen (a config reload adds one).
    std::mutex cacheMutex;
    std::map<std::string, std::list<std::string>> cache;
};

// A context with its table filled in for `pluginName`. config and services are the
// PluginHost's and must outlive the context.
std::unique_ptr<PluginHostContext> makeHostContext(const std::string& pluginName,
                                                   const PluginHost::ConfigLookup* config,
                                                   const HostServices* services);

}  // namespace campaignd::plugins

// selection.cpp: which running plugin serves a capability. select() is the daemon's one rule
// for choosing among several plugins of one capability: the configured one, or the only one;
// never the first loaded by accident. The typed lookups below hand out adapters only for
// plugins whose table the loader adopted.
#include <string>

#include "plugin-host/capabilities.h"
#include "plugin-host/plugin_host.h"

namespace campaignd::plugins {
namespace {

std::string inQuotes(std::string_view name) { return "\"" + std::string(name) + "\""; }

std::string nounOf(std::uint64_t capability) {
    const CapabilityInfo* info = capabilityInfo(capability);
    return info ? std::string(info->noun) : "capable of bit " + std::to_string(capability);
}

}  // namespace

PluginSelection PluginHost::select(std::uint64_t capability, std::string_view configuredName) const {
    PluginSelection out;
    const auto all = serving(capability);
    for (const RunningPlugin* p : all) out.candidates.push_back(p->name());
    if (!configuredName.empty()) {
        if (const RunningPlugin* named = findPlugin(configuredName)) {
            if (named->serves(capability))
                out.plugin = named;
            else
                out.error = "the plugin " + inQuotes(configuredName) + " is not " + nounOf(capability);
            return out;
        }
        out.error = "no running plugin " + inQuotes(configuredName) + " in " + directory_.string();
        for (const PluginInfo& info : plugins()) {
            if (info.name != configuredName) continue;
            out.error += " (" + info.path.filename().string() + " is " + std::string(toString(info.state)) +
                         (info.error.empty() ? std::string() : ": " + info.error) + ")";
            return out;
        }
        out.error += " (see campaignd-ctl status)";
        return out;
    }
    if (all.size() == 1) {
        out.plugin = all.front();
    } else if (all.size() > 1) {
        std::string names;
        for (const auto& name : out.candidates) names += (names.empty() ? "" : ", ") + inQuotes(name);
        out.error = "more than one running plugin is " + nounOf(capability) + " (" + names + "); name the one to use";
    }
    return out;
}

std::vector<ImporterHandle> PluginHost::importers() const {
    std::vector<ImporterHandle> out;
    for (const RunningPlugin* p : serving(CAMPAIGND_CAP_IMPORTER)) out.push_back(ImporterHandle(p));
    return out;
}

std::optional<ImporterHandle> PluginHost::importer(std::string_view name) const {
    const RunningPlugin* plugin = findPlugin(name);
    if (plugin == nullptr || plugin->importerTable() == nullptr) return std::nullopt;
    return ImporterHandle(plugin);
}

std::vector<TransportHandle> PluginHost::transports() const {
    std::vector<TransportHandle> out;
    for (const RunningPlugin* p : serving(CAMPAIGND_CAP_TRANSPORT)) out.push_back(TransportHandle(p));
    return out;
}

std::optional<TransportHandle> PluginHost::transport(std::string_view pluginName) const {
    const RunningPlugin* plugin = findPlugin(pluginName);
    if (plugin == nullptr || plugin->transportTable() == nullptr) return std::nullopt;
    return TransportHandle(plugin);
}

std::vector<ReporterHandle> PluginHost::reporters() const {
    std::vector<ReporterHandle> out;
    for (const RunningPlugin* p : serving(CAMPAIGND_CAP_REPORTER)) out.push_back(ReporterHandle(p));
    return out;
}

std::optional<ReporterHandle> PluginHost::reporter(std::string_view pluginName) const {
    const RunningPlugin* plugin = findPlugin(pluginName);
    if (plugin == nullptr || plugin->reporterTable() == nullptr) return std::nullopt;
    return ReporterHandle(plugin);
}

std::vector<BounceSourceHandle> PluginHost::bounceSources() const {
    std::vector<BounceSourceHandle> out;
    for (const RunningPlugin* p : serving(CAMPAIGND_CAP_BOUNCE_SOURCE)) out.push_back(BounceSourceHandle(p));
    return out;
}

std::optional<BounceSourceHandle> PluginHost::bounceSource(std::string_view pluginName) const {
    const RunningPlugin* plugin = findPlugin(pluginName);
    if (plugin == nullptr || plugin->bounceSourceTable() == nullptr) return std::nullopt;
    return BounceSourceHandle(plugin);
}

}  // namespace campaignd::plugins

// startup_checks.cpp: the config against the loaded plugins (startup_checks.h).
#include "app/startup_checks.h"

namespace campaignd::app {

std::optional<std::string> checkTransports(const config::Config& config, const plugins::PluginHost& host) {
    for (const auto& [name, transport] : config.transports) {
        if (host.transport(transport.plugin)) continue;
        const bool exists = host.findPlugin(transport.plugin) != nullptr;
        return config::transportError(
            transport, exists ? "the plugin \"" + transport.plugin + "\" is not a transport"
                              : "no running plugin \"" + transport.plugin + "\" in " + config.pluginDirectory +
                                    " (see campaignd-ctl status)");
    }
    return std::nullopt;
}

}  // namespace campaignd::app

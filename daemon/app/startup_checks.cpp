// startup_checks.cpp: the config against the loaded plugins (startup_checks.h).
#include "app/startup_checks.h"

#include <tuple>

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

std::optional<std::string> choosePlugins(const config::Config& config, const plugins::PluginHost& host,
                                         ChosenPlugins& chosen) {
    for (const auto& [choice, capability, name] :
         {std::tuple{&config.importPlugin, CAMPAIGND_CAP_IMPORTER, &chosen.importer},
          std::tuple{&config.bouncePlugin, CAMPAIGND_CAP_BOUNCE_SOURCE, &chosen.bounceSource},
          std::tuple{&config.reportPlugin, CAMPAIGND_CAP_REPORTER, &chosen.reporter}}) {
        const auto selection = host.select(capability, choice->plugin);
        if (!selection.ok()) return config::pluginChoiceError(*choice, selection.error);
        name->clear();
        if (selection.plugin != nullptr) *name = selection.plugin->name();
    }
    return std::nullopt;
}

}  // namespace campaignd::app

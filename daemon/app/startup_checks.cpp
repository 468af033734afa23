// startup_checks.cpp: the config against the loaded plugins (startup_checks.h).
#include "app/startup_checks.h"

#include <tuple>

#include "core/log.h"
#include "rules/validation.h"

namespace campaignd::app {

std::unique_ptr<plugins::PluginHost> loadPlugins(const config::Config& config) {
    auto lookup = [&config](const std::string& plugin, const std::string& key) -> std::optional<std::string> {
        const auto section = config.plugins.find(plugin);
        if (section == config.plugins.end()) return std::nullopt;
        const auto value = section->second.find(key);
        if (value == section->second.end()) return std::nullopt;
        return value->second;
    };
    plugins::HostServices rules{
        [](std::string_view address) { return rules::normalizeEmail(address); },
        [](std::string_view field, std::string_view value) { rules::checkHeaderValue(field, value); }};
    auto host = std::make_unique<plugins::PluginHost>(config.pluginDirectory, lookup, rules);
    host->start();
    return host;
}

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

namespace {

using plugins::SettingsCheck;

// Logs what is not the config's fault; true when `check` is a bad setting.
bool badSetting(const SettingsCheck& check, const std::string& plugin, const std::string& section) {
    if (check.verdict == SettingsCheck::Verdict::Unchecked)
        log::notice("plugin cannot check its settings before use (built against an older ABI); [" + section +
                        "] is checked when it is first used",
                    {{"PLUGIN", plugin}});
    else if (check.verdict == SettingsCheck::Verdict::CheckFailed)
        log::warning("could not check [" + section + "] at start-up: " + check.message, {{"PLUGIN", plugin}});
    return check.bad();
}

}  // namespace

std::optional<std::string> checkTransportSettings(const config::Config& config, const plugins::PluginHost& host) {
    for (const auto& [name, transport] : config.transports) {
        const auto handle = host.transport(transport.plugin);
        if (!handle) continue;  // checkTransports says so
        const auto check = handle->validate(name, transport.settings);
        if (!badSetting(check, transport.plugin, "Transport " + name)) continue;
        const auto at = transport.settingsAt.find(check.key);
        if (!check.key.empty() && at != transport.settingsAt.end())
            return at->second + ": [Transport " + name + "] " + check.key + "=: " + check.message;
        const std::string pluginAt =
            transport.pluginAt.empty() ? transport.file + ":" + std::to_string(transport.line) : transport.pluginAt;
        return pluginAt + ": [Transport " + name + "] Plugin=" + transport.plugin + ": " + check.message;
    }
    return std::nullopt;
}

std::optional<std::string> checkBounceSettings(const config::Config& config, const plugins::PluginHost& host,
                                               const std::string& plugin) {
    if (plugin.empty() || config.bounceSource.empty()) return std::nullopt;
    const auto handle = host.bounceSource(plugin);
    if (!handle) return std::nullopt;  // choosePlugins says so
    const auto check = handle->validate(config.bounceSource);
    if (!badSetting(check, plugin, "Bounces")) return std::nullopt;
    const auto at = config.bounceSourceAt.find(check.key);
    if (!check.key.empty() && at != config.bounceSourceAt.end())
        return at->second + ": [Bounces] " + check.key + "=: " + check.message;
    if (!config.bouncePlugin.at.empty()) return config::pluginChoiceError(config.bouncePlugin, check.message);
    const auto first = config.bounceSourceAt.find(config.bounceSource.front().first);
    return (first != config.bounceSourceAt.end() ? first->second + ": " : std::string()) + "[Bounces]: " +
           check.message;
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

// config_source.cpp: reading the config at start-up and on SIGHUP (config_source.h).
#include "app/config_source.h"

#include "core/log.h"

namespace campaignd::app {

ConfigSource ConfigSource::forDaemon(const std::string& configOption, bool user) {
    ConfigSource source;
    source.explicitly = !configOption.empty();
    source.path = source.explicitly ? configOption : config::defaultConfigPath(user);
    source.defaults = config::builtinDefaults(user);
    return source;
}

config::Config ConfigSource::load() const { return config::loadConfig(path, explicitly, defaults); }

void reload(const ConfigSource& source, config::Config& running, bus::AccessPolicy& access) {
    try {
        const auto fresh = source.load();
        log::setMinimumLevel(fresh.logLevel);
        access.setGroups(fresh.adminGroup, fresh.readerGroup);
        access.setWebUser(fresh.web.user);
        if (fresh.database != running.database || fresh.pluginDirectory != running.pluginDirectory)
            log::notice("Database= and PluginDirectory= take effect at the next restart");
        // The DKIM keys are read once, at start-up (app/dkim_keys).
        const auto keys = [](const config::Config& c) {
            std::string out;
            for (const auto& [name, k] : c.dkim)
                out += name + '\n' + k.selector + '\n' + k.keyFile + '\n' + k.keyCredential + '\n' + k.algorithm + '\n';
            return out;
        };
        if (keys(fresh) != keys(running)) log::notice("[DKIM DOMAIN] sections take effect at the next restart");
        running.logLevel = fresh.logLevel;
        running.adminGroup = fresh.adminGroup;
        running.readerGroup = fresh.readerGroup;
        running.web.user = fresh.web.user;
        log::info("configuration reloaded");
    } catch (const config::ConfigError& e) {
        log::error(std::string("reload refused, keeping the running configuration: ") + e.what());
    }
}

}  // namespace campaignd::app

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

// config_source.cpp: reading the config at start-up and on SIGHUP (config_source.h).
#include "app/config_source.h"

#include <set>

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
        // Everything else is read once, at start-up (the database, the plugins and their
        // sections, the transports, [Sending], the DKIM keys, [Bounces]): say which changed.
        static const std::set<std::string> kLive = {"[Daemon] LogLevel", "[Daemon] AdminGroup",
                                                    "[Daemon] ReaderGroup", "[Web] User"};
        std::string waiting;
        auto note = [&](const std::string& key) {
            if (!kLive.count(key)) waiting += (waiting.empty() ? "" : ", ") + key + "=";
        };
        for (const auto& [key, value] : fresh.values) {
            const auto was = running.values.find(key);
            if (was == running.values.end() || was->second != value) note(key);
        }
        for (const auto& [key, value] : running.values)
            if (!fresh.values.count(key)) note(key);
        if (!waiting.empty()) log::notice("changed, and taking effect at the next restart: " + waiting);
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

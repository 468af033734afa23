// config_source.h: where the daemon's configuration comes from (--config FILE or the default
// path, and the built-in defaults), so that start-up and a reload (SIGHUP) read it the same
// way; and what a reload may change in a running daemon. A reload applies the log level and
// the admin and reader groups and the web user at once; every other key only at the next
// restart (it names each one that changed, until the daemon runs with it); a config that no longer loads is refused and the running one kept.
#pragma once

#include <string>

#include "bus/access.h"
#include "config/config.h"

namespace campaignd::app {

struct ConfigSource {
    std::string path;       // the main file
    bool explicitly = false;  // named with --config: then it must exist
    config::Defaults defaults;

    // --config FILE, or the default path for the system or the user (--user).
    static ConfigSource forDaemon(const std::string& configOption, bool user);
    // Throws config::ConfigError.
    config::Config load() const;
};

// Re-reads `source` and applies what can change now to `running` and `access`; logs what it did
// (or why it refused). Never throws.
void reload(const ConfigSource& source, config::Config& running, bus::AccessPolicy& access);

}  // namespace campaignd::app

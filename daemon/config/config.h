// config.h: the daemon's configuration: the main file (default
// /etc/campaignd/campaignd.conf), then its drop-ins, "<main>.d/*.conf" in lexical order, each
// overriding what came before (as systemd's drop-ins do). Every key is checked here, at start-up:
// an unknown section or key, a malformed value, or a password in a file others can read stops
// the daemon with one line naming the file, the line, the key and what is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/log.h"

namespace campaignd::config {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Config {
    // [Daemon]
    std::string database;         // "sqlite:/abs/path" or "postgresql://..."
    std::string pluginDirectory;  // absolute
    std::string adminEmail;       // normalised; reports go here
    std::string adminGroup = "campaignd";  // members may call mutating methods
    log::Level logLevel = log::Level::Info;
    // [Import]
    std::uint64_t importMaxFileSize = 512ull << 20;  // bytes; 0: no limit
    // [Bounces]
    std::int64_t softBounceLimit = 3;  // consecutive soft bounces that suppress a recipient
    // [Plugin NAME] sections: each plugin's own keys, checked by the plugin.
    std::map<std::string, std::map<std::string, std::string>> plugins;
    // The files read, in order (the main file first, if it existed).
    std::vector<std::string> files;
};

struct Defaults {
    std::string database;
    std::string pluginDirectory;
    std::string adminEmail;
};

// The built-in defaults: the system ones, or with `user` the per-user ones
// ($XDG_STATE_HOME/campaignd/campaignd.db, as `systemctl --user` services keep state).
Defaults builtinDefaults(bool user);
// The default main file: /etc/campaignd/campaignd.conf, or with `user`
// $XDG_CONFIG_HOME/campaignd/campaignd.conf.
std::string defaultConfigPath(bool user);

// Loads `mainPath` and its drop-ins over `defaults`. A missing main file is an error only when
// `required` (the administrator named it with --config). Throws ConfigError.
Config loadConfig(const std::string& mainPath, bool required, const Defaults& defaults);

}  // namespace campaignd::config

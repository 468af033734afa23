// startup_checks.h: what the daemon checks once its plugins have loaded and before it serves,
// so that a config naming something that is not there, or a plugin key its plugin refuses,
// stops start-up (exit 78) instead of pausing the first campaign. Each check returns the one
// line to log, or nothing when all is well; none of them changes anything (a plugin's check
// connects to nothing and creates nothing).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "plugin-host/plugin_host.h"

namespace campaignd::app {

// Loads and starts every plugin of [Daemon] PluginDirectory=, with the config's plugin sections
// and the daemon's validation rules (ABI 1.1 host functions). Checks nothing against the config.
std::unique_ptr<plugins::PluginHost> loadPlugins(const config::Config& config);

// The one plugin used for each capability that is not a transport.
struct ChosenPlugins {
    std::string importer;      // "" when no importer is installed
    std::string bounceSource;  // likewise
    std::string reporter;      // likewise
};

// [Import], [Bounces], [Reports] Plugin=: the named plugin, else the only one of its capability
// (several and none named is an error naming them all). Fills `chosen`; returns the problem
// ("FILE:LINE: [Import] Plugin=...: ...") when there is one.
std::optional<std::string> choosePlugins(const config::Config& config, const plugins::PluginHost& host,
                                         ChosenPlugins& chosen);

// Every [Transport NAME] names a running transport plugin: "FILE:LINE: [Transport NAME]
// Plugin=: ..." otherwise.
std::optional<std::string> checkTransports(const config::Config& config, const plugins::PluginHost& host);

// Every [Transport NAME]'s plugin keys, as its plugin reads them (ABI 1.4 validate, nothing
// opened): "FILE:LINE: [Transport NAME] KEY=: plugin P: ..." with the line of the key, or of
// Plugin= when a required key is missing. Call after checkTransports. A plugin that cannot
// check (an older minor) or failed to is logged, not a config error: its first session tells.
std::optional<std::string> checkTransportSettings(const config::Config& config, const plugins::PluginHost& host);

// The [Bounces] source keys (URL=, Username=, ...), by the chosen bounce source `plugin`, when
// any is set (an installed plugin nobody configured is not an error): "FILE:LINE: [Bounces]
// KEY=: plugin P: ..." likewise, pointing at Plugin= (or the section's first key) when a
// required key is missing.
std::optional<std::string> checkBounceSettings(const config::Config& config, const plugins::PluginHost& host,
                                               const std::string& plugin);

}  // namespace campaignd::app

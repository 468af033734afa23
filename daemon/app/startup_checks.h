// startup_checks.h: what the daemon checks once its plugins have loaded and before it serves,
// so that a config naming something that is not there stops start-up (exit 78) instead of
// pausing the first campaign. Each check returns the one line to log, or nothing when all is
// well; none of them changes anything.
#pragma once

#include <optional>
#include <string>

#include "config/config.h"
#include "plugin-host/plugin_host.h"

namespace campaignd::app {

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

}  // namespace campaignd::app

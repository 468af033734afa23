// bounce_source.h: the bounce-source capability (ABI 1.3), as the daemon sees it.
// BounceSourceHandle::fetch() runs the plugin once with checked settings and hands each message
// to the daemon's sink, which commits before the plugin marks it processed; validate() asks the
// plugin about the settings without connecting (ABI 1.4). Refuses: settings that are no C
// string (NUL, too long), as transports do.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin-host/running_plugin.h"
#include "plugin-host/transport.h"

namespace campaignd::plugins {

// ---- The bounce-source capability, for the daemon (ABI 1.3) ----------------------------------

// What the host does with one message: returns once what it says is committed. Throwing
// Error(InvalidArgument) says "no readable mail message": the plugin marks it processed and goes
// on. Any other exception stops the run; fetch() rethrows it once the plugin has returned.
using BounceMessageSink = std::function<void(std::string_view id, std::string_view data)>;

struct BounceFetchStatus {
    // Ok; Auth (login refused); Tls; Connection (refused, dropped, timed out); Failed (a bad
    // setting, the server said no, a plugin that broke the ABI).
    TransportStatus status = TransportStatus::Ok;
    std::string message;  // empty when Ok; the plugin's words, bounded, prefixed with its name
    bool ok() const { return status == TransportStatus::Ok; }
};

// A running bounce-source plugin. Cheap to copy; valid until PluginHost::stop().
class BounceSourceHandle {
public:
    const std::string& pluginName() const { return plugin_->name(); }
    // One run of the source with `settings` (key -> value pairs, e.g. the [Bounces] section).
    // Blocks until the plugin returns. Never lets an exception into the plugin. A key or value
    // with a NUL byte, or longer than 64 KiB, is Failed ("setting KEY contains a NUL byte or is
    // too long") before the plugin is called, as TransportHandle::openSession refuses it.
    BounceFetchStatus fetch(const std::vector<std::pair<std::string, std::string>>& settings,
                            const BounceMessageSink& sink) const;
    // Asks the plugin whether `settings` (the [Bounces] section's) are good, without
    // connecting (ABI 1.4 validate; Unchecked for a plugin without it).
    SettingsCheck validate(const std::vector<std::pair<std::string, std::string>>& settings) const;

private:
    friend class PluginHost;
    explicit BounceSourceHandle(const RunningPlugin* plugin) : plugin_(plugin) {}
    const RunningPlugin* plugin_;
};

}  // namespace campaignd::plugins

// check_config.cpp: see check_config.h.
#include "app/check_config.h"

#include <cstdio>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "app/config_source.h"
#include "app/dkim_keys.h"
#include "app/startup_checks.h"
#include "core/log.h"
#include "storage/database_probe.h"

namespace campaignd::app {
namespace {

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

// --connect: every transport probed at once (each may wait for its own time-outs), reported in
// the config's order. Lines for stdout are returned; problems are added to `problems`.
std::vector<std::string> probeTransports(const config::Config& config, const plugins::PluginHost& host,
                                         std::vector<std::string>& problems) {
    struct Probe {
        std::string name;
        const config::TransportConfig* transport;
        std::future<plugins::TransportProbe> result;
    };
    std::vector<Probe> probes;
    for (const auto& [name, transport] : config.transports) {
        const auto handle = host.transport(transport.plugin);
        if (!handle) continue;  // checkTransports said so
        probes.push_back({name, &transport, std::async(std::launch::async, [handle, name, &transport] {
                              return handle->probe(name, transport.settings);
                          })});
    }
    std::vector<std::string> reached;
    for (auto& p : probes) {
        const plugins::TransportProbe probe = p.result.get();
        const std::string section = "[Transport " + p.name + "]";
        switch (probe.verdict) {
        case plugins::TransportProbe::Verdict::Reached:
            reached.push_back("transport " + p.name + ": " + (probe.message.empty() ? "reached" : probe.message));
            break;
        case plugins::TransportProbe::Verdict::Unsupported:
            log::warning(section + ": plugin " + p.transport->plugin +
                         " cannot be asked whether it reaches its server (built against an ABI older than 1.5)");
            break;
        case plugins::TransportProbe::Verdict::Failed:
            problems.push_back(std::string(probe.badSetting ? "bad configuration: " : "cannot send now: ") +
                               (p.transport->pluginAt.empty()
                                    ? p.transport->file + ":" + std::to_string(p.transport->line)
                                    : p.transport->pluginAt) +
                               ": " + section + " (plugin " + p.transport->plugin +
                               ", " + std::string(plugins::toString(probe.status)) + "): " + probe.message);
            break;
        }
    }
    return reached;
}

}  // namespace

int checkConfig(const Options& options) {
    // Problems and warnings only: the plugins' start and stop lines are not what was asked for.
    log::setMinimumLevel(log::Level::Warning);
    const auto source = ConfigSource::forDaemon(options.configPath, options.user);
    config::Config config;
    try {
        config = source.load();
    } catch (const config::ConfigError& e) {
        // The parser stops at its first problem: nothing below can be checked without a config.
        log::error(std::string("bad configuration: ") + e.what());
        return kExitConfig;
    }
    std::vector<std::string> problems;
    auto note = [&](const std::optional<std::string>& problem) {
        if (problem) problems.push_back("bad configuration: " + *problem);
    };

    // The DKIM keys, read and parsed as start-up does.
    std::size_t dkimDomains = 0;
    try {
        dkimDomains = config.dkim.size();
        (void)loadDkimKeys(config);
    } catch (const config::ConfigError& e) {
        problems.push_back(std::string("bad configuration: ") + e.what());
    }

    std::optional<storage::DatabaseProbe> database;
    try {
        database = storage::probeDatabase(config.database);
    } catch (const std::exception& e) {
        problems.push_back(std::string("cannot open the database: ") + e.what());
    }

    ChosenPlugins chosen;
    std::vector<std::string> pluginNames;
    std::vector<std::string> reached;
    try {
        const auto host = loadPlugins(config);
        if (const auto problem = checkTransports(config, *host)) note(problem);
        else note(checkTransportSettings(config, *host));
        if (const auto problem = choosePlugins(config, *host, chosen)) note(problem);
        else note(checkBounceSettings(config, *host, chosen.bounceSource));
        for (const auto& p : host->plugins()) {
            if (p.state == plugins::PluginState::Running) pluginNames.push_back(p.name);
            else log::warning("plugin " + p.path.string() + " will not run: " + p.error);
        }
        if (options.connect && problems.empty()) reached = probeTransports(config, *host, problems);
    } catch (const std::exception& e) {
        problems.push_back(std::string("cannot load the plugins: ") + e.what());
    }

    for (const auto& p : problems) log::error(p);
    if (!problems.empty()) return kExitConfig;

    std::vector<std::string> transports;
    for (const auto& [name, t] : config.transports) transports.push_back(name + " (" + t.plugin + ")");
    std::printf("configuration: %s\n", config.files.empty() ? "built-in defaults (no file)" : joined(config.files).c_str());
    std::printf("database: %s %s, %s\n", database->backend.c_str(), database->location.c_str(),
                database->schemaVersion ? ("schema version " + std::to_string(*database->schemaVersion)).c_str()
                                        : "not created yet");
    std::printf("plugins: %s\n", joined(pluginNames).c_str());
    std::printf("transports: %s\n", joined(transports).c_str());
    std::printf("DKIM keys: %zu section(s)\n", dkimDomains);
    for (const auto& line : reached) std::printf("%s\n", line.c_str());
    std::printf("the configuration is valid\n");
    return 0;
}

}  // namespace campaignd::app

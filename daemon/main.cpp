// main.cpp: campaignd, the daemon. Reads the config, opens the store (applying migrations),
// loads the plugins, publishes the bus objects, takes the name org.campaignd.Campaignd1, and
// tells systemd it is ready. SIGTERM and SIGINT stop it cleanly; SIGHUP re-reads the config
// and applies what can change without a restart (the log level, the admin group).
//
// Exit status: 0 after a clean stop, 1 when start-up fails, 2 for bad usage, 78 (EX_CONFIG)
// for a bad config, which the unit marks as not worth restarting for.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <sdbus-c++/sdbus-c++.h>
#include <systemd/sd-daemon.h>

#include "bus/access.h"
#include "bus/bounce_jobs.h"
#include "bus/bus_loop.h"
#include "bus/import_jobs.h"
#include "bus/job_runner.h"
#include "bus/objects.h"
#include "config/config.h"
#include "core/buildconfig.h"
#include "core/error.h"
#include "core/log.h"
#include "delivery/engine.h"
#include "plugin-host/plugin_host.h"
#include "services/bounce_service.h"
#include "services/campaign_service.h"
#include "services/recipient_service.h"
#include "services/report_mailer.h"
#include "services/sending_service.h"
#include "services/validation.h"
#include "storage/store.h"

namespace {

constexpr int kExitConfig = 78;

using namespace campaignd;

// The sending rules' view of the engine.
class EngineControl final : public services::DeliveryControl {
public:
    explicit EngineControl(delivery::DeliveryEngine& engine) : engine_(engine) {}
    void check(const Campaign& c) override { engine_.check(c); }
    void start(const Campaign& c) override { engine_.start(c); }
    void stop(Id id) override { engine_.stop(id); }

private:
    delivery::DeliveryEngine& engine_;
};

struct Options {
    std::string configPath;
    bool user = false;
};

void notify(const std::string& state) { sd_notify(0, state.c_str()); }

std::vector<bus::VariantMap> pluginsOnBus(const plugins::PluginHost& host) {
    std::vector<bus::VariantMap> out;
    for (const auto& p : host.plugins()) {
        out.push_back({
            {"name", sdbus::Variant(p.name)},
            {"file", sdbus::Variant(p.path.string())},
            {"version", sdbus::Variant(p.version)},
            {"description", sdbus::Variant(p.description)},
            {"state", sdbus::Variant(std::string(plugins::toString(p.state)))},
            {"error", sdbus::Variant(p.error)},
            {"capabilities", sdbus::Variant(p.capabilities)},
        });
    }
    return out;
}

int run(const Options& opts) {
    const bool explicitConfig = !opts.configPath.empty();
    const auto configPath = explicitConfig ? opts.configPath : config::defaultConfigPath(opts.user);
    const auto defaults = config::builtinDefaults(opts.user);
    config::Config cfg;
    try {
        cfg = config::loadConfig(configPath, explicitConfig, defaults);
    } catch (const config::ConfigError& e) {
        log::error(std::string("bad configuration: ") + e.what());
        notify(std::string("STATUS=bad configuration: ") + e.what());
        return kExitConfig;
    }
    log::setMinimumLevel(cfg.logLevel);
    if (cfg.files.empty())
        log::notice("no config file at " + configPath + "; using the built-in defaults");

    notify("STATUS=opening the database");
    std::unique_ptr<storage::Store> store;
    try {
        store = storage::openStore(cfg.database);
    } catch (const std::exception& e) {
        log::error(std::string("cannot open the database: ") + e.what());
        notify(std::string("STATUS=cannot open the database: ") + e.what());
        return 1;
    }
    log::info("database ready", {{"BACKEND", store->backendName()},
                                 {"DATABASE", store->location()},
                                 {"SCHEMA_VERSION", std::to_string(store->schemaVersion())}});

    notify("STATUS=loading plugins");
    const auto pluginConfig = [&cfg](const std::string& plugin, const std::string& key)
        -> std::optional<std::string> {
        const auto section = cfg.plugins.find(plugin);
        if (section == cfg.plugins.end()) return std::nullopt;
        const auto value = section->second.find(key);
        if (value == section->second.end()) return std::nullopt;
        return value->second;
    };
    // Plugins validate with the daemon's own rules (ABI 1.1 host functions).
    plugins::HostServices hostServices{
        [](std::string_view address) { return services::normalizeEmail(address); },
        [](std::string_view field, std::string_view value) { services::checkHeaderValue(field, value); }};
    plugins::PluginHost pluginHost(cfg.pluginDirectory, pluginConfig, hostServices);
    pluginHost.start();
    // Every [Transport NAME] must name a running transport plugin: found now, not at the
    // first send.
    for (const auto& [name, transport] : cfg.transports) {
        if (!pluginHost.transport(transport.plugin)) {
            const bool exists = pluginHost.findPlugin(transport.plugin) != nullptr;
            const auto what = config::transportError(
                transport, exists ? "the plugin \"" + transport.plugin + "\" is not a transport"
                                  : "no running plugin \"" + transport.plugin + "\" in " +
                                        cfg.pluginDirectory + " (see campaignd-ctl status)");
            log::error("bad configuration: " + what);
            notify("STATUS=bad configuration: " + what);
            return kExitConfig;
        }
    }

    const services::Clock clock = services::systemNow;
    services::CampaignService campaigns(*store, clock);
    services::RecipientService recipients(*store, clock);
    campaigns.setTransportCheck([&cfg](const std::string& name) { return cfg.transports.count(name) > 0; });
    bus::AccessPolicy access(cfg.adminGroup);
    bus::Services svc{campaigns, recipients, access,
                      [&pluginHost] { return pluginsOnBus(pluginHost); }, *store};

    std::unique_ptr<sdbus::IConnection> connection;
    try {
        connection = opts.user ? sdbus::createSessionBusConnection()
                               : sdbus::createSystemBusConnection();
    } catch (const sdbus::Error& e) {
        log::error(std::string("cannot connect to the ") + (opts.user ? "session" : "system") +
                   " bus: " + e.getMessage());
        return 1;
    }

    boost::asio::io_context io;
    bus::DaemonInfo info{CAMPAIGND_VERSION,
                         store->backendName(),
                         store->location(),
                         static_cast<std::uint64_t>(store->schemaVersion()),
                         services::systemNow(),
                         opts.user ? "user" : "system"};
    bus::ManagerObject manager(*connection, io, svc, info);
    manager.publishExisting();
    try {
        connection->requestName(bus::kServiceName);
    } catch (const sdbus::Error& e) {
        log::error(std::string("cannot take the bus name ") + bus::kServiceName + ": " +
                   e.getMessage() + " (is another campaignd running?)");
        return 1;
    }
    int exitCode = 0;
    bus::BusLoop loop(io, *connection, [&](const std::string& why) {
        log::error("lost the connection to the bus; exiting: " + why);
        notify("STOPPING=1\nSTATUS=lost the bus connection");
        exitCode = 1;
        io.stop();
    });
    loop.start();

    // The jobs (long bus calls): declared after the plugin host and the bus objects, so that
    // they are destroyed (joining their threads) before them. A job still inside a plugin call
    // a few seconds after the stop (a silent IMAP server) ends the process instead: its plugin
    // must not be unloaded under it, and what it had not committed is done again next time.
    bus::JobRunner jobs(
        io,
        [&](const bus::JobSnapshot& job) {
            manager.emitJobFinished(job.id, job.kind, std::string(bus::toString(job.state)), job.result);
            loop.kick();
        },
        [&exitCode] { std::_Exit(exitCode); });
    svc.jobs = &jobs;
    bus::ImportJobs imports(io, jobs, {
        [database = cfg.database] { return storage::openStore(database); },
        [&pluginHost]() -> std::optional<plugins::ImporterHandle> {
            auto all = pluginHost.importers();
            if (all.empty()) return std::nullopt;
            return all.front();
        },
        cfg.importMaxFileSize,
        [&](std::uint64_t id, std::uint64_t rows, std::uint64_t bytes, double rate) {
            manager.emitImportProgress(id, rows, bytes, rate);
            loop.kick();
        },
        [&](std::uint64_t id, const std::string& state, const bus::VariantMap& summary) {
            manager.emitImportFinished(id, state, summary);
            loop.kick();
        }});
    svc.imports = &imports;

    // The delivery engine, and the sending rules that drive it. Its callbacks run on the io
    // thread; kick() flushes what they emitted on the bus.
    services::SendingService* sendingRules = nullptr;
    // A 5xx at RCPT (or after DATA) is a hard bounce too: the engine's outcome listener hands
    // each such Failed outcome to a BounceService of its own, on a Store of its own, serialised
    // by a mutex (the listener runs on the worker threads; rejections are rare, so one store
    // is enough). Set once the bounce settings are known, before any campaign can run;
    // declared before the engine so that it outlives the engine's threads.
    std::mutex rejectionMutex;
    std::unique_ptr<storage::Store> rejectionStore;
    std::unique_ptr<services::BounceService> rejections;
    delivery::DeliveryEngine engine(io, cfg, {
        [database = cfg.database] { return storage::openStore(database); },
        [&pluginHost](const std::string& plugin) { return pluginHost.transport(plugin); },
        [&](Id id) {
            if (sendingRules) sendingRules->runFinished(id);
            loop.kick();
        },
        [&](Id id, const std::string& reason) {
            if (sendingRules) sendingRules->transportNeedsAttention(id, reason);
            loop.kick();
        },
        [&](const delivery::Progress& p) {
            manager.campaignProgress(p.campaign, p.ratePerSecond);
            loop.kick();
        },
        [&](const std::vector<delivery::RecordedOutcome>& batch) {
            std::lock_guard lock(rejectionMutex);
            for (const auto& o : batch) {
                if (!services::BounceService::isRejection(o.outcome.kind == storage::DeliveryOutcome::Kind::Failed,
                                                          o.result.smtpCode, o.result.enhancedStatus))
                    continue;
                if (!rejections) {
                    log::warning("a rejection at sending is not recorded as a bounce: the bounce service is not ready",
                                 {{"CAMPAIGN_ID", std::to_string(o.campaignId)}, {"RECIPIENT", o.recipient}});
                    continue;
                }
                try {
                    const std::string status = !o.result.enhancedStatus.empty() ? o.result.enhancedStatus
                                               : o.result.smtpCode != 0 ? std::to_string(o.result.smtpCode / 100) + ".0.0"
                                                                        : std::string("5.0.0");
                    rejections->recordRejection(o.campaignId,
                                                o.recipientId != 0 ? std::optional<Id>(o.recipientId) : std::nullopt,
                                                o.recipient, status, o.outcome.reason, o.messageId);
                } catch (const std::exception& e) {
                    log::error(std::string("a rejection at sending could not be recorded as a bounce: ") + e.what(),
                               {{"CAMPAIGN_ID", std::to_string(o.campaignId)}, {"RECIPIENT", o.recipient}});
                }
            }
        },
        {}});
    // Bounces are matched to their campaign and recipient by the VERP address the engine signs.
    services::BounceSettings bounceSettings;
    bounceSettings.softBounceLimit = cfg.softBounceLimit;
    try {
        bounceSettings.verp = mail::checkVerpSettings(engine.verpSettings());
    } catch (const std::exception& e) {
        log::warning(std::string("bounces will not be matched by their VERP address: ") + e.what());
    }
    bounceSettings.source = cfg.bounceSource;
    services::BounceService bounces(*store, clock, bounceSettings);
    bus::BounceJobs bounceJobs(jobs, bounces,
                               {[database = cfg.database] { return storage::openStore(database); }, clock,
                                [&pluginHost]() -> std::optional<plugins::BounceSourceHandle> {
                                    auto all = pluginHost.bounceSources();
                                    if (all.empty()) return std::nullopt;
                                    return all.front();
                                }});
    {
        std::lock_guard lock(rejectionMutex);
        rejectionStore = storage::openStore(cfg.database);
        rejections = std::make_unique<services::BounceService>(*rejectionStore, clock, bounceSettings);
    }
    svc.bounces = &bounces;
    svc.bounceJobs = &bounceJobs;
    EngineControl engineControl(engine);
    services::SendingService sending(*store, campaigns, engineControl);
    sendingRules = &sending;
    svc.sending = &sending;

    // The report mail (issue 3 item 7): each completed campaign's report goes to AdminEmail=
    // through the campaign's own transport, composed by the reporter plugin, off the io thread.
    services::ReportSettings reportSettings;
    reportSettings.adminEmail = cfg.adminEmail;
    services::ReportMailer reportMailer(
        {[database = cfg.database] { return storage::openStore(database); },
         [&pluginHost]() -> std::optional<plugins::ReporterHandle> {
             auto all = pluginHost.reporters();
             if (all.empty()) return std::nullopt;
             return all.front();
         },
         [&pluginHost](const std::string& plugin) { return pluginHost.transport(plugin); },
         [&cfg](const Campaign& c) -> std::optional<services::ReportTransport> {
             const auto* transport = config::transportFor(cfg, c.transport);
             if (transport == nullptr) return std::nullopt;
             return services::ReportTransport{transport->name, transport->plugin, transport->settings};
         },
         clock},
        reportSettings);
    sending.addCompletionListener([&reportMailer](const Campaign& c) { reportMailer.campaignCompleted(c); });
    try {
        const auto recovered = engine.recover(*store);
        if (recovered.unknown + recovered.released > 0)
            log::notice("recovered interrupted sending",
                        {{"UNKNOWN", std::to_string(recovered.unknown)}, {"RELEASED", std::to_string(recovered.released)}});
        sending.resumeInterrupted();
    } catch (const std::exception& e) {
        log::error(std::string("cannot recover interrupted sending: ") + e.what());
        return 1;
    }

    boost::asio::signal_set stopSignals(io, SIGTERM, SIGINT);
    stopSignals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        log::info(std::string("stopping on ") + strsignal(signal));
        notify("STOPPING=1\nSTATUS=stopping");
        jobs.cancelAll();
        engine.stopAll();
        loop.stop();
        io.stop();
    });
    boost::asio::signal_set hup(io, SIGHUP);
    std::function<void()> waitHup = [&] {
        hup.async_wait([&](const boost::system::error_code& ec, int) {
            if (ec) return;
            notify("RELOADING=1\nSTATUS=reloading the configuration");
            try {
                const auto fresh = config::loadConfig(configPath, explicitConfig, defaults);
                log::setMinimumLevel(fresh.logLevel);
                access.setAdminGroup(fresh.adminGroup);
                if (fresh.database != cfg.database || fresh.pluginDirectory != cfg.pluginDirectory)
                    log::notice("Database= and PluginDirectory= take effect at the next restart");
                cfg.logLevel = fresh.logLevel;
                cfg.adminGroup = fresh.adminGroup;
                log::info("configuration reloaded");
            } catch (const config::ConfigError& e) {
                log::error(std::string("reload refused, keeping the running configuration: ") + e.what());
            }
            notify("READY=1\nSTATUS=serving on the bus");
            waitHup();
        });
    };
    waitHup();

    log::info(std::string("campaignd ") + CAMPAIGND_VERSION + " ready on the " +
              (opts.user ? "session" : "system") + " bus");
    notify("READY=1\nSTATUS=serving on the bus");
    io.run();
    try {
        connection->releaseName(bus::kServiceName);
    } catch (const sdbus::Error&) {
    }
    log::info("stopped");
    return exitCode;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"campaignd: the bulk e-mail campaign daemon.\n"
                 "Keeps campaigns, recipients and groups and serves them on D-Bus as "
                 "org.campaignd.Campaignd1. Usually started by systemd (campaignd.service)."};
    Options opts;
    app.add_option("-c,--config", opts.configPath,
                   "Config file (default " CAMPAIGND_CONF_DIR "/campaignd.conf, or "
                   "$XDG_CONFIG_HOME/campaignd/campaignd.conf with --user); drop-ins are read "
                   "from FILE.d/*.conf");
    app.add_flag("--user", opts.user, "Serve on the session bus, as systemctl --user does");
    app.set_version_flag("--version", CAMPAIGND_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    return run(opts);
}

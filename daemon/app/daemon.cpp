// daemon.cpp: the composition root (daemon.h). Each part is built by a member initialiser in
// the order of daemon.h; the helpers below only say how one part is made.
#include "app/daemon.h"

#include <boost/asio/post.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <sdbus-c++/sdbus-c++.h>
#include <systemd/sd-daemon.h>

#include "app/dkim_keys.h"
#include "app/startup_checks.h"
#include "bus/name_owner.h"
#include "bus/variant_map.h"
#include "core/buildconfig.h"
#include "core/clock.h"
#include "core/log.h"
#include "mail/message.h"
#include "mail/verp.h"
#include "rules/validation.h"

namespace campaignd::app {
namespace {

void notify(const std::string& state) { sd_notify(0, state.c_str()); }

const char* busKind(bool user) { return user ? "session" : "system"; }

// The host of "smtp://HOST[:PORT]" or "imaps://HOST/..." ("[v6]" keeps its brackets); "" if none.
std::string urlHost(const std::string& url) {
    const auto start = url.find("://");
    if (start == std::string::npos) return {};
    const std::string rest = url.substr(start + 3, url.find_first_of("/?#", start + 3) - start - 3);
    if (!rest.empty() && rest.front() == '[') return rest.substr(0, rest.find(']') + 1);
    return rest.substr(0, rest.find(':'));
}

// What DnsRecords needs of the config: the relays, the envelope and report settings.
services::DnsRecordSettings dnsRecordSettings(const config::Config& config) {
    services::DnsRecordSettings s;
    for (const auto& [name, transport] : config.transports) {
        const auto url = transport.settings.find("URL");
        s.relays.push_back({name, url == transport.settings.end() ? std::string() : urlHost(url->second)});
    }
    s.envelopeDomain = config.sending.envelopeDomain;
    s.envelopeSubdomain = config.sending.envelopeSubdomain;
    s.dmarcReports = config.sending.dmarcReports;
    s.defaultFromDomain = mail::fromDomain(config.sending.from.empty() ? config.adminEmail : config.sending.from);
    for (const auto& [key, value] : config.bounceSource)
        if (key == "URL") s.bounceHost = urlHost(value);
    char host[256] = {};
    s.localHostName = ::gethostname(host, sizeof host - 1) == 0 && host[0] ? host : "localhost";
    return s;
}

mail::DkimKeyring loadDkimKeysOrFail(const config::Config& config) {
    try {
        auto keyring = loadDkimKeys(config);
        for (const auto& [domain, signer] : keyring)
            for (const auto& key : signer->keys())
                log::info("DKIM key loaded", {{"DOMAIN", domain},
                                              {"SELECTOR", key.selector},
                                              {"ALGORITHM", std::string(mail::toString(key.algorithm))}});
        return keyring;
    } catch (const config::ConfigError& e) {
        throw StartupError(kExitConfig, std::string("bad configuration: ") + e.what());
    }
}

std::unique_ptr<storage::Store> openDatabase(const config::Config& config) {
    notify("STATUS=opening the database");
    std::unique_ptr<storage::Store> store;
    try {
        store = storage::openStore(config.database);
    } catch (const std::exception& e) {
        throw StartupError(1, std::string("cannot open the database: ") + e.what());
    }
    log::info("database ready", {{"BACKEND", store->backendName()},
                                 {"DATABASE", store->location()},
                                 {"SCHEMA_VERSION", std::to_string(store->schemaVersion())}});
    return store;
}

std::unique_ptr<plugins::PluginHost> startPlugins(const config::Config& config) {
    notify("STATUS=loading plugins");
    auto host = loadPlugins(config);
    if (const auto problem = checkTransports(config, *host))
        throw StartupError(kExitConfig, "bad configuration: " + *problem);
    if (const auto problem = checkTransportSettings(config, *host))
        throw StartupError(kExitConfig, "bad configuration: " + *problem);
    return host;
}

ChosenPlugins choosePluginsOrFail(const config::Config& config, const plugins::PluginHost& host) {
    ChosenPlugins chosen;
    if (const auto problem = choosePlugins(config, host, chosen))
        throw StartupError(kExitConfig, "bad configuration: " + *problem);
    if (const auto problem = checkBounceSettings(config, host, chosen.bounceSource))
        throw StartupError(kExitConfig, "bad configuration: " + *problem);
    return chosen;
}

std::unique_ptr<sdbus::IConnection> connectToBus(bool user) {
    try {
        return user ? sdbus::createSessionBusConnection() : sdbus::createSystemBusConnection();
    } catch (const sdbus::Error& e) {
        throw StartupError(1, std::string("cannot connect to the ") + busKind(user) + " bus: " + e.getMessage());
    }
}

std::string nameTakenMessage(const bus::NameOwner& owner, bool user) {
    std::string message = std::string("another campaignd already owns ") + bus::kServiceName + " on the " +
                           busKind(user) + " bus";
    if (owner.pid) message += " (pid " + std::to_string(*owner.pid) + ")";
    return message;
}

// A second campaignd must stop before it opens (and maybe migrates) a database, creates its
// state files or starts plugins: so the name's owner is asked for here, before a Daemon is built,
// on a connection of its own (GetNameOwner activates nothing: while the bus activates this very
// daemon the name has no owner yet). The name itself is still requested last, once every object is
// exported (the Daemon's constructor): a client that calls as soon as the name appears, D-Bus
// activation included (Type=notify with BusName=; the bus holds the activating call until the
// name has an owner), must find the objects there, not UnknownObject. Taking the name here and
// leaving early calls queued until the objects exist would close the race below, but would
// announce a daemon that may still fail its database and plugin checks, and hold its callers
// for as long as a migration takes. Two daemons that start at the same moment both pass this
// check; the loser's RequestName fails before it has sent or recovered anything (it may have
// brought the schema up to date, as the winner does too), and it exits with the same message
// and status.
//
// A bus that cannot be reached is reported where it always was, after the config, database and
// plugin checks: whether another daemon runs cannot be known then, and those checks still say
// what is wrong with the config and the database without a bus (startup_test.cpp runs them so).
void refuseATakenName(bool user) {
    std::unique_ptr<sdbus::IConnection> probe;
    try {
        probe = user ? sdbus::createSessionBusConnection() : sdbus::createSystemBusConnection();
    } catch (const sdbus::Error&) {
        return;
    }
    std::optional<bus::NameOwner> owner;
    try {
        owner = bus::findNameOwner(*probe, bus::kServiceName);
    } catch (const sdbus::Error& e) {
        log::warning(std::string("cannot ask the bus who owns ") + bus::kServiceName + ": " + e.getMessage());
        return;  // RequestName at the end still refuses a taken name
    }
    if (owner) throw StartupError(kExitNameTaken, nameTakenMessage(*owner, user));
}

services::ClusterMember clusterMember(const std::string& instanceId) {
    services::ClusterMember self;
    self.instanceId = instanceId;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) self.host = host;
    self.pid = ::getpid();
    self.startedAt = systemNow();
    return self;
}

services::ReportSettings reportSettings(const config::Config& config) {
    services::ReportSettings settings;
    settings.adminEmail = config.adminEmail;
    return settings;
}

// The engine's outcome, as the bounce rules see a failure.
services::SendingFailure toSendingFailure(const delivery::RecordedOutcome& o) {
    services::SendingFailure f;
    f.campaignId = o.campaignId;
    if (o.recipientId != 0) f.recipientId = o.recipientId;
    f.recipient = o.recipient;
    f.smtpCode = o.result.smtpCode;
    f.enhancedStatus = o.result.enhancedStatus;
    f.reply = o.outcome.reason;
    f.messageId = o.messageId;
    return f;
}

}  // namespace

Daemon::Daemon(const Options& options, ConfigSource source, config::Config config)
    : options_(options),
      source_(std::move(source)),
      config_(std::move(config)),
      dkim_(loadDkimKeysOrFail(config_)),
      dnsSettings_(dnsRecordSettings(config_)),
      store_(openDatabase(config_)),
      plugins_(startPlugins(config_)),
      chosen_(choosePluginsOrFail(config_, *plugins_)),
      connection_(connectToBus(options_.user)),
      access_(config_.adminGroup, config_.readerGroup),
      campaigns_(*store_, *store_, *store_, *store_, systemNow),
      guard_(config_.sending.guard, *store_,
             [this](Id id, const std::string& reason) {
                 boost::asio::post(io_, [this, id, reason] {
                     sending_.guardTripped(id, reason);
                     loop_.kick();
                 });
             }),
      rejections_(storage::openStore(config_.database), systemNow, config_.softBounceLimit),
      engine_(io_, config_, engineEnvironment()),
      engineControl_(engine_),
      recipients_(*store_, *store_, systemNow, engine_.verpSettings().secret),
      bounces_(*store_, *store_, *store_, *store_, systemNow, bounceSettings()),
      sending_(*store_, campaigns_, engineControl_),
      cluster_(*store_, *store_, clusterMember(engine_.instanceId()), config_.sending.claimLeaseUsec, systemNow),
      reportMailer_(reportDependencies(), reportSettings(config_)),
      web_(*store_, *store_, recipients_,
           [this](const Campaign& c) { return engine_.messageSettings(c); },
           [this] { return engine_.verpSettings().secret; }),
      webUnsubscribes_({storage::openStore(config_.database), systemNow, engine_.verpSettings().secret,
                        [this](const Campaign& c) { return engine_.messageSettings(c); },
                        [this] { return engine_.verpSettings().secret; }}),
      jobs_(io_,
            [this](const bus::JobSnapshot& job) {
                manager_.emitJobFinished(job.id, job.kind, std::string(bus::toString(job.state)), job.result);
                loop_.kick();
            },
            // A job still inside a plugin call after the grace period (a silent IMAP server):
            // its plugin must not be unloaded under it; what it had not committed is done again
            // next time.
            [this] { std::_Exit(exitStatus_); }),
      imports_(io_, jobs_, importEnvironment()),
      bounceJobs_(jobs_, bounces_, bounceJobEnvironment()),
      busServices_{campaigns_, recipients_, sending_, bounces_, access_, *plugins_, *store_, jobs_, imports_,
                   bounceJobs_, dnsSettings_, dkim_, cluster_},
      manager_(*connection_, io_, busServices_,
               bus::DaemonInfo{CAMPAIGND_VERSION, store_->backendName(), store_->location(),
                               static_cast<std::uint64_t>(store_->schemaVersion()), systemNow(),
                               options_.user ? "user" : "system"}),
      webObject_(*connection_, io_, web_, webUnsubscribes_, access_, [this] { loop_.kick(); }),
      loop_(io_, *connection_,
            [this](const std::string& why) {
                log::error("lost the connection to the bus; exiting: " + why);
                notify("STOPPING=1\nSTATUS=lost the bus connection");
                exitStatus_ = 1;
                io_.stop();
            }),
      stopSignals_(io_, SIGTERM, SIGINT),
      hangup_(io_, SIGHUP),
      clusterTimer_(io_),
      noticeSocket_(io_) {
    access_.setWebUser(config_.web.user);
    campaigns_.setTransportCheck([this](const std::string& name) { return config_.transports.count(name) > 0; });
    campaigns_.setAlignmentCheck([this](const Campaign& c) { return engine_.alignment(c); });
    sending_.addCompletionListener([this](const Campaign& c) { reportMailer_.campaignCompleted(c); });
    sending_.setGuard(&guard_);
    manager_.publishExisting();
    try {
        connection_->requestName(bus::kServiceName);
    } catch (const sdbus::Error& e) {
        // Lost the race of refuseATakenName(): the members close the database and stop the
        // plugins as the exception leaves the constructor; nothing was sent or recovered, and the
        // loop never ran, so no call reached the objects.
        std::optional<bus::NameOwner> owner;
        try {
            owner = bus::findNameOwner(*connection_, bus::kServiceName);
        } catch (const sdbus::Error&) {
        }
        if (owner && owner->uniqueName != connection_->getUniqueName())
            throw StartupError(kExitNameTaken, nameTakenMessage(*owner, options_.user));
        throw StartupError(1, std::string("cannot take the bus name ") + bus::kServiceName + ": " + e.getMessage());
    }
    loop_.start();
    recoverSending();
    listenForNotices();
    followCluster();
}

Daemon::~Daemon() {
    if (noticeSocket_.is_open()) noticeSocket_.release();  // notices_'s connection closes it
    try {
        connection_->releaseName(bus::kServiceName);
    } catch (const sdbus::Error&) {
    }
}

delivery::DeliveryEngine::Environment Daemon::engineEnvironment() {
    return {
        [database = config_.database] { return storage::openStore(database); },  // a worker's ledger
        [database = config_.database] { return storage::openStore(database); },  // the monitor's campaigns
        [this](const std::string& plugin) { return plugins_->transport(plugin); },
        [this](Id id) {
            sending_.runFinished(id);
            loop_.kick();
        },
        [this](Id id, const std::string& reason) {
            sending_.transportNeedsAttention(id, reason);
            loop_.kick();
        },
        [this](const delivery::Progress& p) {
            manager_.campaignProgress(p.campaign, p.ratePerSecond);
            loop_.kick();
        },
        // A 5xx at RCPT (or after DATA) is a hard bounce too (on the worker threads).
        // The sending guard counts the final outcomes first, then the hard bounces among them.
        [this](const std::vector<delivery::RecordedOutcome>& batch) {
            std::int64_t attempts = 0, delivered = 0;
            for (const auto& o : batch) {
                if (o.outcome.kind == storage::LedgerOutcome::Kind::Deferred) continue;
                ++attempts;
                if (o.outcome.kind == storage::LedgerOutcome::Kind::Sent) ++delivered;
            }
            if (!batch.empty()) guard_.outcomes(batch.front().campaignId, attempts, delivered);
            for (const auto& o : batch)
                if (o.outcome.kind == storage::LedgerOutcome::Kind::Failed)
                    if (const auto bounce = rejections_.record(toSendingFailure(o))) guard_.bounceRecorded(*bounce);
        },
        {},
        dkim_,
        [this](Id campaign) { return store_->campaignGroups(campaign); }};
}

bus::ImportJobs::Environment Daemon::importEnvironment() {
    return {[database = config_.database] { return storage::openStore(database); },
            [this] { return plugins_->importer(chosen_.importer); },
            config_.importMaxFileSize,
            engine_.verpSettings().secret,
            [this](std::uint64_t id, std::uint64_t rows, std::uint64_t bytes, double rate) {
                manager_.emitImportProgress(id, rows, bytes, rate);
                loop_.kick();
            },
            [this](std::uint64_t id, const std::string& state, const bus::VariantMap& summary) {
                manager_.emitImportFinished(id, state, summary);
                loop_.kick();
            }};
}

bus::BounceJobs::Environment Daemon::bounceJobEnvironment() {
    return {[database = config_.database] { return storage::openStore(database); }, systemNow,
            [this] { return plugins_->bounceSource(chosen_.bounceSource); }};
}

// The report mail: each completed campaign's report goes to AdminEmail= through the campaign's
// own transport, composed by the reporter plugin, off the io thread.
services::ReportMailer::Dependencies Daemon::reportDependencies() {
    return {[database = config_.database] { return storage::openStore(database); },  // campaigns
            [database = config_.database] { return storage::openStore(database); },  // reports
            [this] { return plugins_->reporter(chosen_.reporter); },
            [this](const std::string& plugin) { return plugins_->transport(plugin); },
            [this](const Campaign& c) -> std::optional<services::ReportTransport> {
                const auto* transport = config::transportFor(config_, c.transport);
                if (transport == nullptr) return std::nullopt;
                return services::ReportTransport{transport->name, transport->plugin, transport->settings};
            },
            systemNow};
}

// Bounces are matched to their campaign and recipient by the VERP address the engine signs.
services::BounceSettings Daemon::bounceSettings() {
    services::BounceSettings settings;
    settings.softBounceLimit = config_.softBounceLimit;
    settings.actOnUnmatched = config_.actOnUnmatchedBounces;
    settings.source = config_.bounceSource;
    settings.unsubscribeMailto = config_.sending.unsubscribeMailto;
    settings.recorded = [this](const services::BounceOutcome& o) { guard_.bounceRecorded(o); };
    try {
        settings.verp = mail::checkVerpSettings(engine_.verpSettings());
    } catch (const std::exception& e) {
        log::warning(std::string("bounces will not be matched by their VERP address: ") + e.what());
    }
    return settings;
}

void Daemon::recoverSending() {
    try {
        const auto recovered = engine_.recover(*store_);
        if (recovered.unknown + recovered.released > 0)
            log::notice("recovered interrupted sending", {{"UNKNOWN", std::to_string(recovered.unknown)},
                                                          {"RELEASED", std::to_string(recovered.released)}});
        sending_.resumeInterrupted();
    } catch (const std::exception& e) {
        throw StartupError(1, std::string("cannot recover interrupted sending: ") + e.what());
    }
}

// A lone daemon on SQLite beats once (status lists it) and follows nobody: a SQLite file is
// not shared between hosts, and two daemons on one file are not a cluster this supports.
// PostgreSQL: the heartbeat every second (three times per ClaimLease= when that is shorter
// than 3 s), the campaigns
// followed at every notice and, should a notice be lost, every kFollowPolls seconds (every
// second when there are no notices: the listening connection failed or broke).
constexpr unsigned kFollowPolls = 5;

void Daemon::followCluster() {
    const bool shared = store_->backendName() == "postgresql";
    try {
        cluster_.beat();
    } catch (const std::exception& e) {
        log::warning(std::string("cannot beat the heartbeat into the database: ") + e.what());
    }
    if (!shared) return;
    if (beats_++ % kFollowPolls == 0 || !notices_) followCampaigns();
    // At least three beats per lease, so that a live daemon is never silent for a whole one.
    const auto beat = std::chrono::microseconds(std::min<std::int64_t>(1'000'000, config_.sending.claimLeaseUsec / 3));
    clusterTimer_.expires_after(beat);
    clusterTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) followCluster();
    });
}

void Daemon::followCampaigns() {
    try {
        const auto all = campaigns_.list(std::nullopt);
        manager_.follow(all);
        sending_.follow(all);
    } catch (const std::exception& e) {
        log::warning(std::string("cannot follow the other daemons sharing the database: ") + e.what());
    }
    loop_.kick();
}

void Daemon::listenForNotices() {
    try {
        notices_ = storage::CampaignNotices::listen(config_.database);
        if (!notices_) return;
        noticeSocket_.assign(notices_->socket());
    } catch (const std::exception& e) {
        log::warning(std::string("no campaign notices from the database; following it every second instead: ") +
                     e.what());
        notices_.reset();
        return;
    }
    waitForNotice();
}

void Daemon::waitForNotice() {
    noticeSocket_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                             [this](const boost::system::error_code& ec) {
                                 if (ec == boost::asio::error::operation_aborted || !notices_) return;
                                 try {
                                     if (ec) throw std::runtime_error(ec.message());
                                     if (notices_->drain() > 0) followCampaigns();
                                 } catch (const std::exception& e) {
                                     log::warning(std::string("lost the campaign notices; following the database "
                                                              "every second instead: ") + e.what());
                                     noticeSocket_.release();
                                     notices_.reset();
                                     return;
                                 }
                                 waitForNotice();
                             });
}

void Daemon::waitForStop() {
    stopSignals_.async_wait([this](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        log::info(std::string("stopping on ") + strsignal(signal));
        notify("STOPPING=1\nSTATUS=stopping");
        clusterTimer_.cancel();
        if (noticeSocket_.is_open()) noticeSocket_.release();  // the connection closes its own socket
        notices_.reset();
        jobs_.cancelAll();
        engine_.stopAll();
        loop_.stop();
        io_.stop();
    });
}

void Daemon::waitForHangup() {
    hangup_.async_wait([this](const boost::system::error_code& ec, int) {
        if (ec) return;
        notify("RELOADING=1\nSTATUS=reloading the configuration");
        reload(source_, config_, access_);
        notify("READY=1\nSTATUS=serving on the bus");
        waitForHangup();
    });
}

int Daemon::serve() {
    waitForStop();
    waitForHangup();
    log::info(std::string("campaignd ") + CAMPAIGND_VERSION + " ready on the " +
              (options_.user ? "session" : "system") + " bus");
    notify("READY=1\nSTATUS=serving on the bus");
    io_.run();
    log::info("stopped");
    return exitStatus_;
}

int run(const Options& options) {
    // Nothing the daemon creates (the database, the state directory, the VERP secret) is for
    // other users, whatever umask it was started with (systemd's UMask= says the same).
    ::umask(027);
    auto source = ConfigSource::forDaemon(options.configPath, options.user);
    config::Config config;
    try {
        config = source.load();
    } catch (const config::ConfigError& e) {
        log::error(std::string("bad configuration: ") + e.what());
        notify(std::string("STATUS=bad configuration: ") + e.what());
        return kExitConfig;
    }
    log::setMinimumLevel(config.logLevel);
    if (config.files.empty()) log::notice("no config file at " + source.path + "; using the built-in defaults");
    try {
        refuseATakenName(options.user);
        Daemon daemon(options, std::move(source), std::move(config));
        return daemon.serve();
    } catch (const StartupError& e) {
        log::error(e.what());
        notify(std::string("STATUS=") + e.what());
        return e.exitStatus();
    }
}

}  // namespace campaignd::app

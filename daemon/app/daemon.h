// daemon.h: the composition root. A Daemon builds every part of campaignd in dependency order,
// as its members (config, store, plugin host, services, the delivery engine, the jobs, the bus
// objects), so that nothing is wired late and nothing is optional; destruction runs in the
// reverse order, so threads are joined before what they call goes away. Start-up failures
// throw StartupError with the exit status (78 for a config that names what is not there, 75 when
// another campaignd owns the bus name, 1 for an environment that fails); serve() runs the event
// loop until SIGTERM/SIGINT or a lost bus. run() asks the bus whether the name is taken before a
// Daemon is built, so a second campaignd opens no database and starts no plugin.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <sdbus-c++/IConnection.h>

#include "app/config_source.h"
#include "app/startup_checks.h"
#include "bus/access.h"
#include "bus/bounce_jobs.h"
#include "bus/bus_loop.h"
#include "bus/import_jobs.h"
#include "bus/job_runner.h"
#include "bus/objects.h"
#include "bus/web_object.h"
#include "config/config.h"
#include "delivery/engine.h"
#include "mail/dkim.h"
#include "plugin-host/plugin_host.h"
#include "services/bounce_service.h"
#include "services/campaign_service.h"
#include "services/cluster_service.h"
#include "services/dns_records.h"
#include "services/recipient_service.h"
#include "services/rejection_recorder.h"
#include "services/report_mailer.h"
#include "services/sending_guard.h"
#include "services/sending_service.h"
#include "services/unsubscribe_recorder.h"
#include "services/web_service.h"
#include "storage/campaign_notices.h"
#include "storage/store.h"

namespace campaignd::app {

// sysexits.h's EX_CONFIG: the unit does not restart for it.
inline constexpr int kExitConfig = 78;
// sysexits.h's EX_TEMPFAIL: another campaignd owns org.campaignd.Campaignd1 on this bus; this one
// may start once that one has stopped. The unit does not restart for it either: a restart
// cannot take a name another process holds.
inline constexpr int kExitNameTaken = 75;

class StartupError : public std::runtime_error {
public:
    StartupError(int exitStatus, const std::string& what) : std::runtime_error(what), exitStatus_(exitStatus) {}
    int exitStatus() const { return exitStatus_; }

private:
    int exitStatus_;
};

struct Options {
    std::string configPath;  // --config; empty: the default
    bool user = false;       // --user: the session bus and per-user paths
    bool connect = false;    // --check-config --connect: each transport's server reached too
};

// Loads the config, checks that no other campaignd owns the bus name, builds the daemon and
// serves until stopped; returns the exit status.
int run(const Options& options);

class Daemon {
public:
    // Builds everything and takes the bus name, last (a StartupError with kExitNameTaken if
    // another daemon took it meanwhile); the daemon serves once serve() runs the loop.
    Daemon(const Options& options, ConfigSource source, config::Config config);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Runs the event loop until SIGTERM/SIGINT (0) or the bus connection breaks (1).
    int serve();

private:
    // The sending rules' view of the engine.
    class EngineControl final : public services::DeliveryControl {
    public:
        explicit EngineControl(delivery::DeliveryEngine& engine) : engine_(engine) {}
        void check(const Campaign& c) override { engine_.check(c); }
        void start(const Campaign& c) override { engine_.start(c); }
        void stop(Id id) override { engine_.stop(id); }
        bool running(Id id) const override { return engine_.running(id); }

    private:
        delivery::DeliveryEngine& engine_;
    };

    delivery::DeliveryEngine::Environment engineEnvironment();
    bus::ImportJobs::Environment importEnvironment();
    bus::BounceJobs::Environment bounceJobEnvironment();
    services::ReportMailer::Dependencies reportDependencies();
    services::BounceSettings bounceSettings();
    void recoverSending();
    // One heartbeat and take-over pass every second; every kFollowPolls-th beat (and at each
    // campaign notice) the bus objects and the senders follow every campaign of the database
    // (PostgreSQL: other daemons may share it).
    void followCluster();
    void followCampaigns();
    // LISTEN for campaign notices (storage/campaign_notices.h) on the io_context.
    void listenForNotices();
    void waitForNotice();
    void waitForStop();
    void waitForHangup();

    Options options_;
    int exitStatus_ = 0;  // what serve() returns (and a process ended by the job runner)
    ConfigSource source_;
    config::Config config_;
    mail::DkimKeyring dkim_;  // read and checked before anything else starts
    services::DnsRecordSettings dnsSettings_;  // what DnsRecords needs of the config
    std::unique_ptr<storage::Store> store_;
    std::unique_ptr<plugins::PluginHost> plugins_;  // started, and checked against the config
    ChosenPlugins chosen_;                          // the importer, bounce source and reporter
    std::unique_ptr<sdbus::IConnection> connection_;
    boost::asio::io_context io_;
    bus::AccessPolicy access_;

    services::CampaignService campaigns_;
    // Counts each sending campaign's outcomes and bounces from every thread that records them;
    // its trip posts the pause to the io thread (sending_, built below, handles it there).
    services::SendingGuard guard_;
    services::RejectionRecorder rejections_;  // outlives the engine's threads, which call it
    // The engine's callbacks on the io thread go to sending_ and manager_, built below: the engine
    // calls none of them before a campaign starts, and only sending_ starts one.
    delivery::DeliveryEngine engine_;
    EngineControl engineControl_;
    // After the engine: the suppression list's hashes are keyed with its VERP secret.
    services::RecipientService recipients_;
    services::BounceService bounces_;
    services::SendingService sending_;
    // The daemons sharing the database: this one's heartbeat, the take-over of a silent one.
    services::ClusterService cluster_;
    services::ReportMailer reportMailer_;
    // campaignd-web's questions, by token: on the bus thread's store, with the engine's settings.
    services::WebService web_;
    // campaignd-web's unsubscribes, committed in groups on a thread and a store of their own; its
    // answers go to the io thread (io_ outlives it: what it answers while stopping is dropped).
    services::UnsubscribeRecorder webUnsubscribes_;
    // Long bus calls run as jobs on threads of their own; the runner joins them (or, for one
    // stuck inside a plugin past the grace period, ends the process) before the parts above go.
    bus::JobRunner jobs_;
    bus::ImportJobs imports_;
    bus::BounceJobs bounceJobs_;
    bus::Services busServices_;
    bus::ManagerObject manager_;
    bus::WebObject webObject_;
    bus::BusLoop loop_;
    boost::asio::signal_set stopSignals_;
    boost::asio::signal_set hangup_;
    // Every second on PostgreSQL: the heartbeat, take-overs, and following the other daemons'
    // changes of campaigns (followCluster()).
    boost::asio::steady_timer clusterTimer_;
    unsigned beats_ = 0;
    // PostgreSQL's campaign notices, on a connection of their own; its socket watched on io_
    // (released, never closed: the connection owns it). Null on SQLite or once it broke.
    std::unique_ptr<storage::CampaignNotices> notices_;
    boost::asio::posix::stream_descriptor noticeSocket_;
};

}  // namespace campaignd::app

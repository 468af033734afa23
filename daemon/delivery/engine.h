// engine.h: the delivery engine. For each campaign that is sending it keeps Connections=
// sessions of the campaign's transport (plugins::AsyncSession: the plugin's own submit, or its
// send() on a thread of the session) as objects on ONE network thread of its own: no thread per
// connection and no polling; throttle waits and reconnect backoff are timers, replies are
// posted events. Each session keeps a window of messages in flight (SessionWindow: enough to
// keep a pipelining client's pipe full, answered within about 250 ms). The database work runs
// on one ledger thread per run, under one claim name "<instance id>:<campaign>:0": it claims
// ahead and renders (daemon/mail), commits the hand-over (storage handOverAndRecord: the
// exactly-once line) of the messages the sessions asked for, all the requests that arrived
// during the previous commit in one transaction, before the network thread submits them, and
// records the outcomes in batches (delivery/policy.h decides them), in that same transaction
// when a hand-over goes with them. Throttles per transport:
// MaxPerSecond= (one token bucket for all of its sessions, in every campaign), Connections=
// (sessions over all campaigns: a later campaign's sessions wait for a free one), MaxPerDomain=
// (messages in flight per domain).
//
// The engine changes no campaign status itself. It tells its owner (the SendingService, through
// Environment, always on the io_context thread): the campaign has no work left (finished), or
// it must pause (AUTH/TLS failure, a transport that cannot be opened). Its own threads never
// touch the bus; progress is read by a monitor thread with its own store, at most twice a second
// per campaign, and posted to the io thread. stop(): no message is handed over after the
// network thread sees it (at once); each session closes as soon as the messages it holds (its
// window, about 250 ms of its server's pace) are answered, and their outcomes are recorded; a
// hand-over the session can no longer take (it ended meanwhile) goes back to pending.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "config/config.h"
#include "delivery/policy.h"
#include "delivery/throttle.h"
#include "mail/alignment.h"
#include "mail/message.h"
#include "plugin-host/plugin_host.h"
#include "storage/campaign_store.h"
#include "storage/send_ledger.h"

namespace campaignd::delivery {

namespace detail {
struct Item;
}

// One recorded outcome, for listeners (the bounce processing records a 5xx at RCPT as a hard
// bounce from here): the ledger row, its recipient, the transport's result and what the ledger
// now says. Called on the run's ledger thread right after the outcomes' commit; must be quick and must
// not throw (an exception is logged and dropped).
struct RecordedOutcome {
    Id campaignId = 0;
    Id ledgerId = 0;
    Id recipientId = 0;
    std::string recipient;
    std::string messageId;                 // without angle brackets
    plugins::DeliveryResult result;        // smtpCode, enhancedStatus, text as the server said
    storage::LedgerOutcome outcome;      // kind and reason as stored (fail_reason/last_error)
};
using OutcomeListener = std::function<void(const std::vector<RecordedOutcome>& batch)>;

struct Progress {
    Campaign campaign;    // fresh from the ledger
    double ratePerSecond; // outcomes recorded per second, over the last few seconds
};

class DeliveryEngine {
public:
    struct Environment {
        // A new store on the caller's thread: each run's ledger thread opens a send ledger of
        // its own, the progress monitor (and a run's last report) campaigns of its own.
        std::function<std::unique_ptr<storage::SendLedger>()> openLedger;
        std::function<std::unique_ptr<storage::CampaignStore>()> openCampaigns;
        // The running transport plugin of that name, or nullopt.
        std::function<std::optional<plugins::TransportHandle>(const std::string& plugin)> transport;
        // On the io thread.
        std::function<void(Id campaign)> finished;  // no work left: complete it
        std::function<void(Id campaign, const std::string& reason)> mustPause;
        std::function<void(const Progress&)> progress;
        // On ledger threads (see RecordedOutcome). May be empty.
        OutcomeListener outcomes;
        // Time source for the ledger (tests); empty: the system clock.
        std::function<Usec()> now;
        // The DKIM signers by domain: a campaign's messages are signed by its From domain's.
        mail::DkimKeyring dkim;
        // The groups attached to a campaign, lowest id first (on the io thread, when a run
        // starts): its messages' List-Id names the first. Empty: no List-Id.
        std::function<std::vector<Group>(Id campaign)> campaignGroups;
    };

    DeliveryEngine(boost::asio::io_context& io, const config::Config& config, Environment env);
    ~DeliveryEngine();  // stops every run and joins every thread
    DeliveryEngine(const DeliveryEngine&) = delete;
    DeliveryEngine& operator=(const DeliveryEngine&) = delete;

    // Throws Error(InvalidArgument) when the campaign cannot be sent: its transport is not
    // configured, its plugin is not a running transport, or its template does not compile
    // with the [Sending] settings; Error(Failed) when the VERP secret cannot be made.
    void check(const Campaign& campaign);
    // Starts (or, if its previous run is still stopping, restarts once that has stopped)
    // sending the campaign. Same errors as check(). Call on the io thread.
    void start(const Campaign& campaign);
    // Stops the campaign's run: no hand-over after the network thread sees it (at once); its
    // unsent claims go back to pending. No-op when it is not running. Call on the io thread.
    void stop(Id campaign);
    bool running(Id campaign) const;
    // Stops every run and waits for its ledger thread (at shutdown).
    void stopAll();

    // At start-up, before any start(): this daemon's interrupted claims become unknown
    // (handed over) or pending again (sending), its own claims only ("<instance id>:..."), so several
    // daemons sharing a database each recover their own. Returns the totals.
    storage::RecoveredClaims recover(storage::SendLedger& ledger);

    // "<instance id>:<campaign>:<worker>", the claimed_by of this daemon's claims (a run
    // claims as worker 0).
    std::string workerName(Id campaign, unsigned worker) const;
    const std::string& instanceId();

    // The VERP envelope settings messages are sent with (the secret made once in the state
    // directory): what bounce processing needs to map a notice's address back to them. The
    // domain is empty when each campaign's envelope is in its own From domain (no
    // EnvelopeDomain=): bounce processing then takes any domain.
    mail::VerpSettings verpSettings();
    // The settings a campaign's messages are composed with ([Sending], and [Web] PublicURL=
    // for the unsubscribe and view URLs, the DKIM signer of its From domain): what "view in
    // browser" renders with, too.
    mail::MessageSettings messageSettings(const Campaign& campaign);
    // Which of SPF and DKIM alignment the campaign's messages can pass, as they would be sent
    // now (its From domain, the envelope domain, its From domain's DKIM key).
    mail::Alignment alignment(const Campaign& campaign);

    // The largest Connections= value.
    static constexpr unsigned kMaxConnections = 1000;

private:
    struct Transport;
    struct Run;
    struct Session;
    struct Request;
    struct LedgerQueue;
    struct ResultInbox;

    std::shared_ptr<Transport> transportShared(const config::TransportConfig& t);
    const std::string& verpSecret();
    void launch(const std::shared_ptr<Run>& run);
    void runEnded(const std::shared_ptr<Run>& run);
    void monitor();
    Usec now() const;

    // The ledger thread of a run (ledger.cpp).
    void ledgerLoop(const std::shared_ptr<Run>& run);
    // The network thread (sessions.cpp).
    void netStart(const std::shared_ptr<Run>& run);
    void netStop(const std::shared_ptr<Run>& run);
    void addSessions(const std::shared_ptr<Run>& run);
    void openSession(const std::shared_ptr<Session>& s);
    void opened(const std::shared_ptr<Session>& s, std::shared_ptr<plugins::AsyncSession> async);
    void openFailed(const std::shared_ptr<Session>& s, plugins::TransportStatus status, const std::string& message);
    void refill(const std::shared_ptr<Session>& s);
    void delivered(const std::shared_ptr<Session>& s, std::size_t asked, std::vector<detail::Item> items);
    void takeResults(ResultInbox& inbox);
    void answered(const std::shared_ptr<Session>& s, const plugins::DeliveryResult& r);
    void afterEvent(const std::shared_ptr<Session>& s);
    void sessionEnded(const std::shared_ptr<Session>& s, const plugins::SendStatus& status);
    void closeSession(const std::shared_ptr<Session>& s);
    void sessionClosed(const std::shared_ptr<Session>& s);
    void retire(const std::shared_ptr<Session>& s);
    void pauseRun(const std::shared_ptr<Run>& run, const std::string& reason);
    void maybeFinish(const std::shared_ptr<Run>& run);
    void releaseSlot(const std::shared_ptr<Transport>& t);

    boost::asio::io_context& io_;
    config::Config config_;
    Environment env_;
    RetryPolicy policy_;

    mutable std::mutex mutex_;
    std::map<Id, std::shared_ptr<Run>> runs_;
    std::map<Id, Campaign> restartAfterStop_;
    std::map<std::string, std::shared_ptr<Transport>> transports_;
    std::string instanceId_;
    std::string verpSecret_;

    std::mutex monitorMutex_;
    std::condition_variable monitorWake_;
    bool monitorStop_ = false;
    std::thread monitor_;

    // The network thread, and a few threads for what may block on a plugin (opening a session,
    // closing one: its destructor waits for the replies of what was written).
    boost::asio::io_context net_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> netWork_;
    std::thread netThread_;
    std::unique_ptr<boost::asio::thread_pool> blocking_;
    std::shared_ptr<ResultInbox> results_;  // every session's results on their way to net_
};

}  // namespace campaignd::delivery

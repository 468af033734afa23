// metrics.cpp: see metrics.h. Every family is registered once, on first use (a function-local
// static: thread-safe); prometheus::Family::Add returns the existing series for labels it has
// seen, under the family's mutex, and the series themselves are atomic.
#include "core/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <optional>

namespace campaignd::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Seconds, from a quick local delivery (maildir, a pipelined group on loopback) to a slow
// remote server (RFC 5321's 10-minute DATA timeout lies past the last bucket).
const prometheus::Histogram::BucketBoundaries kSendBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1,      2.5,   5,    10,    30,   60};
const prometheus::Histogram::BucketBoundaries kTransactionBuckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                                  0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                                  1,      2.5,     5,      10};

struct Families {
    prometheus::Registry registry;
    prometheus::Family<prometheus::Gauge>& startTime =
        BuildGauge().Name("campaignd_start_time_seconds")
            .Help("When the daemon started, in seconds since the Unix epoch; the counters count from then")
            .Register(registry);
    prometheus::Family<prometheus::Counter>& handedOver =
        BuildCounter().Name("campaignd_messages_handed_over_total")
            .Help("Messages handed over to a transport (the ledger recorded the hand-over first)")
            .Register(registry);
    prometheus::Family<prometheus::Counter>& outcomes =
        BuildCounter().Name("campaignd_delivery_outcomes_total")
            .Help("Delivery outcomes recorded in the send ledger, by transport and status "
                  "(sent, failed, deferred, unknown)")
            .Register(registry);
    prometheus::Family<prometheus::Counter>& replies =
        BuildCounter().Name("campaignd_smtp_replies_total")
            .Help("SMTP replies to messages handed over, by transport and reply class (2xx, 4xx, 5xx)")
            .Register(registry);
    prometheus::Family<prometheus::Histogram>& sendDuration =
        BuildHistogram().Name("campaignd_send_duration_seconds")
            .Help("Seconds from a message's hand-over to its result: the transport call that carried it")
            .Register(registry);
    prometheus::Family<prometheus::Gauge>& sessions =
        BuildGauge().Name("campaignd_transport_sessions_open")
            .Help("Transport sessions (connections) open now, by transport")
            .Register(registry);
    prometheus::Family<prometheus::Counter>& bounces =
        BuildCounter().Name("campaignd_bounces_total")
            .Help("Bounces recorded (delivery notices and 5xx replies at sending), by reason and type (hard, soft)")
            .Register(registry);
    prometheus::Counter& complaints =
        BuildCounter().Name("campaignd_complaints_total")
            .Help("Complaints (abuse reports, ARF) recorded")
            .Register(registry)
            .Add({});
    prometheus::Family<prometheus::Counter>& unsubscribes =
        BuildCounter().Name("campaignd_unsubscribes_total")
            .Help("Recipients unsubscribed, by source (one-click, page, mailto, complaint, administrator)")
            .Register(registry);
    prometheus::Family<prometheus::Counter>& importRows =
        BuildCounter().Name("campaignd_import_rows_total")
            .Help("Rows of recipient imports, by result (imported: new recipients; rejected: invalid rows)")
            .Register(registry);
    prometheus::Family<prometheus::Counter>& busCalls =
        BuildCounter().Name("campaignd_bus_calls_total")
            .Help("D-Bus method calls, by method and outcome (ok, or the error's name)")
            .Register(registry);
    prometheus::Family<prometheus::Histogram>& transactions =
        BuildHistogram().Name("campaignd_database_transaction_duration_seconds")
            .Help("Seconds from BEGIN to COMMIT or ROLLBACK of a database transaction, by backend")
            .Register(registry);

    Families() {
        startTime.Add({}).Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    }
};

// The final replies to a message: 2xx, 4xx, 5xx (a 3xx is an intermediate reply, and a code
// outside 200-599 is no SMTP reply at all: neither is counted).
constexpr std::array<std::string_view, 3> kClasses{"2xx", "4xx", "5xx"};
std::optional<std::size_t> replyClass(int code) {
    if (code >= 200 && code <= 299) return 0;
    if (code >= 400 && code <= 499) return 1;
    if (code >= 500 && code <= 599) return 2;
    return std::nullopt;
}

Families& families() {
    static Families f;
    return f;
}

}  // namespace

void messagesHandedOver(const std::string& transport, std::uint64_t n) {
    families().handedOver.Add({{"transport", transport}}).Increment(static_cast<double>(n));
}

void deliveryOutcome(const std::string& transport, std::string_view status) {
    families().outcomes.Add({{"transport", transport}, {"status", std::string(status)}}).Increment();
}

void smtpReply(const std::string& transport, int code) {
    if (const auto i = replyClass(code)) families().replies.Add({{"transport", transport}, {"class", std::string(kClasses[*i])}}).Increment();
}

void sendDuration(const std::string& transport, double seconds) {
    families().sendDuration.Add({{"transport", transport}}, kSendBuckets).Observe(seconds);
}

void sessionOpened(const std::string& transport) { families().sessions.Add({{"transport", transport}}).Increment(); }
void sessionClosed(const std::string& transport) { families().sessions.Add({{"transport", transport}}).Decrement(); }

namespace {
constexpr std::array<std::string_view, 4> kStatuses{"sent", "failed", "deferred", "unknown"};
}  // namespace

TransportCounters::TransportCounters(const std::string& transport) {
    Families& f = families();
    handedOver_ = &f.handedOver.Add({{"transport", transport}});
    for (std::size_t i = 0; i < kStatuses.size(); ++i)
        outcomes_[i] = &f.outcomes.Add({{"transport", transport}, {"status", std::string(kStatuses[i])}});
    for (std::size_t i = 0; i < replies_.size(); ++i)
        replies_[i] = &f.replies.Add({{"transport", transport}, {"class", std::string(kClasses[i])}});
    sendDuration_ = &f.sendDuration.Add({{"transport", transport}}, kSendBuckets);
    sessions_ = &f.sessions.Add({{"transport", transport}});
}

void TransportCounters::handedOver(std::uint64_t n) { handedOver_->Increment(static_cast<double>(n)); }

void TransportCounters::outcome(std::string_view status) {
    for (std::size_t i = 0; i < kStatuses.size(); ++i)
        if (kStatuses[i] == status) outcomes_[i]->Increment();
}

void TransportCounters::reply(int code) {
    if (const auto i = replyClass(code)) replies_[*i]->Increment();
}

void TransportCounters::sendDuration(double seconds) { sendDuration_->Observe(seconds); }
void TransportCounters::sessionOpened() { sessions_->Increment(); }
void TransportCounters::sessionClosed() { sessions_->Decrement(); }

void bounceRecorded(std::string_view reason, bool hard) {
    families().bounces.Add({{"reason", std::string(reason)}, {"type", hard ? "hard" : "soft"}}).Increment();
}

void complaintRecorded() { families().complaints.Increment(); }

void unsubscribed(std::string_view source) {
    families().unsubscribes.Add({{"source", std::string(source)}}).Increment();
}

void importRows(std::string_view result, std::uint64_t n) {
    families().importRows.Add({{"result", std::string(result)}}).Increment(static_cast<double>(n));
}

void busCall(std::string_view method, std::string_view outcome) {
    families().busCalls.Add({{"method", std::string(method)}, {"outcome", std::string(outcome)}}).Increment();
}

void databaseTransaction(std::string_view backend, double seconds) {
    families().transactions.Add({{"backend", std::string(backend)}}, kTransactionBuckets).Observe(seconds);
}

std::string exposition(const std::vector<GaugeFamily>& extra) {
    auto collected = families().registry.Collect();
    for (const GaugeFamily& g : extra) {
        prometheus::MetricFamily f;
        f.name = g.name;
        f.help = g.help;
        f.type = prometheus::MetricType::Gauge;
        for (const GaugeSample& s : g.samples) {
            prometheus::ClientMetric m;
            for (const auto& [name, value] : s.labels) m.label.push_back({name, value});
            m.gauge.value = s.value;
            f.metric.push_back(std::move(m));
        }
        collected.push_back(std::move(f));
    }
    return prometheus::TextSerializer().Serialize(collected);
}

}  // namespace campaignd::metrics

// metrics.h: the daemon's Prometheus counters, gauges and histograms, kept since the daemon
// started (a restart starts them at zero again; Prometheus' rate() and increase() treat a
// drop as a reset). One process-wide registry, as every Prometheus client library has: the
// places that count (the sender, the ledger thread, the bounce and unsubscribe services, the
// bus guard, the storage's transactions) call the functions below, which are thread-safe and
// cost an atomic add once the series exists. Labels are closed sets or configuration names
// (a transport's [Transport NAME], a bus method, a bounce reason): never an address, a
// person's name or a campaign's name. Read with exposition() (GetMetrics).
//
// The registry is Debian's prometheus-cpp (libprometheus-cpp-core), not our own code: its
// core library keeps the series and writes the text exposition format (0.0.4).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace campaignd::metrics {

// A series read at scrape time (gauges that come from storage, e.g. pending per campaign).
struct GaugeSample {
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};
struct GaugeFamily {
    std::string name;  // campaignd_...
    std::string help;
    std::vector<GaugeSample> samples;
};

// The delivery side, per transport (the [Transport NAME] of the config).
void messagesHandedOver(const std::string& transport, std::uint64_t n);
// status: "sent", "failed", "deferred" or "unknown".
void deliveryOutcome(const std::string& transport, std::string_view status);
// The class of an SMTP reply code ("2xx", "4xx", "5xx"); a 3xx or a code outside 200-599 is not counted.
void smtpReply(const std::string& transport, int code);
// Seconds one message waited for its result: the duration of the transport call that carried it.
void sendDuration(const std::string& transport, double seconds);
void sessionOpened(const std::string& transport);
void sessionClosed(const std::string& transport);

// The same series of one transport, looked up once (every status and reply class appears, at 0
// until counted): for the sending path, where a lookup by labels per message costs more than
// the atomic add (bench/metrics: BENCHMARKS.md). Thread-safe, as the functions above.
class TransportCounters {
public:
    explicit TransportCounters(const std::string& transport);
    void handedOver(std::uint64_t n);
    void outcome(std::string_view status);  // as deliveryOutcome()
    void reply(int code);                   // as smtpReply()
    void sendDuration(double seconds);
    void sessionOpened();
    void sessionClosed();

private:
    prometheus::Counter* handedOver_;
    std::array<prometheus::Counter*, 4> outcomes_;  // sent, failed, deferred, unknown
    std::array<prometheus::Counter*, 3> replies_;   // 2xx, 4xx, 5xx
    prometheus::Histogram* sendDuration_;
    prometheus::Gauge* sessions_;
};

// Bounce records (reason as bounce::toString, hard or soft), complaints, unsubscribes (source
// as toString(UnsubscribeSource)), import rows ("imported" or "rejected").
void bounceRecorded(std::string_view reason, bool hard);
void complaintRecorded();
void unsubscribed(std::string_view source);
void importRows(std::string_view result, std::uint64_t n);

// One bus method call and its outcome: "ok" or the D-Bus error's last component ("NotFound").
void busCall(std::string_view method, std::string_view outcome);

// One top-level database transaction (backend "sqlite" or "postgresql"), begin to commit or rollback.
void databaseTransaction(std::string_view backend, double seconds);

// The text exposition format of everything above plus `extra` (read at scrape time).
std::string exposition(const std::vector<GaugeFamily>& extra = {});

}  // namespace campaignd::metrics

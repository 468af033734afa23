// metrics_bench.cpp: what the Prometheus counting costs the sending path, per message. Each
// message sent costs the engine four metric calls (core/metrics.h: the hand-over, a reply class
// and a latency observation in the sender, the outcome in the ledger thread); this times those
// four calls per message, from 1 and 2 threads at once (two workers), three ways in the same
// run: plain relaxed std::atomic increments (the baseline: the least a counter can cost), the
// series looked up by labels at each call (the free functions), and the series looked up once
// (TransportCounters, what the engine uses). Medians of --runs alternated runs; ns per message.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.h"

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<std::uint64_t> gHanded{0}, gOutcome{0}, gReply{0}, gLatency{0};

void viaMetrics(const std::string& transport, std::size_t messages) {
    for (std::size_t i = 0; i < messages; ++i) {
        campaignd::metrics::messagesHandedOver(transport, 1);
        campaignd::metrics::smtpReply(transport, 250);
        campaignd::metrics::sendDuration(transport, 0.002);
        campaignd::metrics::deliveryOutcome(transport, "sent");
    }
}

void viaCounters(const std::string& transport, std::size_t messages) {
    campaignd::metrics::TransportCounters counters(transport);
    for (std::size_t i = 0; i < messages; ++i) {
        counters.handedOver(1);
        counters.reply(250);
        counters.sendDuration(0.002);
        counters.outcome("sent");
    }
}

void viaAtomics(const std::string&, std::size_t messages) {
    for (std::size_t i = 0; i < messages; ++i) {
        gHanded.fetch_add(1, std::memory_order_relaxed);
        gReply.fetch_add(1, std::memory_order_relaxed);
        gLatency.fetch_add(2, std::memory_order_relaxed);
        gOutcome.fetch_add(1, std::memory_order_relaxed);
    }
}

// ns per message over `threads` threads sending `messages` each.
double timeIt(void (*fn)(const std::string&, std::size_t), unsigned threads, std::size_t messages) {
    const auto start = Clock::now();
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(fn, std::string("mail"), messages);
    for (auto& t : pool) t.join();
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    return ns / static_cast<double>(messages * threads);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t messages = 1000000;
    int runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--messages")) messages = std::strtoull(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
    }
    std::printf("%zu messages a thread, %d runs alternated, medians\n", messages, runs);
    std::printf("threads  atomics  by-labels  looked-up-once   (ns per message; ratios to atomics)\n");
    for (const unsigned threads : {1u, 2u}) {
        std::vector<double> base, labels, once;
        for (int r = 0; r < runs; ++r) {
            base.push_back(timeIt(viaAtomics, threads, messages));
            labels.push_back(timeIt(viaMetrics, threads, messages));
            once.push_back(timeIt(viaCounters, threads, messages));
        }
        const double b = median(base), l = median(labels), o = median(once);
        std::printf("%7u  %7.1f  %9.1f  %14.1f   (%.1fx, %.1fx)\n", threads, b, l, o, l / b, o / b);
    }
    return 0;
}

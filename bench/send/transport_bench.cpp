// transport_bench.cpp: the smtp transport plugin alone, next to Postfix's smtp-source, in one
// run against one smtp-sink (discarding) on a private loopback endpoint: the same number and
// size of messages over the same number of connections. Also the original design's way (a new
// connection per message) through the same plugin. Prints each run and the medians; a
// benchmark, never a test. Usage:
//   campaignd-transport-bench [--messages N] [--size BYTES] [--connections C] [--runs R]
//                             [--batch B] [--plugin PATH]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "plugin-host/plugin_host.h"
#include "support/process.h"
#include "support/smtp_sink.h"
#include "support/temp_dir.h"

namespace {

using namespace campaignd::plugins;
using namespace campaignd::test;
using Clock = std::chrono::steady_clock;

struct Options {
    std::size_t messages = 20000;
    std::size_t size = 5000;
    std::size_t connections = 4;
    std::size_t runs = 3;
    std::size_t batch = 100;
    std::string plugin = SMTP_PLUGIN;
};

std::string makeMessage(std::size_t size, std::size_t n) {
    std::string m = "From: Campaigns <news@example.org>\r\nTo: <r" + std::to_string(n) +
                    "@example.org>\r\nSubject: Benchmark " + std::to_string(n) + "\r\nMessage-ID: <" +
                    std::to_string(n) + "@bench.example.org>\r\n\r\n";
    while (m.size() + 2 < size) {
        const std::size_t line = std::min<std::size_t>(76, size - m.size() - 2);
        m.append(line, 'x');
        m += "\r\n";
    }
    return m;
}

double smtpSource(const SmtpSink& sink, const Options& o) {
    const auto start = Clock::now();
    const RunResult r = run({"/usr/sbin/smtp-source", "-d", "-s", std::to_string(o.connections), "-m",
                             std::to_string(o.messages), "-l", std::to_string(o.size), "-f", "news@example.org",
                             "-t", "r@example.org", sink.endpoint().hostPort()},
                            {}, std::chrono::minutes(10));
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (r.exitCode != 0) throw std::runtime_error("smtp-source failed: " + r.out + r.err);
    return seconds;
}

// C threads, each with one session (or a new one per message), sending its share in batches.
double plugin(const TransportHandle& transport, const SmtpSink& sink, const Options& o, bool sessionPerMessage) {
    std::vector<std::string> bodies;
    for (std::size_t i = 0; i < 16; ++i) bodies.push_back(makeMessage(o.size, i));
    std::vector<std::string> recipients(o.messages);
    for (std::size_t i = 0; i < o.messages; ++i) recipients[i] = "r" + std::to_string(i) + "@example.org";
    std::atomic<std::size_t> sent{0}, other{0};
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < o.connections; ++t)
        threads.emplace_back([&, t] {
            const std::map<std::string, std::string> settings{{"URL", sink.url()}};
            std::unique_ptr<TransportSession> session;
            if (!sessionPerMessage) session = transport.openSession("bench", settings);
            std::vector<OutgoingMessage> batch;
            auto flush = [&] {
                if (batch.empty()) return;
                if (sessionPerMessage) session = transport.openSession("bench", settings);
                const SendStatus status = session->send(batch, [&](const DeliveryResult& r) {
                    (r.outcome == DeliveryOutcome::Sent ? sent : other)++;
                });
                if (!status.ok()) throw std::runtime_error("send failed: " + status.message);
                if (sessionPerMessage) session.reset();
                batch.clear();
            };
            const std::size_t perBatch = sessionPerMessage ? 1 : o.batch;
            for (std::size_t i = t; i < o.messages; i += o.connections) {
                OutgoingMessage m;
                m.token = i;
                m.envelopeFrom = "bounces+1-" + std::to_string(i) + "@example.org";
                m.recipient = recipients[i];
                m.data = bodies[i % bodies.size()];
                batch.push_back(std::move(m));
                if (batch.size() >= perBatch) flush();
            }
            flush();
        });
    for (auto& th : threads) th.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (sent != o.messages) throw std::runtime_error("only " + std::to_string(sent.load()) + " sent, " +
                                                     std::to_string(other.load()) + " otherwise");
    return seconds;
}

// The original design's way: a Python smtplib script, a new connection and login per message.
double smtplibBaseline(const SmtpSink& sink, const Options& o, std::size_t messages) {
    const RunResult r = run({BASELINE_SCRIPT, sink.endpoint().address, std::to_string(sink.endpoint().port),
                             std::to_string(messages), std::to_string(o.size), std::to_string(o.connections)},
                            {}, std::chrono::minutes(10));
    if (r.exitCode != 0) throw std::runtime_error("baseline_smtplib.py failed: " + r.out + r.err);
    return std::stod(r.out);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        if (key == "--messages") o.messages = std::stoul(value);
        else if (key == "--size") o.size = std::stoul(value);
        else if (key == "--connections") o.connections = std::stoul(value);
        else if (key == "--runs") o.runs = std::stoul(value);
        else if (key == "--batch") o.batch = std::stoul(value);
        else if (key == "--plugin") o.plugin = value;
        else {
            std::cerr << "unknown option " << key << "\n";
            return 2;
        }
    }
    try {
        TempDir dir("campaignd-transport-bench");
        std::filesystem::create_directory(dir / "plugins");
        std::filesystem::copy_file(o.plugin, dir / "plugins" / "smtp.so");
        PluginHost host(dir / "plugins", nullptr);
        host.start();
        const auto transport = host.transport("smtp");
        if (!transport) throw std::runtime_error("the smtp plugin did not start");
        SmtpSinkOptions sinkOptions;
        sinkOptions.saveMessages = false;
        SmtpSink sink(sinkOptions);

        std::printf("%zu messages of %zu bytes over %zu connections, %zu runs\n", o.messages, o.size,
                    o.connections, o.runs);
        std::vector<double> source, reused, perMessage, baseline;
        const bool havePython = ::access("/usr/bin/python3", X_OK) == 0;
        for (std::size_t r = 0; r < o.runs; ++r) {
            source.push_back(smtpSource(sink, o));
            reused.push_back(plugin(*transport, sink, o, false));
            Options small = o;
            small.messages = std::min<std::size_t>(o.messages, 5000);  // it is slow
            perMessage.push_back(plugin(*transport, sink, small, true) * double(o.messages) / double(small.messages));
            baseline.push_back(havePython ? smtplibBaseline(sink, o, small.messages) * double(o.messages) /
                                                double(small.messages)
                                          : 0.0);
            std::printf("run %zu: smtp-source %.2f s, plugin %.2f s, plugin new connection per message %.2f s, "
                        "smtplib new connection and login per message %.2f s (the last two extrapolated from %zu)\n",
                        r + 1, source.back(), reused.back(), perMessage.back(), baseline.back(), small.messages);
        }
        const double s = median(source), p = median(reused), n = median(perMessage), b = median(baseline);
        std::printf("median msg/s: smtp-source %.0f, plugin %.0f (%.2f x smtp-source), "
                    "new connection per message %.0f (%.2f x), smtplib baseline %.0f (%.2f x)\n",
                    double(o.messages) / s, double(o.messages) / p, s / p, double(o.messages) / n, s / n,
                    b > 0 ? double(o.messages) / b : 0.0, b > 0 ? s / b : 0.0);
    } catch (const std::exception& e) {
        std::cerr << "campaignd-transport-bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

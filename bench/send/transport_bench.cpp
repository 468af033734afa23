// transport_bench.cpp: the smtp transport plugin alone, next to Postfix's smtp-source, in one
// run against one smtp-sink (discarding) on a private loopback endpoint: the same number and
// size of messages over the same number of connections. Also the original design's way (a new
// connection per message) through the same plugin. And libcurl with nothing of campaignd
// around it, two ways: one thread per connection each calling curl_easy_perform (what the
// plugin does), and one thread driving every connection through the multi interface (as
// smtp-source drives its sessions from one event loop): the ceiling of any libcurl sender on
// this machine, and whether an event loop would lower its CPU per message. Prints each run,
// the medians, and the CPU per message of each way; a benchmark, never a test. Usage:
//   campaignd-transport-bench [--messages N] [--size BYTES] [--connections C] [--runs R]
//                             [--batch B] [--plugin PATH]
// --mode submit: only smtp-source and the plugin driven through N AsyncSessions (ABI 1.6
// submit, from one thread, at most --window messages outstanding per session), optionally
// both through a delay proxy in front of the sink (--proxy PATH --delay-ms D: each direction
// delayed D ms); prints msg/s, round trips per message and connection (elapsed time over the
// round-trip time, per message of a connection), CPU per message and the process's RSS.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "plugin-host/async_session.h"
#include "plugin-host/plugin_host.h"
#include "support/network.h"
#include "support/postfix_server.h"
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
    std::string mode = "send";
    std::size_t window = 64;
    std::string proxy;  // delay_proxy.py
    double delayMs = 0;
    std::string server = "sink";  // or "postfix": a private Postfix (it announces CHUNKING)
    bool chunking = true;         // postfix: false discards CHUNKING from its EHLO reply
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

double smtpSource(const SmtpSink& sink, const Options& o, const std::string& target = "") {
    const auto start = Clock::now();
    const RunResult r = run({"/usr/sbin/smtp-source", "-d", "-s", std::to_string(o.connections), "-m",
                             std::to_string(o.messages), "-l", std::to_string(o.size), "-f", "news@example.org",
                             "-t", "r@example.org", target.empty() ? sink.endpoint().hostPort() : target},
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

// N AsyncSessions driven from this one thread: each keeps up to o.window messages submitted
// without a result; results come from the plugin's event thread.
double pluginSubmit(const TransportHandle& transport, const std::string& url, const Options& o,
                    const std::map<std::string, std::string>& extra = {}) {
    std::vector<std::string> bodies;
    for (std::size_t i = 0; i < 16; ++i) bodies.push_back(makeMessage(o.size, i));
    struct Lane {
        std::atomic<std::size_t> done{0};
        std::atomic<bool> ended{false};
        std::string why;
        std::size_t submitted = 0;
    };
    std::vector<Lane> lanes(o.connections);
    std::atomic<std::size_t> sent{0}, other{0};
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::unique_ptr<AsyncSession>> sessions;
    for (std::size_t c = 0; c < o.connections; ++c) {
        AsyncEvents events;
        events.result = [&, c](const DeliveryResult& r) {
            (r.outcome == DeliveryOutcome::Sent ? sent : other)++;
            lanes[c].done++;
            std::lock_guard lock(mutex);
            changed.notify_one();
        };
        events.ended = [&, c](const SendStatus& s) {
            std::lock_guard lock(mutex);
            lanes[c].why = s.message;
            lanes[c].ended = true;
            changed.notify_one();
        };
        std::map<std::string, std::string> settings = extra;
        settings["URL"] = url;
        sessions.push_back(transport.openAsync("bench", settings, std::move(events)));
    }
    const std::size_t share = o.messages / o.connections;
    const auto start = Clock::now();
    std::size_t token = 0;
    for (;;) {
        bool allDone = true, progress = false;
        for (std::size_t c = 0; c < o.connections; ++c) {
            Lane& lane = lanes[c];
            if (lane.ended) throw std::runtime_error("a session ended: " + lane.why);
            if (lane.done < share) allDone = false;
            std::vector<OutgoingMessage> batch;
            while (lane.submitted < share && lane.submitted - lane.done < o.window) {
                OutgoingMessage m;
                m.token = ++token;
                m.envelopeFrom = "bounces+1-" + std::to_string(token) + "@example.org";
                m.recipient = "r" + std::to_string(token) + "@example.org";
                m.data = bodies[token % bodies.size()];
                batch.push_back(std::move(m));
                ++lane.submitted;
            }
            if (!batch.empty()) {
                progress = true;
                const SendStatus s = sessions[c]->submit(batch);
                if (!s.ok()) throw std::runtime_error("submit failed: " + s.message);
            }
        }
        if (allDone) break;
        if (!progress) {
            std::unique_lock lock(mutex);
            changed.wait_for(lock, std::chrono::milliseconds(5));
        }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    sessions.clear();
    if (sent != share * o.connections)
        throw std::runtime_error("only " + std::to_string(sent.load()) + " sent, " + std::to_string(other.load()) +
                                 " otherwise");
    return seconds;
}

std::size_t rssKiB() {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (f == nullptr) return 0;
    char line[256];
    std::size_t kib = 0;
    while (std::fgets(line, sizeof line, f) != nullptr)
        if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::strtoul(line + 6, nullptr, 10);
    std::fclose(f);
    return kib;
}

// User + system CPU seconds of this process (RUSAGE_SELF) or of its waited-for children.
double cpuSeconds(int who) {
    rusage u{};
    ::getrusage(who, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// libcurl alone: one easy handle per connection, set up once, the same message each time.
struct BareHandle {
    CURL* curl = nullptr;
    curl_slist* rcpt = nullptr;
    const std::string* data = nullptr;
    std::size_t offset = 0;
    static std::size_t read(char* buffer, std::size_t size, std::size_t n, void* self) {
        auto& h = *static_cast<BareHandle*>(self);
        const std::size_t k = std::min(size * n, h.data->size() - h.offset);
        std::memcpy(buffer, h.data->data() + h.offset, k);
        h.offset += k;
        return k;
    }
    BareHandle(const std::string& url, const std::string& message) : data(&message) {
        curl = curl_easy_init();
        rcpt = curl_slist_append(nullptr, "<r@example.org>");
        if (curl == nullptr || rcpt == nullptr) throw std::runtime_error("libcurl: out of memory");
        curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, &BareHandle::read);
        curl_easy_setopt(curl, CURLOPT_READDATA, this);
        curl_easy_setopt(curl, CURLOPT_MAIL_FROM, "<news@example.org>");
        curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
    }
    ~BareHandle() {
        curl_easy_cleanup(curl);
        curl_slist_free_all(rcpt);
    }
    BareHandle(const BareHandle&) = delete;
    BareHandle& operator=(const BareHandle&) = delete;
};

// C threads, each with its own handle (connection), curl_easy_perform per message.
double bareCurlThreads(const SmtpSink& sink, const Options& o) {
    const std::string message = makeMessage(o.size, 0);
    std::atomic<std::size_t> failed{0};
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < o.connections; ++t)
        threads.emplace_back([&, t] {
            BareHandle h(sink.url(), message);
            for (std::size_t i = t; i < o.messages; i += o.connections) {
                h.offset = 0;
                if (curl_easy_perform(h.curl) != CURLE_OK) ++failed;
            }
        });
    for (auto& th : threads) th.join();
    if (failed != 0) throw std::runtime_error("bare libcurl: " + std::to_string(failed.load()) + " failed");
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// One thread, C handles in one multi handle (its pool keeps C connections), curl_multi_poll.
double bareCurlMulti(const SmtpSink& sink, const Options& o) {
    const std::string message = makeMessage(o.size, 0);
    CURLM* multi = curl_multi_init();
    if (multi == nullptr) throw std::runtime_error("libcurl: out of memory");
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, long(o.connections));
    std::vector<std::unique_ptr<BareHandle>> handles;
    std::size_t started = 0, done = 0, failed = 0;
    const auto start = Clock::now();
    for (std::size_t t = 0; t < o.connections && started < o.messages; ++t, ++started) {
        handles.push_back(std::make_unique<BareHandle>(sink.url(), message));
        curl_easy_setopt(handles.back()->curl, CURLOPT_PRIVATE, handles.back().get());
        curl_multi_add_handle(multi, handles.back()->curl);
    }
    while (done < o.messages) {
        int running = 0;
        curl_multi_perform(multi, &running);
        int queued = 0;
        while (CURLMsg* m = curl_multi_info_read(multi, &queued)) {
            if (m->msg != CURLMSG_DONE) continue;
            ++done;
            if (m->data.result != CURLE_OK) ++failed;
            CURL* easy = m->easy_handle;
            curl_multi_remove_handle(multi, easy);
            if (started < o.messages) {
                BareHandle* h = nullptr;
                curl_easy_getinfo(easy, CURLINFO_PRIVATE, &h);
                h->offset = 0;
                curl_multi_add_handle(multi, easy);
                ++started;
            }
        }
        if (done < o.messages) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    handles.clear();
    curl_multi_cleanup(multi);
    if (failed != 0) throw std::runtime_error("bare libcurl (multi): " + std::to_string(failed) + " failed");
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

// --mode submit: smtp-source and the plugin through AsyncSessions, both through the proxy
// when there is one.
int submitMode(const TransportHandle& transport, const SmtpSink& sink, const Options& o) {
    std::unique_ptr<Process> proxy;
    std::string target = sink.endpoint().hostPort();
    std::unique_ptr<PostfixServer> postfix;
    std::map<std::string, std::string> extra;
    if (o.server == "postfix") {
        PostfixServerOptions options = relayProfile();
        options.chunking = o.chunking;
        postfix = std::make_unique<PostfixServer>(options);
        target = postfix->endpoint().hostPort();
        extra["StartTLS"] = "no";
        std::printf("a private Postfix, %s\n", o.chunking ? "CHUNKING announced" : "CHUNKING not announced");
    }
    if (!o.proxy.empty()) {
        const Endpoint listen = freeLoopbackEndpoint();
        proxy = std::make_unique<Process>(std::vector<std::string>{"/usr/bin/python3", o.proxy, std::to_string(listen.port),
                                                                   target, std::to_string(o.delayMs),
                                                                   listen.address});
        if (!waitUntil([&] { return isListening(listen); }, std::chrono::seconds(10)))
            throw std::runtime_error("the delay proxy did not start");
        target = listen.hostPort();
    }
    const double rtt = 2 * o.delayMs / 1000.0;
    std::printf("%zu messages of %zu bytes over %zu sessions (window %zu), %s, %zu runs\n", o.messages, o.size,
                o.connections, o.window,
                o.proxy.empty() ? "loopback" : ("through the delay proxy, round trip " + std::to_string(int(2 * o.delayMs)) + " ms").c_str(),
                o.runs);
    std::vector<double> source, plugin, sourceCpu, pluginCpu;
    std::size_t rss = 0;
    const auto perMessageUs = [&](double cpu) { return cpu * 1e6 / double(o.messages); };
    for (std::size_t r = 0; r < o.runs; ++r) {
        double c = cpuSeconds(RUSAGE_CHILDREN);
        source.push_back(smtpSource(sink, o, target));
        sourceCpu.push_back(perMessageUs(cpuSeconds(RUSAGE_CHILDREN) - c));
        c = cpuSeconds(RUSAGE_SELF);
        plugin.push_back(pluginSubmit(transport, "smtp://" + target, o, extra));
        pluginCpu.push_back(perMessageUs(cpuSeconds(RUSAGE_SELF) - c));
        rss = std::max(rss, rssKiB());
        std::printf("run %zu: smtp-source %.2f s (%.0f msg/s), plugin submit %.2f s (%.0f msg/s)\n", r + 1,
                    source.back(), double(o.messages) / source.back(), plugin.back(), double(o.messages) / plugin.back());
    }
    const double s = median(source), p = median(plugin);
    const double perConnection = double(o.messages) / double(o.connections);
    std::printf("median msg/s: smtp-source %.0f, plugin submit %.0f (%.2f x smtp-source)\n", double(o.messages) / s,
                double(o.messages) / p, s / p);
    if (rtt > 0)
        std::printf("round trips per message and connection: smtp-source %.2f, plugin %.2f\n", s / rtt / perConnection,
                    p / rtt / perConnection);
    std::printf("median CPU per message (user + system): smtp-source %.1f us, plugin (the whole bench process) %.1f us; "
                "bench process RSS %zu KiB\n",
                median(sourceCpu), median(pluginCpu), rss);
    return 0;
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
        else if (key == "--mode") o.mode = value;
        else if (key == "--window") o.window = std::stoul(value);
        else if (key == "--proxy") o.proxy = value;
        else if (key == "--delay-ms") o.delayMs = std::stod(value);
        else if (key == "--server") o.server = value;
        else if (key == "--chunking") o.chunking = value != "no";
        else {
            std::cerr << "unknown option " << key << "\n";
            return 2;
        }
    }
    try {
        curl_global_init(CURL_GLOBAL_DEFAULT);  // before any thread (the plugin does its own too)
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

        if (o.mode == "submit") return submitMode(*transport, sink, o);
        std::printf("%zu messages of %zu bytes over %zu connections, %zu runs\n", o.messages, o.size,
                    o.connections, o.runs);
        std::vector<double> source, reused, perMessage, baseline, bare, bareMulti;
        std::vector<double> sourceCpu, reusedCpu, bareCpu, bareMultiCpu;  // µs per message
        const bool havePython = ::access("/usr/bin/python3", X_OK) == 0;
        const auto perMessageUs = [&](double cpu) { return cpu * 1e6 / double(o.messages); };
        for (std::size_t r = 0; r < o.runs; ++r) {
            double c = cpuSeconds(RUSAGE_CHILDREN);
            source.push_back(smtpSource(sink, o));
            sourceCpu.push_back(perMessageUs(cpuSeconds(RUSAGE_CHILDREN) - c));
            c = cpuSeconds(RUSAGE_SELF);
            reused.push_back(plugin(*transport, sink, o, false));
            reusedCpu.push_back(perMessageUs(cpuSeconds(RUSAGE_SELF) - c));
            c = cpuSeconds(RUSAGE_SELF);
            bare.push_back(bareCurlThreads(sink, o));
            bareCpu.push_back(perMessageUs(cpuSeconds(RUSAGE_SELF) - c));
            c = cpuSeconds(RUSAGE_SELF);
            bareMulti.push_back(bareCurlMulti(sink, o));
            bareMultiCpu.push_back(perMessageUs(cpuSeconds(RUSAGE_SELF) - c));
            Options small = o;
            small.messages = std::min<std::size_t>(o.messages, 5000);  // it is slow
            perMessage.push_back(plugin(*transport, sink, small, true) * double(o.messages) / double(small.messages));
            baseline.push_back(havePython ? smtplibBaseline(sink, o, small.messages) * double(o.messages) /
                                                double(small.messages)
                                          : 0.0);
            std::printf("run %zu: smtp-source %.2f s, plugin %.2f s, plugin new connection per message %.2f s, "
                        "smtplib new connection and login per message %.2f s (the last two extrapolated from %zu)\n",
                        r + 1, source.back(), reused.back(), perMessage.back(), baseline.back(), small.messages);
            std::printf("       bare libcurl, a thread per connection %.2f s, one thread through the multi interface "
                        "%.2f s\n",
                        bare.back(), bareMulti.back());
        }
        const double s = median(source), p = median(reused), n = median(perMessage), b = median(baseline);
        std::printf("median msg/s: smtp-source %.0f, plugin %.0f (%.2f x smtp-source), "
                    "new connection per message %.0f (%.2f x), smtplib baseline %.0f (%.2f x)\n",
                    double(o.messages) / s, double(o.messages) / p, s / p, double(o.messages) / n, s / n,
                    b > 0 ? double(o.messages) / b : 0.0, b > 0 ? s / b : 0.0);
        const double bt = median(bare), bm = median(bareMulti);
        std::printf("median msg/s: bare libcurl, a thread per connection %.0f (%.2f x smtp-source); one thread, "
                    "multi interface %.0f (%.2f x)\n",
                    double(o.messages) / bt, s / bt, double(o.messages) / bm, s / bm);
        std::printf("median CPU per message (user + system): smtp-source %.1f us, plugin %.1f us, bare libcurl "
                    "threads %.1f us, bare libcurl multi %.1f us\n",
                    median(sourceCpu), median(reusedCpu), median(bareCpu), median(bareMultiCpu));
    } catch (const std::exception& e) {
        std::cerr << "campaignd-transport-bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

// bounce_e2e_bench.cpp: how long a delivery notice takes from landing in the bounce mailbox to
// its bounce record. Not a test: it prints figures. The test fixtures (tests/support,
// tests/integration/daemon_fixture) start a private Postfix (Maildir delivery for
// campaignd.test, unknown users bounced with genuine DSNs), a private Dovecot serving the
// "bounces" mailbox over IMAP, a private bus and the real daemon with the imap-bounce plugin.
// Each round: a message to a new unknown address goes to Postfix (curl, envelope sender the
// bounce mailbox); the round's DSN is awaited in the Maildir's new/ (polled every millisecond;
// its landing time is the file's modification time, written by Postfix's virtual(8)); then
// `campaignd-ctl --json bounces fetch` runs, and must report exactly one record. Printed per
// round and as medians: landed -> recorded (includes the poll's detection delay, under 1 ms,
// plus the whole fetch) and the fetch alone (a new campaignd-ctl process, the D-Bus call, IMAP
// login, SEARCH UNSEEN, FETCH, parse, match, the SQLite commit, STORE \Seen).
// Usage: campaignd-bounce-e2e-bench [--rounds N] (default 20).
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "daemon_fixture.h"
#include "support/dovecot_server.h"
#include "support/postfix_server.h"

namespace {

using namespace campaignd::test;
namespace fs = std::filesystem;
using SysClock = std::chrono::system_clock;

constexpr const char* kMailbox = "bounces@campaignd.test";
constexpr const char* kPassword = "bench-mailbox-secret";

double ms(SysClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

SysClock::time_point modified(const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) throw std::runtime_error("stat " + file.string());
    return SysClock::time_point(std::chrono::duration_cast<SysClock::duration>(
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int bench(int rounds) {
    TempDir dir{"campaignd-bounce-bench"};
    PostfixServer postfix{mailboxProfile("campaignd.test", {"bounces"})};
    DovecotServer dovecot{DovecotOptions{{{kMailbox, kPassword}}, postfix.mailBase()}};
    PrivateBus bus{PrivateBus::Kind::Session};
    fs::create_directories(dir / "plugins");
    fs::copy_file(IMAP_BOUNCE_PLUGIN, dir / "plugins" / "imap-bounce.so");
    writeFile(dir / "password", std::string(kPassword) + "\n", fs::perms::owner_read | fs::perms::owner_write);
    DaemonConfig config;
    config.database = "sqlite:" + (dir / "c.db").string();
    config.extra = "[Bounces]\nURL=" + dovecot.url("INBOX") + "\nUsername=" + kMailbox +
                   "\nPasswordFile=" + (dir / "password").string() + "\nAfterProcessing=seen\n";
    Campaignd daemon(bus, dir, config);
    if (daemon.ctl({"campaign", "create", "--name", "Bench", "--subject", "Bench", "--html", "<p>x</p>"}).exitCode != 0)
        throw std::runtime_error("campaign create failed");

    std::vector<double> landedToRecorded, fetchAlone;
    std::printf("round  landed->recorded_ms  fetch_ms\n");
    for (int i = 0; i < rounds; ++i) {
        const std::string to = "nobody" + std::to_string(i) + "@campaignd.test";
        writeFile(dir / "message.eml", "From: news@campaignd.test\r\nTo: " + to +
                                           "\r\nSubject: Bench [CID:1]\r\nMessage-ID: <b" + std::to_string(i) +
                                           ".bench@campaignd.test>\r\nX-Campaign-Id: 1\r\n\r\nHello.\r\n");
        const auto sent = run({"curl", "-sS", "--url", "smtp://" + postfix.endpoint().hostPort(), "--mail-from", kMailbox,
                               "--mail-rcpt", to, "-T", (dir / "message.eml").string()});
        if (sent.exitCode != 0) throw std::runtime_error("curl: " + sent.err);
        fs::path dsn;
        const auto deadline = SysClock::now() + std::chrono::seconds(60);
        while (dsn.empty()) {
            const auto files = postfix.deliveredFiles("bounces");  // new/ only: fetched ones moved to cur/
            if (!files.empty()) dsn = files.front();
            else if (SysClock::now() > deadline) throw std::runtime_error("no DSN within 60 s:\n" + postfix.log());
            else std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        const auto landed = modified(dsn);
        const auto start = SysClock::now();
        const auto fetched = daemon.ctl({"--json", "bounces", "fetch"});
        const auto done = SysClock::now();
        if (fetched.exitCode != 0) throw std::runtime_error("bounces fetch: " + fetched.err);
        const auto summary = nlohmann::json::parse(fetched.out);
        if (summary.value("recorded", 0) != 1)
            throw std::runtime_error("round " + std::to_string(i) + ": expected one record, got " + fetched.out);
        landedToRecorded.push_back(ms(done - landed));
        fetchAlone.push_back(ms(done - start));
        std::printf("%5d  %19.1f  %8.1f\n", i + 1, landedToRecorded.back(), fetchAlone.back());
    }
    std::printf("median over %d DSNs: landed->recorded %.1f ms (min %.1f, max %.1f); fetch alone %.1f ms\n", rounds,
                median(landedToRecorded), *std::min_element(landedToRecorded.begin(), landedToRecorded.end()),
                *std::max_element(landedToRecorded.begin(), landedToRecorded.end()), median(fetchAlone));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = 20;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
        else {
            std::cerr << "usage: campaignd-bounce-e2e-bench [--rounds N]\n";
            return 2;
        }
    }
    if (rounds < 1) {
        std::cerr << "--rounds must be at least 1\n";
        return 2;
    }
    try {
        return bench(rounds);
    } catch (const std::exception& e) {
        std::cerr << "campaignd-bounce-e2e-bench: " << e.what() << "\n";
        return 1;
    }
}

// outcomes_bench.cpp: what SendLedger::recordOutcomes costs per call, as the ledger thread calls
// it (one campaign, batches of outcomes, each call its own transaction). Not a test: it prints
// figures. Built the same way on two commits, it measures what a change to recordOutcomes adds
// (BENCHMARKS.md: schema 12's per-minute upsert). Each run: a fresh database, one campaign of
// --recipients attached, then claimBatch + markHandedOver (not timed) and recordOutcomes (timed)
// batch after batch until every row is sent.
//   campaignd-outcomes-bench --backend sqlite|postgresql [--recipients N] [--batch N] [--runs N]
// Prints, per run, the median and the mean of the recordOutcomes calls in microseconds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "storage/store.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace {

using namespace campaignd;
using Clock = std::chrono::steady_clock;

Usec wallUsec() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// One run: the recordOutcomes calls' durations in microseconds.
std::vector<double> run(const std::string& url, int recipients, int batch) {
    auto store = storage::openStore(url);
    Campaign c;
    c.name = "bench";
    c.subject = "bench";
    c.status = CampaignStatus::InProgress;
    c.createdAt = c.updatedAt = wallUsec();
    Id campaign = 0;
    store->transaction([&] {
        campaign = store->insertCampaign(c);
        for (int i = 0; i < recipients; ++i) {
            Recipient r;
            r.email = "r" + std::to_string(i) + "@bench.example";
            r.status = SubscriptionStatus::Subscribed;
            r.createdAt = c.createdAt;
            store->attachRecipient(campaign, store->insertRecipient(r));
        }
    });
    const std::string worker = "bench:1:0";
    std::vector<double> calls;
    for (;;) {
        const auto claimed = store->claimBatch(campaign, worker, std::size_t(batch), wallUsec());
        if (claimed.empty()) break;
        std::vector<storage::HandOver> items;
        for (const auto& r : claimed) items.push_back({r.ledgerId, "m" + std::to_string(r.ledgerId) + "@bench"});
        store->markHandedOver(worker, items);
        std::vector<storage::LedgerOutcome> outcomes;
        for (const auto& r : claimed)
            outcomes.push_back({r.ledgerId, storage::LedgerOutcome::Kind::Sent, "", std::nullopt});
        const auto t = Clock::now();
        store->recordOutcomes(worker, outcomes, wallUsec());
        calls.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    }
    return calls;
}

}  // namespace

int main(int argc, char** argv) {
    std::string backend = "sqlite";
    int recipients = 20000, batch = 100, runs = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        if (key == "--backend") backend = argv[i + 1];
        else if (key == "--recipients") recipients = std::atoi(argv[i + 1]);
        else if (key == "--batch") batch = std::atoi(argv[i + 1]);
        else if (key == "--runs") runs = std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    std::unique_ptr<test::PostgresServer> server;
    if (backend == "postgresql") server = std::make_unique<test::PostgresServer>(test::PostgresServerOptions{});
    test::TempDir dir("campaignd-outcomes-bench");
    for (int r = 0; r < runs; ++r) {
        const std::string url = server ? server->createDatabase("outcomes")
                                       : "sqlite:" + (dir / ("run" + std::to_string(r)) / "campaignd.db").string();
        std::vector<double> calls = run(url, recipients, batch);
        std::sort(calls.begin(), calls.end());
        double sum = 0;
        for (double x : calls) sum += x;
        std::printf("%s run %d: %zu recordOutcomes calls of %d: median %.0f us, mean %.0f us\n", backend.c_str(), r + 1,
                    calls.size(), batch, calls[calls.size() / 2], sum / double(calls.size()));
        std::fflush(stdout);
    }
    return 0;
}

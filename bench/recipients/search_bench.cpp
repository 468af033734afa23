// search_bench.cpp: what a recipient search costs (RecipientStore::listRecipients and
// countRecipients with RecipientFilter::search: a substring of the address or the name, which
// no index serves), side by side with the same page and total without a search (which the
// primary key and the email_key index serve). Not a test: it prints figures.
// The recipients are loaded with the bulk import (ImportStore) before any clock starts; then
// each query is run `runs` times, the three kinds alternated run by run; medians and ratios.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "storage/store.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace {

using namespace campaignd;
using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void load(storage::Store& store, long rows) {
    storage::BulkImportOptions options;
    options.now = 1'760'000'000'000'000;
    auto import = store.beginImport(options);
    for (long i = 0; i < rows; ++i) {
        const std::string email = "user" + std::to_string(i) + "@example" + std::to_string(i % 97) + ".com";
        const std::string name = "Recipient Number " + std::to_string(i);
        import->add({std::uint64_t(i + 2), email, name, std::nullopt, {}, {}});
    }
    import->finish();
}

// One page of 50 and the total, as the Cockpit page asks (ListRecipientsEx); milliseconds.
double page(storage::Store& store, const std::optional<std::string>& search, std::int64_t& total) {
    storage::RecipientFilter f;
    f.search = search;
    f.limit = 50;
    const auto start = Clock::now();
    const auto rows = store.listRecipients(f);
    total = store.countRecipients(f);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (rows.size() > 50) throw std::runtime_error("more than a page");
    return ms;
}

void bench(const std::string& backend, storage::Store& store, long rows, int runs) {
    const auto t = Clock::now();
    load(store, rows);
    std::cout << backend << ": loaded " << rows << " recipients in " << std::fixed << std::setprecision(1)
              << std::chrono::duration<double>(Clock::now() - t).count() << " s" << std::endl;
    struct Kind {
        const char* what;
        std::optional<std::string> search;
        std::vector<double> ms;
        std::int64_t total = 0;
    };
    // "NUMBER 4242" matches names only, in another case: 4242, 42420-42429, 424200-424299.
    std::vector<Kind> kinds{{"no search (baseline)", std::nullopt, {}, 0},
                            {"search \"NUMBER 4242\"", std::string("NUMBER 4242"), {}, 0},
                            {"search \"nobody\" (no match)", std::string("nobody"), {}, 0}};
    for (int run = 0; run < runs; ++run)
        for (Kind& k : kinds) k.ms.push_back(page(store, k.search, k.total));
    const double base = median(kinds[0].ms);
    for (const Kind& k : kinds) {
        std::cout << "  " << std::left << std::setw(30) << k.what << " median " << std::setw(9) << std::setprecision(1)
                  << median(k.ms) << " ms  (" << std::setprecision(1) << median(k.ms) / base << " x)  total "
                  << k.total << "  runs:";
        for (double ms : k.ms) std::cout << " " << std::setprecision(1) << ms;
        std::cout << std::endl;
    }
}

}  // namespace

int main(int argc, char** argv) try {
    long rows = 1'000'000;
    int runs = 7;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--rows") rows = std::stol(argv[i + 1]);
        else if (a == "--runs") runs = std::stoi(argv[i + 1]);
        else {
            std::cerr << "usage: campaignd-search-bench [--rows N] [--runs K]\n";
            return 2;
        }
    }
    test::TempDir dir("campaignd-search-bench");
    {
        auto store = storage::openStore("sqlite:" + (dir / "campaignd.sqlite").string());
        bench("sqlite", *store, rows, runs);
    }
    test::PostgresServer server;
    auto store = storage::openStore(server.createDatabase("search"));
    bench("postgresql", *store, rows, runs);
    return 0;
} catch (const std::exception& e) {
    std::cerr << "campaignd-search-bench: " << e.what() << "\n";
    return 1;
}

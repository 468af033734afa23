// csv_parse_bench.cpp: rows per second of the CSV importer's layers on a generated file of
// ROWS "email,name,group" lines (default 1,000,000), fed in 256 KiB chunks from memory:
// the tokenizer alone, then the whole row pipeline with the daemon's own validation
// (rules::normalizeEmail, checkHeaderValue) called directly, as the host does. Prints one
// line per layer; best of three runs. Not a test: it asserts nothing but the row count.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"
#include "csv_parser.h"
#include "daemon_validator.h"
#include "recipient_import.h"
#include "rules/validation.h"

namespace {

using namespace campaignd::csv;

std::string generate(std::size_t rows) {
    static const char* const first[] = {"Anna", "Jürgen", "Zoë", "Mateo", "Chloé", "Li", "Søren", "Amélie"};
    static const char* const last[] = {"Müller", "García", "Dubois", "Nowak", "Smith", "Öztürk", "Rossi"};
    static const char* const groups[] = {"newsletter", "customers", "beta", "press"};
    std::string out = "email,name,group\n";
    out.reserve(rows * 48);
    for (std::size_t i = 0; i < rows; ++i) {
        out += "user";
        out += std::to_string(i);
        out += "@example";
        out += std::to_string(i % 97);
        out += ".org,";
        out += first[i % 8];
        out += ' ';
        out += last[i % 7];
        out += ',';
        out += groups[i % 4];
        out += '\n';
    }
    return out;
}

struct Counter final : RecordHandler {
    std::size_t records = 0;
    void onRecord(const Record& r) override { records += r.fields.size() != 0; }
};

struct NullSink final : RowSink {
    std::size_t rows = 0, errors = 0;
    void row(const Row&) override { ++rows; }
    void rowError(std::uint64_t, const std::string&) override { ++errors; }
    void progress(std::uint64_t, std::uint64_t) override {}
};

struct TrustingValidator final : Validator {
    bool normalizeEmail(std::string_view address, char* out, std::string&) override {
        std::memcpy(out, address.data(), address.size());
        out[address.size()] = '\0';
        return true;
    }
    bool checkHeaderValue(const char*, std::string_view, std::string&) override { return true; }
};

template <class F>
double bestSeconds(F&& f) {
    double best = 1e9;
    for (int i = 0; i < 3; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

void report(const char* what, std::size_t rows, std::size_t bytes, double s) {
    std::printf("%-44s %9.0f rows/s  %7.1f MB/s  (%.3f s)\n", what, rows / s, bytes / s / 1e6, s);
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    const std::string file = generate(rows);
    std::printf("%zu rows, %.1f MB, chunks of %zu KiB\n", rows, file.size() / 1e6, kChunkBytes >> 10);
    auto chunks = [&](auto&& feed) {
        for (std::size_t at = 0; at < file.size(); at += kChunkBytes)
            feed(std::string_view(file).substr(at, kChunkBytes));
    };

    std::size_t records = 0;
    const double tokenize = bestSeconds([&] {
        Parser parser;
        Counter counter;
        chunks([&](std::string_view c) { parser.feed(c, counter); });
        parser.finish(counter);
        records = counter.records;
    });
    report("tokenizer (Parser)", rows, file.size(), tokenize);

    std::size_t imported = 0;
    const double pipeline = bestSeconds([&] {
        TrustingValidator validator;
        NullSink sink;
        RecipientImport import(ImportSettings{}, validator, sink);
        chunks([&](std::string_view c) { import.feed(c); });
        import.finish();
        imported = sink.rows;
    });
    report("rows, validation stubbed (RecipientImport)", rows, file.size(), pipeline);

    const double validated = bestSeconds([&] {
        DaemonValidator validator;
        NullSink sink;
        RecipientImport import(ImportSettings{}, validator, sink);
        chunks([&](std::string_view c) { import.feed(c); });
        import.finish();
        imported = sink.rows;
    });
    report("rows, the daemon's validation", rows, file.size(), validated);

    if (records != rows + 1 || imported != rows) {
        std::fprintf(stderr, "wrong counts: %zu records, %zu rows\n", records, imported);
        return 1;
    }
    return 0;
}

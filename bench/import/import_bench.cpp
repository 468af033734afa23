// import_bench.cpp: how fast and how lean the bulk recipient import is (ImportStore::beginImport),
// measured side by side with the floor PostgreSQL itself sets. Not a test: it prints figures.
//   PostgreSQL  psql's \copy of the same CSV into a bare 3-column table, then the import path,
//               alternated run by run on one private server; medians and their ratio.
//   SQLite      the import path into a fresh file; rows/s.
//   Memory      every import runs in a child process (this binary, --child) that reports its
//               peak resident set (VmHWM) with its timings, so each figure is one import's own.
// The file is generated: "email,name,group" with one group per row (10 distinct groups),
// every address distinct. The import path reads and splits it like a (trivial) parser would.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "storage/store.h"
#include "support/postgres_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace {

using namespace campaignd;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// This process's CPU time (user + system), seconds: less sensitive than the wall clock to
// other work on the machine. A PostgreSQL import's server-side work is not in it.
double cpuSeconds() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

long peakRssKib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

void generateCsv(const std::filesystem::path& path, long rows) {
    std::FILE* out = std::fopen(path.c_str(), "w");
    if (!out) throw std::runtime_error("cannot write " + path.string());
    std::fputs("email,name,group\n", out);
    for (long i = 0; i < rows; ++i)
        std::fprintf(out, "user%ld.%ld@example%ld.com,Recipient Number %ld,list-%ld\n", i, (i * 7919) % 100000,
                     i % 97, i, i % 10);
    if (std::fclose(out) != 0) throw std::runtime_error("cannot write " + path.string());
}

// --child URL FILE: one import, then one line of key=value figures on stdout.
int runChild(const std::string& url, const std::string& file) {
    auto store = storage::openStore(url);  // migrations are not part of the figure
    const auto start = Clock::now();
    const double cpuStart = cpuSeconds();
    storage::BulkImportOptions options;
    options.now = 1'760'000'000'000'000;
    options.createGroups = true;
    auto import = store->beginImport(options);
    std::FILE* in = std::fopen(file.c_str(), "r");
    if (!in) throw std::runtime_error("cannot read " + file);
    char* buffer = nullptr;
    std::size_t capacity = 0;
    std::uint64_t line = 0;
    ssize_t length;
    while ((length = ::getline(&buffer, &capacity, in)) > 0) {
        if (++line == 1) continue;  // the header
        std::string_view text(buffer, std::size_t(length));
        if (text.back() == '\n') text.remove_suffix(1);
        const auto comma1 = text.find(',');
        const auto comma2 = text.find(',', comma1 + 1);
        const std::string_view group = text.substr(comma2 + 1);
        import->add({line, text.substr(0, comma1), text.substr(comma1 + 1, comma2 - comma1 - 1), std::nullopt,
                     std::span<const std::string_view>(&group, 1), {}});
    }
    std::free(buffer);
    std::fclose(in);
    const double staged = secondsSince(start);
    const auto counts = import->finish();
    const double total = secondsSince(start);
    std::cout << "rows=" << counts.rows << " imported=" << counts.imported
              << " groups=" << counts.groupsCreated.size() << " staged=" << staged << " seconds=" << total
              << " cpu=" << cpuSeconds() - cpuStart << " rss_kib=" << peakRssKib() << std::endl;
    return 0;
}

struct ChildResult {
    long rows = 0, imported = 0;
    double staged = 0, seconds = 0, cpu = 0;
    long rssKib = 0;
};

ChildResult runImportChild(const std::string& self, const std::string& url, const std::string& file) {
    const auto result = test::run({self, "--child", url, file}, {}, std::chrono::minutes(10));
    if (result.exitCode != 0)
        throw std::runtime_error("the import child failed (" + std::to_string(result.exitCode) + "):\n" +
                                 result.out + result.err);
    std::map<std::string, std::string> fields;
    std::istringstream words(result.out);
    for (std::string word; words >> word;)
        if (const auto eq = word.find('='); eq != std::string::npos) fields[word.substr(0, eq)] = word.substr(eq + 1);
    ChildResult r;
    r.rows = std::stol(fields.at("rows"));
    r.imported = std::stol(fields.at("imported"));
    r.staged = std::stod(fields.at("staged"));
    r.seconds = std::stod(fields.at("seconds"));
    r.cpu = std::stod(fields.at("cpu"));
    r.rssKib = std::stol(fields.at("rss_kib"));
    return r;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string runsText(const std::vector<double>& v) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(2);
    for (std::size_t i = 0; i < v.size(); ++i) out << (i ? " " : "") << v[i];
    return out.str();
}

std::string databaseName(const std::string& url) { return url.substr(url.rfind('/') + 1); }

void check(const ChildResult& r, long rows) {
    if (r.rows != rows || r.imported != rows)
        throw std::runtime_error("the import counted " + std::to_string(r.rows) + " rows, " +
                                 std::to_string(r.imported) + " imported; expected " + std::to_string(rows));
}

int usage() {
    std::cerr << "usage: campaignd-import-bench [--rows N] [--runs K] [--backend both|postgresql|sqlite]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) try {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 3 && args[0] == "--child") return runChild(args[1], args[2]);

    long rows = 1'000'000;
    int runs = 3;
    std::string backend = "both";
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i + 1 >= args.size()) return usage();
        if (args[i] == "--rows") rows = std::stol(args[++i]);
        else if (args[i] == "--runs") runs = std::stoi(args[++i]);
        else if (args[i] == "--backend") backend = args[++i];
        else return usage();
    }
    if (rows <= 0 || runs <= 0 || (backend != "both" && backend != "postgresql" && backend != "sqlite"))
        return usage();
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();

    test::TempDir dir("campaignd-import-bench");
    const auto csv = dir / "recipients.csv";
    auto t = Clock::now();
    generateCsv(csv, rows);
    std::cout << "generated " << rows << " rows (" << std::filesystem::file_size(csv) / (1024 * 1024)
              << " MiB) in " << std::fixed << std::setprecision(2) << secondsSince(t) << " s\n";

    struct Line {
        std::string what;
        std::vector<double> seconds;
        std::vector<double> staged;
        long rssKib = 0;
    };
    std::vector<Line> table;
    double copyMedian = 0, pgImportMedian = 0, sqliteMedian = 0;

    if (backend != "sqlite") {
        // Settings beyond the fixture's (fsync=off, synchronous_commit=off for tests): a more
        // usual buffer cache, and no checkpoint in the middle of a run.
        test::PostgresServerOptions pgOptions;
        pgOptions.settings = {"shared_buffers=128MB", "max_wal_size=4GB"};
        test::PostgresServer server(pgOptions);
        Line copy{"postgresql  psql \\copy into a bare table", {}, {}, 0};
        Line import{"postgresql  RecipientImport (COPY + merge)", {}, {}, 0};
        for (int run = 0; run < runs; ++run) {
            const std::string bare = server.createDatabase("bare");
            server.psql(databaseName(bare), "CREATE TABLE bare_table (email text, name text, grp text)");
            t = Clock::now();
            const auto copied = test::run({"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", bare, "-c",
                                           "\\copy bare_table FROM '" + csv.string() + "' CSV HEADER"},
                                          {}, std::chrono::minutes(10));
            const double copySeconds = secondsSince(t);
            if (copied.exitCode != 0) throw std::runtime_error("psql \\copy failed: " + copied.err);
            const auto counted = server.psql(databaseName(bare), "SELECT COUNT(*) FROM bare_table");
            if (std::stol(counted.out) != rows) throw std::runtime_error("\\copy loaded " + counted.out);
            copy.seconds.push_back(copySeconds);
            server.dropDatabase(databaseName(bare));

            const std::string target = server.createDatabase("import");
            storage::openStore(target);  // the schema, before the clock starts
            const ChildResult r = runImportChild(self, target, csv.string());
            check(r, rows);
            import.seconds.push_back(r.seconds);
            import.staged.push_back(r.staged);
            import.rssKib = std::max(import.rssKib, r.rssKib);
            server.dropDatabase(databaseName(target));
            std::cout << "postgresql run " << run + 1 << ": \\copy " << copySeconds << " s, import " << r.seconds
                      << " s (staged " << r.staged << " s, importer CPU " << r.cpu << " s), peak RSS "
                      << r.rssKib / 1024 << " MiB" << std::endl;
        }
        copyMedian = median(copy.seconds);
        pgImportMedian = median(import.seconds);
        table.push_back(copy);
        table.push_back(import);
    }

    if (backend != "postgresql") {
        Line import{"sqlite      RecipientImport (staging + merge)", {}, {}, 0};
        for (int run = 0; run < runs; ++run) {
            const auto path = dir / ("sqlite" + std::to_string(run)) / "campaignd.sqlite";
            const std::string url = "sqlite:" + path.string();
            storage::openStore(url);
            const ChildResult r = runImportChild(self, url, csv.string());
            check(r, rows);
            import.seconds.push_back(r.seconds);
            import.staged.push_back(r.staged);
            import.rssKib = std::max(import.rssKib, r.rssKib);
            std::filesystem::remove_all(path.parent_path());
            std::cout << "sqlite run " << run + 1 << ": import " << r.seconds << " s (staged " << r.staged
                      << " s, CPU " << r.cpu << " s), peak RSS " << r.rssKib / 1024 << " MiB" << std::endl;
        }
        sqliteMedian = median(import.seconds);
        table.push_back(import);
    }

    std::cout << "\n" << rows << " rows, " << runs << " runs each (seconds per run; median; rows/s; staging "
              << "median; peak RSS of the importing process)\n";
    std::cout << std::left << std::setw(48) << "path" << std::setw(24) << "runs (s)" << std::setw(9) << "median"
              << std::setw(11) << "rows/s" << std::setw(10) << "staged" << "peak RSS\n";
    for (const Line& l : table) {
        const double m = median(l.seconds);
        std::cout << std::left << std::setw(48) << l.what << std::setw(24) << runsText(l.seconds) << std::setw(9)
                  << std::setprecision(2) << m << std::setw(11) << std::setprecision(0) << double(rows) / m
                  << std::setw(10) << std::setprecision(2) << (l.staged.empty() ? std::string("-") : std::to_string(median(l.staged)).substr(0, 4))
                  << (l.rssKib ? std::to_string(l.rssKib / 1024) + " MiB" : std::string("-")) << "\n";
    }
    std::cout << std::setprecision(2);
    if (copyMedian > 0)
        std::cout << "postgresql: import / \\copy = " << pgImportMedian / copyMedian << "x (target <= 1.5x)\n";
    if (sqliteMedian > 0)
        std::cout << "sqlite: " << std::setprecision(0) << double(rows) / sqliteMedian
                  << " rows/s (target >= 200000)\n";
    std::cout << "peak RSS target: <= 100 MiB for 1,000,000 rows\n";
    std::cout << "reproduce: " << self << " --rows " << rows << " --runs " << runs << " --backend " << backend
              << "\n";
    return 0;
} catch (const std::exception& e) {
    std::cerr << "campaignd-import-bench: " << e.what() << "\n";
    return 1;
}

// bounce_parse_bench.cpp: parse throughput on the corpus (not a test). Loads every file of the
// corpus directory (and its subdirectories), parses them round-robin for ITERATIONS passes on one thread, prints
// messages/s and MB/s. Usage: bounce_parse_bench [ITERATIONS] [CORPUS_DIR]
#include "bounce/bounce_parser.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    const long iterations = argc > 1 ? std::atol(argv[1]) : 2000;
    const std::filesystem::path dir = argc > 2 ? argv[2] : BOUNCE_CORPUS_DIR;
    std::vector<std::string> messages;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        if (entry.path().extension() != ".eml") continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        messages.push_back(ss.str());
    }
    if (messages.empty()) {
        std::fprintf(stderr, "no .eml files in %s\n", dir.c_str());
        return 1;
    }
    std::size_t bytes = 0;
    std::size_t results = 0;
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i) {
        for (const std::string& m : messages) {
            results += campaignd::bounce::parseMessage(m).results.size();
            bytes += m.size();
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double count = static_cast<double>(iterations) * static_cast<double>(messages.size());
    std::printf("%zu corpus messages x %ld: %.0f messages/s, %.1f MB/s, %zu results, %.3f s\n",
                messages.size(), iterations, count / seconds, static_cast<double>(bytes) / seconds / 1e6,
                results, seconds);
    return 0;
}

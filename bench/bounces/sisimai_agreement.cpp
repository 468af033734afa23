// sisimai_agreement.cpp: how often the bounce parser (daemon/bounce) agrees with Sisimai, per
// field, on a corpus whose every message Sisimai has read (a JSONL file: {"file", "results":
// [{"recipient", "status", "reason", "action", ...}]}, as ../shared/corpus/bounces/sisimai.jsonl).
// For each of Sisimai's results: is the recipient found, and do status, reason and action match?
// Also the messages where Sisimai finds nothing and the parser finds results. A measurement, not
// a test: it prints figures and checks none.
// Usage: sisimai_agreement CORPUS_DIR [SISIMAI_JSONL] (default CORPUS_DIR/sisimai.jsonl).
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "bounce/bounce_parser.h"

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

void line(const char* field, long agree, long of) {
    std::cout << "| " << field << " | " << agree << " / " << of << " | "
              << (of ? (100.0 * static_cast<double>(agree) / static_cast<double>(of)) : 0.0) << " % |\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: sisimai_agreement CORPUS_DIR [SISIMAI_JSONL]\n";
        return 2;
    }
    const std::string dir = argv[1];
    std::ifstream expected(argc > 2 ? argv[2] : dir + "/sisimai.jsonl");
    if (!expected) {
        std::cerr << "sisimai_agreement: cannot read the Sisimai results\n";
        return 1;
    }
    namespace bounce = campaignd::bounce;
    long results = 0, recipient = 0, status = 0, reason = 0, action = 0, messages = 0, extra = 0;
    std::string text;
    while (std::getline(expected, text)) {
        if (text.empty()) continue;
        const auto entry = nlohmann::json::parse(text);
        std::ifstream in(dir + "/" + entry["file"].get<std::string>(), std::ios::binary);
        const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const bounce::ParsedMessage parsed = bounce::parseMessage(raw);
        ++messages;
        std::map<std::string, const bounce::BounceResult*> ours;
        for (const auto& r : parsed.results) ours.emplace(lower(r.recipient), &r);
        if (entry["results"].empty() && !parsed.results.empty()) ++extra;
        for (const auto& theirs : entry["results"]) {
            ++results;
            const auto found = ours.find(lower(theirs.value("recipient", "")));
            if (found == ours.end()) continue;
            ++recipient;
            const bounce::BounceResult& r = *found->second;
            status += r.status == theirs.value("status", "");
            reason += std::string(bounce::toString(r.reason)) == theirs.value("reason", "");
            action += std::string(bounce::toString(r.action)) == theirs.value("action", "");
        }
    }
    std::cout << messages << " messages, " << results << " results from Sisimai\n\n"
              << "| field | agree | share |\n| --- | --- | --- |\n";
    line("recipient found", recipient, results);
    line("status", status, results);
    line("reason", reason, results);
    line("action", action, results);
    std::cout << "\nmessages where Sisimai finds nothing and the parser finds results: " << extra << "\n";
    return 0;
}

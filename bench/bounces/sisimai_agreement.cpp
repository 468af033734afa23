// sisimai_agreement.cpp: how often the bounce parser (daemon/bounce) agrees with Sisimai, on a
// corpus whose every message Sisimai has read (a JSONL file: {"file", "results": [{"recipient",
// "status", "reason", "action", "softbounce", ...}]}, as ../shared/corpus/bounces/sisimai.jsonl).
// For each of Sisimai's results: is the recipient found, and do status, reason, hard/soft and
// action match? Then agreement per reason (Sisimai's), the confusion pairs (Sisimai -> parser)
// with example files, and the messages where Sisimai finds no bounce but the parser does. With
// --sisimai it writes that JSONL itself instead (bench/bounces/sisimai_jsonl.pl, which needs
// Debian's libsisimai-perl), so any directory of messages can be compared. A measurement, not a
// test: it prints figures and checks none.
// Usage: sisimai_agreement CORPUS_DIR [SISIMAI_JSONL]   (default CORPUS_DIR/sisimai.jsonl)
//        sisimai_agreement --sisimai CORPUS_DIR > sisimai.jsonl
// With --list before CORPUS_DIR, every disagreeing result is printed too (file, recipient,
// Sisimai's status/reason/action against the parser's).
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bounce/bounce_parser.h"

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string percent(long agree, long of) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(1)
        << (of ? 100.0 * static_cast<double>(agree) / static_cast<double>(of) : 0.0) << " %";
    return out.str();
}

void line(const char* field, long agree, long of) {
    std::cout << "| " << field << " | " << agree << " / " << of << " | " << percent(agree, of) << " |\n";
}

// Runs the Perl side: its output is the JSONL on our stdout.
int writeSisimaiJsonl(const std::string& dir) {
    const std::string command = "perl '" SISIMAI_JSONL_SCRIPT "' '" + dir + "'";
    if (dir.find('\'') != std::string::npos) {
        std::cerr << "sisimai_agreement: a directory name with a quote is not supported\n";
        return 2;
    }
    const int rc = std::system(command.c_str());
    return rc == 0 ? 0 : 1;
}

struct Tally {
    long of = 0;
    long agree = 0;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--sisimai") {
        return writeSisimaiJsonl(argv[2]);
    }
    bool list = false;
    if (argc > 1 && std::string(argv[1]) == "--list") {
        list = true;
        --argc;
        ++argv;
    }
    if (argc < 2 || std::string(argv[1]).rfind("--", 0) == 0) {
        std::cerr << "usage: sisimai_agreement [--list] CORPUS_DIR [SISIMAI_JSONL]\n"
                     "       sisimai_agreement --sisimai CORPUS_DIR > sisimai.jsonl\n";
        return 2;
    }
    const std::string dir = argv[1];
    std::ifstream expected(argc > 2 ? argv[2] : dir + "/sisimai.jsonl");
    if (!expected) {
        std::cerr << "sisimai_agreement: cannot read the Sisimai results\n";
        return 1;
    }
    namespace bounce = campaignd::bounce;
    long results = 0, recipient = 0, status = 0, reason = 0, action = 0, messages = 0;
    long hardSoftOf = 0, hardSoft = 0;
    std::map<std::string, Tally> perReason;
    std::map<std::pair<std::string, std::string>, std::vector<std::string>> confusions;
    std::vector<std::string> extra;      // Sisimai: not a bounce; the parser: results
    std::vector<std::string> notFound;   // a Sisimai recipient the parser does not name
    std::string text;
    while (std::getline(expected, text)) {
        if (text.empty()) continue;
        const auto entry = nlohmann::json::parse(text);
        const std::string file = entry["file"].get<std::string>();
        std::ifstream in(dir + "/" + file, std::ios::binary);
        const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const bounce::ParsedMessage parsed = bounce::parseMessage(raw);
        ++messages;
        std::map<std::string, const bounce::BounceResult*> ours;
        for (const auto& r : parsed.results) ours.emplace(lower(r.recipient), &r);
        if (entry["results"].empty() && !parsed.results.empty()) extra.push_back(file);
        for (const auto& theirs : entry["results"]) {
            ++results;
            const std::string theirReason = theirs.value("reason", "");
            Tally& t = perReason[theirReason];
            ++t.of;
            const auto found = ours.find(lower(theirs.value("recipient", "")));
            if (found == ours.end()) {
                notFound.push_back(file + " (" + theirs.value("recipient", "") + ")");
                confusions[{theirReason, "(not found)"}].push_back(file);
                continue;
            }
            ++recipient;
            const bounce::BounceResult& r = *found->second;
            const std::string ourReason(bounce::toString(r.reason));
            status += r.status == theirs.value("status", "");
            if (ourReason == theirReason) {
                ++reason;
                ++t.agree;
            } else {
                confusions[{theirReason, ourReason}].push_back(file);
            }
            action += std::string(bounce::toString(r.action)) == theirs.value("action", "");
            if (list && (ourReason != theirReason || r.status != theirs.value("status", "") ||
                         std::string(bounce::toString(r.action)) != theirs.value("action", ""))) {
                std::cout << "DIFF " << file << ' ' << r.recipient << "  sisimai " << theirs.value("status", "")
                          << ' ' << theirReason << ' ' << theirs.value("action", "") << "  ours " << r.status
                          << ' ' << ourReason << ' ' << bounce::toString(r.action) << " [" << r.smtpCode
                          << "] " << r.diagnostic.substr(0, 160) << '\n';
            }
            const int soft = theirs.value("softbounce", -1);
            if (soft == 0 || soft == 1) {
                ++hardSoftOf;
                hardSoft += r.hard == (soft == 0);
            }
        }
    }
    std::cout << messages << " messages, " << results << " results from Sisimai\n\n"
              << "| field | agree | share |\n| --- | --- | --- |\n";
    line("recipient found", recipient, results);
    line("status", status, results);
    line("reason", reason, results);
    line("hard/soft", hardSoft, hardSoftOf);
    line("action", action, results);

    std::cout << "\n| reason (Sisimai) | agree | share |\n| --- | --- | --- |\n";
    std::vector<std::pair<std::string, Tally>> reasons(perReason.begin(), perReason.end());
    std::stable_sort(reasons.begin(), reasons.end(),
                     [](const auto& a, const auto& b) { return a.second.of > b.second.of; });
    for (const auto& [name, t] : reasons) line(name.c_str(), t.agree, t.of);

    std::cout << "\nconfusions (Sisimai -> parser), most frequent first, up to 3 example files:\n";
    std::vector<std::pair<std::pair<std::string, std::string>, std::vector<std::string>>> pairs(
        confusions.begin(), confusions.end());
    std::stable_sort(pairs.begin(), pairs.end(),
                     [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
    for (const auto& [pair, files] : pairs) {
        std::cout << "  " << std::setw(4) << files.size() << "  " << pair.first << " -> " << pair.second << ":";
        for (std::size_t i = 0; i < files.size() && i < 3; ++i) std::cout << ' ' << files[i];
        std::cout << '\n';
    }
    std::cout << "\nmessages where Sisimai finds no bounce and the parser finds results: " << extra.size() << "\n";
    for (const std::string& f : extra) std::cout << "  " << f << '\n';
    return 0;
}

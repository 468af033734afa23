// suppression_commands.cpp: "suppression list|add|remove|import|export", for administrators.
// The suppression list holds keyed hashes of addresses (never an address) that no add or import
// subscribes again. import reads a file of addresses or hashes (one per line, the first CSV cell
// of each; a header line and lines starting with '#' are skipped) and hands them to the daemon
// in batches; export writes the list as CSV (hash, reason, suppressed_at, email) through the
// daemon's formula-safe csvCell. The daemon hashes; the client never sees the secret.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "bus_client.h"
#include "cli.h"
#include "rules/csv_export.h"
#include "table.h"
#include "time_format.h"
#include "variant_json.h"

namespace campaignd::ctl {
namespace {

constexpr std::uint64_t kPage = 10000;  // the daemon's limit per call

struct SuppressionOptions {
    std::string target;  // an address, or for remove also a hash
    std::string file = "-";
};

std::string hashPrefix(const std::string& hash) { return hash.substr(0, 12); }

std::vector<Dict> fetchAll(Context& context) {
    std::vector<Dict> out;
    for (std::uint64_t offset = 0;; offset += kPage) {
        Dict filter{{"limit", sdbus::Variant(kPage)}, {"offset", sdbus::Variant(offset)}};
        auto page = context.client().manager().ListSuppressions(filter);
        const std::size_t got = page.size();
        out.insert(out.end(), std::make_move_iterator(page.begin()), std::make_move_iterator(page.end()));
        if (got < kPage) break;
    }
    return out;
}

void runList(Context& context, const SuppressionOptions&) {
    const auto entries = fetchAll(context);
    if (context.json) {
        printJson(dictListToJson(entries));
        return;
    }
    if (entries.empty()) {
        printText("The suppression list is empty.\n");
        return;
    }
    Table table({"HASH", "REASON", "SINCE", "EMAIL"});
    for (const auto& e : entries) {
        const std::string email = dictString(e, "email");
        table.addRow({hashPrefix(dictString(e, "hash")), dictString(e, "reason"),
                      formatLocalTime(dictUint(e, "suppressed_at")), email.empty() ? "-" : email});
    }
    printText(table.render());
}

void runAdd(Context& context, const SuppressionOptions& options) {
    checkArgumentText(options.target, "EMAIL");
    auto [added, entry] = context.client().manager().AddSuppression(options.target);
    if (context.json) {
        nlohmann::json document = dictToJson(entry);
        document["added"] = added;
        printJson(document);
        return;
    }
    if (added)
        printText("Added " + options.target + " to the suppression list (" + hashPrefix(dictString(entry, "hash")) +
                  ").\n");
    else
        printText(options.target + " is on the suppression list already (" + dictString(entry, "reason") + ", since " +
                  formatLocalTime(dictUint(entry, "suppressed_at")) + ").\n");
}

void runRemove(Context& context, const SuppressionOptions& options) {
    checkArgumentText(options.target, "ADDRESS_OR_HASH");
    const bool removed = context.client().manager().RemoveSuppression(options.target);
    if (context.json) {
        printJson({{"target", options.target}, {"removed", removed}});
        return;
    }
    if (!removed) throw CommandFailure(options.target + " is not on the suppression list");
    printText("Removed " + options.target + " from the suppression list: it may be added or imported again.\n");
}

std::string trimmed(std::string s) {
    const auto notSpace = [](unsigned char c) { return !std::isspace(c); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), notSpace));
    s.erase(std::find_if(s.rbegin(), s.rend(), notSpace).base(), s.end());
    return s;
}

// The first cell of a CSV (or TSV, or semicolon-separated) line, unquoted.
std::string firstCell(const std::string& line) {
    std::string cell = trimmed(line);
    if (!cell.empty() && cell.front() == '"') {
        std::string out;
        for (std::size_t i = 1; i < cell.size(); ++i) {
            if (cell[i] == '"') {
                if (i + 1 < cell.size() && cell[i + 1] == '"') {
                    out.push_back('"');
                    ++i;
                    continue;
                }
                break;
            }
            out.push_back(cell[i]);
        }
        return trimmed(out);
    }
    const auto end = cell.find_first_of(",;\t");
    return trimmed(cell.substr(0, end));
}

void runImport(Context& context, const SuppressionOptions& options) {
    const std::string text = readTextFile(options.file);
    std::vector<std::string> entries;
    std::vector<std::size_t> lines;
    std::size_t lineNumber = 0, start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        ++lineNumber;
        const std::string cell = firstCell(line);
        if (cell.empty() || cell.front() == '#') continue;
        if (lineNumber == 1 && (cell == "hash" || cell == "email" || cell == "address")) continue;  // a header
        entries.push_back(cell);
        lines.push_back(lineNumber);
    }
    std::uint64_t added = 0, already = 0;
    nlohmann::json invalid = nlohmann::json::array();
    for (std::size_t first = 0; first < entries.size(); first += kPage) {
        const std::size_t n = std::min<std::size_t>(kPage, entries.size() - first);
        std::vector<std::string> batch(entries.begin() + std::ptrdiff_t(first), entries.begin() + std::ptrdiff_t(first + n));
        Dict result = context.client().manager().ImportSuppressions(batch);
        added += dictUint(result, "added");
        already += dictUint(result, "already_listed");
        const auto it = result.find("invalid");
        if (it != result.end() && it->second.containsValueOfType<std::vector<sdbus::Struct<std::uint64_t, std::string>>>())
            for (const auto& bad : it->second.get<std::vector<sdbus::Struct<std::uint64_t, std::string>>>())
                invalid.push_back({{"line", lines[first + std::get<0>(bad)]}, {"reason", std::get<1>(bad)}});
    }
    if (context.json) {
        printJson({{"added", added}, {"already_listed", already}, {"invalid", invalid}});
        return;
    }
    std::string out = "Added " + std::to_string(added) + ", already listed " + std::to_string(already) + ", invalid " +
                      std::to_string(invalid.size()) + ".\n";
    for (const auto& bad : invalid)
        out += "  line " + std::to_string(bad["line"].get<std::size_t>()) + ": " + bad["reason"].get<std::string>() + "\n";
    printText(out);
}

void runExport(Context& context, const SuppressionOptions& options) {
    const auto entries = fetchAll(context);
    std::string csv = "hash,reason,suppressed_at,email\r\n";
    for (const auto& e : entries) {
        csv += rules::csvCell(dictString(e, "hash")) + ',' + rules::csvCell(dictString(e, "reason")) + ',' +
               rules::csvCell(formatIsoUtc(dictUint(e, "suppressed_at"))) + ',' + rules::csvCell(dictString(e, "email")) +
               "\r\n";
    }
    if (options.file == "-") {
        printText(csv);
    } else {
        std::ofstream out(options.file, std::ios::binary | std::ios::trunc);
        out << csv;
        out.close();
        if (!out) throw CommandFailure("cannot write " + options.file + ": " + std::strerror(errno));
        if (!context.json) printText("Wrote " + std::to_string(entries.size()) + " entries to " + options.file + ".\n");
    }
    if (context.json && options.file != "-") printJson({{"file", options.file}, {"count", entries.size()}});
}

}  // namespace

void registerSuppressionCommands(CLI::App& app, Context& context) {
    auto* suppression = app.add_subcommand(
        "suppression", "The suppression list: addresses never subscribed again (administrators only)");
    suppression->require_subcommand(1);
    suppression->footer(
        "Entries are keyed hashes of addresses (HMAC-SHA256 with the daemon's secret); no address is kept.\n"
        "Deleting a recipient who unsubscribed, bounced or complained adds one.");
    {
        auto options = std::make_shared<SuppressionOptions>();
        addCommand(suppression, context, options, "list",
                   "List the entries: hash prefix, reason, since when, and the address if a recipient has it", runList)
            ->footer("Example:\n  campaignd-ctl suppression list");
    }
    {
        auto options = std::make_shared<SuppressionOptions>();
        auto* command = addCommand(suppression, context, options, "add",
                                   "Put an address on the list (a recipient who has it is unsubscribed)", runAdd);
        command->add_option("EMAIL", options->target, "The address")->required()->type_name("");
        command->footer("Example:\n  campaignd-ctl suppression add alice@example.com");
    }
    {
        auto options = std::make_shared<SuppressionOptions>();
        auto* command = addCommand(suppression, context, options, "remove",
                                   "Lift an entry, so the address may be added or imported again", runRemove);
        command->add_option("ADDRESS_OR_HASH", options->target, "The address, or the entry's full hash")
            ->required()
            ->type_name("");
        command->footer("Example:\n  campaignd-ctl suppression remove alice@example.com");
    }
    {
        auto options = std::make_shared<SuppressionOptions>();
        auto* command = addCommand(suppression, context, options, "import",
                                   "Add every address or hash of FILE (one per line; first CSV cell)", runImport);
        command->add_option("FILE", options->file, "The file (- for standard input)")->type_name("")->required();
        command->footer("Hashes are only meaningful between installations sharing the VERP secret; bring\n"
                        "another system's list over as addresses.\n\n"
                        "Example:\n  campaignd-ctl suppression import old-system-unsubscribes.csv");
    }
    {
        auto options = std::make_shared<SuppressionOptions>();
        auto* command = addCommand(suppression, context, options, "export",
                                   "Write the list as CSV: hash, reason, suppressed_at, email", runExport);
        command->add_option("FILE", options->file, "The output file (default: standard output)")->type_name("");
        command->footer("Every cell is safe to open in a spreadsheet.\n\n"
                        "Example:\n  campaignd-ctl suppression export suppression.csv");
    }
}

}  // namespace campaignd::ctl

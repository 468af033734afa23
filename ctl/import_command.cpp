// import_command.cpp: "recipients import FILE": hands the open file to the daemon as a
// descriptor (the daemon never opens the administrator's files), follows the import through
// its ImportProgress/ImportFinished signals (and GetImport, so a missed signal cannot hang
// it), shows a progress bar on a terminal, plain progress lines otherwise and nothing with
// --json, then the summary. Invalid rows: the first 100 in the summary; all of them with
// --json or --errors-file, which the daemon writes through a second descriptor.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>

#include "bus_client.h"
#include "cli.h"
#include "table.h"
#include "variant_json.h"

namespace campaignd::ctl {
namespace {

using Dict = std::map<std::string, sdbus::Variant>;
using Clock = std::chrono::steady_clock;

struct ImportOptions {
    std::string file;
    std::vector<std::string> groups;
    std::string delimiter;
    std::vector<std::string> map;
    bool update = false;
    bool dryRun = false;
    bool createGroups = false;
    std::string errorsFile;
};

// A descriptor closed when it goes out of scope.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { if (fd_ >= 0) ::close(fd_); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

std::string delimiterOption(const std::string& text) {
    if (text == "," || text == "comma") return ",";
    if (text == ";" || text == "semicolon") return ";";
    if (text == "\t" || text == "\\t" || text == "tab") return "\t";
    throw UsageError("--delimiter must be ',', ';' or tab (also: comma, semicolon, tab)");
}

std::string withThousands(std::uint64_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

// Shows progress on stderr: a bar redrawn in place on a terminal, a line every few seconds
// otherwise, nothing when quiet (--json).
class ProgressView {
public:
    ProgressView(bool quiet, std::optional<std::uint64_t> totalBytes)
        : quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1), total_(totalBytes), lastLine_(Clock::now()) {}

    void update(std::uint64_t rows, std::uint64_t bytes, double rate) {
        if (quiet_) return;
        const auto now = Clock::now();
        // Not a terminal: a line every few seconds, none for an import shorter than that.
        if (!tty_ && now - lastLine_ < std::chrono::seconds(2)) return;
        lastLine_ = now;
        std::string text;
        if (total_ && *total_ > 0) {
            const double fraction = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(*total_));
            if (tty_) {
                constexpr int kWidth = 30;
                const int filled = static_cast<int>(fraction * kWidth);
                text += "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] ";
            }
            char pct[16];
            std::snprintf(pct, sizeof pct, "%3.0f%% ", fraction * 100);
            text += pct;
        }
        text += withThousands(rows) + " rows, " + formatByteSize(bytes) + ", " +
                withThousands(static_cast<std::uint64_t>(rate)) + " rows/s";
        if (tty_) {
            std::fprintf(stderr, "\r%s\033[K", text.c_str());
            drawn_ = true;
        } else {
            std::fprintf(stderr, "importing: %s\n", text.c_str());
        }
        std::fflush(stderr);
    }

    void done() {
        if (drawn_) std::fprintf(stderr, "\r\033[K");
        std::fflush(stderr);
    }

private:
    bool quiet_;
    bool tty_;
    std::optional<std::uint64_t> total_;
    bool drawn_ = false;
    Clock::time_point lastLine_;
};

// The groups a dry run found named in the file but not stored: (name, first line).
std::vector<std::pair<std::string, std::uint64_t>> unknownGroups(const Dict& summary) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    const auto it = summary.find("groups_unknown");
    if (it == summary.end() || it->second.peekValueType() != "a(st)") return out;
    for (const auto& g : it->second.get<std::vector<sdbus::Struct<std::string, std::uint64_t>>>())
        out.emplace_back(std::get<0>(g), std::get<1>(g));
    return out;
}

std::vector<std::pair<std::uint64_t, std::string>> summaryErrors(const Dict& summary) {
    std::vector<std::pair<std::uint64_t, std::string>> out;
    const auto it = summary.find("errors");
    if (it == summary.end() || it->second.peekValueType() != "a(ts)") return out;
    for (const auto& e : it->second.get<std::vector<sdbus::Struct<std::uint64_t, std::string>>>())
        out.emplace_back(std::get<0>(e), std::get<1>(e));
    return out;
}

// Reads back the "line,reason" CSV the daemon wrote into the errors descriptor.
nlohmann::json readErrors(int fd) {
    nlohmann::json out = nlohmann::json::array();
    std::string text;
    char buf[65536];
    ::lseek(fd, 0, SEEK_SET);
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        const auto comma = line.find(',');
        if (comma == std::string::npos || line.rfind("line,", 0) == 0) continue;
        std::string reason = line.substr(comma + 1);
        // The reason is a CSV field: quoted when it holds a comma, a quote or a line break.
        if (reason.size() >= 2 && reason.front() == '"' && reason.back() == '"') {
            reason = reason.substr(1, reason.size() - 2);
            for (auto q = reason.find("\"\""); q != std::string::npos; q = reason.find("\"\"", q + 1))
                reason.erase(q, 1);
        }
        out.push_back({{"line", std::stoull(line.substr(0, comma))}, {"reason", reason}});
    }
    return out;
}

void printSummary(const Dict& summary) {
    std::vector<Field> fields{
        {"Rows read", withThousands(dictUint(summary, "rows"))},
        {"Imported (new)", withThousands(dictUint(summary, "imported"))},
        {"Updated", withThousands(dictUint(summary, "updated"))},
        {"Duplicates in file", withThousands(dictUint(summary, "duplicates_in_file"))},
        {"Already stored", withThousands(dictUint(summary, "already_stored"))},
        {"Unsubscribed kept", withThousands(dictUint(summary, "unsubscribed_kept"))},
        {"Suppressed", withThousands(dictUint(summary, "suppressed"))},
        {"Invalid", withThousands(dictUint(summary, "invalid"))},
    };
    const bool dryRun = summary.count("dry_run") && summary.at("dry_run").peekValueType() == "b" &&
                        summary.at("dry_run").get<bool>();
    const auto created = dictStrings(summary, "groups_created");
    if (!created.empty()) {
        std::string names;
        for (const auto& g : created) names += (names.empty() ? "" : ", ") + g;
        fields.emplace_back(dryRun ? "Groups to create" : "Groups created", sanitizeForTerminal(names));
    }
    const auto unknown = unknownGroups(summary);
    if (!unknown.empty()) {
        std::string names;
        for (const auto& [name, line] : unknown)
            names += (names.empty() ? "" : ", ") + name + " (line " + std::to_string(line) + ")";
        fields.emplace_back("Unknown groups", sanitizeForTerminal(names));
    }
    std::string text = renderFields(fields);
    if (!unknown.empty())
        text += "\nThe file names groups that do not exist: the import will refuse them. Create them\n"
                "first (campaignd-ctl group create NAME), or import with --create-groups.\n";
    const auto errors = summaryErrors(summary);
    if (!errors.empty()) {
        const auto invalid = dictUint(summary, "invalid");
        text += "\nInvalid rows" + std::string(invalid > errors.size() ? " (the first " + std::to_string(errors.size()) + ")" : "") + ":\n";
        for (const auto& [line, reason] : errors)
            text += "  line " + std::to_string(line) + ": " + sanitizeForTerminal(reason) + "\n";
    }
    if (dryRun) text += "\nDry run: nothing was written.\n";
    printText(text);
}

void runImport(Context& context, const ImportOptions& options) {
    checkArgumentText(options.file, "FILE");
    const bool fromStdin = options.file == "-";
    if (fromStdin && ::isatty(STDIN_FILENO) == 1)
        throw UsageError("FILE is -, but standard input is a terminal: pipe the CSV in, or name the file");
    Fd file(fromStdin ? ::dup(STDIN_FILENO) : ::open(options.file.c_str(), O_RDONLY | O_CLOEXEC));
    if (file.get() < 0)
        throw CommandFailure("cannot open " + options.file + ": " + std::strerror(errno));
    struct stat st {};
    std::optional<std::uint64_t> size;
    if (::fstat(file.get(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) throw CommandFailure(options.file + " is a directory");
        if (S_ISREG(st.st_mode)) size = static_cast<std::uint64_t>(st.st_size);
    }

    Dict request{{"file_name", sdbus::Variant(options.file)}};
    if (!options.delimiter.empty()) request["delimiter"] = sdbus::Variant(delimiterOption(options.delimiter));
    if (!options.map.empty()) {
        for (const auto& m : options.map) checkArgumentText(m, "--map");
        request["map"] = sdbus::Variant(options.map);
    }
    if (!options.groups.empty()) {
        for (const auto& g : options.groups) checkArgumentText(g, "--group");
        request["groups"] = sdbus::Variant(options.groups);
    }
    if (options.update) request["update"] = sdbus::Variant(true);
    if (options.dryRun) request["dry_run"] = sdbus::Variant(true);
    if (options.createGroups) request["create_groups"] = sdbus::Variant(true);
    std::optional<Fd> errors;
    if (!options.errorsFile.empty()) {
        errors.emplace(::open(options.errorsFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (errors->get() < 0)
            throw CommandFailure("cannot write " + options.errorsFile + ": " + std::strerror(errno));
    } else if (context.json) {
        errors.emplace(::memfd_create("campaignd-import-errors", MFD_CLOEXEC));
    }
    if (errors && errors->get() >= 0) request["errors"] = sdbus::Variant(sdbus::UnixFd(errors->get()));

    auto& client = context.client();
    auto& manager = client.manager();
    ProgressView progress(context.json, size);
    std::optional<std::uint64_t> id;
    std::optional<std::pair<std::string, Dict>> finished;
    // Signals may arrive before the call returns its id: keep the last of each per id.
    std::map<std::uint64_t, std::pair<std::string, Dict>> finishedById;
    manager.importProgress = [&](std::uint64_t job, std::uint64_t rows, std::uint64_t bytes, double rate) {
        if (id && job == *id) progress.update(rows, bytes, rate);
    };
    manager.importFinished = [&](std::uint64_t job, const std::string& state, const Dict& summary) {
        finishedById[job] = {state, summary};
    };

    id = manager.ImportRecipients(sdbus::UnixFd(file.get()), request);
    auto lastPoll = Clock::now();
    while (!finished) {
        if (const auto it = finishedById.find(*id); it != finishedById.end()) {
            finished = it->second;
            break;
        }
        client.processFor(std::chrono::milliseconds(200));
        if (Clock::now() - lastPoll >= std::chrono::seconds(1)) {
            lastPoll = Clock::now();
            Dict state;
            try {
                state = manager.GetImport(*id);
            } catch (const sdbus::Error& e) {
                progress.done();
                throw CommandFailure("the import was lost: campaignd stopped or restarted while it ran "
                                     "(nothing of it was written): " + e.getMessage());
            }
            const auto s = dictString(state, "state");
            if (s != "running") finished = std::make_pair(s, state);
        }
    }
    progress.done();
    manager.importProgress = nullptr;
    manager.importFinished = nullptr;

    const auto& [state, summary] = *finished;
    if (context.json) {
        auto document = dictToJson(summary);
        document["id"] = *id;
        document["state"] = state;
        if (errors && errors->get() >= 0 && options.errorsFile.empty()) document["errors"] = readErrors(errors->get());
        else if (document.contains("errors")) {
            nlohmann::json list = nlohmann::json::array();
            for (const auto& [line, reason] : summaryErrors(summary)) list.push_back({{"line", line}, {"reason", reason}});
            document["errors"] = list;
        }
        if (document.contains("groups_unknown")) {
            nlohmann::json list = nlohmann::json::array();
            for (const auto& [name, line] : unknownGroups(summary)) list.push_back({{"name", name}, {"line", line}});
            document["groups_unknown"] = list;
        }
        printJson(document);
    }
    if (state != "done") {
        const auto error = dictString(summary, "error");
        throw CommandFailure("import " + state + (error.empty() ? "" : ": " + error) +
                             "; nothing was imported");
    }
    if (!context.json) printSummary(summary);
}

}  // namespace

void registerImportCommand(CLI::App& recipients, Context& context) {
    auto options = std::make_shared<ImportOptions>();
    auto* command = addCommand(&recipients, context, options, "import",
                               "Import recipients from a CSV file (.csv, .tsv or .txt)", runImport);
    command->add_option("FILE", options->file, "The CSV file, or - for standard input")->required()->type_name("");
    command->add_option("--group", options->groups, "Add every imported recipient to GROUP, which must exist (repeatable)")
        ->type_name("GROUP");
    command->add_option("--delimiter", options->delimiter, "',', ';' or tab (default: detected from the header)")
        ->type_name("C");
    command->add_option("--map", options->map,
                        "Name the column for a field: email=COL, name=COL, first_name=COL, last_name=COL, "
                        "subscription_status=COL, groups=COL (comma-separated or repeated)")
        ->delimiter(',')
        ->type_name("FIELD=COL");
    command->add_flag("--update", options->update, "Update the names of recipients already stored");
    command->add_flag("--dry-run", options->dryRun, "Check and count everything, write nothing");
    command->add_flag("--create-groups", options->createGroups,
                      "Create the groups the file's groups column names that do not exist yet (without it, "
                      "such an import is refused, naming them)");
    command->add_option("--errors-file", options->errorsFile, "Write every invalid row to F as CSV (line,reason)")
        ->type_name("F");
    command->footer(
        "A header row is required; columns are found by name (email, name, first name + last name,\n"
        "subscription_status, groups) in any order, other columns are ignored. An import is all or\n"
        "nothing, and never re-subscribes someone who unsubscribed. Groups named in a groups column\n"
        "must exist, unless --create-groups is given (a dry run lists the unknown ones).\n\n"
        "Examples:\n  campaignd-ctl recipients import members.csv --group newsletter --dry-run\n"
        "  campaignd-ctl recipients import members.csv --create-groups");
}

}  // namespace campaignd::ctl

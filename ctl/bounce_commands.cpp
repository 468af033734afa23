// bounce_commands.cpp: "bounces ingest|fetch|list|export". fetch runs the daemon's bounce
// mailbox reader once and prints its summary (exit status 1 when the mailbox could not be read,
// so a timer unit shows the failure). ingest hands one raw message (a file or
// standard input) to the daemon as a descriptor, so it works as a Postfix pipe(8) transport
// (with --sysexits its exit status tells Postfix to retry a temporary failure); export hands
// the daemon a descriptor of the output file (or standard output) for the Bounce Report CSV.
// The three are jobs in the daemon: the client waits for each (BusClient::runJob) and prints
// its result. The client never parses mail or writes CSV itself: the daemon's services do.
#include <fcntl.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bus_client.h"
#include "cli.h"
#include "table.h"
#include "time_format.h"
#include "variant_json.h"

namespace campaignd::ctl {
namespace {

struct BounceOptions {
    std::string file = "-";
    bool dryRun = false;
    bool sysexits = false;
    std::uint64_t campaign = 0;
    std::string reason;
    std::uint64_t limit = 0;
    CLI::Option* limitOption = nullptr;
};

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

// A record that changed nobody because nothing proved it (issue 13 item 5), and what to do.
constexpr const char* kNotMatched = "no effect: not matched";
constexpr const char* kActByHand =
    "\"no effect: not matched\": neither a valid VERP token nor a Message-ID in the send ledger ties the notice\n"
    "to a message campaignd sent, so it changed nobody (it may be forged). If it is genuine, act by hand:\n"
    "  campaignd-ctl recipients unsubscribe ADDRESS   or   campaignd-ctl suppression add ADDRESS\n"
    "([Bounces] ActOnUnmatched=yes makes such notices act, as before.)\n";

nlohmann::json orNull(std::uint64_t id) { return id == 0 ? nlohmann::json() : nlohmann::json(id); }

void runIngest(Context& context, const BounceOptions& options) {
    if (options.sysexits) context.failureExitStatus = EX_TEMPFAIL;
    checkArgumentText(options.file, "FILE");
    const bool fromStdin = options.file == "-";
    if (fromStdin && ::isatty(STDIN_FILENO) == 1)
        throw UsageError("FILE is -, but standard input is a terminal: pipe the message in, or name the file");
    Fd file(fromStdin ? ::dup(STDIN_FILENO) : ::open(options.file.c_str(), O_RDONLY | O_CLOEXEC));
    if (file.get() < 0) throw CommandFailure("cannot open " + options.file + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(file.get(), &st) == 0 && S_ISDIR(st.st_mode)) throw CommandFailure(options.file + " is a directory");

    Dict request;
    if (options.dryRun) request["dry_run"] = sdbus::Variant(true);
    Dict report;
    try {
        auto& client = context.client();
        report = client.runJob([&] { return client.manager().IngestBounce(sdbus::UnixFd(file.get()), request); });
    } catch (const sdbus::Error& e) {
        // Not a mail message: retrying cannot help; Postfix should return it, not queue it.
        if (options.sysexits && e.getName() == "org.campaignd.Campaignd1.Error.InvalidArgument")
            context.failureExitStatus = EX_DATAERR;
        throw;
    }
    std::vector<Dict> results;
    if (const auto it = report.find("results"); it != report.end() && it->second.containsValueOfType<std::vector<Dict>>())
        results = it->second.get<std::vector<Dict>>();

    if (context.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const Dict& r : results)
            list.push_back({{"recipient", dictString(r, "recipient")},
                            {"status", dictString(r, "status")},
                            {"reason", dictString(r, "reason")},
                            {"hard", r.count("hard") && r.at("hard").containsValueOfType<bool>() && r.at("hard").get<bool>()},
                            {"campaign_id", orNull(dictUint(r, "campaign_id"))},
                            {"action", dictString(r, "action")}});
        // What the message is, for a person or a script: a bounce is the only kind that can
        // suppress anyone (a complaint unsubscribes).
        const char* kind = dictBool(report, "is_unsubscribe_request") ? "unsubscribe-request"
                           : dictBool(report, "is_complaint")         ? "complaint"
                           : dictBool(report, "is_receipt")           ? "receipt"
                           : dictBool(report, "is_challenge")         ? "challenge-response"
                           : dictBool(report, "is_auto_reply")        ? "auto-reply"
                           : dictBool(report, "is_bounce")            ? "bounce"
                                                                      : "other";
        nlohmann::json document = {
            {"results", list},
            {"kind", kind},
            {"unsubscribe_request", dictBool(report, "is_unsubscribe_request")},
            {"format", dictString(report, "format")},
            {"error", dictString(report, "error")},
            {"dry_run", options.dryRun},
            {"recorded", dictUint(report, "recorded")},
            {"duplicates", dictUint(report, "duplicates")},
            {"dropped", dictUint(report, "dropped")},
            // Results that changed (or, in a dry run, would change) nobody: not matched.
            {"unmatched", std::count_if(results.begin(), results.end(),
                                        [](const Dict& r) { return !dictBool(r, "acted", true); })},
        };
        printJson(document);
        return;
    }
    const auto flag = [&](const char* key) {
        const auto it = report.find(key);
        return it != report.end() && it->second.containsValueOfType<bool>() && it->second.get<bool>();
    };
    if (flag("is_unsubscribe_request") && !results.empty()) {
        const Dict& r = results.front();
        const auto campaign = dictUint(r, "campaign_id");
        const std::string who = sanitizeForTerminal(dictString(r, "recipient"));
        const std::string from = campaign ? " (from campaign " + std::to_string(campaign) + ")" : "";
        if (options.dryRun)
            printText("A request by mail to unsubscribe " + who + from + ". Dry run: nothing changed.\n");
        else if (dictString(r, "effect") == "unsubscribed")
            printText("Unsubscribed " + who + from + ", as asked by mail.\n");
        else
            printText("A request by mail to unsubscribe " + who + from + ", who was not subscribed: nothing changed.\n");
        return;
    }
    if (results.empty()) {
        printText(flag("is_auto_reply")  ? "An auto-reply, not a bounce: nothing recorded.\n"
                  : flag("is_challenge") ? "A challenge-response request, not a bounce: nothing recorded.\n"
                  : flag("is_receipt")   ? "A read receipt, not a bounce: nothing recorded.\n"
                                         : "No delivery notice found in the message: nothing recorded.\n");
        return;
    }
    Table table({"RECIPIENT", "STATUS", "REASON", "HARD", "CAMPAIGN", "ACTION", "EFFECT"});
    bool anyUnmatched = false;
    for (const Dict& r : results) {
        const bool hard = r.count("hard") && r.at("hard").containsValueOfType<bool>() && r.at("hard").get<bool>();
        const auto campaign = dictUint(r, "campaign_id");
        const auto status = dictString(r, "status");
        const bool acted = dictBool(r, "acted", true);
        anyUnmatched = anyUnmatched || !acted;
        const std::string effect = dictString(r, "effect");
        table.addRow({dictString(r, "recipient"), status.empty() ? "-" : status, dictString(r, "reason"),
                      hard ? "hard" : "soft", campaign ? std::to_string(campaign) : "-", dictString(r, "action"),
                      !acted ? std::string(kNotMatched) : effect.empty() ? "-" : effect});
    }
    std::string text = table.render();
    if (anyUnmatched) text += kActByHand;
    if (const auto dropped = dictUint(report, "dropped"); dropped > 0)
        text += "The notice named more addresses than are taken from one: " + std::to_string(dropped) +
                " results were dropped.\n";
    if (const auto error = dictString(report, "error"); !error.empty()) text += "Note: " + error + "\n";
    if (options.dryRun)
        text += "Dry run: nothing recorded.\n";
    else
        text += std::to_string(dictUint(report, "recorded")) + " recorded, " +
                std::to_string(dictUint(report, "duplicates")) + " already recorded before.\n";
    printText(text);
}

Dict filterOf(const BounceOptions& options) {
    Dict filter;
    if (options.campaign) filter["campaign_id"] = sdbus::Variant(options.campaign);
    if (!options.reason.empty()) {
        checkArgumentText(options.reason, "--reason");
        filter["reason"] = sdbus::Variant(options.reason);
    }
    return filter;
}

}  // namespace

std::string lastBounceFetchText(const Dict& status) {
    if (!status.count("last_bounce_fetch_at")) return {};
    const std::string state = dictString(status, "last_bounce_fetch_status", "ok");
    const std::string error = dictString(status, "last_bounce_fetch_error");
    std::string text = formatLocalTime(dictUint(status, "last_bounce_fetch_at")) + ", " + state + ", " +
                       std::to_string(dictUint(status, "last_bounce_fetch_fetched")) + " fetched, " +
                       std::to_string(dictUint(status, "last_bounce_fetch_recorded")) + " recorded";
    if (!error.empty()) text += ": " + error;
    return text;
}

namespace {

void runList(Context& context, const BounceOptions& options) {
    Dict filter = filterOf(options);
    constexpr std::uint64_t kPage = 10000;
    const bool limited = options.limitOption->count() > 0;
    std::uint64_t wanted = limited ? options.limit : UINT64_MAX;
    std::uint64_t offset = 0;
    std::vector<Dict> bounces;
    while (wanted > 0) {
        const std::uint64_t page = std::min(wanted, kPage);
        filter["limit"] = sdbus::Variant(page);
        filter["offset"] = sdbus::Variant(offset);
        auto batch = context.client().manager().ListBounces(filter);
        const auto got = static_cast<std::uint64_t>(batch.size());
        bounces.insert(bounces.end(), batch.begin(), batch.end());
        if (got < page) break;
        offset += got;
        wanted -= got;
    }
    if (context.json) {
        nlohmann::json document = nlohmann::json::array();
        for (const Dict& b : bounces) {
            nlohmann::json j = dictToJson(b);
            j["campaign_id"] = orNull(dictUint(b, "campaign_id"));
            j["note"] = dictBool(b, "acted", true) ? nlohmann::json() : nlohmann::json(kNotMatched);
            document.push_back(std::move(j));
        }
        printJson(document);
        return;
    }
    const std::string lastFetch = lastBounceFetchText(context.client().manager().GetStatus());
    const std::string fetchLine = lastFetch.empty() ? "" : "Last fetch: " + lastFetch + "\n";
    if (bounces.empty()) {
        printText("No bounces.\n" + fetchLine);
        return;
    }
    Table table({"WHEN", "CAMPAIGN", "RECIPIENT", "STATUS", "REASON", "HARD", "ACTION", "SOURCE", "MATCHED BY"});
    bool anyUnmatched = false;
    for (const Dict& b : bounces) {
        const bool hard = b.count("hard") && b.at("hard").containsValueOfType<bool>() && b.at("hard").get<bool>();
        const auto campaign = dictUint(b, "campaign_id");
        const auto status = dictString(b, "status");
        const bool acted = dictBool(b, "acted", true);
        anyUnmatched = anyUnmatched || !acted;
        const std::string matchedBy = dictString(b, "matched_by");
        table.addRow({formatLocalTime(dictUint(b, "processed_at")), campaign ? std::to_string(campaign) : "-",
                      dictString(b, "recipient"), status.empty() ? "-" : status, dictString(b, "reason"),
                      hard ? "hard" : "soft", dictString(b, "action"),
                      dictString(b, "source") + (dictUint(b, "same_as") ? ", same as #" + std::to_string(dictUint(b, "same_as")) : ""),
                      !acted ? std::string(kNotMatched) : matchedBy.empty() ? "-" : matchedBy});
    }
    std::string text = table.render();
    if (anyUnmatched) text += kActByHand;
    printText(text + fetchLine);
}

void runExport(Context& context, const BounceOptions& options) {
    checkArgumentText(options.file, "FILE");
    const bool toStdout = options.file == "-";
    std::cout.flush();
    // 0640: a bounce report names people; it is not for every user of the machine.
    Fd out(toStdout ? ::dup(STDOUT_FILENO) : ::open(options.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
    if (out.get() < 0) throw CommandFailure("cannot write " + options.file + ": " + std::strerror(errno));
    auto& client = context.client();
    const Dict filter = filterOf(options);
    const std::uint64_t n = dictUint(
        client.runJob([&] { return client.manager().ExportBounces(sdbus::UnixFd(out.get()), filter); }), "count");
    if (context.json)
        printJson({{"file", options.file}, {"records", n}});
    else if (!toStdout)
        printText("Wrote " + std::to_string(n) + (n == 1 ? " bounce record" : " bounce records") + " to " + options.file + ".\n");
}

void runFetch(Context& context, const BounceOptions&) {
    auto& client = context.client();
    const Dict summary = client.runJob([&] { return client.manager().ProcessBounces(Dict{}); });
    const std::string status = dictString(summary, "source_status", "ok");
    const auto errors = dictStrings(summary, "errors");
    if (context.json) {
        nlohmann::json document = dictToJson(summary);
        document["errors"] = errors;
        printJson(document);
    } else {
        std::string text = "Fetched " + std::to_string(dictUint(summary, "fetched")) + ": " +
                           std::to_string(dictUint(summary, "recorded")) + " bounces recorded, " +
                           std::to_string(dictUint(summary, "duplicates")) + " recorded before, " +
                           std::to_string(dictUint(summary, "not_bounces")) + " not bounces, " +
                           std::to_string(dictUint(summary, "unparsable")) + " unparsable.\n";
        if (const auto n = dictUint(summary, "unmatched"); n > 0)
            text += std::to_string(n) + (n == 1 ? " bounce" : " bounces") +
                    " recorded with no effect: not matched (see `campaignd-ctl bounces list`).\n";
        if (const auto n = dictUint(summary, "dropped"); n > 0)
            text += std::to_string(n) + " results dropped from notices that named more addresses than are taken from one.\n";
        if (const auto n = dictUint(summary, "unsubscribed"); n > 0)
            text += std::to_string(n) + (n == 1 ? " recipient" : " recipients") + " unsubscribed, as asked by mail.\n";
        for (const auto& e : errors) text += "  " + e + "\n";
        printText(text);
    }
    if (status != "ok")
        throw CommandFailure("the bounce mailbox could not be read (" + status + ")" +
                             (errors.empty() ? std::string() : ": " + errors.back()));
}

}  // namespace

void registerBounceCommands(CLI::App& app, Context& context) {
    auto* bounces = app.add_subcommand("bounces", "Delivery notices: ingest, list, export");
    bounces->require_subcommand(1);
    bounces->footer("Run 'campaignd-ctl bounces COMMAND --help' for a command's options.");
    auto options = std::make_shared<BounceOptions>();

    auto* ingest = addCommand(bounces, context, options, "ingest",
                              "Process one raw delivery notice (a DSN, a complaint, a bounce) from FILE or standard input",
                              runIngest);
    ingest->add_option("FILE", options->file, "The message, or - (the default) for standard input")->type_name("");
    ingest->add_flag("--dry-run", options->dryRun,
                     "Show what the notice says for each recipient (recipient, status, reason, hard, campaign, "
                     "action); record nothing");
    ingest->add_flag("--sysexits", options->sysexits,
                     "Exit as a Postfix pipe(8) command expects: 75 (retry later) when campaignd cannot take "
                     "the message, 65 when it is not a mail message");
    ingest->footer("As a Postfix transport (master.cf; see plugins/imap-bounce/README.md):\n"
                   "  campaignd-bounces unix - n n - - pipe\n"
                   "    flags=q user=campaignd argv=/usr/bin/campaignd-ctl bounces ingest --sysexits -");

    addCommand(bounces, context, options, "fetch",
               "Read the bounce mailbox ([Bounces] URL=) now: record every unseen notice, then mark it seen",
               runFetch)
        ->footer("campaignd-bounces.timer runs this every five minutes.");

    auto* list = addCommand(bounces, context, options, "list", "List bounce records, newest first", runList);
    list->add_option("--campaign", options->campaign, "Only bounces of campaign ID")->type_name("ID")->check(unsignedNumber());
    list->add_option("--reason", options->reason, "Only bounces with REASON (userunknown, mailboxfull, ...)")
        ->type_name("REASON");
    options->limitOption =
        list->add_option("--limit", options->limit, "At most N records")->type_name("N")->check(unsignedNumber());
    list->footer("Example:\n  campaignd-ctl bounces list --campaign 7 --reason userunknown --limit 20");

    auto* exportCommand = addCommand(bounces, context, options, "export",
                                     "Write the Bounce Report CSV to FILE (standard output when omitted or -)",
                                     runExport);
    exportCommand->add_option("FILE", options->file, "The CSV file to write (mode 0640), or -")->type_name("");
    exportCommand->add_option("--campaign", options->campaign, "Only bounces of campaign ID")
        ->type_name("ID")
        ->check(unsignedNumber());
    exportCommand->add_option("--reason", options->reason, "Only bounces with REASON")->type_name("REASON");
    exportCommand->footer("Every cell is safe to open in a spreadsheet (no formula runs). For administrators.\n\n"
                          "Example:\n  campaignd-ctl bounces export bounces-7.csv --campaign 7");
}

}  // namespace campaignd::ctl

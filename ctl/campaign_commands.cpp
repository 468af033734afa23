// campaign_commands.cpp: "campaign create|list|show|edit|delete|attach|schedule|unschedule|
// report|recipients". Every input is checked (TIME, UTF-8, files) before the bus is touched, so
// a usage error never leaves a half-made change. Content is read here and sent as strings, as
// the bus API asks; the daemon sanitises it, not the client.
#include <algorithm>
#include <iterator>

#include "bus_client.h"
#include "cli.h"
#include "report_format.h"
#include "table.h"
#include "time_format.h"
#include "variant_json.h"

namespace campaignd::ctl {
namespace {

struct CampaignOptions {
    std::uint64_t id = 0;
    std::string name;
    std::string subject;
    std::string html;
    std::string htmlFile;
    std::string textFile;
    std::string from;
    std::string transport;
    std::string schedule;
    std::string status;
    std::string time;
    std::vector<std::string> groups;
    std::vector<std::string> emails;
    bool csv = false;
    bool all = false;
    std::uint64_t limit = 100;
    std::uint64_t offset = 0;
    bool subjectTag = false;
    bool noSubjectTag = false;
    bool force = false;

    CLI::Option* nameOption = nullptr;
    CLI::Option* subjectOption = nullptr;
    CLI::Option* htmlOption = nullptr;
    CLI::Option* htmlFileOption = nullptr;
    CLI::Option* textFileOption = nullptr;
    CLI::Option* fromOption = nullptr;
    CLI::Option* transportOption = nullptr;
    CLI::Option* scheduleOption = nullptr;
    CLI::Option* subjectTagOption = nullptr;
    CLI::Option* noSubjectTagOption = nullptr;
    CLI::Option* limitOption = nullptr;
};

using Options = std::shared_ptr<CampaignOptions>;

std::string idText(std::uint64_t id)
{
    return std::to_string(id);
}

void addIdArgument(CLI::App* command, const Options& options)
{
    command->add_option("ID", options->id, "The campaign's id (see 'campaignd-ctl campaign list')")
        ->required()
        ->check(unsignedNumber())
        ->type_name("");
}

// --name, --subject, --html/--html-file, --text-file, --from: shared by create and edit.
void addContentOptions(CLI::App* command, const Options& options, bool creating)
{
    options->nameOption = command->add_option("--name", options->name, "The campaign's name");
    options->subjectOption = command->add_option("--subject", options->subject, "The e-mail subject");
    options->htmlFileOption = command->add_option(
        "--html-file", options->htmlFile, "Read the HTML body from FILE ('-' for standard input)");
    options->htmlOption = command->add_option("--html", options->html, "The HTML body, given inline");
    options->htmlOption->excludes(options->htmlFileOption);
    options->textFileOption = command->add_option(
        "--text-file", options->textFile, "Read the plain-text alternative body from FILE ('-' for standard input)");
    options->fromOption = command->add_option(
        "--from", options->from,
        creating ? "The sender address (default: the daemon's configured sender)" : "The sender address");
    for (auto* option : {options->nameOption, options->subjectOption, options->htmlFileOption,
                         options->htmlOption, options->textFileOption, options->fromOption})
        option->type_name(option == options->htmlFileOption || option == options->textFileOption ? "FILE" : "TEXT");
    options->fromOption->type_name("ADDR");
    options->transportOption = command->add_option(
        "--transport", options->transport,
        creating ? "Send through NAME, a [Transport NAME] of the daemon's config (default: its DefaultTransport=)"
                 : "Send through NAME, a [Transport NAME] of the daemon's config (\"\" for the default)");
    options->transportOption->type_name("NAME");
    options->subjectTagOption = command->add_flag(
        "--subject-tag", options->subjectTag,
        creating ? "Put the campaign's [CID:N] tag after the subject (the default), so replies and bounces "
                   "that quote it can be matched"
                 : "Put the campaign's [CID:N] tag after the subject");
    options->noSubjectTagOption = command->add_flag("--no-subject-tag", options->noSubjectTag,
                                                    "Send the subject as written, without the [CID:N] tag");
    options->subjectTagOption->excludes(options->noSubjectTagOption);
    if (creating) {
        options->nameOption->required();
        options->subjectOption->required();
    }
}

// The a{sv} fields for the content options that were given. Reads files; throws on bad input.
Dict contentFields(const CampaignOptions& options)
{
    if (options.htmlFileOption->count() && options.textFileOption->count() && options.htmlFile == "-" &&
        options.textFile == "-")
        throw UsageError("--html-file and --text-file cannot both read standard input");
    Dict fields;
    if (options.nameOption->count()) {
        checkArgumentText(options.name, "--name");
        fields["name"] = sdbus::Variant(options.name);
    }
    if (options.subjectOption->count()) {
        checkArgumentText(options.subject, "--subject");
        fields["subject"] = sdbus::Variant(options.subject);
    }
    if (options.htmlOption->count()) {
        checkArgumentText(options.html, "--html");
        fields["html_content"] = sdbus::Variant(options.html);
    }
    if (options.htmlFileOption->count())
        fields["html_content"] = sdbus::Variant(readTextFile(options.htmlFile));
    if (options.textFileOption->count())
        fields["text_content"] = sdbus::Variant(readTextFile(options.textFile));
    if (options.subjectTagOption->count()) fields["subject_tag"] = sdbus::Variant(true);
    if (options.noSubjectTagOption->count()) fields["subject_tag"] = sdbus::Variant(false);
    if (options.fromOption->count()) {
        checkArgumentText(options.from, "--from");
        fields["from_address"] = sdbus::Variant(options.from);
    }
    if (options.transportOption->count()) {
        checkArgumentText(options.transport, "--transport");
        fields["transport"] = sdbus::Variant(options.transport);
    }
    return fields;
}

std::string contentSize(const Dict& campaign, const std::string& key)
{
    auto it = campaign.find(key);
    if (it == campaign.end())
        return "-";
    std::string content = dictString(campaign, key);
    return content.empty() ? "none" : formatByteSize(content.size());
}

std::string campaignDetails(const Dict& campaign)
{
    std::uint64_t scheduled = dictUint(campaign, "scheduled_time");
    std::vector<Field> fields = {
        {"ID", idText(dictUint(campaign, "id"))},
        {"Name", dictString(campaign, "name")},
        {"Subject", dictString(campaign, "subject")},
        {"Status", displayStatus(dictString(campaign, "status"))},
    };
    std::string reason = dictString(campaign, "status_reason");
    if (!reason.empty())
        fields.emplace_back("Status reason", reason);
    if (campaign.count("bounce_guard"))
        fields.emplace_back("Sending guard", guardStateText(dictString(campaign, "bounce_guard")));
    std::string from = dictString(campaign, "from_address");
    fields.emplace_back("From", from.empty() ? "(the daemon's default sender)" : from);
    fields.emplace_back("Scheduled", scheduled ? formatLocalTime(scheduled) : "not scheduled");
    fields.emplace_back("Created", formatLocalTime(dictUint(campaign, "created_at")));
    fields.emplace_back("Updated", formatLocalTime(dictUint(campaign, "updated_at")));
    fields.emplace_back("Recipients", std::to_string(dictUint(campaign, "recipient_count")));
    fields.emplace_back("Sent", std::to_string(dictUint(campaign, "sent_count")));
    fields.emplace_back("Failed", std::to_string(dictUint(campaign, "failed_count")));
    fields.emplace_back("Pending", std::to_string(dictUint(campaign, "pending_count")));
    fields.emplace_back("Unknown", std::to_string(dictUint(campaign, "unknown_count")));
    fields.emplace_back("Skipped", std::to_string(dictUint(campaign, "skipped_count")));
    fields.emplace_back("In flight", std::to_string(dictUint(campaign, "in_flight_count")));
    {
        std::string transport = dictString(campaign, "transport");
        fields.emplace_back("Transport", transport.empty() ? "(the daemon's default transport)" : transport);
    }
    fields.emplace_back("Subject tag", dictBool(campaign, "subject_tag") ? "[CID:" + idText(dictUint(campaign, "id")) + "] after the subject" : "none");
    fields.emplace_back("HTML content", contentSize(campaign, "html_content"));
    fields.emplace_back("Text content", contentSize(campaign, "text_content"));
    if (campaign.count("envelope_domain")) {
        const std::string envelope = dictString(campaign, "envelope_domain");
        const std::string dkim = dictString(campaign, "dkim_domain");
        std::string keys;
        for (const auto& k : dictStrings(campaign, "dkim_keys"))
            keys += (keys.empty() ? "" : ", ") + k;
        fields.emplace_back("Envelope domain", envelope);
        fields.emplace_back("DKIM", dkim.empty() ? "unsigned (no [DKIM " + dictString(campaign, "from_domain") + "] key)"
                                                 : dkim + " (" + keys + ")");
        fields.emplace_back("SPF alignment", std::string(dictBool(campaign, "spf_aligned") ? "can pass" : "cannot pass") +
                                                 ": envelope domain " + envelope);
        fields.emplace_back("DKIM alignment", std::string(dictBool(campaign, "dkim_aligned") ? "can pass" : "cannot pass") +
                                                  (dkim.empty() ? ": unsigned" : ": signed as " + dkim));
        for (const auto& warning : dictStrings(campaign, "warnings")) fields.emplace_back("Warning", warning);
    }
    for (auto& field : otherFieldsAsText(
             campaign, {"id", "name", "subject", "status", "status_reason", "bounce_guard", "from_address",
                        "scheduled_time", "created_at", "updated_at", "recipient_count", "sent_count",
                        "failed_count", "pending_count", "unknown_count", "skipped_count", "in_flight_count",
                        "transport", "subject_tag", "html_content", "text_content", "from_domain",
                        "envelope_domain", "dkim_domain", "dkim_keys", "spf_aligned", "dkim_aligned", "warnings"}))
        fields.push_back(std::move(field));
    return renderFields(fields);
}

// What the daemon's sanitiser removed from the HTML in `fields` (as just stored), asked of the
// daemon itself so the list is its own; nullopt when no HTML was given, or when the daemon is
// older than SanitizeHtml (the change itself succeeded; only the report is missing).
std::optional<std::vector<std::pair<std::string, std::uint64_t>>> htmlRemovals(BusClient& client, const Dict& fields)
{
    const auto it = fields.find("html_content");
    if (it == fields.end())
        return std::nullopt;
    try {
        auto [sanitized, removed] = client.manager().SanitizeHtml(it->second.get<std::string>());
        std::vector<std::pair<std::string, std::uint64_t>> out;
        for (const auto& r : removed)
            out.emplace_back(std::get<0>(r), std::get<1>(r));
        return out;
    } catch (const sdbus::Error& e) {
        if (e.getName() == "org.freedesktop.DBus.Error.UnknownMethod")
            return std::nullopt;
        throw;
    }
}

nlohmann::json removalsToJson(const std::vector<std::pair<std::string, std::uint64_t>>& removed)
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [what, count] : removed)
        out.push_back({{"what", what}, {"count", count}});
    return out;
}

std::string removalsText(const std::vector<std::pair<std::string, std::uint64_t>>& removed)
{
    if (removed.empty())
        return {};
    std::string out = "The HTML was sanitised before it was stored; removed:\n";
    for (const auto& [what, count] : removed)
        out += "  " + sanitizeForTerminal(what) + (count > 1 ? " (" + std::to_string(count) + ")" : "") + "\n";
    return out;
}

void runCreate(Context& context, const CampaignOptions& options)
{
    if (!options.htmlOption->count() && !options.htmlFileOption->count())
        throw UsageError("the HTML body is required: give --html-file FILE or --html TEXT");
    std::uint64_t scheduled = 0;
    if (options.scheduleOption->count())
        scheduled = parseTimeArgument(options.schedule);
    Dict fields = contentFields(options);
    if (scheduled)
        fields["scheduled_time"] = sdbus::Variant(scheduled);

    auto& client = context.client();
    // The reply carries the new campaign with its warnings (unsigned, DMARC cannot pass), so
    // they are shown even if the campaign is changed or gone a moment later.
    auto [id, path, reply] = client.manager().CreateCampaignEx(fields, 0);
    const auto removed = htmlRemovals(client, fields);
    std::optional<Dict> created = std::move(reply);
    printWarnings(dictStrings(*created, "warnings"));
    if (context.json) {
        nlohmann::json document = created ? campaignToJson(*created) : nlohmann::json{{"id", id}};
        document["path"] = std::string(path);
        if (removed)
            document["html_removed"] = removalsToJson(*removed);
        printJson(document);
        return;
    }
    std::string out = "Created campaign " + idText(id) + " at " + std::string(path) + "\n";
    if (scheduled)
        out += "Scheduled for " + formatLocalTime(scheduled) + ".\n";
    if (removed)
        out += removalsText(*removed);
    printText(out);
}

void runList(Context& context, const CampaignOptions& options)
{
    Dict filter;
    if (!options.status.empty())
        filter["status"] = sdbus::Variant(options.status);
    std::vector<Dict> campaigns = context.client().manager().ListCampaigns(filter);
    if (context.json) {
        nlohmann::json document = nlohmann::json::array();
        for (const auto& campaign : campaigns)
            document.push_back(campaignToJson(campaign));
        printJson(document);
        return;
    }
    if (campaigns.empty()) {
        printText("No campaigns.\n");
        return;
    }
    Table table({"ID", "NAME", "STATUS", "SCHEDULED", "RECIPIENTS", "SENT", "FAILED"});
    for (std::size_t column : {0, 4, 5, 6})
        table.setAlign(column, Align::Right);
    for (const auto& campaign : campaigns)
        table.addRow({idText(dictUint(campaign, "id")), dictString(campaign, "name"),
                      displayStatus(dictString(campaign, "status")) +
                          (dictString(campaign, "bounce_guard") == "tripped" ? " (sending guard)" : ""),
                      formatLocalTime(dictUint(campaign, "scheduled_time")),
                      std::to_string(dictUint(campaign, "recipient_count")),
                      std::to_string(dictUint(campaign, "sent_count")),
                      std::to_string(dictUint(campaign, "failed_count"))});
    printText(table.render());
}

void runShow(Context& context, const CampaignOptions& options)
{
    Dict campaign = context.client().campaign(options.id)->Describe();
    if (context.json)
        printJson(campaignToJson(campaign));
    else
        printText(campaignDetails(campaign));
}

void runEdit(Context& context, const CampaignOptions& options)
{
    Dict fields = contentFields(options);
    if (fields.empty())
        throw UsageError("nothing to change: give at least one of --name, --subject, --html, "
                         "--html-file, --text-file, --from, --transport, --subject-tag, --no-subject-tag");
    Dict campaign = context.client().campaign(options.id)->Update(fields);
    const auto removed = htmlRemovals(context.client(), fields);
    if (fields.count("from_address") || fields.count("transport"))
        printWarnings(dictStrings(campaign, "warnings"));
    if (context.json) {
        nlohmann::json document = campaignToJson(campaign);
        if (removed)
            document["html_removed"] = removalsToJson(*removed);
        printJson(document);
        return;
    }
    std::string changed;
    for (const auto& [key, value] : fields)
        changed += (changed.empty() ? "" : ", ") + key;
    printText("Updated campaign " + idText(options.id) + " (" + changed + ").\n" +
              (removed ? removalsText(*removed) : std::string()));
}

// "in_progress" -> "in progress": a status inside a sentence.
std::string lowerStatus(std::string status)
{
    std::replace(status.begin(), status.end(), '_', ' ');
    return status;
}

void runDelete(Context& context, const CampaignOptions& options)
{
    auto campaign = context.client().campaign(options.id);
    // A draft is cheap to delete; a campaign that has begun sending carries the record of what
    // happened to each recipient (its ledger and report), and a paused one may still resume:
    // that takes --force. One in progress the daemon refuses whatever the flag.
    if (!options.force) {
        const Dict c = campaign->Describe();
        const std::string status = dictString(c, "status");
        const std::uint64_t done = dictUint(c, "sent_count") + dictUint(c, "failed_count") +
                                   dictUint(c, "unknown_count");
        if (status == "paused" || done > 0)
            throw UsageError("campaign " + idText(options.id) + " is " + lowerStatus(status) + " with " +
                             std::to_string(done) + " of " + std::to_string(dictUint(c, "recipient_count")) +
                             " recipients done; deleting it drops the record of what happened to each (its "
                             "send ledger and report). Give --force to delete it");
    }
    campaign->Delete();
    if (context.json)
        printJson({{"id", options.id}, {"deleted", true}});
    else
        printText("Deleted campaign " + idText(options.id) + ".\n");
}

void runAttach(Context& context, const CampaignOptions& options)
{
    if (options.groups.empty() && options.emails.empty())
        throw UsageError("nothing to attach: give --group GROUP and/or --email ADDRESS");
    Dict what;
    if (!options.groups.empty()) {
        for (const auto& group : options.groups)
            checkArgumentText(group, "--group");
        what["groups"] = sdbus::Variant(options.groups);
    }
    if (!options.emails.empty()) {
        for (const auto& email : options.emails)
            checkArgumentText(email, "--email");
        what["emails"] = sdbus::Variant(options.emails);
    }
    Dict result = context.client().campaign(options.id)->Attach(what);
    if (context.json) {
        nlohmann::json document = dictToJson(result);
        document["id"] = options.id;
        for (const char* key : {"attached", "already_attached", "skipped_unsubscribed", "skipped_bounced", "recipient_count"})
            if (!document.contains(key))
                document[key] = 0;
        printJson(document);
        return;
    }
    printText(renderFields({
        {"Attached", std::to_string(dictUint(result, "attached"))},
        {"Already attached", std::to_string(dictUint(result, "already_attached"))},
        {"Skipped unsubscribed", std::to_string(dictUint(result, "skipped_unsubscribed"))},
        {"Skipped bounced", std::to_string(dictUint(result, "skipped_bounced"))},
        {"Total", std::to_string(dictUint(result, "recipient_count"))},
    }));
}

void runSchedule(Context& context, const CampaignOptions& options)
{
    std::uint64_t when = parseTimeArgument(options.time);
    auto campaign = context.client().campaign(options.id);
    campaign->Schedule(when);
    if (context.json)
        printJson(campaignToJson(campaign->Describe()));
    else
        printText("Scheduled campaign " + idText(options.id) + " for " + formatLocalTime(when) + ".\n");
}

void runUnschedule(Context& context, const CampaignOptions& options)
{
    auto campaign = context.client().campaign(options.id);
    campaign->Unschedule();
    if (context.json)
        printJson(campaignToJson(campaign->Describe()));
    else
        printText("Unscheduled campaign " + idText(options.id) + "; it is a draft again.\n");
}

void runReport(Context& context, const CampaignOptions& options)
{
    auto campaign = context.client().campaign(options.id);
    Dict summary = campaign->GetSummary();
    if (options.csv) {
        printText(reportCsv(options.id, summary));
        return;
    }
    const Dict description = campaign->Describe();
    const std::string name = dictString(description, "name");
    if (context.json) {
        nlohmann::json document = summaryToJson(summary);
        document["id"] = options.id;
        document["name"] = name;
        printJson(document);
        return;
    }
    printText(reportText(options.id, name, dictString(description, "status"), summary));
}

// The states of `campaign recipients --status` (the daemon's SendState tokens).

void runRecipients(Context& context, const CampaignOptions& options)
{
    if (options.all && options.limitOption->count())
        throw UsageError("--all and --limit exclude each other: --all shows every recipient from --offset on");
    auto campaign = context.client().campaign(options.id);
    Dict filter;
    if (!options.status.empty())
        filter["status"] = sdbus::Variant(options.status);
    // The daemon answers in pages of at most kPage (a bus message has a size limit); --all
    // asks page after page until a short one.
    constexpr std::uint64_t kPage = 10000;
    std::uint64_t wanted = options.all ? UINT64_MAX : options.limit;
    std::uint64_t offset = options.offset;
    std::uint64_t total = 0;
    std::vector<Dict> recipients;
    do {
        const std::uint64_t page = std::min(wanted, kPage);
        filter["limit"] = sdbus::Variant(page);
        filter["offset"] = sdbus::Variant(offset);
        auto [batch, matching] = campaign->ListRecipients(filter);
        total = matching;
        const auto got = static_cast<std::uint64_t>(batch.size());
        recipients.insert(recipients.end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
        if (got < page)
            break;
        offset += got;
        wanted -= got;
    } while (wanted > 0);

    if (context.json) {
        nlohmann::json document = {
            {"campaign_id", options.id},
            {"status", options.status.empty() ? nlohmann::json() : nlohmann::json(options.status)},
            {"total", total},
            {"offset", options.offset},
            {"recipients", dictListToJson(recipients)},
        };
        printJson(document);
        return;
    }
    const std::string which = options.status.empty() ? "" : options.status + " ";
    if (recipients.empty()) {
        printText(total == 0 ? "No " + which + "recipients in campaign " + idText(options.id) + ".\n"
                             : "No " + which + "recipients after the first " + std::to_string(options.offset) +
                                   " (of " + std::to_string(total) + ").\n");
        return;
    }
    Table table({"EMAIL", "NAME", "STATUS", "WHEN", "REPLY"});
    for (const auto& r : recipients) {
        const std::string name = dictString(r, "name");
        const std::string reply = dictString(r, "reply");
        table.addRow({dictString(r, "email"), name.empty() ? "-" : name, dictString(r, "status"),
                      formatLocalTimeSeconds(dictUint(r, "outcome_at")),
                      reply.empty() ? "-" : escapeForTerminal(reply)});
    }
    std::string text = table.render();
    const std::uint64_t first = options.offset + 1, last = options.offset + recipients.size();
    if (first != 1 || last < total) {
        text += "Recipients " + std::to_string(first) + "-" + std::to_string(last) + " of " + std::to_string(total) +
                (options.status.empty() ? "" : " " + options.status) + ".";
        if (last < total)
            text += " Next: --offset " + std::to_string(last) + "; every one: --all.";
        text += "\n";
    }
    printText(text);
}

// Registers NAME under PARENT running RUN with a fresh options block.
}  // namespace

void registerCampaignCommands(CLI::App& app, Context& context)
{
    auto* campaign = app.add_subcommand("campaign", "Create, inspect, change, schedule and report on campaigns");
    campaign->alias("campaigns");
    campaign->require_subcommand(1);
    campaign->footer("Run 'campaignd-ctl campaign COMMAND --help' for a command's options.");

    {
        auto options = std::make_shared<CampaignOptions>();
        auto* command = addCommand(campaign, context, options, "create",
                                   "Create a campaign (a draft, or scheduled with --schedule)", runCreate);
        addContentOptions(command, options, true);
        options->scheduleOption = command->add_option(
            "--schedule", options->schedule, "Schedule it to start at TIME (must be in the future)");
        options->scheduleOption->type_name("TIME");
        command->footer(
            "One of --html-file or --html is required. Prints the new campaign's id and object path.\n"
            "TIME is ISO 8601 with an offset (2026-12-01T09:00:00+01:00, ...Z) or local\n"
            "\"YYYY-MM-DD HH:MM[:SS]\".\n\n"
            "Examples:\n"
            "  campaignd-ctl campaign create --name \"December news\" --subject \"What's new\" \\\n"
            "      --html-file news.html --text-file news.txt --schedule \"2026-12-01 09:00\"\n"
            "  render-news | campaignd-ctl campaign create --name News --subject News --html-file -");
    }
    {
        auto options = std::make_shared<CampaignOptions>();
        auto* command = addCommand(campaign, context, options, "list", "List campaigns", runList);
        command->add_option("--status", options->status, "Only campaigns in this status")
            ->transform(statusValidator(kCampaignStatuses))
            ->type_name("STATUS");
        command->footer("Example:\n  campaignd-ctl campaign list --status in_progress");
    }
    {
        auto options = std::make_shared<CampaignOptions>();
        auto* command = addCommand(campaign, context, options, "show",
                                   "Show every field of a campaign (content summarised by size; "
                                   "with --json the content is included)",
                                   runShow);
        addIdArgument(command, options);
        command->footer("Example:\n  campaignd-ctl campaign show 7\n  campaignd-ctl --json campaign show 7");
    }
    {
        auto options = std::make_shared<CampaignOptions>();
        auto* command = addCommand(campaign, context, options, "edit",
                                   "Change a draft or scheduled campaign's name, subject, content, sender or transport",
                                   runEdit);
        addIdArgument(command, options);
        addContentOptions(command, options, false);
        command->footer("Only the options given are changed.\n\nExample:\n"
                        "  campaignd-ctl campaign edit 7 --subject \"New subject\" --html-file v2.html");
    }
    {
        auto options = std::make_shared<CampaignOptions>();
        auto* command = addCommand(campaign, context, options, "delete",
                                   "Delete a campaign and its send ledger (refused while it is in progress)",
                                   runDelete);
        addIdArgument(command, options);
        command->add_flag("--force", options->force, "Delete it although it is paused or has sent mail");
        command->footer("A campaign that is paused, or has sent to anyone, is deleted only with --force (its\n"
                        "ledger is the record of what happened to each recipient).\n\n"
                        "Example:\n  campaignd-ctl campaign delete 7");
    }
    {
        auto options = std::make_shared<CampaignOptions>();
        auto* command = addCommand(campaign, context, options, "attach",
                                   "Attach recipients to a campaign: the subscribed members of groups and/or "
                                   "single addresses",
                                   runAttach);
        addIdArgument(command, options);
        command->add_option("--group", options->groups, "Attach the subscribed members of GROUP (repeatable)")
            ->type_name("GROUP")
            ->allow_extra_args(false);
        command->add_option("--email", options->emails, "Attach the recipient ADDRESS (repeatable)")
            ->type_name("ADDRESS")
            ->allow_extra_args(false);
        command->footer("Nobody is attached twice; unsubscribed recipients are skipped. Prints how many were\n"
                        "attached, already attached, skipped as unsubscribed, and the new total.\n\n"
                        "Example:\n  campaignd-ctl campaign attach 7 --group newsletter --email bob@example.org");
    }
    {
        auto options = std::make_shared<CampaignOptions>();
        auto* command = addCommand(campaign, context, options, "schedule",
                                   "Schedule a draft (or reschedule a scheduled campaign) to start at TIME",
                                   runSchedule);
        addIdArgument(command, options);
        command->add_option("TIME", options->time, "When to start: must be in the future")->required()->type_name("");
        command->footer("TIME is ISO 8601 with an offset (2026-12-01T09:00:00+01:00, 2026-12-01T08:00:00Z)\n"
                        "or local time as \"YYYY-MM-DD HH:MM[:SS]\" (TZ is honoured).\n\n"
                        "Examples:\n  campaignd-ctl campaign schedule 7 \"2026-12-01 09:00\"\n"
                        "  campaignd-ctl campaign schedule 7 2026-12-01T08:00:00Z");
    }
    {
        auto options = std::make_shared<CampaignOptions>();
        auto* command = addCommand(campaign, context, options, "unschedule",
                                   "Turn a scheduled campaign back into a draft", runUnschedule);
        addIdArgument(command, options);
        command->footer("Example:\n  campaignd-ctl campaign unschedule 7");
    }
    {
        auto options = std::make_shared<CampaignOptions>();
        auto* command = addCommand(campaign, context, options, "report",
                                   "Show a campaign's report (the one mailed to the administrator when it "
                                   "finishes): every count, success rate, failure and bounce reasons",
                                   runReport);
        command->alias("summary");  // its name before the report was mailed; one command, not two
        addIdArgument(command, options);
        command->add_flag("--csv", options->csv,
                          "Print it as CSV (section,item,value; formula-safe cells) instead of text or JSON");
        command->footer("Examples:\n  campaignd-ctl campaign report 7\n"
                        "  campaignd-ctl campaign report 7 --csv > report.csv\n"
                        "  campaignd-ctl --json campaign report 7");
    }
    {
        auto options = std::make_shared<CampaignOptions>();
        auto* command = addCommand(campaign, context, options, "recipients",
                                   "List a campaign's recipients with their outcome, the server's reply and when "
                                   "(for administrators)",
                                   runRecipients);
        addIdArgument(command, options);
        command->add_option("--status", options->status,
                            "Only recipients in STATUS: failed (refused by the server), unknown (handed over, "
                            "outcome unknowable), skipped, sent, pending, in_flight")
            ->transform(statusValidator(kOutcomeStatuses))
            ->type_name("STATUS");
        options->limitOption = command->add_option("--limit", options->limit, "Show at most N (default 100)")
                                   ->check(unsignedNumber())
                                   ->type_name("N");
        command->add_option("--offset", options->offset, "Skip the first N")->check(unsignedNumber())->type_name("N");
        command->add_flag("--all", options->all, "Show every one (from --offset on), however many");
        command->footer(
            "Columns: EMAIL, NAME, STATUS, WHEN (when it got its status, local time with its zone),\n"
            "REPLY (the server's reply for a failure, or why; control characters shown escaped).\n"
            "Listed by status (failed first), then in the order they were attached. A pending one\n"
            "that was tried shows the reply and time of its last deferral.\n"
            "With --json: {campaign_id, status, total, offset, recipients: [{email, name, status,\n"
            "reply, outcome_at, attempts}]}; total counts every recipient in STATUS, for paging.\n\n"
            "Examples:\n"
            "  campaignd-ctl campaign recipients 7 --status failed\n"
            "  campaignd-ctl campaign recipients 7 --status unknown --all\n"
            "  campaignd-ctl campaign recipients 7 --limit 50 --offset 100\n"
            "  campaignd-ctl --json campaign recipients 7 --status failed --all > failed.json");
    }
}

}  // namespace campaignd::ctl

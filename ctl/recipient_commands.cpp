// recipient_commands.cpp: "recipients add|list|show|unsubscribe|resubscribe|delete". The
// daemon validates and normalises addresses; the client only makes sure the text can travel.
// unsubscribe is recorded by the daemon as "administrator"; delete --forget erases the address
// from the history too (DeleteRecipientEx).
#include <algorithm>
#include <cstdint>
#include <iterator>

#include "bus_client.h"
#include "cli.h"
#include "table.h"
#include "time_format.h"
#include "variant_json.h"

namespace campaignd::ctl {
namespace {

struct RecipientOptions {
    std::string email;
    std::string name;
    std::vector<std::string> groups;
    std::string group;
    std::string status;
    std::string search;
    std::uint64_t limit = 0;
    std::uint64_t offset = 0;
    std::uint64_t campaign = 0;
    bool forget = false;

    CLI::Option* nameOption = nullptr;
    CLI::Option* limitOption = nullptr;
    CLI::Option* offsetOption = nullptr;
};

using Options = std::shared_ptr<RecipientOptions>;

std::string joined(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& item : items)
        out += (out.empty() ? "" : ", ") + item;
    return out;
}

std::string recipientDetails(const Dict& recipient)
{
    auto groups = dictStrings(recipient, "groups");
    std::string name = dictString(recipient, "name");
    std::vector<Field> fields = {
        {"Email", dictString(recipient, "email")},
        {"Name", name.empty() ? "-" : name},
        {"Status", dictString(recipient, "status")},
        {"Groups", groups.empty() ? "-" : joined(groups)},
        {"Created", formatLocalTime(dictUint(recipient, "created_at"))},
        {"ID", std::to_string(dictUint(recipient, "id"))},
    };
    if (recipient.count("unsubscribed_at")) {
        const std::uint64_t campaign = dictUint(recipient, "unsubscribe_campaign_id");
        fields.emplace_back("Unsubscribed", formatLocalTime(dictUint(recipient, "unsubscribed_at")) + ", " +
                                                dictString(recipient, "unsubscribe_source") +
                                                (campaign ? ", from campaign " + std::to_string(campaign) : ""));
    } else if (dictString(recipient, "status") == "unsubscribed") {
        fields.emplace_back("Unsubscribed", "(before unsubscribes were recorded, or by an import)");
    }
    for (auto& field : otherFieldsAsText(recipient, {"email", "name", "status", "groups", "created_at", "id",
                                                     "unsubscribed_at", "unsubscribe_source",
                                                     "unsubscribe_campaign_id"}))
        fields.push_back(std::move(field));
    return renderFields(fields);
}

void runAdd(Context& context, const RecipientOptions& options)
{
    checkArgumentText(options.email, "EMAIL");
    Dict fields;
    if (options.nameOption->count()) {
        checkArgumentText(options.name, "--name");
        fields["name"] = sdbus::Variant(options.name);
    }
    if (!options.groups.empty()) {
        for (const auto& group : options.groups)
            checkArgumentText(group, "--group");
        fields["groups"] = sdbus::Variant(options.groups);
    }
    Dict recipient = context.client().manager().AddRecipient(options.email, fields);
    if (context.json)
        printJson(recipientToJson(recipient));
    else
        printText("Added recipient " + dictString(recipient, "email", options.email) + ".\n");
}

void runList(Context& context, const RecipientOptions& options)
{
    Dict filter;
    if (!options.group.empty()) {
        checkArgumentText(options.group, "--group");
        filter["group"] = sdbus::Variant(options.group);
    }
    if (!options.status.empty())
        filter["status"] = sdbus::Variant(options.status);
    if (!options.search.empty()) {
        checkArgumentText(options.search, "--search");
        filter["search"] = sdbus::Variant(options.search);
    }
    // The daemon answers in pages of at most kPage recipients (a bus message has a size
    // limit); without --limit, fetch page after page until a short one.
    constexpr std::uint64_t kPage = 10000;
    const bool limited = options.limitOption->count() > 0;
    std::uint64_t offset = options.offsetOption->count() ? options.offset : 0;
    std::uint64_t wanted = limited ? options.limit : UINT64_MAX;
    std::vector<Dict> recipients;
    while (wanted > 0) {
        const std::uint64_t page = std::min(wanted, kPage);
        filter["limit"] = sdbus::Variant(page);
        filter["offset"] = sdbus::Variant(offset);
        auto batch = context.client().manager().ListRecipients(filter);
        const auto got = static_cast<std::uint64_t>(batch.size());
        recipients.insert(recipients.end(), std::make_move_iterator(batch.begin()),
                          std::make_move_iterator(batch.end()));
        if (got < page) break;
        offset += got;
        wanted -= got;
    }
    if (context.json) {
        nlohmann::json document = nlohmann::json::array();
        for (const auto& recipient : recipients)
            document.push_back(recipientToJson(recipient));
        printJson(document);
        return;
    }
    if (recipients.empty()) {
        printText("No recipients.\n");
        return;
    }
    Table table({"EMAIL", "NAME", "STATUS", "GROUPS"});
    for (const auto& recipient : recipients) {
        auto groups = dictStrings(recipient, "groups");
        std::string name = dictString(recipient, "name");
        table.addRow({dictString(recipient, "email"), name.empty() ? "-" : name,
                      dictString(recipient, "status"), groups.empty() ? "-" : joined(groups)});
    }
    printText(table.render());
}

void runShow(Context& context, const RecipientOptions& options)
{
    checkArgumentText(options.email, "EMAIL");
    Dict recipient = context.client().manager().GetRecipient(options.email);
    if (context.json)
        printJson(recipientToJson(recipient));
    else
        printText(recipientDetails(recipient));
}

// "resubscribe" (UpdateRecipient; refused while the address is on the suppression list).
void runSetStatus(Context& context, const RecipientOptions& options, const std::string& status)
{
    checkArgumentText(options.email, "EMAIL");
    Dict fields{{"status", sdbus::Variant(status)}};
    Dict recipient = context.client().manager().UpdateRecipient(options.email, fields);
    if (context.json) {
        printJson(recipientToJson(recipient));
        return;
    }
    std::string email = dictString(recipient, "email", options.email);
    printText("Resubscribed " + email + ".\n");
}

void runUnsubscribe(Context& context, const RecipientOptions& options)
{
    checkArgumentText(options.email, "EMAIL");
    Dict request;
    if (options.campaign != 0)
        request["campaign_id"] = sdbus::Variant(options.campaign);
    auto [changed, recipient] = context.client().manager().UnsubscribeRecipient(options.email, request);
    if (context.json) {
        nlohmann::json document = recipientToJson(recipient);
        document["changed"] = changed;
        printJson(document);
        return;
    }
    std::string email = dictString(recipient, "email", options.email);
    if (changed) {
        printText("Unsubscribed " + email + ".\n");
    } else if (recipient.count("unsubscribed_at")) {
        printText(email + " was already unsubscribed (" + formatLocalTime(dictUint(recipient, "unsubscribed_at")) +
                  ", " + dictString(recipient, "unsubscribe_source") + "); nothing changed.\n");
    } else {
        printText(email + " was already unsubscribed; nothing changed.\n");
    }
}

void runDelete(Context& context, const RecipientOptions& options)
{
    checkArgumentText(options.email, "EMAIL");
    Dict request{{"forget", sdbus::Variant(options.forget)}};
    Dict result = context.client().manager().DeleteRecipientEx(options.email, request);
    if (context.json) {
        nlohmann::json document = dictToJson(result);
        document["email"] = options.email;
        printJson(document);
        return;
    }
    std::string out = dictBool(result, "deleted") ? "Deleted recipient " + options.email + ".\n"
                                                  : "No recipient " + options.email + " is stored.\n";
    if (options.forget)
        out += "Erased the address from " + std::to_string(dictUint(result, "ledger_rows_erased")) +
               " send record(s) and " + std::to_string(dictUint(result, "bounce_records_erased")) +
               " bounce record(s).\n";
    if (dictBool(result, "suppressed"))
        out += "The address stays on the suppression list (" + dictString(result, "suppression_reason") +
               ", since " + formatLocalTime(dictUint(result, "suppressed_at")) + "): it cannot be added or "
               "imported again unless 'campaignd-ctl suppression remove' lifts it.\n";
    printText(out);
}

void addEmailArgument(CLI::App* command, const Options& options)
{
    command->add_option("EMAIL", options->email, "The recipient's address (any case)")->required()->type_name("");
}

}  // namespace

void registerRecipientCommands(CLI::App& app, Context& context)
{
    auto* recipients = app.add_subcommand("recipients", "Add, list, inspect, unsubscribe and delete recipients");
    recipients->alias("recipient");
    recipients->require_subcommand(1);
    recipients->footer("Run 'campaignd-ctl recipients COMMAND --help' for a command's options.");
    registerImportCommand(*recipients, context);

    {
        auto options = std::make_shared<RecipientOptions>();
        auto* command = addCommand(recipients, context, options, "add", "Add a recipient (subscribed)", runAdd);
        addEmailArgument(command, options);
        options->nameOption = command->add_option("--name", options->name, "The recipient's name");
        command->add_option("--group", options->groups, "Also add them to GROUP, which must exist (repeatable)")
            ->type_name("GROUP")
            ->allow_extra_args(false);
        command->footer("Example:\n  campaignd-ctl recipients add alice@example.com --name \"Alice Liddell\" "
                        "--group newsletter");
    }
    {
        auto options = std::make_shared<RecipientOptions>();
        auto* command = addCommand(recipients, context, options, "list", "List recipients, ordered by address",
                                   runList);
        command->add_option("--group", options->group, "Only members of GROUP")->type_name("GROUP");
        command->add_option("--status", options->status, "Only recipients with this status")
            ->transform(statusValidator(kRecipientStatuses))
            ->type_name("STATUS");
        command->add_option("--search", options->search,
                            "Only recipients whose address or name contains TEXT (any case; % and _ are "
                            "plain characters)")
            ->type_name("TEXT");
        options->limitOption =
            command->add_option("--limit", options->limit, "Show at most N recipients")
                ->check(unsignedNumber())
                ->type_name("N");
        options->offsetOption =
            command->add_option("--offset", options->offset, "Skip the first N recipients")
                ->check(unsignedNumber())
                ->type_name("N");
        command->footer("Examples:\n  campaignd-ctl recipients list --group newsletter --status subscribed "
                        "--limit 50 --offset 100\n  campaignd-ctl recipients list --search lovelace");
    }
    {
        auto options = std::make_shared<RecipientOptions>();
        auto* command = addCommand(recipients, context, options, "show", "Show one recipient", runShow);
        addEmailArgument(command, options);
        command->footer("Example:\n  campaignd-ctl recipients show alice@example.com");
    }
    {
        auto options = std::make_shared<RecipientOptions>();
        auto* command = addCommand(
            recipients, context, options, "unsubscribe",
            "Mark a recipient unsubscribed (recorded as done by an administrator): no campaign attaches them any more",
            runUnsubscribe);
        addEmailArgument(command, options);
        command->add_option("--campaign", options->campaign, "Record the unsubscribe as coming from campaign ID")
            ->check(unsignedNumber())
            ->type_name("ID");
        command->footer("Unsubscribing someone already unsubscribed changes nothing.\n\n"
                        "Example:\n  campaignd-ctl recipients unsubscribe alice@example.com --campaign 7");
    }
    {
        auto options = std::make_shared<RecipientOptions>();
        auto* command = addCommand(
            recipients, context, options, "resubscribe", "Mark an unsubscribed recipient subscribed again",
            [](Context& c, const RecipientOptions& o) { runSetStatus(c, o, "subscribed"); });
        addEmailArgument(command, options);
        command->footer("Example:\n  campaignd-ctl recipients resubscribe alice@example.com");
    }
    {
        auto options = std::make_shared<RecipientOptions>();
        auto* command = addCommand(recipients, context, options, "delete",
                                   "Delete a recipient and their group memberships (refused while a campaign "
                                   "that includes them is in progress)",
                                   runDelete);
        addEmailArgument(command, options);
        command->add_flag("--forget", options->forget,
                          "Also erase the address and name from the send records and bounce records (the "
                          "right to erasure); counts stay");
        command->footer("A recipient who unsubscribed, bounced or complained leaves a suppression entry (a keyed "
                        "hash, no address), so no add or import subscribes them again.\n\n"
                        "Examples:\n  campaignd-ctl recipients delete alice@example.com\n"
                        "  campaignd-ctl recipients delete alice@example.com --forget");
    }
}

}  // namespace campaignd::ctl

// group_commands.cpp: "group create|list|add|remove|delete". Membership changes are all or
// nothing on the daemon's side; the client reports the count the daemon returns.
#include "bus_client.h"
#include "cli.h"
#include "table.h"
#include "time_format.h"
#include "variant_json.h"

namespace campaignd::ctl {
namespace {

struct GroupOptions {
    std::string name;
    std::vector<std::string> emails;
    bool force = false;
};

using Options = std::shared_ptr<GroupOptions>;

void checkNames(const GroupOptions& options)
{
    checkArgumentText(options.name, "NAME");
    for (const auto& email : options.emails)
        checkArgumentText(email, "EMAIL");
}

void runCreate(Context& context, const GroupOptions& options)
{
    checkNames(options);
    Dict group = context.client().manager().CreateGroup(options.name);
    if (context.json)
        printJson(dictToJson(group));
    else
        printText("Created group " + dictString(group, "name", options.name) + ".\n");
}

void runList(Context& context, const GroupOptions&)
{
    std::vector<Dict> groups = context.client().manager().ListGroups();
    if (context.json) {
        printJson(dictListToJson(groups));
        return;
    }
    if (groups.empty()) {
        printText("No groups.\n");
        return;
    }
    Table table({"NAME", "MEMBERS", "CREATED"});
    table.setAlign(1, Align::Right);
    for (const auto& group : groups)
        table.addRow({dictString(group, "name"), std::to_string(dictUint(group, "member_count")),
                      formatLocalTime(dictUint(group, "created_at"))});
    printText(table.render());
}

void runAdd(Context& context, const GroupOptions& options)
{
    checkNames(options);
    std::uint64_t added = context.client().manager().AddGroupMembers(options.name, options.emails);
    if (context.json) {
        printJson({{"name", options.name}, {"added", added}});
        return;
    }
    std::string out = "Added " + countNoun(added, "recipient", "recipients") + " to group " + options.name;
    if (added < options.emails.size())
        out += " (the others were already members)";
    printText(out + ".\n");
}

void runRemove(Context& context, const GroupOptions& options)
{
    checkNames(options);
    std::uint64_t removed = context.client().manager().RemoveGroupMembers(options.name, options.emails);
    if (context.json) {
        printJson({{"name", options.name}, {"removed", removed}});
        return;
    }
    std::string out =
        "Removed " + countNoun(removed, "recipient", "recipients") + " from group " + options.name;
    if (removed < options.emails.size())
        out += " (the others were not members)";
    printText(out + ".\n");
}

void runDelete(Context& context, const GroupOptions& options)
{
    checkNames(options);
    // A typo'd group name is cheap to delete; one with members (a list someone built) is not:
    // that takes --force.
    if (!options.force) {
        for (const Dict& group : context.client().manager().ListGroups()) {
            if (dictString(group, "name") != options.name) continue;
            const std::uint64_t members = dictUint(group, "member_count");
            if (members > 0)
                throw UsageError("group " + options.name + " has " + countNoun(members, "member", "members") +
                                 " (they stay, only the group goes); give --force to delete it");
        }
    }
    context.client().manager().DeleteGroup(options.name);
    if (context.json)
        printJson({{"name", options.name}, {"deleted", true}});
    else
        printText("Deleted group " + options.name + ".\n");
}

}  // namespace

void registerGroupCommands(CLI::App& app, Context& context)
{
    auto* group = app.add_subcommand("group", "Create, list and delete groups; add and remove members");
    group->alias("groups");
    group->require_subcommand(1);
    group->footer("Run 'campaignd-ctl group COMMAND --help' for a command's options.");

    {
        auto options = std::make_shared<GroupOptions>();
        auto* command = addCommand(group, context, options, "create", "Create an empty group", runCreate);
        command->add_option("NAME", options->name, "The group's name (1-200 characters)")->required()->type_name("");
        command->footer("Example:\n  campaignd-ctl group create newsletter");
    }
    {
        auto options = std::make_shared<GroupOptions>();
        auto* command =
            addCommand(group, context, options, "list", "List groups with their member counts", runList);
        command->footer("Example:\n  campaignd-ctl group list");
    }
    {
        auto options = std::make_shared<GroupOptions>();
        auto* command = addCommand(group, context, options, "add",
                                   "Add stored recipients to a group (all or nothing: every address must "
                                   "be stored)",
                                   runAdd);
        command->add_option("NAME", options->name, "The group")->required()->type_name("");
        command->add_option("EMAIL", options->emails, "Recipient addresses")->required()->type_name("");
        command->footer("Example:\n  campaignd-ctl group add newsletter alice@example.com bob@example.org");
    }
    {
        auto options = std::make_shared<GroupOptions>();
        auto* command = addCommand(group, context, options, "remove", "Remove recipients from a group",
                                   runRemove);
        command->add_option("NAME", options->name, "The group")->required()->type_name("");
        command->add_option("EMAIL", options->emails, "Recipient addresses")->required()->type_name("");
        command->footer("Example:\n  campaignd-ctl group remove newsletter bob@example.org");
    }
    {
        auto options = std::make_shared<GroupOptions>();
        auto* command = addCommand(group, context, options, "delete",
                                   "Delete a group (its recipients stay)", runDelete);
        command->add_option("NAME", options->name, "The group")->required()->type_name("");
        command->add_flag("--force", options->force, "Delete it although it has members");
        command->footer("A group with members is deleted only with --force.\n\nExample:\n"
                        "  campaignd-ctl group delete newsletter");
    }
}

}  // namespace campaignd::ctl

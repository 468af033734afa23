// main.cpp: campaignd-ctl's entry point: builds the command tree, parses, runs the selected
// command, and turns every failure into the documented exit status: 0 success, 1 the command
// failed (the daemon's message on stderr as "campaignd-ctl: <message>"), 2 bad usage.
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <sdbus-c++/Error.h>

#include "bus_client.h"
#include "cli.h"

namespace {

using namespace campaignd::ctl;

constexpr const char* kProgram = "campaignd-ctl";

// "campaignd-ctl campaign create" for the deepest subcommand the parser got to.
std::string commandPath(const CLI::App& app)
{
    std::string path = kProgram;
    for (const CLI::App* current = &app; !current->get_subcommands().empty();) {
        current = current->get_subcommands().front();
        path += " " + current->get_name();
    }
    return path;
}

// The deepest subcommand the parser got to.
const CLI::App* selectedCommand(const CLI::App& app)
{
    const CLI::App* current = &app;
    while (!current->get_subcommands().empty())
        current = current->get_subcommands().front();
    return current;
}

// "A subcommand is required" when the user did type one, but not a known one, says so.
std::string parseErrorMessage(const CLI::App& app, const CLI::ParseError& e)
{
    const CLI::App* leaf = selectedCommand(app);
    if (dynamic_cast<const CLI::RequiredError*>(&e) && leaf->get_require_subcommand_min() > 0 &&
        leaf->get_subcommands().empty()) {
        for (const CLI::App* owner : {leaf, &app}) {
            auto extra = owner->remaining();
            if (!extra.empty())
                return "unknown command \"" + extra.front() + "\"";
        }
        std::string names;
        for (const CLI::App* sub : leaf->get_subcommands([](const CLI::App*) { return true; }))
            names += (names.empty() ? "" : ", ") + sub->get_name();
        return "a command is needed: one of " + names;
    }
    return e.what();
}

// Every command's help ends by pointing at the global options, which CLI11 lists only at the top.
void addGlobalOptionsNote(CLI::App& command)
{
    for (CLI::App* sub : command.get_subcommands([](CLI::App*) { return true; })) {
        std::string footer = sub->get_footer();
        sub->footer((footer.empty() ? "" : footer + "\n\n") +
                    "Global options (before or after the command): --user (session bus), --json "
                    "(one JSON document on stdout).");
        addGlobalOptionsNote(*sub);
    }
}

int usageFailure(const CLI::App& app, const std::string& message)
{
    std::cerr << kProgram << ": " << message << '\n'
              << "Run '" << commandPath(app) << " --help' for more information.\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv)
{
    Context context;
    CLI::App app{"Control campaignd, the bulk e-mail campaign daemon, over D-Bus.\n"
                 "Talks to org.campaignd.Campaignd1 on the system bus (or the session bus with "
                 "--user).",
                 kProgram};
    app.set_version_flag("--version", std::string(kProgram) + " " + CAMPAIGND_CTL_VERSION,
                         "Print the version and exit");
    app.add_flag_callback(
           "--user", [&context] { context.bus = BusKind::User; },
           "Talk to the daemon on the session bus (like systemctl --user) instead of the system "
           "bus; DBUS_SESSION_BUS_ADDRESS / DBUS_SYSTEM_BUS_ADDRESS are honoured")
        ->group("Global options");
    app.add_flag("--json", context.json,
                 "Print exactly one JSON document on stdout (snake_case keys, times as ISO 8601 "
                 "UTC strings or null)")
        ->group("Global options");
    app.fallthrough();
    app.require_subcommand(1);
    app.footer(
        "Global options may come before or after the command.\n"
        "TIME is ISO 8601 with an offset (2026-12-01T09:00:00+01:00, 2026-12-01T08:00:00Z) or\n"
        "local time as \"YYYY-MM-DD HH:MM[:SS]\" (TZ is honoured).\n"
        "Exit status: 0 success, 1 the command failed (the reason is on stderr), 2 bad usage.\n"
        "\n"
        "Examples:\n"
        "  campaignd-ctl status\n"
        "  campaignd-ctl campaign list --status scheduled\n"
        "  campaignd-ctl --json recipients show alice@example.com\n"
        "Run 'campaignd-ctl COMMAND --help' for a command's options.");

    registerStatusCommands(app, context);
    registerCampaignCommands(app, context);
    registerSendingCommands(app, context);
    registerRecipientCommands(app, context);
    registerGroupCommands(app, context);
    registerBounceCommands(app, context);
    registerSuppressionCommands(app, context);
    registerDkimCommands(app, context);
    registerDnsCommands(app, context);
    addGlobalOptionsNote(app);
    registerCompleteCommand(app, context);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return usageFailure(app, parseErrorMessage(app, e));
    } catch (const UsageError& e) {
        return usageFailure(app, e.what());
    }

    if (!context.action)
        return usageFailure(app, "no command given");
    try {
        context.action();
        std::cout.flush();
        if (!std::cout) {
            std::cerr << kProgram << ": cannot write the output\n";
            return 1;
        }
        return 0;
    } catch (const UsageError& e) {
        return usageFailure(app, e.what());
    } catch (const CommandFailure& e) {
        std::cerr << kProgram << ": " << e.what() << '\n';
        return context.failureExitStatus;
    } catch (const sdbus::Error& e) {
        std::cerr << kProgram << ": "
                  << describeBusError(e.getName(), e.getMessage(), context.bus, kCallTimeoutSeconds)
                  << '\n';
        return context.failureExitStatus;
    } catch (const std::exception& e) {
        std::cerr << kProgram << ": " << e.what() << '\n';
        return context.failureExitStatus;
    }
}

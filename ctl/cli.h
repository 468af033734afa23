// cli.h: the pieces every campaignd-ctl command shares: the parsed global options (--user,
// --json), the lazily opened bus client, the two failure kinds (UsageError exits 2,
// CommandFailure exits 1; sdbus::Error from a call also exits 1), and output helpers. Commands
// only record their action while CLI11 parses; main() runs it once parsing succeeded.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "presentation.h"

namespace campaignd::ctl {

class BusClient;

// Bad usage found after CLI11 parsed (a bad TIME, a missing choice): exit status 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The command could not be done (unreadable file, unreachable bus): exit status 1.
class CommandFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Context {
public:
    Context();
    ~Context();

    BusKind bus = BusKind::System;
    bool json = false;
    // The exit status when the command fails (1; `bounces ingest --sysexits` changes it).
    int failureExitStatus = 1;
    // What the selected (sub)command does; set by its CLI11 callback.
    std::function<void()> action;

    BusClient& client();

private:
    std::unique_ptr<BusClient> client_;
};

// Exactly one JSON document on stdout.
void printJson(const nlohmann::json& document);
// TEXT on stdout as it is (callers end lines themselves).
void printText(const std::string& text);
// The daemon's warnings about what was just done ("warning: ..." on stderr, one a line, made
// safe for the terminal), so they reach the administrator even with --json.
void printWarnings(const std::vector<std::string>& warnings);

// The content of PATH ("-" is stdin), checked to be valid UTF-8 without NUL bytes.
std::string readTextFile(const std::string& path);
// A command-line string that must travel over the bus; UsageError if it cannot.
void checkArgumentText(const std::string& value, const std::string& what);
// TIME -> microseconds since the epoch; UsageError naming the accepted forms.
std::uint64_t parseTimeArgument(const std::string& text);

// A CLI11 validator that normalises a status word ("In Progress" -> "in_progress") and
// accepts only CHOICES.
CLI::Validator statusValidator(const std::vector<std::string>& choices);

// A CLI11 check for ids and counts: plain decimal digits that fit in 64 bits (CLI11 alone
// would wrap "-1" and saturate on overflow).
CLI::Validator unsignedNumber();

// Adds subcommand NAME under PARENT whose action, once parsing succeeds, is
// run(context, *options): the options object is shared by all of a group's commands.
template <typename OptionsT, typename Run>
CLI::App* addCommand(CLI::App* parent, Context& context, const std::shared_ptr<OptionsT>& options,
                     const std::string& name, const std::string& description, Run run)
{
    auto* command = parent->add_subcommand(name, description);
    command->callback([&context, options, run] {
        context.action = [&context, options, run] { run(context, *options); };
    });
    return command;
}

void registerStatusCommands(CLI::App& app, Context& context);
void registerCampaignCommands(CLI::App& app, Context& context);
void registerRecipientCommands(CLI::App& app, Context& context);
void registerGroupCommands(CLI::App& app, Context& context);
void registerBounceCommands(CLI::App& app, Context& context);
void registerSuppressionCommands(CLI::App& app, Context& context);
void registerDkimCommands(CLI::App& app, Context& context);
void registerDnsCommands(CLI::App& app, Context& context);
// "campaign send|pause|resume|cancel|watch" (under the existing "campaign") and "run-scheduled".
void registerSendingCommands(CLI::App& app, Context& context);
// The hidden "__complete" the shell completions call (complete_command.cpp); after every other
// command is registered, since it lists them.
void registerCompleteCommand(CLI::App& app, Context& context);
// "recipients import", registered by registerRecipientCommands.
void registerImportCommand(CLI::App& recipients, Context& context);

}  // namespace campaignd::ctl

// complete_command.cpp: "campaignd-ctl __complete", hidden from --help: what the shell
// completions in ctl/completion/ (bash, zsh, fish) ask, so that none of them keeps a copy of the
// command tree or of the completion rules: they pass the words and print what comes back.
//   __complete words [--] WORD... CURRENT
//       The candidates for CURRENT (the word being completed, maybe empty) after WORD...
//       (the command line's words after the program's name), one per line, "CANDIDATE" or
//       "CANDIDATE<TAB>DESCRIPTION" (a campaign's name beside its id). The line ":files" asks the
//       shell to complete file names instead. Commands and their aliases, options (with
//       --user and --json), an option's values (--status's statuses for that command, --group's
//       groups, --campaign's campaigns) and positional arguments (ID: campaigns, a group NAME:
//       groups, FILE: files) come from CLI11's own tree.
//   __complete commands
//       Every command: PATH<TAB>OPTIONS<TAB>ARGUMENTS ("--name=" takes a value), for the man
//       page test and for anyone curious.
// Live values come from the running daemon, asked with a one-second time-out after the bus says
// it runs (nothing is activated); with no daemon there are none, and nothing is ever printed on
// stderr: a completion must not write into the user's command line.
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "bus_client.h"
#include "cli.h"

namespace campaignd::ctl {
namespace {

struct CompleteOptions {
    std::vector<std::string> args;
};

std::string joinWords(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

bool takesValue(const CLI::Option* o) { return o->get_items_expected_max() > 0; }

std::vector<const CLI::App*> visibleSubcommands(const CLI::App& app) {
    return app.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty(); });
}

void listCommands(const CLI::App& command, const std::vector<std::string>& path) {
    const auto subcommands = visibleSubcommands(command);
    if (!path.empty() && subcommands.empty()) {
        std::vector<std::string> options, arguments;
        for (const CLI::Option* o : command.get_options()) {
            if (o->get_positional()) {
                arguments.push_back(o->get_name());
                continue;
            }
            for (const auto& name : o->get_lnames()) options.push_back("--" + name + (takesValue(o) ? "=" : ""));
        }
        std::cout << joinWords(path) << '\t' << joinWords(options) << '\t' << joinWords(arguments) << '\n';
        return;
    }
    for (const CLI::App* sub : subcommands) {
        std::vector<std::string> names{sub->get_name()};
        for (const auto& alias : sub->get_aliases()) names.push_back(alias);
        for (const auto& name : names) {
            auto next = path;
            next.push_back(name);
            listCommands(*sub, next);
        }
    }
}

struct Candidate {
    std::string value;
    std::string description;
};

class Completer {
public:
    explicit Completer(BusKind bus) : bus_(bus) {}

    std::vector<Candidate> complete(const CLI::App& root, const std::vector<std::string>& before,
                                    const std::string& current) {
        // The command the words name, and the words after it.
        const CLI::App* command = &root;
        std::vector<std::string> path, rest;
        for (const auto& word : before) {
            if (word == "--user" || word == "--json") continue;
            const CLI::App* sub = nullptr;
            if (rest.empty() && word.rfind('-', 0) != 0)
                for (const CLI::App* s : visibleSubcommands(*command))
                    if (s->check_name(word)) sub = s;
            if (sub) {
                command = sub;
                path.push_back(sub->get_name());
            } else {
                rest.push_back(word);
            }
        }
        std::vector<Candidate> out;
        const bool wantsOption = current.rfind('-', 0) == 0;
        if (!visibleSubcommands(*command).empty()) {
            if (wantsOption) return withPrefix(globalOptions(), current);
            for (const CLI::App* s : visibleSubcommands(*command)) {
                out.push_back({s->get_name(), s->get_description()});
                for (const auto& alias : s->get_aliases()) out.push_back({alias, s->get_description()});
            }
            return withPrefix(out, current);
        }
        // The value of the option just before, if it takes one.
        if (!rest.empty() && rest.back().rfind("--", 0) == 0) {
            const CLI::Option* o = findOption(*command, rest.back());
            if (o && takesValue(o)) return withPrefix(optionValues(path, o->get_lnames().front()), current);
        }
        if (wantsOption) {
            out = globalOptions();
            for (const CLI::Option* o : command->get_options())
                for (const auto& name : o->get_lnames()) out.push_back({"--" + name, o->get_description()});
            return withPrefix(out, current);
        }
        // A positional argument: count the words that are neither options nor their values.
        std::size_t index = 0;
        for (std::size_t i = 0; i < rest.size(); ++i) {
            if (rest[i].rfind("--", 0) == 0) {
                const CLI::Option* o = findOption(*command, rest[i]);
                if (o && takesValue(o) && rest[i].find('=') == std::string::npos) ++i;
                continue;
            }
            ++index;
        }
        std::vector<const CLI::Option*> positionals =
            command->get_options([](const CLI::Option* o) { return o->get_positional(); });
        if (positionals.empty()) return {};
        const CLI::Option* argument = positionals[std::min(index, positionals.size() - 1)];
        if (index >= positionals.size() && argument->get_items_expected_max() <= 1) return {};
        const std::string kind = argument->get_name();
        if (kind == "ID") return withPrefix(campaigns(), current);
        if (kind == "FILE") return {{":files", ""}};
        if (kind == "NAME" && path.back() != "create") return withPrefix(groups(), current);
        return {};
    }

private:
    static std::vector<Candidate> globalOptions() {
        return {{"--user", "the session bus"}, {"--json", "one JSON document on stdout"}};
    }

    static const CLI::Option* findOption(const CLI::App& command, std::string word) {
        word = word.substr(0, word.find('='));
        for (const CLI::Option* o : command.get_options())
            if (!o->get_positional() && o->check_lname(word.substr(2))) return o;
        return nullptr;
    }

    static std::vector<Candidate> withPrefix(const std::vector<Candidate>& all, const std::string& prefix) {
        std::vector<Candidate> out;
        for (const auto& c : all)
            if (c.value.rfind(prefix, 0) == 0) out.push_back(c);
        return out;
    }

    std::vector<Candidate> optionValues(const std::vector<std::string>& path, const std::string& option) {
        if (option == "group") return groups();
        if (option == "campaign") return campaigns();
        if (option.size() > 5 && option.compare(option.size() - 5, 5, "-file") == 0) return {{":files", ""}};
        if (option == "status") {
            const auto& list = path.front() == "campaign"
                                   ? (path.back() == "recipients" ? kOutcomeStatuses : kCampaignStatuses)
                                   : kRecipientStatuses;
            std::vector<Candidate> out;
            for (const auto& s : list) out.push_back({s, ""});
            return out;
        }
        return {};
    }

    // Live values: nothing when no daemon runs, or it does not answer within a second.
    template <typename F>
    std::vector<Candidate> fromDaemon(F&& ask) {
        try {
            BusClient client(bus_, std::chrono::seconds(1));
            if (!client.daemonRunning()) return {};
            return ask(client);
        } catch (...) {
            return {};
        }
    }

    std::vector<Candidate> campaigns() {
        return fromDaemon([](BusClient& client) {
            std::vector<Candidate> out;
            for (const auto& c : client.manager().ListCampaigns({})) {
                const auto id = c.find("id"), name = c.find("name");
                if (id == c.end()) continue;
                out.push_back({std::to_string(id->second.get<std::uint64_t>()),
                               name == c.end() ? std::string() : name->second.get<std::string>()});
            }
            return out;
        });
    }

    std::vector<Candidate> groups() {
        return fromDaemon([](BusClient& client) {
            std::vector<Candidate> out;
            for (const auto& g : client.manager().ListGroups()) {
                const auto name = g.find("name");
                if (name != g.end()) out.push_back({name->second.get<std::string>(), ""});
            }
            return out;
        });
    }

    BusKind bus_;
};

// A candidate on one line: tabs and line ends in a campaign's name would break the protocol.
std::string oneLine(std::string text) {
    for (char& c : text)
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return text;
}

void runComplete(Context& context, const CompleteOptions& options, const CLI::App& root) {
    auto args = options.args;
    if (args.empty()) return;
    const std::string what = args.front();
    args.erase(args.begin());
    if (what == "commands") {
        listCommands(root, {});
        return;
    }
    if (what != "words") return;
    if (!args.empty() && args.front() == "--") args.erase(args.begin());
    if (args.empty()) return;
    const std::string current = args.back();
    args.pop_back();
    BusKind bus = context.bus;
    for (const auto& a : args)
        if (a == "--user") bus = BusKind::User;
    for (const auto& c : Completer(bus).complete(root, args, current)) {
        std::cout << oneLine(c.value);
        if (!c.description.empty()) std::cout << '\t' << oneLine(c.description);
        std::cout << '\n';
    }
}

}  // namespace

void registerCompleteCommand(CLI::App& app, Context& context) {
    auto options = std::make_shared<CompleteOptions>();
    auto* command = app.add_subcommand("__complete", "For the shell completions");
    command->group("");  // hidden from --help
    // Everything after "__complete" is its arguments, options and "--" too: they are the words
    // of the command line being completed.
    command->prefix_command();
    command->allow_extras();
    command->fallthrough(false);
    command->set_help_flag();
    command->callback([&context, options, &app, command] {
        options->args = command->remaining();
        context.action = [&context, options, &app] { runComplete(context, *options, app); };
    });
}

}  // namespace campaignd::ctl

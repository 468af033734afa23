// completion_test.cpp: campaignd-ctl's shell completions (ctl/completion/: bash, zsh, fish)
// driven by each shell itself, non-interactively, against a real daemon on a private bus: the
// commands and options come from the program's own tree, campaign ids (with their names, where
// the shell shows descriptions) and group names from the daemon; with no daemon on the bus, or
// no bus at all, the live values are simply not there and nothing is printed on stderr.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon_fixture.h"

namespace campaignd::test {
namespace {

const std::string kCompletion = CAMPAIGND_SOURCE_DIR "/ctl/completion";

// The environment of a shell that finds campaignd-ctl (the built one) on PATH and the bus.
ProcessOptions shellOptions(const PrivateBus* bus, const TempDir& dir) {
    ProcessOptions options;
    if (bus) options.env = bus->clientEnv();
    else options.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + (dir / "no-bus").string();
    const std::string ctl = ctlBinary();
    options.env["PATH"] = ctl.substr(0, ctl.rfind('/')) + ":/usr/bin:/bin";
    options.env["HOME"] = dir.path().string();
    return options;
}

// bash: the completion function on COMP_WORDS = the words given (the last one being completed);
// prints COMPREPLY one per line.
RunResult bashComplete(const std::vector<std::string>& words, const ProcessOptions& options) {
    std::string script = "source " + kCompletion + "/campaignd-ctl.bash\nCOMP_WORDS=(";
    for (const auto& w : words) script += "'" + w + "' ";
    script += ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_campaignd_ctl\nfor c in \"${COMPREPLY[@]}\"; do printf '%s\\n' \"$c\"; done\n";
    return run({"/bin/bash", "--norc", "--noprofile", "-c", script}, options);
}

// fish: `complete -C LINE`, fish's own completion of a command line.
RunResult fishComplete(const std::string& line, const ProcessOptions& options) {
    return run({"/usr/bin/fish", "--no-config", "-c",
                "source " + kCompletion + "/campaignd-ctl.fish; complete -C '" + line + "'"},
               options);
}

// zsh: the completion function autoloaded as compinit would, with `words` and CURRENT set as the
// completion system sets them; _describe and _files (the completion system's, which need an
// interactive line editor) print what they were given instead.
RunResult zshComplete(const std::vector<std::string>& words, const ProcessOptions& options) {
    std::string script = "fpath=(" + kCompletion + " $fpath); autoload -Uz _campaignd-ctl\n"
                         "_describe() { local name=${@[-1]}; print -rl -- \"${(@P)name}\"; }\n"
                         "_files() { print -r -- '(files)'; }\nwords=(";
    for (const auto& w : words) script += "'" + w + "' ";
    script += ")\nCURRENT=${#words}\n_campaignd-ctl\n";
    return run({"/usr/bin/zsh", "-f", "-c", script}, options);
}

bool hasLine(const std::string& out, const std::string& line) {
    return ("\n" + out).find("\n" + line + "\n") != std::string::npos;
}

class Completion : public ::testing::Test {
protected:
    void SetUp() override {
        DaemonConfig config;
        config.database = "sqlite:" + (dir_ / "campaignd.db").string();
        daemon_ = std::make_unique<Campaignd>(bus_, dir_, config);
        daemon_->ctlOk({"campaign", "create", "--name", "Winter news", "--subject", "Hello", "--html", "<p>Hi</p>"});
        daemon_->ctlOk({"group", "create", "newsletter"});
    }

    TempDir dir_{"campaignd-completion"};
    PrivateBus bus_{PrivateBus::Kind::Session};
    std::unique_ptr<Campaignd> daemon_;
};

TEST_F(Completion, BashCompletesCommandsOptionsStatusesFilesAndTheDaemonsCampaignsAndGroups) {
    const auto options = shellOptions(&bus_, dir_);
    auto r = bashComplete({"campaignd-ctl", "camp"}, options);
    EXPECT_EQ(r.out, "campaign\ncampaigns\n") << r.err;
    r = bashComplete({"campaignd-ctl", "--user", "campaign", "sch"}, options);
    EXPECT_EQ(r.out, "schedule\n");
    r = bashComplete({"campaignd-ctl", "campaign", "create", "--h"}, options);
    EXPECT_EQ(r.out, "--help\n--html-file\n--html\n");
    r = bashComplete({"campaignd-ctl", "campaign", "recipients", "1", "--status", "f"}, options);
    EXPECT_EQ(r.out, "failed\n");
    r = bashComplete({"campaignd-ctl", "--user", "campaign", "show", ""}, options);
    EXPECT_EQ(r.out, "1\n") << r.err;
    r = bashComplete({"campaignd-ctl", "--user", "group", "add", "news"}, options);
    EXPECT_EQ(r.out, "newsletter\n");
    r = bashComplete({"campaignd-ctl", "--user", "recipients", "import", "--group", ""}, options);
    EXPECT_EQ(r.out, "newsletter\n");
    writeFile(dir_ / "people.csv", "email\n");
    r = bashComplete({"campaignd-ctl", "recipients", "import", (dir_ / "peo").string()}, options);
    EXPECT_EQ(r.out, (dir_ / "people.csv").string() + "\n");
    EXPECT_EQ(r.err, "");
}

TEST_F(Completion, FishShowsCampaignNamesBesideTheirIds) {
    const auto options = shellOptions(&bus_, dir_);
    auto r = fishComplete("campaignd-ctl --user campaign show ", options);
    EXPECT_EQ(r.out, "1\tWinter news\n") << r.err;
    r = fishComplete("campaignd-ctl campaign list --status sch", options);
    EXPECT_EQ(r.out, "scheduled\n") << r.err;
    r = fishComplete("campaignd-ctl suppr", options);
    EXPECT_TRUE(hasLine(r.out, "suppression\tThe suppression list: addresses never subscribed again (administrators only)"))
        << r.out;
}

TEST_F(Completion, ZshDescribesCandidatesAndAsksForFilesWhereAFileGoes) {
    const auto options = shellOptions(&bus_, dir_);
    auto r = zshComplete({"campaignd-ctl", "--user", "campaign", "report", ""}, options);
    EXPECT_EQ(r.out, "1:Winter news\n") << r.err;
    r = zshComplete({"campaignd-ctl", "bounces", "ingest", ""}, options);
    EXPECT_EQ(r.out, "(files)\n") << r.err;
    r = zshComplete({"campaignd-ctl", "gro"}, options);
    EXPECT_TRUE(hasLine(r.out, "group:Create, list and delete groups; add and remove members")) << r.out;
}

TEST_F(Completion, WithoutADaemonTheLiveValuesAreNotThereAndNothingIsSaid) {
    // A bus with no campaignd on it.
    PrivateBus empty(PrivateBus::Kind::Session);
    auto r = bashComplete({"campaignd-ctl", "--user", "campaign", "show", ""}, shellOptions(&empty, dir_));
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "");
    // No bus at all; the commands still complete.
    r = bashComplete({"campaignd-ctl", "--user", "group", "delete", ""}, shellOptions(nullptr, dir_));
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "");
    r = bashComplete({"campaignd-ctl", "--user", "st"}, shellOptions(nullptr, dir_));
    EXPECT_EQ(r.out, "status\n");
}

}  // namespace
}  // namespace campaignd::test

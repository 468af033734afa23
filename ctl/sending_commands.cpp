// sending_commands.cpp: "campaign send|pause|resume|cancel|watch ID" and "run-scheduled".
// watch follows the campaign's Progress signal and reads Describe every second (so a missed
// signal cannot stall it): a bar redrawn in place on a terminal, a plain line every two
// seconds otherwise, only the final JSON with --json. It ends when the campaign is completed
// (exit 0), or paused or cancelled (exit 1, with the reason), and right away for a draft.
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "bus_client.h"
#include "cli.h"
#include "send_progress.h"
#include "variant_json.h"

namespace campaignd::ctl {
namespace {

using Clock = std::chrono::steady_clock;

struct SendingOptions {
    std::uint64_t id = 0;
    bool watch = false;
    bool force = false;  // resume: past the sending guard
};

void addId(CLI::App* command, const std::shared_ptr<SendingOptions>& options) {
    command->add_option("ID", options->id, "The campaign's id (see 'campaignd-ctl campaign list')")
        ->required()
        ->check(unsignedNumber())
        ->type_name("");
}

SendCounts countsOf(const Dict& c) {
    SendCounts s;
    s.total = dictUint(c, "recipient_count");
    s.sent = dictUint(c, "sent_count");
    s.failed = dictUint(c, "failed_count");
    s.pending = dictUint(c, "pending_count");
    s.unknown = dictUint(c, "unknown_count");
    s.skipped = dictUint(c, "skipped_count");
    s.inFlight = dictUint(c, "in_flight_count");
    return s;
}

std::size_t terminalWidth() {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
    return 80;
}

std::string summaryText(std::uint64_t id, const std::string& status, const SendCounts& c) {
    return "Campaign " + std::to_string(id) + " " + displayStatus(status) + ": " + groupThousands(c.sent) +
           " sent, " + groupThousands(c.failed) + " failed, " + groupThousands(c.unknown) + " unknown, " +
           groupThousands(c.skipped) + " skipped, " + groupThousands(c.pending + c.inFlight) + " not sent yet, of " +
           groupThousands(c.total) + ".\n";
}

void watch(Context& context, std::uint64_t id) {
    auto& client = context.client();
    auto campaign = client.campaign(id);
    const bool tty = !context.json && ::isatty(STDOUT_FILENO) == 1;
    SendCounts counts;
    double signalRate = -1;
    bool drawn = false;
    auto lastLine = Clock::now() - std::chrono::seconds(10);
    campaign->progress = [&](std::uint64_t sent, std::uint64_t failed, std::uint64_t pending, std::uint64_t unknown,
                             std::uint64_t skipped, std::uint64_t inFlight, double rate) {
        counts.sent = sent;
        counts.failed = failed;
        counts.pending = pending;
        counts.unknown = unknown;
        counts.skipped = skipped;
        counts.inFlight = inFlight;
        signalRate = rate;
    };
    auto show = [&](bool force) {
        if (context.json) return;
        counts.rate = std::max(0.0, signalRate);
        if (tty) {
            std::printf("\r%s\033[K", progressBar(counts, terminalWidth() - 1).c_str());
            drawn = true;
        } else if (force || Clock::now() - lastLine >= std::chrono::seconds(2)) {
            lastLine = Clock::now();
            std::printf("%s\n", progressLine(counts).c_str());
        }
        std::fflush(stdout);
    };

    Dict state = campaign->Describe();
    auto lastDescribe = Clock::now();
    for (;;) {
        const std::string status = dictString(state, "status");
        const std::uint64_t total = dictUint(state, "recipient_count");
        const bool fresh = signalRate < 0 || Clock::now() - lastDescribe < std::chrono::milliseconds(50);
        if (fresh) {
            const double rate = counts.rate;
            counts = countsOf(state);
            counts.rate = rate;
        }
        counts.total = total;
        if (status == "completed" || status == "paused" || status == "cancelled" || status == "draft") {
            counts = countsOf(state);
            counts.rate = std::max(0.0, signalRate);
            if (drawn) std::printf("\r\033[K");
            if (context.json) {
                printJson(campaignToJson(state));
            } else {
                if (!tty) std::printf("%s\n", progressLine(counts).c_str());
                std::string text = summaryText(id, status, counts);
                const auto reason = dictString(state, "status_reason");
                if (!reason.empty() && status != "completed") text += "Reason: " + reason + "\n";
                if (status == "draft") text += "It is a draft: nothing is being sent (start it with 'campaignd-ctl campaign send " +
                                               std::to_string(id) + "').\n";
                printText(text);
            }
            std::fflush(stdout);
            if (status == "paused" || status == "cancelled")
                throw CommandFailure("campaign " + std::to_string(id) + " is " + displayStatus(status) +
                                     " before it completed" +
                                     (dictString(state, "status_reason").empty() ? "" : ": " + dictString(state, "status_reason")));
            return;
        }
        show(false);
        client.processFor(std::chrono::milliseconds(200));
        if (Clock::now() - lastDescribe >= std::chrono::seconds(1)) {
            try {
                state = campaign->Describe();
            } catch (const sdbus::Error& e) {
                if (drawn) std::printf("\r\033[K");
                throw CommandFailure("lost the campaign while watching it (did campaignd stop?): " + e.getMessage());
            }
            lastDescribe = Clock::now();
        }
    }
}

void runSend(Context& context, const SendingOptions& options) {
    auto campaign = context.client().campaign(options.id);
    campaign->Send();
    try {
        printWarnings(dictStrings(campaign->Describe(), "warnings"));
    } catch (const sdbus::Error&) {
        // sent; the warnings are also in the daemon's log
    }
    if (options.watch) {
        watch(context, options.id);
        return;
    }
    Dict state = campaign->Describe();
    if (context.json) {
        printJson(campaignToJson(state));
        return;
    }
    const auto transport = dictString(state, "transport");
    printText("Sending campaign " + std::to_string(options.id) + " to " +
              groupThousands(dictUint(state, "recipient_count")) + " recipients through " +
              (transport.empty() ? std::string("the default transport") : "transport " + transport) +
              ".\nFollow it with: campaignd-ctl campaign watch " + std::to_string(options.id) + "\n");
}

void runPause(Context& context, const SendingOptions& options) {
    auto campaign = context.client().campaign(options.id);
    campaign->Pause();
    if (context.json) printJson(campaignToJson(campaign->Describe()));
    else printText("Paused campaign " + std::to_string(options.id) + "; resume it with 'campaignd-ctl campaign resume " +
                   std::to_string(options.id) + "'.\n");
}

void runResume(Context& context, const SendingOptions& options) {
    auto campaign = context.client().campaign(options.id);
    if (options.force) campaign->ResumeEx(1);  // the sending guard stays off for this campaign
    else campaign->Resume();
    if (options.watch) {
        watch(context, options.id);
        return;
    }
    if (context.json) printJson(campaignToJson(campaign->Describe()));
    else printText("Resumed campaign " + std::to_string(options.id) + ".\n");
}

void runCancel(Context& context, const SendingOptions& options) {
    auto campaign = context.client().campaign(options.id);
    campaign->Cancel();
    const Dict state = campaign->Describe();
    if (context.json) printJson(campaignToJson(state));
    else printText("Cancelled campaign " + std::to_string(options.id) + "; " +
                   groupThousands(dictUint(state, "skipped_count")) + " recipients not sent to are skipped.\n");
}

void runWatch(Context& context, const SendingOptions& options) { watch(context, options.id); }

void runScheduled(Context& context, const SendingOptions&) {
    const auto [started, notStarted] = context.client().manager().RunScheduledEx(0);
    if (context.json) {
        nlohmann::json failed = nlohmann::json::array();
        for (const auto& entry : notStarted)
            failed.push_back({{"id", entry.get<0>()}, {"reason", entry.get<1>()}});
        printJson({{"started", started}, {"not_started", failed}});
    } else if (started.empty() && notStarted.empty()) {
        printText("No scheduled campaign is due.\n");
    } else if (!started.empty()) {
        std::string ids;
        for (const auto id : started) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
        printText("Started " + countNoun(started.size(), "campaign", "campaigns") + ": " + ids + "\n");
    }
    // Not silent: each campaign that could not start is named with the reason (it is paused
    // now, and says so on its status), and the exit status (1) marks the timer's run failed.
    for (const auto& entry : notStarted)
        std::cerr << "campaignd-ctl: campaign " << entry.get<0>() << " could not start (now paused): "
                  << entry.get<1>() << "\n";
    if (!notStarted.empty())
        throw CommandFailure(countNoun(notStarted.size(), "scheduled campaign", "scheduled campaigns") +
                             " could not start; see 'campaignd-ctl campaign show ID'");
}

}  // namespace

void registerSendingCommands(CLI::App& app, Context& context) {
    auto* campaign = app.get_subcommand("campaign");
    {
        auto options = std::make_shared<SendingOptions>();
        auto* command = addCommand(campaign, context, options, "send",
                                   "Send a draft or scheduled campaign now, through its transport", runSend);
        addId(command, options);
        command->add_flag("--watch", options->watch, "Then follow it as 'campaign watch' does");
        command->footer("Every attached, subscribed recipient is sent the campaign exactly once; those who\n"
                        "unsubscribed since they were attached are skipped. Refused (nothing changes) when the\n"
                        "campaign's transport is not configured or its content does not compile.\n\n"
                        "Example:\n  campaignd-ctl campaign send 7 --watch");
    }
    {
        auto options = std::make_shared<SendingOptions>();
        auto* command = addCommand(campaign, context, options, "pause",
                                   "Pause a campaign that is sending (within a second)", runPause);
        addId(command, options);
        command->footer("Messages already handed to the mail server get their outcome recorded; nothing more is\n"
                        "handed over until 'campaign resume'.\n\nExample:\n  campaignd-ctl campaign pause 7");
    }
    {
        auto options = std::make_shared<SendingOptions>();
        auto* command = addCommand(campaign, context, options, "resume",
                                   "Resume a paused campaign where it stopped", runResume);
        addId(command, options);
        command->add_flag("--watch", options->watch, "Then follow it as 'campaign watch' does");
        command->add_flag("--force", options->force,
                          "Resume a campaign the sending guard paused (its hard-bounce or complaint rate passed "
                          "the limit); the guard then stays off for the rest of this campaign");
        command->footer("Nobody who was sent the campaign is sent it again. A campaign the sending guard paused\n"
                        "(see its status reason) is resumed only with --force.\n\n"
                        "Example:\n  campaignd-ctl campaign resume 7");
    }
    {
        auto options = std::make_shared<SendingOptions>();
        auto* command = addCommand(campaign, context, options, "cancel",
                                   "Cancel a campaign: everyone not yet sent to is skipped", runCancel);
        addId(command, options);
        command->footer("Works on drafts, scheduled, sending and paused campaigns; cannot be undone.\n\n"
                        "Example:\n  campaignd-ctl campaign cancel 7");
    }
    {
        auto options = std::make_shared<SendingOptions>();
        auto* command = addCommand(campaign, context, options, "watch",
                                   "Follow a sending campaign: sent, failed, pending, rate, time left", runWatch);
        addId(command, options);
        command->footer("A progress bar on a terminal; otherwise a line every two seconds. Ends when the campaign\n"
                        "is completed (exit 0), or paused or cancelled (exit 1, with the reason). With --json only\n"
                        "the final state is printed.\n\nExample:\n  campaignd-ctl campaign watch 7");
    }
    {
        auto options = std::make_shared<SendingOptions>();
        auto* command = addCommand(&app, context, options, "run-scheduled",
                                   "Start every scheduled campaign whose time has come (campaignd-scheduler.timer "
                                   "runs this every minute)",
                                   runScheduled);
        command->footer("Prints the ids of the campaigns started. A due campaign that cannot start (nobody\n"
                        "attached, a transport that is gone) is paused with the reason and named on stderr;\n"
                        "the exit status is then 1.\n\nExample:\n  campaignd-ctl run-scheduled");
    }
}

}  // namespace campaignd::ctl

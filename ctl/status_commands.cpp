// status_commands.cpp: "status" (the daemon's state and its plugins) and "dashboard" (the
// dashboard numbers). Read-only; they never change anything in the daemon.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "bus_client.h"
#include "report_format.h"
#include "cli.h"
#include "table.h"
#include "time_format.h"
#include "variant_json.h"

namespace campaignd::ctl {
namespace {

void appendOtherFields(std::vector<Field>& fields, const Dict& dict, const std::set<std::string>& known)
{
    for (auto& field : otherFieldsAsText(dict, known))
        fields.push_back(std::move(field));
}

// GetDashboard's per_minute a(ttttt): (minute start, sent, failed, unknown, deferred), oldest
// first; empty when absent (an older daemon) or of another type.
struct MinuteCounts {
    std::uint64_t at = 0, sent = 0, failed = 0, unknown = 0, deferred = 0;
    std::uint64_t messages() const { return sent + failed + unknown; }  // final outcomes
};
std::vector<MinuteCounts> perMinute(const Dict& dashboard)
{
    using Wire = sdbus::Struct<std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t>;
    const auto it = dashboard.find("per_minute");
    if (it == dashboard.end() || it->second.isEmpty() || it->second.peekValueType() != "a(ttttt)") return {};
    std::vector<MinuteCounts> out;
    for (const Wire& m : it->second.get<std::vector<Wire>>())
        out.push_back({std::get<0>(m), std::get<1>(m), std::get<2>(m), std::get<3>(m), std::get<4>(m)});
    return out;
}

nlohmann::json perMinuteToJson(const std::vector<MinuteCounts>& minutes)
{
    nlohmann::json out = nlohmann::json::array();
    for (const MinuteCounts& m : minutes)
        out.push_back({{"minute_at", formatIsoUtc(m.at)}, {"sent", m.sent}, {"failed", m.failed},
                       {"unknown", m.unknown}, {"deferred", m.deferred}});
    return out;
}

// "120 messages, 2.0 a minute (118 sent, 2 failed, 0 unknown; 3 deferred)" over the minutes
// starting at or after `since`, `span` microseconds long.
std::string activityText(const std::vector<MinuteCounts>& minutes, std::uint64_t since, std::uint64_t span)
{
    MinuteCounts sum;
    for (const MinuteCounts& m : minutes) {
        if (m.at < since) continue;
        sum.sent += m.sent, sum.failed += m.failed, sum.unknown += m.unknown, sum.deferred += m.deferred;
    }
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.1f", double(sum.messages()) / double(span / 60'000'000));
    return std::to_string(sum.messages()) + " messages, " + rate + " a minute (" + std::to_string(sum.sent) +
           " sent, " + std::to_string(sum.failed) + " failed, " + std::to_string(sum.unknown) + " unknown; " +
           std::to_string(sum.deferred) + " deferred)";
}

void runStatus(Context& context)
{
    auto& manager = context.client().manager();
    Dict status = manager.GetStatus();
    std::vector<Dict> plugins = manager.ListPlugins();

    if (context.json) {
        nlohmann::json document = dictToJson(status);
        document["plugins"] = dictListToJson(plugins);
        printJson(document);
        return;
    }

    std::vector<Field> fields = {
        {"Version", dictString(status, "version", "-")},
        {"Backend", dictString(status, "backend", "-")},
        {"Database", dictString(status, "database", "-")},
        {"Schema version", status.count("schema_version") ? std::to_string(dictUint(status, "schema_version")) : "-"},
        {"Started", formatLocalTime(dictUint(status, "started_at"))},
        {"Bus", dictString(status, "bus", "-")},
    };
    if (const std::string fetch = lastBounceFetchText(status); !fetch.empty()) fields.push_back({"Last bounce fetch", fetch});
    appendOtherFields(fields, status,
                      {"version", "backend", "database", "schema_version", "started_at", "bus", "last_bounce_fetch_at",
                       "last_bounce_fetch_status", "last_bounce_fetch_error", "last_bounce_fetch_fetched",
                       "last_bounce_fetch_recorded", "daemons", "instance_id"});
    std::string out = renderFields(fields);

    // The daemons sharing the database (a cluster on one PostgreSQL), this one marked.
    if (status.count("daemons") && status.at("daemons").containsValueOfType<std::vector<Dict>>()) {
        const auto daemons = status.at("daemons").get<std::vector<Dict>>();
        if (!daemons.empty()) {
            Table table({"DAEMON", "HOST", "PID", "STARTED", "LAST SEEN", "STATE"});
            for (const auto& d : daemons) {
                const std::string takenBy = dictString(d, "taken_over_by");
                table.addRow({dictString(d, "instance_id") + (dictBool(d, "this") ? " (this one)" : ""),
                              dictString(d, "host", "-"), std::to_string(dictUint(d, "pid")),
                              formatLocalTime(dictUint(d, "started_at")), formatLocalTime(dictUint(d, "last_seen")),
                              takenBy.empty() ? "-" : "taken over by " + takenBy});
            }
            out += '\n' + table.render();
        }
    }

    out += '\n';
    if (plugins.empty()) {
        out += "No plugins.\n";
    } else {
        Table table({"PLUGIN", "VERSION", "STATE", "CAPABILITIES", "ERROR"});
        for (const auto& plugin : plugins) {
            std::string capabilities;
            for (const auto& capability : dictStrings(plugin, "capabilities"))
                capabilities += (capabilities.empty() ? "" : ",") + capability;
            std::string error = dictString(plugin, "error");
            table.addRow({dictString(plugin, "name", dictString(plugin, "file", "?")),
                          dictString(plugin, "version", "-"), dictString(plugin, "state", "-"),
                          capabilities.empty() ? "-" : capabilities, error.empty() ? "-" : error});
        }
        out += table.render();
    }
    printText(out);
}

void runDashboard(Context& context)
{
    Dict dashboard = context.client().manager().GetDashboard();
    const auto minutes = perMinute(dashboard);
    if (context.json) {
        nlohmann::json document = dictToJson(dashboard);
        if (dashboard.count("per_minute")) document["per_minute"] = perMinuteToJson(minutes);
        printJson(document);
        return;
    }
    auto number = [&](const char* key) { return std::to_string(dictUint(dashboard, key)); };
    std::vector<Field> fields = {
        {"Recipients", number("total_recipients")},
        {"Subscribed", number("subscribed_recipients")},
        {"Groups", number("total_groups")},
        {"Campaigns", number("total_campaigns")},
    };
    for (const auto& [status, count] : dictCounts(dashboard, "campaigns_by_status"))
        fields.emplace_back("  " + displayStatus(status), std::to_string(count));
    fields.emplace_back("Sent", number("sent"));
    fields.emplace_back("Failed", number("failed"));
    fields.emplace_back("Pending", number("pending"));
    fields.emplace_back("In flight", number("in_flight"));
    fields.emplace_back("Unknown", number("unknown"));
    fields.emplace_back("Skipped", number("skipped"));
    fields.emplace_back("Unsubscribes", number("unsubscribes") + " (" + number("unsubscribes_30d") + " in the last 30 days)");
    fields.emplace_back("Suppressed", number("suppressed"));
    const auto bounces = dictCounts(dashboard, "bounces_by_reason");
    if (!bounces.empty()) {
        std::uint64_t total = 0;
        for (const auto& [reason, count] : bounces) total += count;
        fields.emplace_back("Bounces", std::to_string(total));
        for (const auto& [reason, count] : bounces) fields.emplace_back("  " + reason, std::to_string(count));
    }
    if (dashboard.count("per_minute")) {
        // Outcomes per minute, as the daemon recorded them; "the last hour" by this machine's clock.
        constexpr std::uint64_t kHour = 3'600'000'000, kDay = 24 * kHour;
        const auto now = std::uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
        fields.emplace_back("Last hour", activityText(minutes, now - kHour, kHour));
        fields.emplace_back("Last 24 hours", activityText(minutes, now - kDay, kDay));
        const auto busiest = std::max_element(minutes.begin(), minutes.end(), [](const auto& a, const auto& b) {
            return a.messages() < b.messages();
        });
        if (busiest != minutes.end() && busiest->messages() > 0)
            fields.emplace_back("Busiest minute",
                                formatLocalTime(busiest->at) + ", " + std::to_string(busiest->messages()) + " messages");
    }
    appendOtherFields(fields, dashboard,
                      {"total_recipients", "subscribed_recipients", "total_groups", "total_campaigns",
                       "campaigns_by_status", "sent", "failed", "pending", "in_flight", "unknown",
                       "skipped", "unsubscribes", "unsubscribes_30d", "suppressed", "guard_rates", "bounces_by_reason",
                       "per_minute"});
    std::string out = renderFields(fields);
    // The sending guard's two rates of each campaign sending or paused, next to the providers'
    // published limits.
    const auto rates = dashboard.count("guard_rates") ? dashboard.at("guard_rates").get<std::vector<Dict>>()
                                                      : std::vector<Dict>{};
    if (!rates.empty()) {
        Table table({"ID", "NAME", "STATUS", "HARD BOUNCES", "COMPLAINTS", "GUARD"});
        table.setAlign(0, Align::Right);
        for (const auto& r : rates)
            table.addRow({std::to_string(dictUint(r, "id")), dictString(r, "name"), displayStatus(dictString(r, "status")),
                          hardBounceRateText(r), complaintRateText(r), guardStateText(dictString(r, "bounce_guard"))});
        out += "\nSending and paused campaigns:\n" + table.render();
        out += std::string("Hard bounces: ") + kHardBounceReference + ".\nComplaints: " + kComplaintReference + ".\n";
    }
    printText(out);
}

}  // namespace

void registerStatusCommands(CLI::App& app, Context& context)
{
    auto* status = app.add_subcommand(
        "status", "Show the daemon's version, storage backend, database, schema version and plugins");
    status->footer("Plugins that failed to start are listed with state \"failed\" or \"rejected\" "
                   "and the reason.\n\nExample:\n  campaignd-ctl status");
    status->callback([&context] { context.action = [&context] { runStatus(context); }; });

    auto* dashboard = app.add_subcommand(
        "dashboard", "Show the dashboard: recipients, groups, campaigns by status, sent/failed/pending");
    dashboard->footer("Example:\n  campaignd-ctl dashboard");
    dashboard->callback([&context] { context.action = [&context] { runDashboard(context); }; });
}

}  // namespace campaignd::ctl

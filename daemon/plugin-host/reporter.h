// reporter.h: the reporter capability (ABI 1.3), as the daemon sees it. ReporterHandle::compose()
// hands a finished campaign's report to the plugin and takes back one bounded RFC 5322 message.
// Refuses: header fields with control characters, before the plugin sees them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "plugin-host/running_plugin.h"

namespace campaignd::plugins {

// ---- The reporter capability, for the daemon (ABI 1.3) --------------------------------------

// A finished campaign's report, as the host hands it to a reporter plugin (campaignd_report).
struct CampaignReport {
    std::uint64_t campaignId = 0;
    std::string campaignName;
    std::string campaignSubject;
    std::string finalStatus;       // "completed", "cancelled"
    std::int64_t finishedAt = 0;   // microseconds since the epoch
    std::uint64_t total = 0, sent = 0, failed = 0, unknown = 0, skipped = 0, pending = 0, inFlight = 0;
    double successPercent = 0.0;
    std::vector<std::pair<std::string, std::uint64_t>> reasons;  // most frequent first
    std::string failuresCsv;        // formula-safe CSV, CRLF, with a header row
    std::uint64_t failuresListed = 0;
    std::uint64_t failuresTotal = 0;
    std::string from;               // a mailbox for the From header
    std::string to;                 // the admin address
    std::string messageId;          // "<...>"
    std::int64_t date = 0;          // microseconds since the epoch
};

// ReporterHandle::compose's failure: the plugin's message (bounded, sanitised, prefixed with the
// plugin's name), or the host's own when the plugin broke the rules.
class ReportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A running reporter plugin. Cheap to copy; valid until PluginHost::stop() or the host's
// destruction, like the RunningPlugin it refers to.
class ReporterHandle {
public:
    const std::string& pluginName() const { return plugin_->name(); }

    // The complete message the plugin composed for `report` (RFC 5322, CRLF), at most maxBytes.
    // Throws std::invalid_argument before calling the plugin when from, to, messageId, the
    // campaign's name or subject contain a control character (CR, LF, NUL, ...); ReportError
    // when the plugin fails, throws, returns nothing, or writes more than maxBytes.
    // Thread-safe.
    std::string compose(const CampaignReport& report, std::size_t maxBytes = std::size_t(64) << 20) const;

private:
    friend class PluginHost;
    explicit ReporterHandle(const RunningPlugin* plugin) : plugin_(plugin) {}
    const RunningPlugin* plugin_;
};

}  // namespace campaignd::plugins

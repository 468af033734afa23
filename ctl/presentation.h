// presentation.h: small pure rules for what campaignd-ctl shows and sends: status words in
// display form ("In Progress") and back, checks that text is fit for a D-Bus string, byte
// sizes, and the one place where bus errors become the line a user reads. No I/O here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace campaignd::ctl {

enum class BusKind { System, User };

// "in_progress" -> "In Progress".
std::string displayStatus(std::string_view status);

// What a user typed ("In Progress", "in-progress", "IN_PROGRESS") -> "in_progress".
std::string normalizeStatus(std::string_view text);

inline const std::vector<std::string> kCampaignStatuses = {
    "draft", "scheduled", "in_progress", "paused", "completed", "cancelled"};
inline const std::vector<std::string> kRecipientStatuses = {"subscribed", "unsubscribed", "bounced"};
// A recipient's outcome in a campaign (campaign recipients --status).
inline const std::vector<std::string> kOutcomeStatuses = {"pending", "in_flight", "sent", "failed", "unknown", "skipped"};

// Why TEXT cannot travel as a D-Bus string (invalid UTF-8, or a NUL byte), or nullopt if it can.
std::optional<std::string> textProblem(std::string_view text);

// "0 bytes", "1 byte", "512 bytes", "1.5 KiB (1536 bytes)", "2.0 MiB (2097152 bytes)".
std::string formatByteSize(std::uint64_t bytes);

// "1 recipient" / "3 recipients".
std::string countNoun(std::uint64_t count, std::string_view singular, std::string_view plural);

// The message for a failed bus call: the daemon's own message for campaignd's errors; a plain
// sentence for "not running", time-outs and refusals by the bus itself.
std::string describeBusError(std::string_view name, std::string_view message, BusKind bus,
                             int timeoutSeconds);

}  // namespace campaignd::ctl

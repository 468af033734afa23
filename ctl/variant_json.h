// variant_json.h: the daemon's a{sv} entities as JSON and as typed values. Keys stay as the
// daemon sends them (snake_case); a 't' under a key ending in "_at" or "_time" is a time and
// becomes an ISO 8601 UTC string, or null when 0. Unknown keys are passed through, so a field
// the daemon adds later shows up without a client change. Type mismatches never throw: the
// accessors fall back to their default.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <sdbus-c++/Types.h>

namespace campaignd::ctl {

using Dict = std::map<std::string, sdbus::Variant>;

// Whether KEY names a time ("created_at", "scheduled_time", ...).
bool isTimeKey(std::string_view key);

// Any variant the bus API uses (basic types, arrays of them, a{s*}, aa{sv}, a(st), a(ss),
// nested v). A signature outside that set becomes the string "<D-Bus type SIG>".
nlohmann::json variantToJson(const sdbus::Variant& value);
nlohmann::json dictToJson(const Dict& dict);
nlohmann::json dictListToJson(const std::vector<Dict>& dicts);
// "<local time>, connection, 0 fetched, 0 recorded: cannot connect ..." from GetStatus's
// last_bounce_fetch_* keys, or "" when no fetch has run (bounce_commands.cpp).
std::string lastBounceFetchText(const Dict& status);

// Entities with the keys a script can rely on always present: a recipient has email, name,
// status, groups; a campaign has id, name, subject, status, scheduled_time, created_at,
// sent_count, failed_count. Summary failure_reasons becomes [{"reason", "count"}].
nlohmann::json recipientToJson(const Dict& recipient);
nlohmann::json campaignToJson(const Dict& campaign);
nlohmann::json summaryToJson(const Dict& summary);

// A value for a "Label: value" line: strings as they are, string arrays joined with ", ",
// times (for time keys) in local time, anything else as compact JSON; "-" when empty.
std::string variantToText(const std::string& key, const sdbus::Variant& value);

// Every key of DICT not in KNOWN, as (key, variantToText) pairs in key order: what "show"
// commands print after the fields they know, so nothing the daemon sends is hidden.
std::vector<std::pair<std::string, std::string>> otherFieldsAsText(const Dict& dict,
                                                                  const std::set<std::string>& known);

// Typed reads for human output.
std::string dictString(const Dict& dict, const std::string& key, const std::string& fallback = "");
std::uint64_t dictUint(const Dict& dict, const std::string& key, std::uint64_t fallback = 0);
bool dictBool(const Dict& dict, const std::string& key, bool fallback = false);
double dictDouble(const Dict& dict, const std::string& key, double fallback = 0.0);
std::vector<std::string> dictStrings(const Dict& dict, const std::string& key);
// a(st) or a{st} as ordered (name, count) pairs; a{st} in key order.
std::vector<std::pair<std::string, std::uint64_t>> dictCounts(const Dict& dict, const std::string& key);

}  // namespace campaignd::ctl

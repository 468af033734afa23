// variant_json.cpp: dispatch on the variant's signature; every read checks the signature
// first so a daemon that sends 'u' where 't' was expected degrades instead of aborting.
#include "variant_json.h"

#include "time_format.h"

#include <algorithm>

namespace campaignd::ctl {
namespace {

using nlohmann::json;

template <typename T>
json arrayOf(const sdbus::Variant& value)
{
    json out = json::array();
    for (const auto& item : value.get<std::vector<T>>())
        out.push_back(item);
    return out;
}

template <typename T>
json objectOf(const sdbus::Variant& value)
{
    json out = json::object();
    for (const auto& [key, item] : value.get<std::map<std::string, T>>())
        out[key] = item;
    return out;
}

bool endsWith(std::string_view text, std::string_view suffix)
{
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

json timeToJson(std::uint64_t usec)
{
    if (usec == 0)
        return nullptr;
    return formatIsoUtc(usec);
}

}  // namespace

bool isTimeKey(std::string_view key)
{
    return endsWith(key, "_at") || endsWith(key, "_time");
}

json variantToJson(const sdbus::Variant& value)
{
    if (value.isEmpty())
        return nullptr;
    const std::string sig = value.peekValueType();
    if (sig == "s") return value.get<std::string>();
    if (sig == "o") return std::string(value.get<sdbus::ObjectPath>());
    if (sig == "g") return std::string(value.get<sdbus::Signature>());
    if (sig == "b") return value.get<bool>();
    if (sig == "y") return value.get<std::uint8_t>();
    if (sig == "n") return value.get<std::int16_t>();
    if (sig == "q") return value.get<std::uint16_t>();
    if (sig == "i") return value.get<std::int32_t>();
    if (sig == "u") return value.get<std::uint32_t>();
    if (sig == "x") return value.get<std::int64_t>();
    if (sig == "t") return value.get<std::uint64_t>();
    if (sig == "d") return value.get<double>();
    if (sig == "v") return variantToJson(value.get<sdbus::Variant>());
    if (sig == "as") return arrayOf<std::string>(value);
    if (sig == "ao") {
        json out = json::array();
        for (const auto& path : value.get<std::vector<sdbus::ObjectPath>>())
            out.push_back(std::string(path));
        return out;
    }
    if (sig == "ab") return arrayOf<bool>(value);
    if (sig == "ay") return arrayOf<std::uint8_t>(value);
    if (sig == "ai") return arrayOf<std::int32_t>(value);
    if (sig == "au") return arrayOf<std::uint32_t>(value);
    if (sig == "ax") return arrayOf<std::int64_t>(value);
    if (sig == "at") return arrayOf<std::uint64_t>(value);
    if (sig == "ad") return arrayOf<double>(value);
    if (sig == "a{ss}") return objectOf<std::string>(value);
    if (sig == "a{sb}") return objectOf<bool>(value);
    if (sig == "a{si}") return objectOf<std::int32_t>(value);
    if (sig == "a{su}") return objectOf<std::uint32_t>(value);
    if (sig == "a{sx}") return objectOf<std::int64_t>(value);
    if (sig == "a{st}") return objectOf<std::uint64_t>(value);
    if (sig == "a{sd}") return objectOf<double>(value);
    if (sig == "a{sv}") return dictToJson(value.get<Dict>());
    if (sig == "aa{sv}") return dictListToJson(value.get<std::vector<Dict>>());
    if (sig == "a(st)") {
        json out = json::array();
        for (const auto& item : value.get<std::vector<sdbus::Struct<std::string, std::uint64_t>>>())
            out.push_back(json::array({std::get<0>(item), std::get<1>(item)}));
        return out;
    }
    if (sig == "a(ss)") {
        json out = json::array();
        for (const auto& item : value.get<std::vector<sdbus::Struct<std::string, std::string>>>())
            out.push_back(json::array({std::get<0>(item), std::get<1>(item)}));
        return out;
    }
    return "<D-Bus type " + sig + ">";
}

json dictToJson(const Dict& dict)
{
    json out = json::object();
    for (const auto& [key, value] : dict) {
        if (isTimeKey(key) && !value.isEmpty() && value.peekValueType() == "t")
            out[key] = timeToJson(value.get<std::uint64_t>());
        else
            out[key] = variantToJson(value);
    }
    return out;
}

json dictListToJson(const std::vector<Dict>& dicts)
{
    json out = json::array();
    for (const auto& dict : dicts)
        out.push_back(dictToJson(dict));
    return out;
}

json recipientToJson(const Dict& recipient)
{
    json out = dictToJson(recipient);
    for (const char* key : {"email", "name", "status"})
        if (!out.contains(key))
            out[key] = "";
    if (!out.contains("groups"))
        out["groups"] = json::array();
    return out;
}

json campaignToJson(const Dict& campaign)
{
    json out = dictToJson(campaign);
    if (!out.contains("id"))
        out["id"] = nullptr;
    for (const char* key : {"name", "subject", "status"})
        if (!out.contains(key))
            out[key] = "";
    for (const char* key : {"scheduled_time", "created_at"})
        if (!out.contains(key))
            out[key] = nullptr;
    for (const char* key : {"sent_count", "failed_count"})
        if (!out.contains(key))
            out[key] = 0;
    return out;
}

json summaryToJson(const Dict& summary)
{
    json out = dictToJson(summary);
    json reasons = json::array();
    for (const auto& [reason, count] : dictCounts(summary, "failure_reasons"))
        reasons.push_back({{"reason", reason}, {"count", count}});
    out["failure_reasons"] = reasons;
    if (summary.count("bounces_by_reason")) {
        json bounces = json::array();
        for (const auto& [reason, count] : dictCounts(summary, "bounces_by_reason"))
            bounces.push_back({{"reason", reason}, {"count", count}});
        out["bounces_by_reason"] = bounces;
    }
    for (const char* key : {"total", "sent", "failed", "pending"})
        if (!out.contains(key))
            out[key] = 0;
    if (!out.contains("success_percent"))
        out["success_percent"] = 0.0;
    return out;
}

std::string variantToText(const std::string& key, const sdbus::Variant& value)
{
    if (value.isEmpty())
        return "-";
    if (isTimeKey(key) && value.peekValueType() == "t")
        return formatLocalTime(value.get<std::uint64_t>());
    json j = variantToJson(value);
    if (j.is_string())
        return j.get<std::string>().empty() ? "-" : j.get<std::string>();
    if (j.is_null())
        return "-";
    if (j.is_array() && std::all_of(j.begin(), j.end(), [](const json& e) { return e.is_string(); })) {
        std::string out;
        for (const auto& e : j) {
            if (!out.empty())
                out += ", ";
            out += e.get<std::string>();
        }
        return out.empty() ? "-" : out;
    }
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::pair<std::string, std::string>> otherFieldsAsText(const Dict& dict,
                                                                  const std::set<std::string>& known)
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [key, value] : dict)
        if (!known.count(key))
            out.emplace_back(key, variantToText(key, value));
    return out;
}

std::string dictString(const Dict& dict, const std::string& key, const std::string& fallback)
{
    auto it = dict.find(key);
    if (it == dict.end() || it->second.isEmpty())
        return fallback;
    const std::string sig = it->second.peekValueType();
    if (sig == "s")
        return it->second.get<std::string>();
    if (sig == "o")
        return std::string(it->second.get<sdbus::ObjectPath>());
    return fallback;
}

std::uint64_t dictUint(const Dict& dict, const std::string& key, std::uint64_t fallback)
{
    auto it = dict.find(key);
    if (it == dict.end() || it->second.isEmpty())
        return fallback;
    const auto& v = it->second;
    const std::string sig = v.peekValueType();
    if (sig == "t") return v.get<std::uint64_t>();
    if (sig == "u") return v.get<std::uint32_t>();
    if (sig == "q") return v.get<std::uint16_t>();
    if (sig == "y") return v.get<std::uint8_t>();
    auto nonNegative = [fallback](std::int64_t n) { return n < 0 ? fallback : static_cast<std::uint64_t>(n); };
    if (sig == "x") return nonNegative(v.get<std::int64_t>());
    if (sig == "i") return nonNegative(v.get<std::int32_t>());
    if (sig == "n") return nonNegative(v.get<std::int16_t>());
    return fallback;
}

bool dictBool(const Dict& dict, const std::string& key, bool fallback)
{
    auto it = dict.find(key);
    if (it == dict.end() || it->second.isEmpty() || it->second.peekValueType() != "b")
        return fallback;
    return it->second.get<bool>();
}

double dictDouble(const Dict& dict, const std::string& key, double fallback)
{
    auto it = dict.find(key);
    if (it == dict.end() || it->second.isEmpty())
        return fallback;
    const std::string sig = it->second.peekValueType();
    if (sig == "d")
        return it->second.get<double>();
    if (sig == "t" || sig == "u" || sig == "x" || sig == "i")
        return static_cast<double>(dictUint(dict, key));
    return fallback;
}

std::vector<std::string> dictStrings(const Dict& dict, const std::string& key)
{
    auto it = dict.find(key);
    if (it == dict.end() || it->second.isEmpty() || it->second.peekValueType() != "as")
        return {};
    return it->second.get<std::vector<std::string>>();
}

std::vector<std::pair<std::string, std::uint64_t>> dictCounts(const Dict& dict, const std::string& key)
{
    std::vector<std::pair<std::string, std::uint64_t>> out;
    auto it = dict.find(key);
    if (it == dict.end() || it->second.isEmpty())
        return out;
    const std::string sig = it->second.peekValueType();
    if (sig == "a(st)") {
        for (const auto& item : it->second.get<std::vector<sdbus::Struct<std::string, std::uint64_t>>>())
            out.emplace_back(std::get<0>(item), std::get<1>(item));
    } else if (sig == "a{st}") {
        for (const auto& [name, count] : it->second.get<std::map<std::string, std::uint64_t>>())
            out.emplace_back(name, count);
    }
    return out;
}

}  // namespace campaignd::ctl

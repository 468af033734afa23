// variant_json_test.cpp: the a{sv} -> JSON mapping scripts rely on with --json: snake_case
// keys as the daemon sends them, times as ISO 8601 UTC or null, the keys every recipient and
// campaign is promised to have, unknown keys passed through, and no throw on odd types.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "variant_json.h"

using namespace campaignd::ctl;
using nlohmann::json;

namespace {

constexpr std::uint64_t kNov27 = 1795813200ull * 1000000ull;  // 2026-11-27T21:00:00Z

sdbus::Variant v(const char* s) { return sdbus::Variant(std::string(s)); }
sdbus::Variant t(std::uint64_t n) { return sdbus::Variant(n); }

Dict describedCampaign()
{
    return {
        {"id", t(7)},
        {"name", v("December news")},
        {"subject", v("What's new")},
        {"html_content", v("<p>Hi</p>")},
        {"text_content", v("")},
        {"from_address", v("news@example.com")},
        {"status", v("in_progress")},
        {"status_reason", v("")},
        {"scheduled_time", t(0)},
        {"created_at", t(kNov27)},
        {"updated_at", t(kNov27 + 1500000)},
        {"recipient_count", t(3)},
        {"sent_count", t(2)},
        {"failed_count", t(1)},
        {"pending_count", t(0)},
    };
}

TEST(TimeKeys, AreRecognisedBySuffix)
{
    EXPECT_TRUE(isTimeKey("created_at"));
    EXPECT_TRUE(isTimeKey("scheduled_time"));
    EXPECT_TRUE(isTimeKey("started_at"));
    EXPECT_FALSE(isTimeKey("sent_count"));
    EXPECT_FALSE(isTimeKey("status"));
    EXPECT_FALSE(isTimeKey("at"));
}

TEST(CampaignJson, MapsEveryKeyWithTimesAsIsoOrNull)
{
    json j = campaignToJson(describedCampaign());
    EXPECT_EQ(j["id"], 7);
    EXPECT_EQ(j["name"], "December news");
    EXPECT_EQ(j["subject"], "What's new");
    EXPECT_EQ(j["status"], "in_progress");  // the bus form, not the display form
    EXPECT_EQ(j["html_content"], "<p>Hi</p>");
    EXPECT_EQ(j["from_address"], "news@example.com");
    EXPECT_TRUE(j["scheduled_time"].is_null());
    EXPECT_EQ(j["created_at"], "2026-11-27T21:00:00Z");
    EXPECT_EQ(j["updated_at"], "2026-11-27T21:00:01Z");
    EXPECT_EQ(j["sent_count"], 2);
    EXPECT_EQ(j["failed_count"], 1);
    EXPECT_EQ(j["pending_count"], 0);
    EXPECT_TRUE(j["sent_count"].is_number_unsigned());
    EXPECT_EQ(j.size(), describedCampaign().size());
}

TEST(CampaignJson, PromisedKeysAreAlwaysPresent)
{
    json j = campaignToJson({{"id", t(3)}, {"name", v("x")}});
    for (const char* key : {"id", "name", "subject", "status", "scheduled_time", "created_at",
                            "sent_count", "failed_count"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j["scheduled_time"].is_null());
    EXPECT_TRUE(j["created_at"].is_null());
    EXPECT_EQ(j["failed_count"], 0);
    EXPECT_EQ(j["subject"], "");
}

TEST(CampaignJson, UnknownKeysPassThrough)
{
    Dict campaign = describedCampaign();
    campaign["priority"] = sdbus::Variant(std::int32_t{-2});
    campaign["tags"] = sdbus::Variant(std::vector<std::string>{"a", "b"});
    campaign["paused_at"] = t(kNov27);
    json j = campaignToJson(campaign);
    EXPECT_EQ(j["priority"], -2);
    EXPECT_EQ(j["tags"], json({"a", "b"}));
    EXPECT_EQ(j["paused_at"], "2026-11-27T21:00:00Z");
}

TEST(RecipientJson, HasEmailNameStatusGroups)
{
    Dict recipient = {{"id", t(4)},
                      {"email", v("zoe@example.com")},
                      {"name", v("Zoë")},
                      {"status", v("subscribed")},
                      {"created_at", t(kNov27)},
                      {"groups", sdbus::Variant(std::vector<std::string>{"news", "vip"})}};
    json j = recipientToJson(recipient);
    EXPECT_EQ(j["email"], "zoe@example.com");
    EXPECT_EQ(j["name"], "Zoë");
    EXPECT_EQ(j["status"], "subscribed");
    EXPECT_EQ(j["groups"], json({"news", "vip"}));
    EXPECT_EQ(j["created_at"], "2026-11-27T21:00:00Z");
    EXPECT_EQ(j["id"], 4);
}

TEST(RecipientJson, MissingNameAndGroupsAreFilledIn)
{
    json j = recipientToJson({{"email", v("a@example.com")}, {"status", v("unsubscribed")}});
    EXPECT_EQ(j["name"], "");
    EXPECT_TRUE(j["groups"].is_array());
    EXPECT_TRUE(j["groups"].empty());
}

TEST(SummaryJson, FailureReasonsBecomeObjects)
{
    std::vector<sdbus::Struct<std::string, std::uint64_t>> reasons = {{"mailbox full", 3}, {"no such user", 1}};
    Dict summary = {{"total", t(10)},     {"sent", t(6)},
                    {"failed", t(4)},     {"pending", t(0)},
                    {"success_percent", sdbus::Variant(60.0)},
                    {"failure_reasons", sdbus::Variant(reasons)}};
    json j = summaryToJson(summary);
    EXPECT_EQ(j["total"], 10);
    EXPECT_DOUBLE_EQ(j["success_percent"].get<double>(), 60.0);
    ASSERT_EQ(j["failure_reasons"].size(), 2u);
    EXPECT_EQ(j["failure_reasons"][0], json({{"reason", "mailbox full"}, {"count", 3}}));
    EXPECT_EQ(j["failure_reasons"][1]["reason"], "no such user");
}

TEST(SummaryJson, NoFailuresIsAnEmptyList)
{
    json j = summaryToJson({{"total", t(0)}});
    EXPECT_TRUE(j["failure_reasons"].is_array());
    EXPECT_TRUE(j["failure_reasons"].empty());
    EXPECT_EQ(j["sent"], 0);
}

TEST(DictJson, NestedContainers)
{
    std::map<std::string, std::uint64_t> byStatus = {{"draft", 2}, {"completed", 5}};
    std::vector<Dict> plugins = {{{"name", v("smtp")}, {"state", v("running")}}};
    Dict nested = {{"inner", v("x")}};
    Dict dict = {{"campaigns_by_status", sdbus::Variant(byStatus)},
                 {"plugins", sdbus::Variant(plugins)},
                 {"nested", sdbus::Variant(nested)},
                 {"boxed", sdbus::Variant(sdbus::Variant(std::string("deep")))},
                 {"ok", sdbus::Variant(true)},
                 {"ratio", sdbus::Variant(0.5)},
                 {"path", sdbus::Variant(sdbus::ObjectPath("/org/campaignd/Campaignd1/campaign/7"))}};
    json j = dictToJson(dict);
    EXPECT_EQ(j["campaigns_by_status"], json({{"draft", 2}, {"completed", 5}}));
    EXPECT_EQ(j["plugins"][0]["state"], "running");
    EXPECT_EQ(j["nested"]["inner"], "x");
    EXPECT_EQ(j["boxed"], "deep");
    EXPECT_EQ(j["ok"], true);
    EXPECT_DOUBLE_EQ(j["ratio"].get<double>(), 0.5);
    EXPECT_EQ(j["path"], "/org/campaignd/Campaignd1/campaign/7");
}

TEST(DictJson, ATimeKeyWithAnotherTypeIsLeftAlone)
{
    json j = dictToJson({{"created_at", v("yesterday")}, {"started_at", sdbus::Variant(std::int64_t{5})}});
    EXPECT_EQ(j["created_at"], "yesterday");
    EXPECT_EQ(j["started_at"], 5);
}

TEST(DictJson, UnsupportedTypesDoNotThrow)
{
    std::vector<sdbus::Struct<std::uint32_t, std::uint32_t>> odd = {{1, 2}};
    json j = dictToJson({{"odd", sdbus::Variant(odd)}});
    EXPECT_EQ(j["odd"], "<D-Bus type a(uu)>");
}

TEST(Accessors, FallBackOnMissingOrMistypedValues)
{
    Dict dict = {{"count32", sdbus::Variant(std::uint32_t{9})},
                 {"negative", sdbus::Variant(std::int32_t{-1})},
                 {"text", v("hello")},
                 {"number", t(4)}};
    EXPECT_EQ(dictUint(dict, "count32"), 9u);
    EXPECT_EQ(dictUint(dict, "negative", 42), 42u);
    EXPECT_EQ(dictUint(dict, "text", 1), 1u);
    EXPECT_EQ(dictUint(dict, "missing"), 0u);
    EXPECT_EQ(dictString(dict, "text"), "hello");
    EXPECT_EQ(dictString(dict, "number", "fallback"), "fallback");
    EXPECT_TRUE(dictStrings(dict, "text").empty());
    EXPECT_DOUBLE_EQ(dictDouble(dict, "number"), 4.0);
}

TEST(Accessors, CountsFromStructArrayOrMap)
{
    std::vector<sdbus::Struct<std::string, std::uint64_t>> reasons = {{"b", 5}, {"a", 1}};
    std::map<std::string, std::uint64_t> byStatus = {{"paused", 1}, {"draft", 2}};
    Dict dict = {{"reasons", sdbus::Variant(reasons)}, {"by_status", sdbus::Variant(byStatus)}};
    auto r = dictCounts(dict, "reasons");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].first, "b");  // order as sent (most frequent first)
    EXPECT_EQ(r[0].second, 5u);
    auto s = dictCounts(dict, "by_status");
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].first, "draft");
}

TEST(Text, OtherFieldsForShowCommands)
{
    Dict dict = {{"id", t(1)},
                 {"tags", sdbus::Variant(std::vector<std::string>{"a", "b"})},
                 {"note", v("")},
                 {"weights", sdbus::Variant(std::vector<std::uint64_t>{1, 2})}};
    auto other = otherFieldsAsText(dict, {"id"});
    ASSERT_EQ(other.size(), 3u);
    EXPECT_EQ(other[0], (std::pair<std::string, std::string>{"note", "-"}));
    EXPECT_EQ(other[1], (std::pair<std::string, std::string>{"tags", "a, b"}));
    EXPECT_EQ(other[2], (std::pair<std::string, std::string>{"weights", "[1,2]"}));
}

}  // namespace

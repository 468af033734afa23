// settings_check_test.cpp: validate (ABI 1.4) through the typed handles: the plugin's bad_key
// comes back as the key it blamed (in the order the host handed the settings over), "missing"
// and an index out of range as no key; a failure other than INVALID_ARGUMENT, or a throw, is
// "could not check", not a bad config; a plugin whose table ends before validate (an older
// minor) is not asked at all, and a setting that is no C string never reaches the plugin.
// probe (ABI 1.5) the same way: what the plugin found, its failure's kind and words, a bad
// setting told apart, a throw a failure, an older plugin not asked.
#include "plugin_host_fixture.h"

namespace {

using campaignd::plugins::SettingsCheck;
using Verdict = campaignd::plugins::SettingsCheck::Verdict;

class SettingsCheckTest : public PluginHostTest {
protected:
    void start(const char* built, const std::string& file) {
        install(built, file);
        host_ = std::make_unique<PluginHost>(dir_, lookup());
        host_->start();
        ASSERT_EQ(host_->plugins().at(0).state, PluginState::Running) << host_->plugins().at(0).error;
    }
    void TearDown() override {
        host_.reset();
        PluginHostTest::TearDown();
    }

    SettingsCheck transport(const std::map<std::string, std::string>& settings) {
        auto handle = host_->transport("transport");
        if (!handle) throw std::runtime_error("no transport plugin");
        return handle->validate("relay", settings);
    }

    std::unique_ptr<PluginHost> host_;
};

TEST_F(SettingsCheckTest, GoodTransportSettingsAreValid) {
    start(TEST_PLUGIN_TRANSPORT, "transport.so");
    const auto check = transport({{"URL", "smtp://mail.example.org"}});
    EXPECT_EQ(check.verdict, Verdict::Valid) << check.message;
    EXPECT_FALSE(check.bad());
}

TEST_F(SettingsCheckTest, TheBadKeyIndexComesBackAsTheKey) {
    start(TEST_PLUGIN_TRANSPORT, "transport.so");
    // The map hands them over sorted: Alpha (0), Beta (1), ValidateBad (2), Zulu (3).
    const auto check = transport({{"Zulu", "z"}, {"Alpha", "a"}, {"ValidateBad", "Beta"}, {"Beta", "b"}});
    EXPECT_EQ(check.verdict, Verdict::BadSetting);
    EXPECT_TRUE(check.bad());
    EXPECT_EQ(check.key, "Beta");
    EXPECT_EQ(check.message, "plugin transport: Beta= is bad in [Transport relay]");

    EXPECT_EQ(transport({{"Zulu", "z"}, {"ValidateBad", "Zulu"}}).key, "Zulu");
}

TEST_F(SettingsCheckTest, AMissingKeyOrAnIndexOutOfRangeBlamesNoKey) {
    start(TEST_PLUGIN_TRANSPORT, "transport.so");
    const auto missing = transport({{"ValidateBad", "URL"}});  // bad_key == count
    EXPECT_EQ(missing.verdict, Verdict::BadSetting);
    EXPECT_EQ(missing.key, "");
    EXPECT_CONTAINS(missing.message, "URL= is bad");

    const auto wild = transport({{"ValidateBad", "URL"}, {"ValidateIndex", "99"}});
    EXPECT_EQ(wild.verdict, Verdict::BadSetting);
    EXPECT_EQ(wild.key, "");
}

TEST_F(SettingsCheckTest, AFailureToCheckIsNotABadSetting) {
    start(TEST_PLUGIN_TRANSPORT, "transport.so");
    const auto failed = transport({{"ValidateStatus", "failed"}});
    EXPECT_EQ(failed.verdict, Verdict::CheckFailed);
    EXPECT_FALSE(failed.bad());
    EXPECT_EQ(failed.message, "plugin transport: cannot check");

    const auto threw = transport({{"ValidateThrow", "yes"}});
    EXPECT_EQ(threw.verdict, Verdict::CheckFailed);
    EXPECT_CONTAINS(threw.message, "validate threw an exception (not allowed by the ABI)");
}

TEST_F(SettingsCheckTest, ASettingThatIsNoCStringNeverReachesThePlugin) {
    start(TEST_PLUGIN_TRANSPORT, "transport.so");
    // ValidateThrow would throw if the plugin saw it.
    const auto check = transport({{"ValidateThrow", "yes"}, {"URL", std::string("smtp://a\0b", 10)}});
    EXPECT_EQ(check.verdict, Verdict::BadSetting);
    EXPECT_EQ(check.key, "URL");
    EXPECT_CONTAINS(check.message, "NUL byte");
}

TEST_F(SettingsCheckTest, ABounceSourcesBadKeyComesBackAsTheKey) {
    start(TEST_PLUGIN_CAPABILITY, "capability.so");
    auto source = host_->bounceSource("capability");
    ASSERT_TRUE(source);
    EXPECT_EQ(source->validate({{"URL", "imaps://x/INBOX"}, {"Username", "b"}}).verdict, Verdict::Valid);
    // In the order given, not sorted.
    const auto bad = source->validate({{"URL", "imaps://x/INBOX"}, {"Username", "bad"}, {"AfterProcessing", "seen"}});
    EXPECT_EQ(bad.verdict, Verdict::BadSetting);
    EXPECT_EQ(bad.key, "Username");
    EXPECT_EQ(bad.message, "plugin capability: Username=bad is refused in [Bounces]");
    const auto missing = source->validate({{"URL", "missing"}});
    EXPECT_EQ(missing.verdict, Verdict::BadSetting);
    EXPECT_EQ(missing.key, "");
    EXPECT_EQ(source->validate({{"URL", "uncheckable"}}).verdict, Verdict::CheckFailed);
}

TEST_F(SettingsCheckTest, APluginBuiltBeforeValidateIsNotAskedAndStillServes) {
    // Its validate is bait that aborts: reading past the tables' struct_size would end the test.
    start(TEST_PLUGIN_OLD_VALIDATE, "old-validate.so");
    auto transport = host_->transport("old-validate");
    ASSERT_TRUE(transport) << "a 1.3 transport is still a transport";
    const auto check = transport->validate("relay", {{"URL", "htp:/mail example.org:25"}});
    EXPECT_EQ(check.verdict, Verdict::Unchecked);
    EXPECT_FALSE(check.bad());
    auto source = host_->bounceSource("old-validate");
    ASSERT_TRUE(source) << "a 1.3 bounce source is still a bounce source";
    EXPECT_EQ(source->validate({{"URL", "bad"}}).verdict, Verdict::Unchecked);
}

using campaignd::plugins::TransportProbe;
using campaignd::plugins::TransportStatus;

TEST_F(SettingsCheckTest, AProbeSaysWhatItReachedOrWhyNot) {
    start(TEST_PLUGIN_TRANSPORT, "transport.so");
    auto handle = host_->transport("transport");
    ASSERT_TRUE(handle);
    const auto reached = handle->probe("relay", {{"ProbeFound", "smtp://mx:25, logged in\x01 as x"}});
    EXPECT_EQ(reached.verdict, TransportProbe::Verdict::Reached);
    EXPECT_EQ(reached.message, "smtp://mx:25, logged in  as x") << "sanitised like any plugin text";

    const std::pair<const char*, TransportStatus> kinds[] = {{"auth", TransportStatus::Auth},
                                                             {"tls", TransportStatus::Tls},
                                                             {"connection", TransportStatus::Connection},
                                                             {"failed", TransportStatus::Failed},
                                                             {"invalid", TransportStatus::Failed}};
    for (const auto& [status, kind] : kinds) {
        const auto failed = handle->probe("relay", {{"ProbeStatus", status}});
        EXPECT_EQ(failed.verdict, TransportProbe::Verdict::Failed) << status;
        EXPECT_EQ(failed.status, kind) << status;
        EXPECT_EQ(failed.badSetting, std::string(status) == "invalid") << status;
        EXPECT_EQ(failed.message, std::string("probe relay: ") + status);
    }
    const auto threw = handle->probe("relay", {{"ProbeThrow", "yes"}});
    EXPECT_EQ(threw.verdict, TransportProbe::Verdict::Failed);
    EXPECT_EQ(threw.status, TransportStatus::Failed);
    EXPECT_FALSE(threw.badSetting);
    EXPECT_CONTAINS(threw.message, "probe threw an exception");

    const auto refused = handle->probe("relay", {{"URL", std::string("smtp://a\0b", 10)}});
    EXPECT_EQ(refused.verdict, TransportProbe::Verdict::Failed);
    EXPECT_TRUE(refused.badSetting) << "a setting that is no C string never reaches the plugin";
}

TEST_F(SettingsCheckTest, APluginBuiltBeforeProbeIsNotAsked) {
    // Its tables end before validate: reading probe past struct_size would reach the bait.
    start(TEST_PLUGIN_OLD_VALIDATE, "old-validate.so");
    auto transport = host_->transport("old-validate");
    ASSERT_TRUE(transport);
    EXPECT_EQ(transport->probe("relay", {{"URL", "smtp://x"}}).verdict, TransportProbe::Verdict::Unsupported);
}

}  // namespace

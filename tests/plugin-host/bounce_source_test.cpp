// bounce_source_test.cpp: the bounce-source capability through the "capability" test plugin,
// whose fetch() hands back the settings it was given as one message. Settings reach the plugin
// as given; a setting that is no C string (a NUL byte, over 64 KiB) is refused before the
// plugin runs, exactly as a transport's are.
#include "plugin_host_fixture.h"

namespace {

using campaignd::plugins::BounceFetchStatus;
using campaignd::plugins::TransportStatus;

class BounceSourceTest : public PluginHostTest {
protected:
    void SetUp() override {
        PluginHostTest::SetUp();
        install(TEST_PLUGIN_CAPABILITY, "capability.so");
        host_ = std::make_unique<PluginHost>(dir_, lookup());
        host_->start();
        ASSERT_EQ(host_->plugins().at(0).state, PluginState::Running) << host_->plugins().at(0).error;
    }
    void TearDown() override {
        host_.reset();
        PluginHostTest::TearDown();
    }

    // Runs the source; every message as "ID: DATA" in `seen`.
    BounceFetchStatus fetch(const std::vector<std::pair<std::string, std::string>>& settings,
                            std::vector<std::string>& seen) {
        auto source = host_->bounceSource("capability");
        if (!source) throw std::runtime_error("no bounce source");
        return source->fetch(settings, [&](std::string_view id, std::string_view data) {
            seen.push_back(std::string(id) + ": " + std::string(data));
        });
    }

    std::unique_ptr<PluginHost> host_;
};

TEST_F(BounceSourceTest, SettingsReachThePluginInOrder) {
    std::vector<std::string> seen;
    const BounceFetchStatus status =
        fetch({{"URL", "imaps://mail.example.org/INBOX"}, {"Username", "bounces"}}, seen);
    EXPECT_TRUE(status.ok()) << status.message;
    EXPECT_EQ(seen, (std::vector<std::string>{"settings: URL=imaps://mail.example.org/INBOX\nUsername=bounces\n"}));
    ASSERT_EQ(host_->bounceSources().size(), 1u);
    EXPECT_EQ(host_->bounceSources()[0].pluginName(), "capability");
}

TEST_F(BounceSourceTest, ASettingWithANulOrTooLongIsRefusedBeforeThePluginRuns) {
    const std::vector<std::vector<std::pair<std::string, std::string>>> cases{
        {{std::string("Bad\0Key", 7), "x"}},
        {{"Username", std::string("bounces\0admin", 13)}},
        {{"URL", "imaps://mail.example.org/INBOX"}, {"PasswordFile", std::string(70000, 'p')}},
    };
    for (const auto& settings : cases) {
        std::vector<std::string> seen;
        const BounceFetchStatus status = fetch(settings, seen);
        EXPECT_EQ(status.status, TransportStatus::Failed);
        EXPECT_CONTAINS(status.message, "plugin capability: setting ");
        EXPECT_CONTAINS(status.message, "contains a NUL byte or is too long");
        EXPECT_TRUE(seen.empty()) << "the plugin ran: " << seen.at(0);
    }
}

TEST_F(BounceSourceTest, AMessageTheSinkCannotReadGoesBackAsInvalidArgument) {
    auto source = host_->bounceSource("capability");
    ASSERT_TRUE(source.has_value());
    // The test plugin returns the sink's status as its own: the refusal is the run's status.
    const BounceFetchStatus status = source->fetch({}, [](std::string_view, std::string_view) {
        throw campaignd::Error(campaignd::ErrorCode::InvalidArgument, "not a mail message");
    });
    EXPECT_EQ(status.status, TransportStatus::Failed);
    EXPECT_EQ(status.message, "plugin capability: not a mail message");
}

TEST_F(BounceSourceTest, AnyOtherSinkFailureIsRethrownAfterThePluginReturned) {
    auto source = host_->bounceSource("capability");
    ASSERT_TRUE(source.has_value());
    EXPECT_THROW(source->fetch({}, [](std::string_view, std::string_view) { throw std::runtime_error("db gone"); }),
                 std::runtime_error);
}

}  // namespace

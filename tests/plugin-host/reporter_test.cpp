// reporter_test.cpp: the reporter capability through the "capability" test plugin: the report
// reaches the plugin and its message comes back whole; header fields with a control character
// never reach it; a message over the caller's limit is an error, not a cut message.
#include "plugin_host_fixture.h"

namespace {

using campaignd::plugins::CampaignReport;
using campaignd::plugins::ReportError;

class ReporterTest : public PluginHostTest {
protected:
    void SetUp() override {
        PluginHostTest::SetUp();
        install(TEST_PLUGIN_CAPABILITY, "capability.so");
        host_ = std::make_unique<PluginHost>(dir_, lookup());
        host_->start();
        ASSERT_EQ(host_->plugins().at(0).state, PluginState::Running) << host_->plugins().at(0).error;
        report_.campaignName = "Spring";
        report_.from = "campaignd@example.org";
        report_.to = "admin@example.org";
        report_.messageId = "<r1@example.org>";
        report_.sent = 7;
    }
    void TearDown() override {
        host_.reset();
        PluginHostTest::TearDown();
    }

    std::unique_ptr<PluginHost> host_;
    CampaignReport report_;
};

TEST_F(ReporterTest, ComposeReturnsThePluginsMessage) {
    auto reporter = host_->reporter("capability");
    ASSERT_TRUE(reporter.has_value());
    EXPECT_EQ(reporter->compose(report_), "Subject: report capability\r\n\r\nsent 7\r\n");
}

TEST_F(ReporterTest, AHeaderFieldWithAControlCharacterNeverReachesThePlugin) {
    auto reporter = host_->reporter("capability");
    ASSERT_TRUE(reporter.has_value());
    report_.to = "admin@example.org\r\nBcc: everyone@example.org";
    try {
        reporter->compose(report_);
        ADD_FAILURE() << "composed";
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()), "report: To contains a control character");
    }
}

TEST_F(ReporterTest, AMessageOverTheLimitIsAnError) {
    auto reporter = host_->reporter("capability");
    ASSERT_TRUE(reporter.has_value());
    try {
        reporter->compose(report_, 10);
        ADD_FAILURE() << "composed";
    } catch (const ReportError& e) {
        EXPECT_CONTAINS(e.what(), "reporter capability: ");
        EXPECT_CONTAINS(e.what(), "larger than");
    }
}

}  // namespace

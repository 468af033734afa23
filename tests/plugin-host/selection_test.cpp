// selection_test.cpp: PluginHost::select(), the one rule for choosing the plugin of a
// capability: the named one if it runs and serves it, the only one when none is named, and an
// error naming every candidate when several could serve and none is named. A plugin that
// claims the bit without a usable table is never a candidate.
#include "plugin_host_fixture.h"

namespace {

using campaignd::plugins::PluginSelection;

class SelectionTest : public PluginHostTest {
protected:
    std::unique_ptr<PluginHost> startHost() {
        auto host = std::make_unique<PluginHost>(dir_, lookup());
        host->start();
        return host;
    }
    static std::string chosen(const PluginSelection& s) { return s.plugin ? s.plugin->name() : "(none)"; }
};

TEST_F(SelectionTest, NothingWhenNoPluginServesTheCapability) {
    install(TEST_PLUGIN_GOOD, "good.so");
    const auto host = startHost();
    const PluginSelection s = host->select(CAMPAIGND_CAP_IMPORTER, "");
    EXPECT_TRUE(s.ok()) << s.error;
    EXPECT_EQ(s.plugin, nullptr);
    EXPECT_TRUE(s.candidates.empty());
}

TEST_F(SelectionTest, TheOnlyOneWhenNoneIsNamedAndABitWithoutATableDoesNotCount) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    install(TEST_PLUGIN_OLD_IMPORTER, "old-importer.so");  // claims the bit, has no usable table
    const auto host = startHost();
    const PluginSelection s = host->select(CAMPAIGND_CAP_IMPORTER, "");
    EXPECT_TRUE(s.ok()) << s.error;
    EXPECT_EQ(chosen(s), "importer");
    EXPECT_EQ(s.candidates, (std::vector<std::string>{"importer"}));
}

TEST_F(SelectionTest, SeveralAndNoneNamedIsAnErrorNamingEveryCandidate) {
    install(TEST_PLUGIN_BOUNCE_A, "bounce-a.so");
    install(TEST_PLUGIN_BOUNCE_B, "bounce-b.so");
    const auto host = startHost();
    const PluginSelection s = host->select(CAMPAIGND_CAP_BOUNCE_SOURCE, "");
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.plugin, nullptr) << "the first loaded must not win by accident";
    EXPECT_EQ(s.candidates, (std::vector<std::string>{"bounce-a", "bounce-b"}));
    EXPECT_EQ(s.error, "more than one running plugin is a bounce source (\"bounce-a\", \"bounce-b\"); name the one to use");
    // Only bounce-a is also a reporter: no ambiguity there.
    EXPECT_EQ(chosen(host->select(CAMPAIGND_CAP_REPORTER, "")), "bounce-a");
}

TEST_F(SelectionTest, TheNamedOneWinsAmongSeveral) {
    install(TEST_PLUGIN_BOUNCE_A, "bounce-a.so");
    install(TEST_PLUGIN_BOUNCE_B, "bounce-b.so");
    const auto host = startHost();
    const PluginSelection s = host->select(CAMPAIGND_CAP_BOUNCE_SOURCE, "bounce-b");
    EXPECT_TRUE(s.ok()) << s.error;
    EXPECT_EQ(chosen(s), "bounce-b");
    EXPECT_EQ(s.candidates, (std::vector<std::string>{"bounce-a", "bounce-b"}));
}

TEST_F(SelectionTest, ANamedPluginThatDoesNotRunIsAnError) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    install(TEST_PLUGIN_GOOD2, "good2.so");
    set("good2", "FailStart", "yes");
    const auto host = startHost();
    const PluginSelection absent = host->select(CAMPAIGND_CAP_IMPORTER, "csv");
    EXPECT_EQ(absent.plugin, nullptr);
    EXPECT_EQ(absent.error, "no running plugin \"csv\" in " + dir_.string() + " (see campaignd-ctl status)")
        << "the only importer is not taken in place of the named one";
    const PluginSelection failed = host->select(CAMPAIGND_CAP_TRANSPORT, "good2");
    EXPECT_EQ(failed.plugin, nullptr);
    EXPECT_CONTAINS(failed.error, "no running plugin \"good2\" in " + dir_.string() + " (good2.so is failed: start failed");
}

TEST_F(SelectionTest, ANamedPluginWithoutTheCapabilityIsAnError) {
    install(TEST_PLUGIN_BOUNCE_B, "bounce-b.so");
    install(TEST_PLUGIN_OLD_IMPORTER, "old-importer.so");
    const auto host = startHost();
    const PluginSelection other = host->select(CAMPAIGND_CAP_IMPORTER, "bounce-b");
    EXPECT_EQ(other.plugin, nullptr);
    EXPECT_EQ(other.error, "the plugin \"bounce-b\" is not an importer");
    const PluginSelection bitOnly = host->select(CAMPAIGND_CAP_IMPORTER, "old-importer");
    EXPECT_EQ(bitOnly.plugin, nullptr);
    EXPECT_EQ(bitOnly.error, "the plugin \"old-importer\" is not an importer");
    EXPECT_EQ(host->select(CAMPAIGND_CAP_REPORTER, "bounce-b").error, "the plugin \"bounce-b\" is not a reporter");
}

}  // namespace

// loader_test.cpp: loading and refusing plugins: the directory scan, the descriptor checks
// (ABI major, struct_size, names), start and stop in order, and a host that survives every
// broken plugin at once. Asserts what an operator sees: each file's state and reason.
#include "plugin_host_fixture.h"

namespace {

TEST_F(PluginHostTest, MissingDirectoryIsNotAnError) {
    PluginHost host(root_ / "does-not-exist", lookup());
    host.start();
    EXPECT_TRUE(host.plugins().empty());
    EXPECT_EQ(host.findPlugin("good"), nullptr);
}

TEST_F(PluginHostTest, OnlyVisibleSoFilesAreConsidered) {
    std::ofstream(dir_ / "README") << "not a plugin\n";
    install(TEST_PLUGIN_GOOD, "good.so.1");
    install(TEST_PLUGIN_GOOD, ".hidden.so");
    fs::create_directory(dir_ / "subdir.so");
    PluginHost host(dir_, lookup());
    host.start();
    EXPECT_TRUE(host.plugins().empty());
}

TEST_F(PluginHostTest, GoodPluginRunsAndDescribesItself) {
    const fs::path file = install(TEST_PLUGIN_GOOD, "good.so");
    PluginHost host(dir_, lookup());
    host.start();
    const auto all = host.plugins();
    ASSERT_EQ(all.size(), 1u);
    const PluginInfo& p = all[0];
    EXPECT_EQ(p.name, "good");
    EXPECT_EQ(p.path, file);
    EXPECT_EQ(p.version, "1.2.3");
    EXPECT_EQ(p.description, "Test plugin with config switches");
    EXPECT_EQ(p.state, PluginState::Running);
    EXPECT_EQ(campaignd::plugins::toString(p.state), "running");
    EXPECT_EQ(p.error, "");
    EXPECT_EQ(p.capabilities, (std::vector<std::string>{"transport", "reporter"}));
    EXPECT_EQ(p.abiMajor, 1u);
    EXPECT_EQ(p.abiMinor, static_cast<std::uint32_t>(CAMPAIGND_PLUGIN_ABI_MINOR));
}

TEST_F(PluginHostTest, StopRunsInReverseOrderOnDestruction) {
    install(TEST_PLUGIN_GOOD, "a-good.so");
    install(TEST_PLUGIN_GOOD2, "b-good2.so");
    const fs::path marker = root_ / "marker";
    set("good", "StopMarker", marker.string());
    set("good2", "StopMarker", marker.string());
    {
        PluginHost host(dir_, lookup());
        host.start();
        EXPECT_EQ(readFile(marker), "start good\nstart good2\n");
    }
    EXPECT_EQ(readFile(marker), "start good\nstart good2\nstop good2\nstop good\n");
}

TEST_F(PluginHostTest, ExplicitStopMarksStoppedOnceAndStartTwiceIsANoOp) {
    install(TEST_PLUGIN_GOOD, "good.so");
    const fs::path marker = root_ / "marker";
    set("good", "StopMarker", marker.string());
    PluginHost host(dir_, lookup());
    host.start();
    host.start();
    EXPECT_EQ(host.plugins().size(), 1u);
    host.stop();
    host.stop();
    EXPECT_EQ(readFile(marker), "start good\nstop good\n");
    EXPECT_EQ(host.plugins().at(0).state, PluginState::Stopped);
    EXPECT_EQ(host.findPlugin("good"), nullptr);
}

TEST_F(PluginHostTest, FailingStartIsRecordedWithThePluginsMessage) {
    install(TEST_PLUGIN_GOOD, "good.so");
    const fs::path marker = root_ / "marker";
    set("good", "FailStart", "yes");
    set("good", "StopMarker", marker.string());
    {
        PluginHost host(dir_, lookup());
        host.start();
        const PluginInfo p = host.plugins().at(0);
        EXPECT_EQ(p.state, PluginState::Failed);
        EXPECT_EQ(campaignd::plugins::toString(p.state), "failed");
        EXPECT_EQ(p.name, "good");
        EXPECT_EQ(p.error, "start failed (status 1): FailStart=yes is set in [Plugin good]");
        EXPECT_EQ(host.findPlugin("good"), nullptr);
    }
    EXPECT_FALSE(fs::exists(marker));  // stop() is not called after a failed start
}

TEST_F(PluginHostTest, ThrowingStartIsCaughtAndRecorded) {
    install(TEST_PLUGIN_GOOD, "good.so");
    install(TEST_PLUGIN_GOOD2, "good2.so");
    set("good", "ThrowInStart", "yes");
    PluginHost host(dir_, lookup());
    host.start();
    const auto all = host.plugins();
    EXPECT_EQ(byFile(all, "good.so").state, PluginState::Failed);
    EXPECT_CONTAINS(byFile(all, "good.so").error, "start threw an exception");
    EXPECT_CONTAINS(byFile(all, "good.so").error, "ThrowInStart=yes");
    EXPECT_EQ(byFile(all, "good2.so").state, PluginState::Running);
}

TEST_F(PluginHostTest, UnterminatedErrorMessageIsBoundedAndCleaned) {
    install(TEST_PLUGIN_GOOD, "good.so");
    set("good", "GarbageError", "yes");
    PluginHost host(dir_, lookup());
    host.start();
    const PluginInfo p = host.plugins().at(0);
    EXPECT_EQ(p.state, PluginState::Failed);
    EXPECT_CONTAINS(p.error, "start failed (status 42): ");
    EXPECT_LT(p.error.size(), 1100u);
    for (unsigned char c : p.error) {
        EXPECT_GE(c, 0x20);  // neither the control bytes nor the invalid 0xff survive
        EXPECT_LT(c, 0x7f);
    }
}

TEST_F(PluginHostTest, WrongAbiMajorIsRejectedBeforeAnythingRuns) {
    install(TEST_PLUGIN_WRONG_ABI, "wrong-abi.so");
    PluginHost host(dir_, lookup());
    host.start();  // every function in its descriptor aborts: reaching here means none ran
    const PluginInfo p = host.plugins().at(0);
    EXPECT_EQ(p.state, PluginState::Rejected);
    EXPECT_EQ(campaignd::plugins::toString(p.state), "rejected");
    EXPECT_EQ(p.abiMajor, 2u);
    EXPECT_EQ(p.error, "built for plugin ABI 2.0, this host speaks ABI 1.6");
    EXPECT_EQ(p.name, "");
}

TEST_F(PluginHostTest, TooSmallStructSizeIsRejected) {
    install(TEST_PLUGIN_SMALL_STRUCT, "small-struct.so");
    PluginHost host(dir_, lookup());
    host.start();
    const PluginInfo p = host.plugins().at(0);
    EXPECT_EQ(p.state, PluginState::Rejected);
    EXPECT_CONTAINS(p.error, "descriptor struct_size 24 is smaller than an ABI 1.0 descriptor");
    EXPECT_EQ(p.name, "");  // nothing past the fixed prefix was read
}

TEST_F(PluginHostTest, MissingEntryPointIsRejected) {
    install(TEST_PLUGIN_NO_ENTRY, "no-entry.so");
    PluginHost host(dir_, lookup());
    host.start();
    const PluginInfo p = host.plugins().at(0);
    EXPECT_EQ(p.state, PluginState::Rejected);
    EXPECT_CONTAINS(p.error, "no entry point campaignd_plugin_entry_v1");
}

TEST_F(PluginHostTest, NullDescriptorIsRejected) {
    install(TEST_PLUGIN_NULL_DESCRIPTOR, "null-descriptor.so");
    PluginHost host(dir_, lookup());
    host.start();
    const PluginInfo p = host.plugins().at(0);
    EXPECT_EQ(p.state, PluginState::Rejected);
    EXPECT_EQ(p.error, "the entry point returned no descriptor");
}

TEST_F(PluginHostTest, FileThatIsNotAnElfObjectFailsToLoad) {
    std::ofstream(dir_ / "x.so") << "#!/bin/sh\necho this is not a shared object\n";
    PluginHost host(dir_, lookup());
    host.start();
    const PluginInfo p = host.plugins().at(0);
    EXPECT_EQ(p.path.filename(), "x.so");
    EXPECT_EQ(p.state, PluginState::Failed);
    EXPECT_CONTAINS(p.error, "cannot load: ");
    EXPECT_CONTAINS(p.error, "x.so");  // dlerror names the file
}

TEST_F(PluginHostTest, DuplicateNameKeepsTheFirstAndRejectsTheSecond) {
    const fs::path first = install(TEST_PLUGIN_TWIN_A, "twin-a.so");
    install(TEST_PLUGIN_TWIN_B, "twin-b.so");
    PluginHost host(dir_, lookup());
    host.start();
    const auto all = host.plugins();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].state, PluginState::Running);
    EXPECT_EQ(all[0].version, "a");
    EXPECT_EQ(all[1].state, PluginState::Rejected);
    EXPECT_EQ(all[1].error, "duplicate plugin name 'twin': already loaded from " + first.string());
    ASSERT_NE(host.findPlugin("twin"), nullptr);
}

TEST_F(PluginHostTest, InvalidNameIsRejected) {
    install(TEST_PLUGIN_BAD_NAME, "bad-name.so");
    PluginHost host(dir_, lookup());
    host.start();
    const PluginInfo p = host.plugins().at(0);
    EXPECT_EQ(p.state, PluginState::Rejected);
    EXPECT_CONTAINS(p.error, "invalid plugin name '../etc/passwd'");
}

TEST_F(PluginHostTest, GarbageStringsAreCopiedBoundedAndSanitised) {
    install(TEST_PLUGIN_GARBAGE, "garbage.so");
    PluginHost host(dir_, lookup());
    host.start();
    const PluginInfo p = host.plugins().at(0);
    EXPECT_EQ(p.state, PluginState::Running);
    EXPECT_EQ(p.name, "garbage");
    EXPECT_EQ(p.version, "1.0  \?\?\?(");  // control bytes -> space, invalid UTF-8 -> ?
    EXPECT_EQ(p.description, std::string(512, 'A'));
    EXPECT_EQ(p.capabilities, (std::vector<std::string>{"importer", "unknown-bit-40"}));
}

TEST_F(PluginHostTest, NewerMinorIsAcceptedAndItsExtraFieldsIgnored) {
    install(TEST_PLUGIN_NEWER_MINOR, "newer-minor.so");
    PluginHost host(dir_, lookup());
    host.start();
    const PluginInfo p = host.plugins().at(0);
    EXPECT_EQ(p.state, PluginState::Running) << p.error;
    EXPECT_EQ(p.abiMinor, 7u);
    const auto* running = host.findPlugin("newer");
    ASSERT_NE(running, nullptr);
    EXPECT_GT(running->descriptorSize(), sizeof(campaignd_plugin_descriptor));
    EXPECT_EQ(running->descriptor().abi_minor, 7u);
}

TEST_F(PluginHostTest, WorldWritableFileIsRejected) {
    const fs::path file = install(TEST_PLUGIN_GOOD, "good.so");
    fs::permissions(file, fs::perms(0757));
    PluginHost host(dir_, lookup());
    host.start();
    const PluginInfo p = host.plugins().at(0);
    EXPECT_EQ(p.state, PluginState::Rejected);
    EXPECT_CONTAINS(p.error, "writable by anyone");
}

TEST_F(PluginHostTest, LookupByNameAndCapability) {
    install(TEST_PLUGIN_GOOD, "good.so");
    install(TEST_PLUGIN_GARBAGE, "garbage.so");
    install(TEST_PLUGIN_NEWER_MINOR, "newer-minor.so");
    PluginHost host(dir_, lookup());
    host.start();
    const auto* good = host.findPlugin("good");
    ASSERT_NE(good, nullptr);
    EXPECT_EQ(good->name(), "good");
    EXPECT_NE(good->instance(), nullptr);
    EXPECT_TRUE(good->hasCapability(CAMPAIGND_CAP_TRANSPORT));
    EXPECT_FALSE(good->hasCapability(CAMPAIGND_CAP_IMPORTER));
    EXPECT_EQ(host.findPlugin("nope"), nullptr);

    auto names = [](const std::vector<const campaignd::plugins::RunningPlugin*>& ps) {
        std::vector<std::string> out;
        for (const auto* p : ps) out.push_back(p->name());
        return out;
    };
    EXPECT_EQ(names(host.pluginsWithCapability(CAMPAIGND_CAP_TRANSPORT)), (std::vector<std::string>{"good"}));
    EXPECT_EQ(names(host.pluginsWithCapability(CAMPAIGND_CAP_IMPORTER)), (std::vector<std::string>{"garbage"}));
    EXPECT_EQ(names(host.pluginsWithCapability(CAMPAIGND_CAP_BOUNCE_SOURCE)),
              (std::vector<std::string>{"newer"}));
    EXPECT_TRUE(host.pluginsWithCapability(CAMPAIGND_CAP_TRANSPORT | CAMPAIGND_CAP_IMPORTER).empty());
}

TEST_F(PluginHostTest, HostSurvivesEveryBrokenPluginAtOnceInSortedOrder) {
    install(TEST_PLUGIN_WRONG_ABI, "c-wrong-abi.so");
    install(TEST_PLUGIN_SMALL_STRUCT, "d-small.so");
    install(TEST_PLUGIN_NO_ENTRY, "e-no-entry.so");
    install(TEST_PLUGIN_NULL_DESCRIPTOR, "f-null.so");
    install(TEST_PLUGIN_TWIN_A, "g-twin-a.so");
    install(TEST_PLUGIN_TWIN_B, "h-twin-b.so");
    install(TEST_PLUGIN_GARBAGE, "i-garbage.so");
    install(TEST_PLUGIN_BAD_NAME, "j-bad-name.so");
    install(TEST_PLUGIN_GOOD2, "k-good2.so");
    install(TEST_PLUGIN_GOOD, "z-good.so");
    std::ofstream(dir_ / "x.so") << "garbage";
    const fs::path marker = root_ / "marker";
    set("good", "StopMarker", marker.string());
    set("good2", "FailStart", "yes");
    {
        PluginHost host(dir_, lookup());
        host.start();
        std::vector<std::pair<std::string, std::string>> seen;
        for (const auto& p : host.plugins())
            seen.emplace_back(p.path.filename().string(), std::string(campaignd::plugins::toString(p.state)));
        const std::vector<std::pair<std::string, std::string>> expected{
            {"c-wrong-abi.so", "rejected"}, {"d-small.so", "rejected"},  {"e-no-entry.so", "rejected"},
            {"f-null.so", "rejected"},      {"g-twin-a.so", "running"},  {"h-twin-b.so", "rejected"},
            {"i-garbage.so", "running"},    {"j-bad-name.so", "rejected"}, {"k-good2.so", "failed"},
            {"x.so", "failed"},             {"z-good.so", "running"},
        };
        EXPECT_EQ(seen, expected);
        for (const auto& p : host.plugins()) {
            if (p.state != PluginState::Running) {
                EXPECT_FALSE(p.error.empty()) << p.path;
            }
        }
    }
    EXPECT_EQ(readFile(marker), "start good\nstop good\n");
}

TEST(PluginCapabilities, NamesAreStableStrings) {
    using campaignd::plugins::capabilityNames;
    EXPECT_TRUE(capabilityNames(0).empty());
    EXPECT_EQ(capabilityNames(CAMPAIGND_CAP_TRANSPORT | CAMPAIGND_CAP_IMPORTER | CAMPAIGND_CAP_BOUNCE_SOURCE |
                              CAMPAIGND_CAP_REPORTER),
              (std::vector<std::string>{"transport", "importer", "bounce-source", "reporter"}));
    EXPECT_EQ(capabilityNames(UINT64_C(1) << 63), (std::vector<std::string>{"unknown-bit-63"}));
}

}  // namespace

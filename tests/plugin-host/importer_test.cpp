// importer_test.cpp: the importer capability through the "importer" test plugin: rows checked
// and delivered in order, options, rejection, failure, cancellation, exceptions carried around
// the plugin, rows that break the contract, and older plugins that claim the bit.
#include "plugin_host_fixture.h"

namespace {

TEST_F(ImporterTest, RowsAreValidatedByTheDaemonsServicesAndDeliveredInOrder) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup(), fakeServices());
    host.start();
    ASSERT_EQ(host.plugins().at(0).state, PluginState::Running) << host.plugins().at(0).error;
    SeenImport seen;
    const ImportResult r = run(host,
                               "row Ann@EXAMPLE.Org Ann Lee\n"
                               "row no-at-sign\n"
                               "name ok\n"
                               "name bad\\x01\n"
                               "progress\n",
                               recordingSink(seen));
    EXPECT_EQ(r.outcome, ImportOutcome::Completed) << r.message;
    EXPECT_EQ(r.message, "");
    EXPECT_EQ(r.rows, 1u);
    EXPECT_EQ(r.rowErrors, 2u);
    EXPECT_EQ(seen.events, (std::vector<std::string>{
                               "row 1 Ann@example.org|Ann Lee|1|alpha,beta",
                               "error 2 address \"no-at-sign\": has no @",
                               "error 4 name contains the control character 0x01",
                               "progress 4",
                           }));
}

TEST_F(ImporterTest, OptionsReachThePlugin) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup(), fakeServices());
    host.start();
    SeenImport seen;
    ImportOptions options;
    options.delimiter = ';';
    options.map = {"email=Adresse", "name=Wer"};
    options.maxBytes = 4096;
    const ImportResult r = run(host, "options\n", recordingSink(seen), options);
    EXPECT_EQ(r.outcome, ImportOutcome::Completed);
    EXPECT_EQ(seen.events, (std::vector<std::string>{"error 1 delimiter=59 map=email=Adresse,name=Wer max_bytes=4096"}));
}

TEST_F(ImporterTest, AnOptionThatIsNoCStringNeverReachesThePlugin) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup(), fakeServices());
    host.start();
    for (const std::string& entry : {std::string("email=Ad\0resse", 15), "name=" + std::string(70000, 'x')}) {
        SeenImport seen;
        ImportOptions options;
        options.map = {"email=Adresse", entry};
        const ImportResult r = run(host, "options\n", recordingSink(seen), options);
        EXPECT_EQ(r.outcome, ImportOutcome::Failed);
        EXPECT_CONTAINS(r.message, "plugin importer: import option ");
        EXPECT_CONTAINS(r.message, "contains a NUL byte or is too long");
        EXPECT_TRUE(seen.events.empty()) << "the plugin ran: " << seen.events.at(0);
    }
}

TEST_F(ImporterTest, StructuralErrorIsRejectedWithThePluginsMessage) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup(), fakeServices());
    host.start();
    SeenImport seen;
    const ImportResult r = run(host, "row a@b.org\nreject\nrow c@d.org\n", recordingSink(seen));
    EXPECT_EQ(r.outcome, ImportOutcome::Rejected);
    EXPECT_EQ(r.message, "line 2: rejected");
    EXPECT_EQ(seen.events.size(), 1u);  // nothing after the structural error
}

TEST_F(ImporterTest, PluginFailureIsFailedWithItsStatusAndMessage) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup(), fakeServices());
    host.start();
    SeenImport seen;
    const ImportResult r = run(host, "fail\n", recordingSink(seen));
    EXPECT_EQ(r.outcome, ImportOutcome::Failed);
    EXPECT_EQ(r.message, "plugin importer: import failed (status 1): disk on fire");
}

TEST_F(ImporterTest, ProgressReturningFalseCancels) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup(), fakeServices());
    host.start();
    SeenImport seen;
    ImportSink sink = recordingSink(seen);
    sink.progress = [&seen](std::uint64_t rows, std::uint64_t) {
        seen.events.push_back("progress " + std::to_string(rows));
        return false;
    };
    const ImportResult r = run(host, "row a@b.org\nprogress\nrow c@d.org\n", sink);
    EXPECT_EQ(r.outcome, ImportOutcome::Cancelled);
    EXPECT_EQ(r.rows, 1u);
    EXPECT_EQ(seen.events, (std::vector<std::string>{"row 1 a@b.org|Test Person|1|alpha,beta", "progress 1"}));
}

TEST_F(ImporterTest, ExceptionFromTheSinkIsRethrownAfterThePluginReturned) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup(), fakeServices());
    host.start();
    SeenImport seen;
    ImportSink sink = recordingSink(seen);
    int calls = 0;
    sink.row = [&calls](const campaignd::plugins::ImportRow&) {
        ++calls;
        throw campaignd::Error(campaignd::ErrorCode::Failed, "the database went away");
    };
    try {
        run(host, "row a@b.org\nrow c@d.org\n", sink);
        ADD_FAILURE() << "no exception";
    } catch (const campaignd::Error& e) {
        EXPECT_EQ(e.code(), campaignd::ErrorCode::Failed);
        EXPECT_STREQ(e.what(), "the database went away");
    }
    EXPECT_EQ(calls, 1);  // the plugin stopped at the failure
    // The host is still usable afterwards.
    const ImportResult r = run(host, "row e@f.org\n", recordingSink(seen));
    EXPECT_EQ(r.outcome, ImportOutcome::Completed);
}

TEST_F(ImporterTest, AStubbornPluginIsNotHeardAfterTheStop) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup(), fakeServices());
    host.start();
    SeenImport seen;
    ImportSink sink = recordingSink(seen);
    sink.progress = [](std::uint64_t, std::uint64_t) { return false; };
    const ImportResult r = run(host, "stubborn\nprogress\nrow a@b.org\n", sink);
    EXPECT_EQ(r.outcome, ImportOutcome::Failed);
    EXPECT_CONTAINS(r.message, "called the sink again after it had been told to stop");
    EXPECT_TRUE(seen.events.empty());
}

TEST_F(ImporterTest, ARowBreakingTheContractFailsTheImport) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup(), fakeServices());
    host.start();
    SeenImport seen;
    const ImportResult r = run(host, "row a@b.org\nnull-email\nrow c@d.org\n", recordingSink(seen));
    EXPECT_EQ(r.outcome, ImportOutcome::Failed);
    EXPECT_CONTAINS(r.message, "plugin importer: a row's email is missing, overlong or not a normalised address (line 2)");
    EXPECT_EQ(seen.events.size(), 1u);
}

TEST_F(ImporterTest, AThrowingImporterIsCaught) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup(), fakeServices());
    host.start();
    SeenImport seen;
    const ImportResult r = run(host, "throw\n", recordingSink(seen));
    EXPECT_EQ(r.outcome, ImportOutcome::Failed);
    EXPECT_CONTAINS(r.message, "threw an exception (not allowed by the ABI)");
}

TEST_F(ImporterTest, A10PluginClaimingImporterLoadsButIsNotUsedAsOne) {
    install(TEST_PLUGIN_OLD_IMPORTER, "a-old.so");
    install(TEST_PLUGIN_NO_TABLE, "b-no-table.so");
    install(TEST_PLUGIN_IMPORTER, "c-importer.so");
    PluginHost host(dir_, lookup(), fakeServices());
    ::testing::internal::CaptureStderr();
    host.start();
    const std::string log = ::testing::internal::GetCapturedStderr();
    const auto all = host.plugins();
    ASSERT_EQ(all.size(), 3u);
    for (const auto& p : all) EXPECT_EQ(p.state, PluginState::Running) << p.name << ": " << p.error;
    EXPECT_EQ(all[0].abiMinor, 0u);
    EXPECT_EQ(all[0].capabilities, (std::vector<std::string>{"importer"}));
    // Both are importers by their bits, but only the one with a table is used as one.
    EXPECT_EQ(host.pluginsWithCapability(CAMPAIGND_CAP_IMPORTER).size(), 3u);
    EXPECT_FALSE(host.importer("old-importer").has_value());
    EXPECT_FALSE(host.importer("no-table").has_value());
    EXPECT_FALSE(host.importer("nope").has_value());
    const auto importers = host.importers();
    ASSERT_EQ(importers.size(), 1u);
    EXPECT_EQ(importers[0].pluginName(), "importer");
    EXPECT_EQ(host.findPlugin("old-importer")->importerTable(), nullptr);
    EXPECT_CONTAINS(log, "has no usable importer table");
}

}  // namespace

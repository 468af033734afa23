// host_table_test.cpp: the functions plugins call back (log, config_get, normalize_email,
// check_header_value): a plugin's log line carries PLUGIN=, each plugin reads its own section,
// and misuse, missing services and failing services come back as statuses, never exceptions.
#include "plugin_host_fixture.h"

namespace {

TEST_F(PluginHostTest, PluginLogsThroughHostWithPluginFieldAndItsConfig) {
    install(TEST_PLUGIN_GOOD, "good.so");
    set("good", "Greeting", "hello");
    set("good2", "Greeting", "not-for-good");
    PluginHost host(dir_, lookup());
    ::testing::internal::CaptureStderr();
    host.start();
    const std::string out = ::testing::internal::GetCapturedStderr();

    std::istringstream lines(out);
    std::string started, probe;
    for (std::string line; std::getline(lines, line);) {
        if (line.find("good plugin started") != std::string::npos) started = line;
        if (line.find("config probe") != std::string::npos) probe = line;
    }
    ASSERT_FALSE(started.empty()) << out;
    EXPECT_CONTAINS(started, "notice: good plugin started");
    EXPECT_CONTAINS(started, "PLUGIN=good ");
    EXPECT_CONTAINS(started, "GREETING=hello");
    EXPECT_CONTAINS(started, "PLUGIN_MESSAGE=spoof");  // reserved key renamed
    EXPECT_CONTAINS(started, "BAD_KEY_=x");
    EXPECT_CONTAINS(started, "F5=five");
    EXPECT_CONTAINS(started, "F6=line1 line2");  // the newline did not split the line
    EXPECT_NOT_CONTAINS(out, "not-for-good");

    ASSERT_FALSE(probe.empty()) << out;
    EXPECT_CONTAINS(probe, "MISSING_STATUS=3");  // CAMPAIGND_ERR_NOT_FOUND
    EXPECT_CONTAINS(probe, "MISSING_VALUE=null");
    EXPECT_CONTAINS(probe, "MISSING_ERROR=no key 'NoSuchKey' in [Plugin good]");
}

TEST_F(PluginHostTest, EachPluginReadsItsOwnSection) {
    install(TEST_PLUGIN_GOOD, "good.so");
    install(TEST_PLUGIN_GOOD2, "good2.so");
    set("good", "Greeting", "hello");
    set("good2", "Greeting", "bonjour");
    set("good2", "FailStart", "yes");
    PluginHost host(dir_, lookup());
    ::testing::internal::CaptureStderr();
    host.start();
    const std::string out = ::testing::internal::GetCapturedStderr();
    const auto all = host.plugins();
    EXPECT_EQ(byFile(all, "good.so").state, PluginState::Running);
    EXPECT_EQ(byFile(all, "good2.so").state, PluginState::Failed);
    EXPECT_CONTAINS(out, "PLUGIN=good GREETING=hello");
    EXPECT_NOT_CONTAINS(out, "bonjour");  // good2 failed before it logged
}

TEST_F(PluginHostTest, ThrowingConfigLookupDoesNotReachThePlugin) {
    install(TEST_PLUGIN_GOOD, "good.so");
    PluginHost host(dir_, [](const std::string&, const std::string&) -> std::optional<std::string> {
        throw std::runtime_error("config store went away");
    });
    ::testing::internal::CaptureStderr();
    host.start();
    const std::string out = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(host.plugins().at(0).state, PluginState::Running);
    EXPECT_CONTAINS(out, "MISSING_STATUS=1");  // CAMPAIGND_ERR_FAILED
    EXPECT_CONTAINS(out, "config_get: config store went away");
}

TEST_F(ImporterTest, HostFunctionsRefuseMisuse) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup(), fakeServices());
    host.start();
    SeenImport seen;
    run(host, "probe\n", recordingSink(seen));
    ASSERT_EQ(seen.events.size(), 1u);
    // out_size below CAMPAIGND_EMAIL_BUFFER_SIZE, a foreign host_ctx, a NULL value: INVALID_ARGUMENT;
    // a NULL field name is allowed ("value").
    EXPECT_CONTAINS(seen.events[0], "small=2 (normalize_email: out_size must be at least");
    EXPECT_CONTAINS(seen.events[0], "null-ctx=2 null-field=0 null-value=2");
}

TEST_F(ImporterTest, WithoutServicesTheHostFunctionsAreUnsupported) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup());  // the 1.0 constructor: no services
    host.start();
    SeenImport seen;
    ImportResult r = run(host, "name anything\n", recordingSink(seen));
    EXPECT_EQ(r.outcome, ImportOutcome::Completed);
    EXPECT_EQ(seen.events, (std::vector<std::string>{"error 1 check_header_value: this host offers no header check"}));
    r = run(host, "row a@b.org\n", recordingSink(seen));
    EXPECT_EQ(r.outcome, ImportOutcome::Failed);
    EXPECT_CONTAINS(r.message, "plugin importer: import failed (status 4): normalize_email: this host offers no address validation");
}

TEST_F(ImporterTest, ServicesSetAfterStartAreIgnored) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    PluginHost host(dir_, lookup());
    host.setHostServices(fakeServices());  // before start: used
    host.start();
    HostServices refuseAll;
    refuseAll.normalizeEmail = [](std::string_view) -> std::string {
        throw campaignd::Error(campaignd::ErrorCode::InvalidArgument, "refused by the late services");
    };
    ::testing::internal::CaptureStderr();
    host.setHostServices(refuseAll);
    EXPECT_CONTAINS(::testing::internal::GetCapturedStderr(), "services set after start(); ignored");
    SeenImport seen;
    run(host, "row a@B.org\n", recordingSink(seen));
    EXPECT_EQ(seen.events, (std::vector<std::string>{"row 1 a@b.org|Test Person|1|alpha,beta"}));
}

TEST_F(ImporterTest, ServiceFailureOtherThanARefusalIsAHostFailure) {
    install(TEST_PLUGIN_IMPORTER, "importer.so");
    HostServices broken;
    broken.normalizeEmail = [](std::string_view) -> std::string { throw std::runtime_error("libidn2 is gone"); };
    PluginHost host(dir_, lookup(), broken);
    host.start();
    SeenImport seen;
    const ImportResult r = run(host, "row a@b.org\n", recordingSink(seen));
    EXPECT_EQ(r.outcome, ImportOutcome::Failed);
    EXPECT_CONTAINS(r.message, "(status 1): normalize_email: libidn2 is gone");
    EXPECT_TRUE(seen.events.empty());
}

}  // namespace

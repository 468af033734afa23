// plugin_host_test.cpp: the plugin contract, tested by loading real .so files (built next to this
// file) from a fresh temporary directory with the real PluginHost. Asserts what an operator
// would see: each plugin's state and reason, its log lines, its config, that stop() ran, and
// that the host survives every broken plugin.
#include "plugin-host/plugin_host.h"
#include "core/error.h"

#include <fcntl.h>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern "C" {
size_t campaignd_abi_c_layout(size_t* out, size_t capacity);
void campaignd_abi_c_error_set(char* buffer, size_t size, const char* text);
const char* campaignd_abi_c_entry_symbol(void);
}

namespace fs = std::filesystem;
using campaignd::plugins::PluginHost;
using campaignd::plugins::PluginInfo;
using campaignd::plugins::PluginState;

namespace {

// EXPECT_CONTAINS / EXPECT_NOT_CONTAINS: substring checks with both strings in the failure.
::testing::AssertionResult contains(const char* hayExpr, const char* needleExpr, const std::string& hay,
                                    const std::string& needle) {
    if (hay.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << hayExpr << " does not contain " << needleExpr << "\n  text: "
                                         << hay << "\n  missing: " << needle;
}
::testing::AssertionResult lacks(const char* hayExpr, const char* needleExpr, const std::string& hay,
                                 const std::string& needle) {
    if (hay.find(needle) == std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << hayExpr << " contains " << needleExpr << "\n  text: " << hay;
}
#define EXPECT_CONTAINS(hay, needle) EXPECT_PRED_FORMAT2(contains, hay, needle)
#define EXPECT_NOT_CONTAINS(hay, needle) EXPECT_PRED_FORMAT2(lacks, hay, needle)

class PluginHostTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::path(::testing::TempDir()) / "campaignd-plugins-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
        dir_ = root_ / "plugins";
        fs::create_directory(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    // Copies a built plugin into the plugin directory under fileName.
    fs::path install(const char* built, const std::string& fileName) {
        const fs::path target = dir_ / fileName;
        fs::copy_file(built, target, fs::copy_options::overwrite_existing);
        fs::permissions(target, fs::perms(0755));
        return target;
    }

    void set(const std::string& plugin, const std::string& key, const std::string& value) {
        config_[{plugin, key}] = value;
    }

    PluginHost::ConfigLookup lookup() {
        return [this](const std::string& plugin, const std::string& key) -> std::optional<std::string> {
            auto it = config_.find({plugin, key});
            if (it == config_.end()) return std::nullopt;
            return it->second;
        };
    }

    static const PluginInfo& byFile(const std::vector<PluginInfo>& all, const std::string& file) {
        for (const auto& p : all) {
            if (p.path.filename() == file) return p;
        }
        throw std::runtime_error("no plugin file " + file);
    }

    static std::string readFile(const fs::path& path) {
        std::ifstream in(path);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    fs::path root_;
    fs::path dir_;
    std::map<std::pair<std::string, std::string>, std::string> config_;
};

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
    EXPECT_EQ(p.error, "built for plugin ABI 2.0, this host speaks ABI 1.3");
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

TEST(PluginAbiHeader, CompilesAsPlainCWithTheSameLayoutAsCxx) {
    const std::vector<size_t> cxx{
        sizeof(campaignd_plugin_descriptor),
        offsetof(campaignd_plugin_descriptor, abi_major),
        offsetof(campaignd_plugin_descriptor, abi_minor),
        offsetof(campaignd_plugin_descriptor, struct_size),
        offsetof(campaignd_plugin_descriptor, name),
        offsetof(campaignd_plugin_descriptor, version),
        offsetof(campaignd_plugin_descriptor, description),
        offsetof(campaignd_plugin_descriptor, capabilities),
        offsetof(campaignd_plugin_descriptor, start),
        offsetof(campaignd_plugin_descriptor, stop),
        CAMPAIGND_PLUGIN_DESCRIPTOR_MIN_SIZE,
        sizeof(campaignd_host),
        offsetof(campaignd_host, struct_size),
        offsetof(campaignd_host, abi_major),
        offsetof(campaignd_host, abi_minor),
        offsetof(campaignd_host, host_ctx),
        offsetof(campaignd_host, log),
        offsetof(campaignd_host, config_get),
        CAMPAIGND_HOST_MIN_SIZE,
        sizeof(campaignd_error),
        sizeof(campaignd_log_field),
        sizeof(campaignd_status),
        CAMPAIGND_PLUGIN_ABI_MAJOR,
        CAMPAIGND_PLUGIN_ABI_MINOR,
        // 1.1
        offsetof(campaignd_host, normalize_email),
        offsetof(campaignd_host, check_header_value),
        CAMPAIGND_HOST_1_1_SIZE,
        offsetof(campaignd_plugin_descriptor, importer),
        CAMPAIGND_PLUGIN_DESCRIPTOR_1_1_SIZE,
        CAMPAIGND_ERR_CANCELLED,
        CAMPAIGND_EMAIL_BUFFER_SIZE,
        sizeof(campaignd_import_row),
        offsetof(campaignd_import_row, line),
        offsetof(campaignd_import_row, email),
        offsetof(campaignd_import_row, name),
        offsetof(campaignd_import_row, subscription),
        offsetof(campaignd_import_row, groups),
        offsetof(campaignd_import_row, group_count),
        sizeof(campaignd_import_sink),
        offsetof(campaignd_import_sink, sink_ctx),
        offsetof(campaignd_import_sink, row),
        offsetof(campaignd_import_sink, row_error),
        offsetof(campaignd_import_sink, progress),
        sizeof(campaignd_import_options),
        offsetof(campaignd_import_options, delimiter),
        offsetof(campaignd_import_options, map),
        offsetof(campaignd_import_options, map_count),
        offsetof(campaignd_import_options, max_bytes),
        sizeof(campaignd_importer),
        offsetof(campaignd_importer, import),
        /* 1.2 */
        offsetof(campaignd_plugin_descriptor, transport),
        CAMPAIGND_PLUGIN_DESCRIPTOR_1_2_SIZE,
        CAMPAIGND_ERR_AUTH,
        CAMPAIGND_ERR_TLS,
        CAMPAIGND_ERR_CONNECTION,
        CAMPAIGND_DELIVERY_SENT,
        CAMPAIGND_DELIVERY_DEFERRED,
        CAMPAIGND_DELIVERY_FAILED,
        CAMPAIGND_DELIVERY_UNKNOWN,
        sizeof(campaignd_outgoing_message),
        offsetof(campaignd_outgoing_message, token),
        offsetof(campaignd_outgoing_message, envelope_from),
        offsetof(campaignd_outgoing_message, recipient),
        offsetof(campaignd_outgoing_message, message_id),
        offsetof(campaignd_outgoing_message, data),
        offsetof(campaignd_outgoing_message, data_len),
        sizeof(campaignd_delivery_result),
        offsetof(campaignd_delivery_result, token),
        offsetof(campaignd_delivery_result, outcome),
        offsetof(campaignd_delivery_result, smtp_code),
        offsetof(campaignd_delivery_result, enhanced_status),
        offsetof(campaignd_delivery_result, text),
        sizeof(campaignd_delivery_sink),
        offsetof(campaignd_delivery_sink, sink_ctx),
        offsetof(campaignd_delivery_sink, result),
        sizeof(campaignd_transport),
        offsetof(campaignd_transport, open),
        offsetof(campaignd_transport, send),
        offsetof(campaignd_transport, close),
        /* 1.3 */
        offsetof(campaignd_plugin_descriptor, bounce_source),
        offsetof(campaignd_plugin_descriptor, reporter),
        CAMPAIGND_PLUGIN_DESCRIPTOR_1_3_SIZE,
        sizeof(campaignd_report_reason),
        offsetof(campaignd_report_reason, count),
        sizeof(campaignd_report),
        offsetof(campaignd_report, campaign_id),
        offsetof(campaignd_report, finished_at),
        offsetof(campaignd_report, in_flight),
        offsetof(campaignd_report, success_percent),
        offsetof(campaignd_report, reasons),
        offsetof(campaignd_report, failures_csv),
        offsetof(campaignd_report, failures_total),
        offsetof(campaignd_report, from),
        offsetof(campaignd_report, date),
        sizeof(campaignd_report_output),
        offsetof(campaignd_report_output, output_ctx),
        offsetof(campaignd_report_output, write),
        sizeof(campaignd_reporter),
        offsetof(campaignd_reporter, compose),
    };
    std::vector<size_t> c(160);
    c.resize(campaignd_abi_c_layout(c.data(), c.size()));
    EXPECT_EQ(c, cxx);
    // The fixed prefix every major keeps.
    EXPECT_EQ(offsetof(campaignd_plugin_descriptor, abi_major), 0u);
    EXPECT_EQ(offsetof(campaignd_plugin_descriptor, abi_minor), 4u);
    EXPECT_EQ(offsetof(campaignd_plugin_descriptor, struct_size), 8u);
    EXPECT_EQ(offsetof(campaignd_host, struct_size), 0u);
    // 1.1 only appended: the 1.0 prefix kept its size and offsets.
    EXPECT_EQ(offsetof(campaignd_plugin_descriptor, importer), CAMPAIGND_PLUGIN_DESCRIPTOR_MIN_SIZE);
    EXPECT_EQ(offsetof(campaignd_host, normalize_email), CAMPAIGND_HOST_MIN_SIZE);
    // 1.2 only appended too: transport starts where 1.1 ended.
    EXPECT_EQ(offsetof(campaignd_plugin_descriptor, transport), CAMPAIGND_PLUGIN_DESCRIPTOR_1_1_SIZE);
    // 1.3 as well: bounce_source and reporter start where 1.2 ended.
    EXPECT_EQ(offsetof(campaignd_plugin_descriptor, bounce_source), CAMPAIGND_PLUGIN_DESCRIPTOR_1_2_SIZE);
    EXPECT_EQ(CAMPAIGND_PLUGIN_ABI_MINOR, 3);
    EXPECT_STREQ(campaignd_abi_c_entry_symbol(), "campaignd_plugin_entry_v1");
}

TEST(PluginAbiHeader, ErrorSetIsBoundedAndTerminated) {
    char buffer[8];
    std::memset(buffer, 'Z', sizeof buffer);
    campaignd_abi_c_error_set(buffer, sizeof buffer, "a long message");
    EXPECT_STREQ(buffer, "a long ");
    campaignd_abi_c_error_set(buffer, sizeof buffer, "ok");
    EXPECT_STREQ(buffer, "ok");
    campaignd_abi_c_error_set(nullptr, 0, "ignored");  // must not crash
}


// ---- ABI 1.1: host services and the importer capability ------------------------------------

using campaignd::plugins::HostServices;
using campaignd::plugins::ImportOptions;
using campaignd::plugins::ImportOutcome;
using campaignd::plugins::ImportResult;
using campaignd::plugins::ImportSink;
using campaignd::plugins::ImportSubscription;

// Recognisable stand-ins for the daemon's validation: an address needs an '@' and gets its
// domain lower-cased; a header value must not contain byte 1.
HostServices fakeServices() {
    HostServices services;
    services.normalizeEmail = [](std::string_view address) {
        const auto at = address.find('@');
        if (at == std::string_view::npos)
            throw campaignd::Error(campaignd::ErrorCode::InvalidArgument,
                                   "address \"" + std::string(address) + "\": has no @");
        std::string out(address);
        for (std::size_t i = at; i < out.size(); ++i) out[i] = static_cast<char>(std::tolower(out[i]));
        return out;
    };
    services.checkHeaderValue = [](std::string_view field, std::string_view value) {
        if (value.find('\x01') != std::string_view::npos)
            throw campaignd::Error(campaignd::ErrorCode::InvalidArgument,
                                   std::string(field) + " contains the control character 0x01");
    };
    return services;
}

// What a sink saw, in order.
struct SeenImport {
    std::vector<std::string> events;  // "row L email|name|sub|g1,g2", "error L reason", "progress R B"
};

ImportSink recordingSink(SeenImport& seen) {
    ImportSink sink;
    sink.row = [&seen](const campaignd::plugins::ImportRow& row) {
        std::string groups;
        for (auto g : row.groups) groups += (groups.empty() ? "" : ",") + std::string(g);
        seen.events.push_back("row " + std::to_string(row.line) + " " + std::string(row.email) + "|" +
                              std::string(row.name) + "|" + std::to_string(static_cast<int>(row.subscription)) +
                              "|" + groups);
    };
    sink.rowError = [&seen](std::uint64_t line, std::string_view reason) {
        seen.events.push_back("error " + std::to_string(line) + " " + std::string(reason));
    };
    sink.progress = [&seen](std::uint64_t rows, std::uint64_t) {
        seen.events.push_back("progress " + std::to_string(rows));
        return true;
    };
    return sink;
}

class ImporterTest : public PluginHostTest {
protected:
    // Runs the "importer" test plugin on input.
    ImportResult run(PluginHost& host, const std::string& input, const ImportSink& sink,
                     const ImportOptions& options = {}) {
        const fs::path file = root_ / "input.txt";
        std::ofstream(file, std::ios::binary) << input;
        const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        EXPECT_GE(fd, 0);
        auto importer = host.importer("importer");
        EXPECT_TRUE(importer.has_value());
        if (!importer) {
            ::close(fd);
            return {};
        }
        ImportResult result = importer->import(fd, options, sink);
        // The plugin read the file but did not close it.
        EXPECT_EQ(::fcntl(fd, F_GETFD), FD_CLOEXEC);
        ::close(fd);
        return result;
    }
};

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

// ---- ABI 1.2: the transport capability ----------------------------------------------------

using campaignd::plugins::DeliveryOutcome;
using campaignd::plugins::DeliveryResult;
using campaignd::plugins::OutgoingMessage;
using campaignd::plugins::SendStatus;
using campaignd::plugins::TransportError;
using campaignd::plugins::TransportSession;
using campaignd::plugins::TransportStatus;

class TransportTest : public PluginHostTest {
protected:
    void SetUp() override {
        PluginHostTest::SetUp();
        install(TEST_PLUGIN_TRANSPORT, "transport.so");
        host_ = std::make_unique<PluginHost>(dir_, lookup());
        host_->start();
        ASSERT_EQ(host_->plugins().at(0).state, PluginState::Running) << host_->plugins().at(0).error;
    }
    void TearDown() override {
        host_.reset();
        PluginHostTest::TearDown();
    }

    std::unique_ptr<TransportSession> open(const std::map<std::string, std::string>& settings = {}) {
        auto transport = host_->transport("transport");
        if (!transport) throw std::runtime_error("no transport plugin");
        return transport->openSession("campaign-mail", settings);
    }

    // Messages with tokens 100, 101, ... to the given recipients.
    std::vector<OutgoingMessage> batch(const std::vector<std::string>& recipients) {
        std::vector<OutgoingMessage> out;
        for (std::size_t i = 0; i < recipients.size(); ++i) {
            OutgoingMessage m;
            m.token = 100 + i;
            m.envelopeFrom = "bounces+7-" + std::to_string(i) + "@example.org";
            m.recipient = recipients[i];
            m.messageId = "<" + std::to_string(i) + "@campaignd>";
            m.data = data_;
            out.push_back(std::move(m));
        }
        return out;
    }

    // "TOKEN outcome" for every callback, in order.
    std::pair<SendStatus, std::vector<std::string>> run(TransportSession& session,
                                                        const std::vector<OutgoingMessage>& messages,
                                                        std::vector<DeliveryResult>* all = nullptr) {
        std::vector<std::string> seen;
        SendStatus status = session.send(messages, [&](const DeliveryResult& r) {
            seen.push_back(std::to_string(r.token) + " " + std::string(campaignd::plugins::toString(r.outcome)));
            if (all) all->push_back(r);
        });
        return {status, seen};
    }

    std::string data_ = "Subject: hi\r\n\r\nHello\r\n";
    std::unique_ptr<PluginHost> host_;
};

TEST_F(TransportTest, ResultsCarryEachMessagesOutcomeAndFields) {
    const fs::path marker = root_ / "closed";
    auto session = open({{"CloseMarker", marker.string()}});
    EXPECT_EQ(session->pluginName(), "transport");
    EXPECT_EQ(session->transportName(), "campaign-mail");
    std::vector<DeliveryResult> all;
    const auto [status, seen] = run(*session, batch({"ann@x.org", "defer@x.org", "fail@x.org", "unknown@x.org"}), &all);
    EXPECT_TRUE(status.ok()) << status.message;
    EXPECT_EQ(status.message, "");
    EXPECT_EQ(seen, (std::vector<std::string>{"100 sent", "101 deferred", "102 failed", "103 unknown"}));
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0].smtpCode, 250);
    EXPECT_EQ(all[0].enhancedStatus, "2.0.0");
    EXPECT_EQ(all[0].text, "from=<bounces+7-0@example.org> rcpt=<ann@x.org> id=<<0@campaignd>> bytes=22 data=Subject: hi    Hello");  // CR LF sanitised
    EXPECT_EQ(all[1].smtpCode, 451);
    EXPECT_EQ(all[1].enhancedStatus, "4.7.1");
    EXPECT_EQ(all[2].smtpCode, 550);
    EXPECT_EQ(all[2].enhancedStatus, "5.1.1");
    EXPECT_EQ(all[2].text, "no such user");
    EXPECT_EQ(all[3].smtpCode, 0);
    EXPECT_FALSE(fs::exists(marker));
    session.reset();
    EXPECT_EQ(readFile(marker), "close campaign-mail\n");
}

TEST_F(TransportTest, OpenFailuresCarryTheirKindAndThePluginsMessage) {
    const std::vector<std::pair<std::string, TransportStatus>> cases{
        {"auth", TransportStatus::Auth},
        {"tls", TransportStatus::Tls},
        {"connection", TransportStatus::Connection},
        {"failed", TransportStatus::Failed},
        {"invalid", TransportStatus::Failed},
    };
    for (const auto& [setting, expected] : cases) {
        try {
            open({{"OpenStatus", setting}});
            ADD_FAILURE() << setting << ": opened";
        } catch (const TransportError& e) {
            EXPECT_EQ(e.status(), expected) << setting;
            EXPECT_EQ(std::string(e.what()), "transport campaign-mail (plugin transport): OpenStatus=" + setting +
                                                 " in [Transport campaign-mail]");
        }
    }
    try {
        open({{"OpenThrow", "yes"}});
        ADD_FAILURE() << "opened";
    } catch (const TransportError& e) {
        EXPECT_EQ(e.status(), TransportStatus::Failed);
        EXPECT_CONTAINS(e.what(), "open threw an exception (not allowed by the ABI)");
    }
    try {
        open({{std::string("Bad\0Key", 7), "x"}});
        ADD_FAILURE() << "opened";
    } catch (const TransportError& e) {
        EXPECT_CONTAINS(e.what(), "contains a NUL byte");
    }
}

TEST_F(TransportTest, ResultsInReverseOrderAreMatchedByToken) {
    auto session = open({{"Order", "reverse"}});
    const auto [status, seen] = run(*session, batch({"a@x.org", "fail@x.org", "c@x.org"}));
    EXPECT_TRUE(status.ok());
    EXPECT_EQ(seen, (std::vector<std::string>{"102 sent", "101 failed", "100 sent"}));
}

TEST_F(TransportTest, AMissingResultAfterOkIsUnknownNeverResent) {
    auto session = open({{"Drop", "1"}});
    std::vector<DeliveryResult> all;
    const auto [status, seen] = run(*session, batch({"a@x.org", "b@x.org", "c@x.org"}), &all);
    EXPECT_TRUE(status.ok());
    EXPECT_EQ(seen, (std::vector<std::string>{"100 sent", "102 sent", "101 unknown"}));
    EXPECT_EQ(all[2].text, "no result from the transport plugin");
    // The session still works.
    EXPECT_TRUE(run(*session, batch({"a@x.org"})).first.ok());
}

TEST_F(TransportTest, AForeignTokenAndASecondResultAreIgnored) {
    auto session = open({{"ForeignToken", "yes"}, {"Duplicate", "yes"}});
    ::testing::internal::CaptureStderr();
    const auto [status, seen] = run(*session, batch({"fail@x.org", "b@x.org"}));
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(status.ok());
    EXPECT_EQ(seen, (std::vector<std::string>{"100 failed", "101 sent"}));
    EXPECT_CONTAINS(log, "a result for token 987654321, which it was not given");
    EXPECT_CONTAINS(log, "a second result for token 100");
}

TEST_F(TransportTest, FailingMidBatchWithConnectionLeavesTheRestNotHandedOver) {
    auto session = open({{"FailAt", "2"}, {"FailStatus", "connection"}});
    std::vector<DeliveryResult> all;
    const auto [status, seen] = run(*session, batch({"a@x.org", "b@x.org", "c@x.org", "d@x.org"}), &all);
    EXPECT_EQ(status.status, TransportStatus::Connection);
    EXPECT_EQ(status.message, "transport campaign-mail (plugin transport): connection lost at message 2");
    EXPECT_EQ(seen, (std::vector<std::string>{"100 sent", "101 sent", "102 not-handed-over", "103 not-handed-over"}));
    EXPECT_EQ(all[2].text, "not handed over: the session failed before it");
    // The session is broken: the plugin is not called again, nothing is handed over.
    const auto [again, seenAgain] = run(*session, batch({"a@x.org"}));
    EXPECT_EQ(again.status, TransportStatus::Failed);
    EXPECT_CONTAINS(again.message, "the session failed earlier");
    EXPECT_EQ(seenAgain, (std::vector<std::string>{"100 not-handed-over"}));
}

TEST_F(TransportTest, AMessageWhoseDataWentOutBeforeTheDropIsUnknown) {
    auto session = open({{"FailAt", "1"}, {"FailStatus", "connection"}, {"FailUnknown", "yes"}});
    const auto [status, seen] = run(*session, batch({"a@x.org", "b@x.org", "c@x.org"}));
    EXPECT_EQ(status.status, TransportStatus::Connection);
    EXPECT_EQ(seen, (std::vector<std::string>{"100 sent", "101 unknown", "102 not-handed-over"}));
}

TEST_F(TransportTest, SessionLevelStatusesKeepTheirKind) {
    for (const auto& [name, kind] : std::vector<std::pair<std::string, TransportStatus>>{
             {"auth", TransportStatus::Auth}, {"tls", TransportStatus::Tls}, {"failed", TransportStatus::Failed}}) {
        auto session = open({{"FailAt", "0"}, {"FailStatus", name}});
        const auto [status, seen] = run(*session, batch({"a@x.org"}));
        EXPECT_EQ(status.status, kind) << name;
        EXPECT_EQ(seen, (std::vector<std::string>{"100 not-handed-over"})) << name;
    }
}

TEST_F(TransportTest, APluginThatBrokeTheRulesIsNotBelievedWhenItFails) {
    // A foreign token, then a failure: the rest may have gone out, so they are unknown.
    auto session = open({{"ForeignToken", "yes"}, {"FailAt", "1"}, {"FailStatus", "connection"}});
    const auto [status, seen] = run(*session, batch({"a@x.org", "b@x.org"}));
    EXPECT_EQ(status.status, TransportStatus::Connection);
    EXPECT_EQ(seen, (std::vector<std::string>{"100 sent", "101 unknown"}));
}

TEST_F(TransportTest, AnOutcomeOutsideTheAbiIsUnknown) {
    auto session = open({{"BadOutcome", "yes"}});
    const auto [status, seen] = run(*session, batch({"a@x.org", "b@x.org"}));
    EXPECT_TRUE(status.ok());
    EXPECT_EQ(seen, (std::vector<std::string>{"100 unknown", "101 sent"}));
}

TEST_F(TransportTest, GarbageInAResultIsBoundedAndCleaned) {
    auto session = open();
    std::vector<DeliveryResult> all;
    run(*session, batch({"garbage@x.org"}), &all);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].outcome, DeliveryOutcome::Sent);
    EXPECT_EQ(all[0].smtpCode, 0);
    EXPECT_EQ(all[0].enhancedStatus, "");
    EXPECT_EQ(all[0].text.size(), 4096u);
    EXPECT_EQ(all[0].text.substr(0, 7), "bad  ?x");
}

TEST_F(TransportTest, AThrowingSendIsCaughtAndTheRestIsUnknown) {
    auto session = open({{"ThrowInSend", "yes"}});
    const auto [status, seen] = run(*session, batch({"a@x.org", "b@x.org"}));
    EXPECT_EQ(status.status, TransportStatus::Failed);
    EXPECT_CONTAINS(status.message, "send threw an exception (not allowed by the ABI)");
    EXPECT_EQ(seen, (std::vector<std::string>{"100 sent", "101 unknown"}));
}

TEST_F(TransportTest, AMalformedBatchIsRefusedBeforeThePluginSeesIt) {
    auto session = open();
    auto messages = batch({"a@x.org", "b@x.org"});
    messages[1].token = messages[0].token;
    std::vector<std::string> seen;
    EXPECT_THROW(run(*session, messages), std::invalid_argument);
    messages = batch({"a@x.org", "b@x.org\r\nRCPT TO:<c@x.org>"});
    EXPECT_THROW(run(*session, messages), std::invalid_argument);
    messages = batch({"a@x.org"});
    messages[0].envelopeFrom = std::string("x\0y", 3);
    EXPECT_THROW(run(*session, messages), std::invalid_argument);
    // Nothing was sent, and the session is fine.
    EXPECT_EQ(run(*session, batch({"a@x.org"})).second, (std::vector<std::string>{"100 sent"}));
    EXPECT_TRUE(run(*session, {}).first.ok());
}

TEST_F(TransportTest, AnExceptionFromTheCallerIsRethrownAfterThePluginReturned) {
    auto session = open();
    int calls = 0;
    const auto messages = batch({"a@x.org", "b@x.org"});
    try {
        session->send(messages, [&](const DeliveryResult&) {
            ++calls;
            throw campaignd::Error(campaignd::ErrorCode::Failed, "the ledger went away");
        });
        ADD_FAILURE() << "no exception";
    } catch (const campaignd::Error& e) {
        EXPECT_STREQ(e.what(), "the ledger went away");
    }
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(run(*session, messages).first.ok());
}

TEST_F(TransportTest, OlderPluginsClaimingTransportLoadButAreNotUsedAsOne) {
    host_.reset();
    install(TEST_PLUGIN_OLD_TRANSPORT, "a-old-transport.so");
    install(TEST_PLUGIN_GOOD, "b-good.so");  // 1.2, claims transport, NULL table
    install(TEST_PLUGIN_IMPORTER, "c-importer.so");
    ::testing::internal::CaptureStderr();
    host_ = std::make_unique<PluginHost>(dir_, lookup());
    host_->start();
    const std::string log = ::testing::internal::GetCapturedStderr();
    for (const auto& p : host_->plugins()) EXPECT_EQ(p.state, PluginState::Running) << p.name << ": " << p.error;
    EXPECT_EQ(host_->plugins().at(0).abiMinor, 1u);
    EXPECT_FALSE(host_->transport("old-transport").has_value());  // its bait table aborts if used
    EXPECT_FALSE(host_->transport("good").has_value());
    EXPECT_FALSE(host_->transport("c-importer").has_value());
    EXPECT_EQ(host_->findPlugin("old-transport")->transportTable(), nullptr);
    const auto transports = host_->transports();
    ASSERT_EQ(transports.size(), 1u);
    EXPECT_EQ(transports[0].pluginName(), "transport");
    EXPECT_CONTAINS(log, "has no usable transport table");
    // The 1.1 importer still imports.
    EXPECT_TRUE(host_->importer("importer").has_value());
}

}  // namespace

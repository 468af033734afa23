// plugin_host_fixture.h: what the plugin host's tests share: a fresh plugin directory per test
// with the built test plugins copied into it (PluginHostTest), a config lookup the test fills,
// substring assertions, and for the importer and host-table tests the fake daemon services
// and a recording import sink (ImporterTest). The tests load real .so files with the real host.
#pragma once

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

namespace fs = std::filesystem;
namespace fs = std::filesystem;
using campaignd::plugins::PluginHost;
using campaignd::plugins::PluginInfo;
using campaignd::plugins::PluginState;

// EXPECT_CONTAINS / EXPECT_NOT_CONTAINS: substring checks with both strings in the failure.
inline ::testing::AssertionResult contains(const char* hayExpr, const char* needleExpr, const std::string& hay,
                                    const std::string& needle) {
    if (hay.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << hayExpr << " does not contain " << needleExpr << "\n  text: "
                                         << hay << "\n  missing: " << needle;
}
inline ::testing::AssertionResult lacks(const char* hayExpr, const char* needleExpr, const std::string& hay,
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

using campaignd::plugins::HostServices;
using campaignd::plugins::ImportOptions;
using campaignd::plugins::ImportOutcome;
using campaignd::plugins::ImportResult;
using campaignd::plugins::ImportSink;
using campaignd::plugins::ImportSubscription;

// Recognisable stand-ins for the daemon's validation: an address needs an '@' and gets its
// domain lower-cased; a header value must not contain byte 1.
inline HostServices fakeServices() {
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

inline ImportSink recordingSink(SeenImport& seen) {
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

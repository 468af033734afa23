// plugin_test.cpp: the built csv-importer.so, loaded by the real PluginHost with the daemon's
// real validation (campaignd-services) as HostServices, imported from real descriptors (a file,
// a pipe), as the daemon will call it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "plugin-host/plugin_host.h"
#include "rules/validation.h"

namespace {

namespace fs = std::filesystem;
using namespace campaignd::plugins;

struct Seen {
    std::vector<std::string> rows;
    std::vector<std::string> errors;  // "L reason"
    std::vector<std::uint64_t> progress;
};

class CsvPlugin : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::path(::testing::TempDir()) / "campaignd-csv-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
        fs::create_directory(root_ / "plugins");
        fs::copy_file(CSV_IMPORTER_PLUGIN, root_ / "plugins" / "csv-importer.so");
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    static HostServices daemonServices() {
        return {[](std::string_view a) { return campaignd::rules::normalizeEmail(a); },
                [](std::string_view f, std::string_view v) { campaignd::rules::checkHeaderValue(f, v); }};
    }

    std::unique_ptr<PluginHost> startHost(bool withServices = true) {
        auto host = withServices ? std::make_unique<PluginHost>(root_ / "plugins", nullptr, daemonServices())
                                 : std::make_unique<PluginHost>(root_ / "plugins", nullptr);
        host->start();
        return host;
    }

    static ImportSink sinkFor(Seen& seen) {
        ImportSink sink;
        sink.row = [&seen](const ImportRow& r) {
            std::string groups;
            for (auto g : r.groups) groups += (groups.empty() ? "" : ",") + std::string(g);
            seen.rows.push_back(std::to_string(r.line) + " " + std::string(r.email) + "|" + std::string(r.name) + "|" +
                                std::to_string(static_cast<int>(r.subscription)) + "|" + groups);
        };
        sink.rowError = [&seen](std::uint64_t line, std::string_view reason) {
            seen.errors.push_back(std::to_string(line) + " " + std::string(reason));
        };
        sink.progress = [&seen](std::uint64_t rows, std::uint64_t) {
            seen.progress.push_back(rows);
            return true;
        };
        return sink;
    }

    ImportResult importText(PluginHost& host, const std::string& text, const ImportSink& sink,
                            const ImportOptions& options = {}) {
        const fs::path file = root_ / "input.csv";
        std::ofstream(file, std::ios::binary) << text;
        return importFile(host, file, sink, options);
    }

    static ImportResult importFile(PluginHost& host, const fs::path& file, const ImportSink& sink,
                                   const ImportOptions& options = {}) {
        const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        EXPECT_GE(fd, 0);
        auto importer = host.importer("csv-importer");
        EXPECT_TRUE(importer.has_value());
        const ImportResult r = importer ? importer->import(fd, options, sink) : ImportResult{};
        EXPECT_EQ(::fcntl(fd, F_GETFD), FD_CLOEXEC);  // still open: the plugin does not close it
        ::close(fd);
        return r;
    }

    fs::path root_;
};

TEST_F(CsvPlugin, LoadsAsARunningImporter) {
    auto host = startHost();
    const PluginInfo p = host->plugins().at(0);
    EXPECT_EQ(p.state, PluginState::Running) << p.error;
    EXPECT_EQ(p.name, "csv-importer");
    EXPECT_EQ(p.capabilities, (std::vector<std::string>{"importer"}));
    EXPECT_GE(p.abiMinor, 1u);  // built against the header: 1.1 or any later minor
    ASSERT_EQ(host->importers().size(), 1u);
}

TEST_F(CsvPlugin, ImportsRowsWithTheDaemonsValidation) {
    auto host = startHost();
    Seen seen;
    ImportOptions german;  // German column names need a map; the spellings found alone are English
    german.map = {"first_name=Vorname", "last_name=Nachname", "groups=Gruppen"};
    const ImportResult r = importText(*host,
                                      "\xEF\xBB\xBF" "E-Mail;Vorname;Nachname;Status;Gruppen\r\n"
                                      "anne@Example.DE;Änne;Öztürk;subscribed;news|vip\r\n"
                                      "bad address;X;Y;;\r\n"
                                      "\"quoted;local\"@x.de;;;;\r\n"
                                      "b@example.de;\"Multi\r\nline\";;;\r\n"
                                      "c@example.de;;;gone;\r\n"
                                      "d@example.de;Dee;;Unsubscribed;\"a; b\"",
                                      sinkFor(seen), german);
    EXPECT_EQ(r.outcome, ImportOutcome::Completed) << r.message;
    EXPECT_EQ(r.rows, 2u);
    EXPECT_EQ(r.rowErrors, 4u);
    EXPECT_EQ(seen.rows, (std::vector<std::string>{"2 anne@example.de|Änne Öztürk|1|news,vip", "8 d@example.de|Dee|2|a,b"}));
    ASSERT_EQ(seen.errors.size(), 4u);
    EXPECT_EQ(seen.errors[0], "3 address \"bad address\": contains a space");
    EXPECT_EQ(seen.errors[1].substr(0, 2), "4 ");
    EXPECT_EQ(seen.errors[2].substr(0, 2), "5 ");
    EXPECT_EQ(seen.errors[3], "7 subscription_status \"gone\" is neither subscribed nor unsubscribed (or empty)");
    EXPECT_EQ(seen.progress, (std::vector<std::uint64_t>{6}));
}

TEST_F(CsvPlugin, AStructuralErrorIsRejectedAndNothingFollowsIt) {
    auto host = startHost();
    Seen seen;
    const ImportResult r = importText(*host, "email\na@b.org\n\"c@d.org\ne@f.org\n", sinkFor(seen));
    EXPECT_EQ(r.outcome, ImportOutcome::Rejected);
    EXPECT_EQ(r.message, "line 3: a quoted field starts here and is never closed (a '\"' is missing)");
    EXPECT_EQ(seen.rows, (std::vector<std::string>{"2 a@b.org||0|"}));
    EXPECT_TRUE(seen.progress.empty());  // no final progress after a rejection

    Seen none;
    const ImportResult n = importText(*host, "name,phone\nx,1\n", sinkFor(none));
    EXPECT_EQ(n.outcome, ImportOutcome::Rejected);
    EXPECT_NE(n.message.find("line 1: the header has no email column"), std::string::npos) << n.message;
}

TEST_F(CsvPlugin, OptionsGoThrough) {
    auto host = startHost();
    Seen seen;
    ImportOptions options;
    options.delimiter = '|';
    options.map = {"email=Adresse", "name=Wer"};
    const ImportResult r = importText(*host, "Wer|Adresse\nAnn, Lee|ann@x.org\n", sinkFor(seen), options);
    EXPECT_EQ(r.outcome, ImportOutcome::Completed) << r.message;
    EXPECT_EQ(seen.rows, (std::vector<std::string>{"2 ann@x.org|Ann, Lee|0|"}));

    options.map = {"colour=Farbe"};
    const ImportResult bad = importText(*host, "email\n", sinkFor(seen), options);
    EXPECT_EQ(bad.outcome, ImportOutcome::Rejected);
    EXPECT_NE(bad.message.find("names no known field"), std::string::npos);

    ImportOptions limited;
    limited.maxBytes = 10;
    const ImportResult big = importText(*host, "email\na@b.org\nc@d.org\n", sinkFor(seen), limited);
    EXPECT_EQ(big.outcome, ImportOutcome::Rejected);
    EXPECT_EQ(big.message, "line 2: the file is larger than the limit of 10 bytes");
}

TEST_F(CsvPlugin, ProgressCanCancelALargeImport) {
    auto host = startHost();
    std::string text = "email,name,group\n";
    for (int i = 0; i < 70000; ++i) text += "user" + std::to_string(i) + "@example.org,User " + std::to_string(i) + ",g\n";
    Seen seen;
    ImportSink sink = sinkFor(seen);
    std::uint64_t lastRows = 0;
    sink.row = [](const ImportRow&) {};
    sink.progress = [&lastRows](std::uint64_t rows, std::uint64_t bytes) {
        lastRows = rows;
        EXPECT_GT(bytes, 0u);
        return false;
    };
    const ImportResult r = importText(*host, text, sink);
    EXPECT_EQ(r.outcome, ImportOutcome::Cancelled);
    EXPECT_EQ(lastRows, 65536u);
    EXPECT_EQ(r.rows, 65536u);  // nothing after the cancel
}

TEST_F(CsvPlugin, ReadsFromAPipe) {
    auto host = startHost();
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    std::thread writer([fd = fds[1]] {
        std::string text = "email\n";
        for (int i = 0; i < 20000; ++i) text += "p" + std::to_string(i) + "@example.org\n";
        for (std::size_t at = 0; at < text.size();) {
            const ssize_t n = ::write(fd, text.data() + at, std::min<std::size_t>(text.size() - at, 1000));
            if (n <= 0) break;
            at += static_cast<std::size_t>(n);
        }
        ::close(fd);
    });
    std::uint64_t rows = 0;
    ImportSink sink;
    sink.row = [&rows](const ImportRow&) { ++rows; };
    sink.rowError = [](std::uint64_t, std::string_view) { ADD_FAILURE(); };
    const ImportResult r = host->importer("csv-importer")->import(fds[0], {}, sink);
    writer.join();
    ::close(fds[0]);
    EXPECT_EQ(r.outcome, ImportOutcome::Completed) << r.message;
    EXPECT_EQ(rows, 20000u);
}

TEST_F(CsvPlugin, AnUnreadableDescriptorFails) {
    auto host = startHost();
    const int fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);  // read() gives EISDIR
    const ImportResult r = host->importer("csv-importer")->import(fd, {}, ImportSink{});
    ::close(fd);
    EXPECT_EQ(r.outcome, ImportOutcome::Failed);
    EXPECT_NE(r.message.find("cannot read the input: Is a directory"), std::string::npos) << r.message;
}

TEST_F(CsvPlugin, WithoutTheDaemonsServicesTheImportFails) {
    auto host = startHost(false);
    Seen seen;
    const ImportResult r = importText(*host, "email\na@b.org\n", sinkFor(seen));
    EXPECT_EQ(r.outcome, ImportOutcome::Failed);
    EXPECT_NE(r.message.find("the host cannot validate"), std::string::npos) << r.message;
    EXPECT_TRUE(seen.rows.empty());
}

TEST_F(CsvPlugin, ASinkExceptionReachesTheCaller) {
    auto host = startHost();
    ImportSink sink;
    sink.row = [](const ImportRow&) { throw std::runtime_error("store full"); };
    EXPECT_THROW(importText(*host, "email\na@b.org\nc@d.org\n", sink), std::runtime_error);
}

TEST_F(CsvPlugin, TheExampleFileImportsWithItsDeliberateMistakes) {
    auto host = startHost();
    Seen seen;
    const ImportResult r = importFile(*host, CSV_IMPORTER_EXAMPLE, sinkFor(seen));
    ASSERT_EQ(r.outcome, ImportOutcome::Completed) << r.message;
    EXPECT_EQ(r.rows, 301u);
    EXPECT_EQ(r.rowErrors, 9u);  // the tenth mistake, a duplicate in another case, is the store's to find
    for (const auto& e : seen.errors) std::cout << "  example row error: " << e << "\n";
    std::size_t unsubscribed = 0;
    for (const auto& row : seen.rows) unsubscribed += row.find("|2|") != std::string::npos;
    EXPECT_GE(unsubscribed, 3u);
}

}  // namespace

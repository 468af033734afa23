// maildir_test.cpp: the built maildir.so, loaded by the real PluginHost and used through the
// daemon's TransportSession, as the delivery engine will. Asserts what a user of the Maildir
// sees: the files in new/ (byte for byte), their names, nothing left in tmp/, and the errors.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "plugin-host/plugin_host.h"

namespace {

namespace fs = std::filesystem;
using namespace campaignd::plugins;

class Maildir : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::path(::testing::TempDir()) / "campaignd-maildir-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
        fs::create_directory(root_ / "plugins");
        fs::copy_file(MAILDIR_PLUGIN, root_ / "plugins" / "maildir.so");
        host_ = std::make_unique<PluginHost>(root_ / "plugins", nullptr);
        host_->start();
        ASSERT_EQ(host_->plugins().at(0).state, PluginState::Running) << host_->plugins().at(0).error;
    }
    void TearDown() override {
        host_.reset();
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    std::unique_ptr<TransportSession> open(const std::map<std::string, std::string>& settings) {
        auto transport = host_->transport("maildir");
        if (!transport) throw std::runtime_error("maildir is not a transport");
        return transport->openSession("local", settings);
    }

    static std::string readFile(const fs::path& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    static std::vector<fs::path> files(const fs::path& dir) {
        std::vector<fs::path> out;
        for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
        std::sort(out.begin(), out.end());
        return out;
    }

    static OutgoingMessage message(std::uint64_t token, const std::string& rcpt, std::string_view data) {
        OutgoingMessage m;
        m.token = token;
        m.envelopeFrom = "bounces+1-" + std::to_string(token) + "@example.org";
        m.recipient = rcpt;
        m.messageId = "<" + std::to_string(token) + "@example.org>";
        m.data = data;
        return m;
    }

    fs::path root_;
    std::unique_ptr<PluginHost> host_;
};

TEST_F(Maildir, MessagesLandInNewByteExactAfterTheDeliveryHeaders) {
    const fs::path md = root_ / "deep" / "Maildir";  // parents created too
    auto session = open({{"Path", md.string()}});
    for (const char* sub : {"tmp", "new", "cur"}) {
        ASSERT_TRUE(fs::is_directory(md / sub)) << sub;
        struct stat st {};
        ASSERT_EQ(::stat((md / sub).c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0700u) << sub;
    }
    const std::string a = "From: Us <us@example.org>\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\r\nHello\r\n.dot\r\n";
    const std::string b("Subject: binary\r\n\r\n\0\xff\r\n", 22);
    const std::vector<OutgoingMessage> batch{message(1, "ann@example.org", a), message(2, "bob@example.org", b)};
    std::vector<DeliveryResult> results;
    const SendStatus status = session->send(batch, [&](const DeliveryResult& r) { results.push_back(r); });
    ASSERT_TRUE(status.ok()) << status.message;
    ASSERT_EQ(results.size(), 2u);
    std::map<std::string, std::string> contents;  // content -> file name
    for (const auto& f : files(md / "new")) contents[readFile(f)] = f.filename().string();
    ASSERT_EQ(contents.size(), 2u);
    const std::string expectedA =
        "Return-Path: <bounces+1-1@example.org>\r\nDelivered-To: ann@example.org\r\n" + a;
    const std::string expectedB =
        "Return-Path: <bounces+1-2@example.org>\r\nDelivered-To: bob@example.org\r\n" + b;
    ASSERT_TRUE(contents.count(expectedA));
    ASSERT_TRUE(contents.count(expectedB));
    for (const auto& r : results) {
        EXPECT_EQ(r.outcome, DeliveryOutcome::Sent);
        EXPECT_EQ(r.smtpCode, 250);
        EXPECT_EQ(r.enhancedStatus, "2.0.0");
    }
    EXPECT_EQ(results[0].token, 1u);
    EXPECT_EQ(results[0].text, "delivered to " + (md / "new" / contents[expectedA]).string());
    // time.M<usec>P<pid>Q<seq>.<host>
    const std::regex name(R"(^\d+\.M\d{6}P)" + std::to_string(getpid()) + R"(Q\d+\.[^/:]+$)");
    for (const auto& [content, file] : contents) EXPECT_TRUE(std::regex_match(file, name)) << file;
    EXPECT_TRUE(files(md / "tmp").empty());
    EXPECT_TRUE(files(md / "cur").empty());
    struct stat st {};
    ASSERT_EQ(::stat((md / "new" / contents[expectedA]).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(Maildir, AnExistingMaildirIsUsedAsItIsAndFsyncCanBeTurnedOff) {
    const fs::path md = root_ / "Maildir";
    for (const char* sub : {"tmp", "new", "cur"}) fs::create_directories(md / sub);
    fs::permissions(md / "new", fs::perms(0750));
    std::ofstream(md / "cur" / "old-mail") << "keep me";
    auto session = open({{"Path", md.string() + "/"}, {"Fsync", "no"}});
    const std::string data = "Subject: x\n\nLF only\n";
    std::vector<DeliveryResult> results;
    ASSERT_TRUE(session->send(std::vector{message(7, "c@example.org", data)},
                              [&](const DeliveryResult& r) { results.push_back(r); }).ok());
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].outcome, DeliveryOutcome::Sent);
    const auto inNew = files(md / "new");
    ASSERT_EQ(inNew.size(), 1u);
    // The prepended lines follow the data's own line ending.
    EXPECT_EQ(readFile(inNew[0]), "Return-Path: <bounces+1-7@example.org>\nDelivered-To: c@example.org\n" + data);
    EXPECT_EQ(readFile(md / "cur" / "old-mail"), "keep me");
    EXPECT_EQ(fs::status(md / "new").permissions(), fs::perms(0750));  // not changed
}

TEST_F(Maildir, ConcurrentSessionsNeverReuseAName) {
    const fs::path md = root_ / "Maildir";
    constexpr int kThreads = 4;
    constexpr int kPerThread = 1000;
    constexpr int kBatch = 50;
    std::vector<std::thread> threads;
    std::vector<std::string> errors(kThreads);
    std::vector<int> sent(kThreads, 0);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            try {
                auto session = open({{"Path", md.string()}});
                for (int start = 0; start < kPerThread; start += kBatch) {
                    std::vector<std::string> bodies;
                    std::vector<OutgoingMessage> batch;
                    for (int i = start; i < start + kBatch; ++i)
                        bodies.push_back("Subject: " + std::to_string(t) + "/" + std::to_string(i) + "\r\n\r\nx\r\n");
                    for (int i = 0; i < kBatch; ++i)
                        batch.push_back(message(static_cast<std::uint64_t>(start + i), "r@example.org", bodies[i]));
                    const SendStatus s = session->send(batch, [&](const DeliveryResult& r) {
                        if (r.outcome == DeliveryOutcome::Sent) ++sent[t];
                    });
                    if (!s.ok()) throw std::runtime_error(s.message);
                }
            } catch (const std::exception& e) {
                errors[t] = e.what();
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(errors[t], "") << t;
        EXPECT_EQ(sent[t], kPerThread) << t;
    }
    std::set<std::string> subjects;
    std::size_t count = 0;
    for (const auto& f : files(md / "new")) {
        ++count;
        const std::string content = readFile(f);
        const auto at = content.find("Subject: ");
        ASSERT_NE(at, std::string::npos) << f;
        subjects.insert(content.substr(at, content.find('\r', at) - at));
    }
    EXPECT_EQ(count, static_cast<std::size_t>(kThreads * kPerThread));
    EXPECT_EQ(subjects.size(), static_cast<std::size_t>(kThreads * kPerThread));  // none overwritten
    EXPECT_TRUE(files(md / "tmp").empty());
}

TEST_F(Maildir, APathThatCannotBeCreatedFailsOpenNamingIt) {
    const fs::path file = root_ / "a-file";
    std::ofstream(file) << "not a directory";
    const fs::path md = file / "Maildir";
    try {
        open({{"Path", md.string()}});
        ADD_FAILURE() << "opened";
    } catch (const TransportError& e) {
        EXPECT_EQ(e.status(), TransportStatus::Failed);
        EXPECT_EQ(std::string(e.what()), "transport local (plugin maildir): maildir [Transport local]: cannot create the Maildir " +
                                             md.string() + " (" + file.string() + ": Not a directory)");
    }
}

TEST_F(Maildir, BadSettingsAreRefusedNamingTheKey) {
    const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases{
        {{}, "[Transport local]: Path= is required"},
        {{{"Path", "relative/Maildir"}}, "Path= must be an absolute path, not 'relative/Maildir'"},
        {{{"Path", (root_ / "M").string()}, {"Fsync", "maybe"}}, "Fsync= must be yes or no, not 'maybe'"},
        // The daemon keeps its own keys: one the plugin does not know is a misspelling.
        {{{"Path", (root_ / "M").string()}, {"Fsynk", "no"}}, "Fsynk= is not a setting of the maildir plugin (Path, Fsync)"},
    };
    for (const auto& [settings, expected] : cases) {
        try {
            open(settings);
            ADD_FAILURE() << expected;
        } catch (const TransportError& e) {
            EXPECT_EQ(e.status(), TransportStatus::Failed);
            EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
        }
    }
    EXPECT_FALSE(fs::exists(root_ / "M"));
}

// validate() (ABI 1.4) is open()'s parser without open()'s directories: the same refusals, the
// key to blame, and nothing created; a well-formed path open() cannot use is not its business.
TEST_F(Maildir, ValidateRefusesWhatOpenRefusesAndCreatesNothing) {
    auto transport = host_->transport("maildir");
    ASSERT_TRUE(transport);
    const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases{
        {{{"Fsync", "no"}}, ""},
        {{{"Path", "relative/Maildir"}}, "Path"},
        {{{"Path", (root_ / "M").string()}, {"Fsync", "maybe"}}, "Fsync"},
        {{{"Path", (root_ / "M").string()}, {"Fsynk", "no"}}, "Fsynk"},
    };
    for (const auto& [settings, blamed] : cases) {
        const auto check = transport->validate("local", settings);
        EXPECT_EQ(check.verdict, SettingsCheck::Verdict::BadSetting) << check.message;
        EXPECT_EQ(check.key, blamed) << check.message;
        try {
            open(settings);
            ADD_FAILURE() << "opened";
        } catch (const TransportError& e) {
            const std::string words = check.message.substr(check.message.find(": ") + 2);
            EXPECT_EQ(std::string(e.what()), "transport local (plugin maildir): [Transport local]: " + words);
        }
    }
    const fs::path fresh = root_ / "deep" / "Maildir";
    EXPECT_EQ(transport->validate("local", {{"Path", fresh.string()}, {"Fsync", "no"}}).verdict,
              SettingsCheck::Verdict::Valid);
    EXPECT_FALSE(fs::exists(root_ / "deep")) << "validate created the Maildir";
    // Under a regular file: well-formed, so valid; open() is where it fails (the campaign pauses).
    std::ofstream(root_ / "a-file") << "not a directory";
    EXPECT_EQ(transport->validate("local", {{"Path", (root_ / "a-file" / "Maildir").string()}}).verdict,
              SettingsCheck::Verdict::Valid);
}

TEST_F(Maildir, AnIoFailureStopsTheBatchAndLeavesTheRestNotHandedOver) {
    const fs::path md = root_ / "Maildir";
    auto session = open({{"Path", md.string()}});
    const std::string data = "Subject: x\r\n\r\ny\r\n";
    std::vector<DeliveryResult> results;
    ASSERT_TRUE(session->send(std::vector{message(1, "a@example.org", data)},
                              [&](const DeliveryResult& r) { results.push_back(r); }).ok());
    fs::remove_all(md / "new");  // the session's new/ is gone: moving into it fails
    results.clear();
    const SendStatus status = session->send(
        std::vector{message(2, "b@example.org", data), message(3, "c@example.org", data)},
        [&](const DeliveryResult& r) { results.push_back(r); });
    EXPECT_EQ(status.status, TransportStatus::Failed);
    EXPECT_NE(status.message.find("maildir " + md.string() + ": cannot deliver tmp/"), std::string::npos) << status.message;
    EXPECT_NE(status.message.find("No such file or directory"), std::string::npos) << status.message;
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].outcome, DeliveryOutcome::NotHandedOver);
    EXPECT_EQ(results[1].outcome, DeliveryOutcome::NotHandedOver);
    EXPECT_TRUE(files(md / "tmp").empty());  // the half-delivered file was removed
}

}  // namespace

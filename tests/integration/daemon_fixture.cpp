// daemon_fixture.cpp: see daemon_fixture.h.
#include "daemon_fixture.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <stdexcept>

namespace campaignd::test {
namespace fs = std::filesystem;

std::string campaigndBinary() { return CAMPAIGND_BINARY; }
std::string ctlBinary() { return CAMPAIGND_CTL_BINARY; }

// A copy in a directory everyone may enter, made once per program and test program. The build
// tree may be where that user cannot go (a root user's clone under /root, mode 0700, or .ci/run's
// private copy, is the usual case), and the test is about what the daemon allows, not about the
// checkout's permissions.
std::string binaryForOthers(const std::string& built) {
    static std::mutex mutex;
    static std::map<std::string, std::string> copies;
    static const TempDir dir = [] {
        TempDir d("campaignd-bin");
        fs::permissions(d.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                      fs::perms::others_read | fs::perms::others_exec);
        return d;
    }();
    std::lock_guard lock(mutex);
    auto& copy = copies[built];
    if (copy.empty()) {
        const fs::path to = dir.path() / fs::path(built).filename();
        fs::copy_file(built, to, fs::copy_options::overwrite_existing);
        fs::permissions(to, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
        copy = to.string();
    }
    return copy;
}

Campaignd::Campaignd(const PrivateBus& bus, const TempDir& dir, const DaemonConfig& config)
    : bus_(bus), configPath_(dir / "campaignd.conf") {
    std::string text = "[Daemon]\nDatabase=" + config.database + "\nPluginDirectory=" +
                       (dir / "plugins").string() + "\nAdminEmail=admin@example.org\nStateDirectory=" +
                       (dir / "state").string() + "\n";
    if (!config.adminGroup.empty()) text += "AdminGroup=" + config.adminGroup + "\n";
    text += config.extra;
    writeFile(configPath_, text);

    notify_ = std::make_unique<NotifySocket>(dir / ("notify-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(reinterpret_cast<std::uintptr_t>(this) % 100000)));

    GuardedServerSpec spec;
    spec.name = "campaignd";
    spec.argv = {campaigndBinary(), "--config", configPath_.string()};
    if (bus.kind() == PrivateBus::Kind::Session) spec.argv.push_back("--user");
    spec.options.env = bus.clientEnv();
    spec.options.env["NOTIFY_SOCKET"] = notify_->path().string();
    spec.options.unsetEnv = {"JOURNAL_STREAM"};
    spec.ready = [this] { return notify_->received("READY=1"); };
    spec.readyTimeout = 30s;
    server_ = std::make_unique<GuardedServer>(std::move(spec));
}

Campaignd::~Campaignd() = default;

std::vector<std::string> Campaignd::notifications() { return notify_->messages(); }

int Campaignd::stop() {
    server_->stop(10s);
    notifications();
    return server_->process().exitStatus().value_or(-1);
}

bool Campaignd::running() { return server_->running(); }

RunResult Campaignd::ctl(const std::vector<std::string>& args, std::optional<UserIds> as) const {
    return ctlRun(args, as, nullptr);
}

RunResult Campaignd::ctlWithInput(const std::vector<std::string>& args, const std::string& input) const {
    return ctlRun(args, std::nullopt, &input);
}

RunResult Campaignd::ctlRun(const std::vector<std::string>& args, std::optional<UserIds> as,
                            const std::string* input) const {
    std::vector<std::string> argv{as ? binaryForOthers(ctlBinary()) : ctlBinary()};
    if (bus_.kind() == PrivateBus::Kind::Session) argv.push_back("--user");
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.env = bus_.clientEnv();
    options.env["TZ"] = "UTC";
    if (as) {
        options.uid = as->uid;
        options.gid = as->gid;
        options.workingDir = "/";  // the test's own directory may be closed to that user
    }
    if (input != nullptr) options.stdinText = *input;
    return run(argv, options, 60s);
}

std::string Campaignd::ctlOk(const std::vector<std::string>& args) const {
    const auto r = ctl(args);
    std::string command = "campaignd-ctl";
    for (const auto& a : args) command += " " + a;
    EXPECT_EQ(r.exitCode, 0) << command << "\nstderr: " << r.err << "\nstdout: " << r.out;
    return r.out;
}

nlohmann::json Campaignd::ctlJson(std::vector<std::string> args) const {
    args.insert(args.begin(), "--json");
    const auto out = ctlOk(args);
    try {
        return nlohmann::json::parse(out);
    } catch (const nlohmann::json::exception&) {
        ADD_FAILURE() << "not JSON: " << out;
        return nlohmann::json::object();
    }
}

nlohmann::json Campaignd::ctlCampaign(int id) const { return ctlJson({"campaign", "show", std::to_string(id)}); }

RunResult Campaignd::busctl(const std::vector<std::string>& args, std::optional<UserIds> as) const {
    std::vector<std::string> argv{"busctl", "--address=" + bus_.address()};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    if (as) {
        options.uid = as->uid;
        options.gid = as->gid;
        options.workingDir = "/";
    }
    return run(argv, options, 60s);
}

std::string arfReport(const std::string& recipient, const std::string& messageId, const std::string& reportId,
                      const std::string& returnedHeaders) {
    return "From: <staff@fbl.example.com>\r\nSubject: FW: News\r\nTo: <fbl@example.org>\r\n"
           "Message-ID: <arf-" + reportId + "@fbl.example.com>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=feedback-report; boundary=\"b1\"\r\n\r\n"
           "--b1\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n"
           "--b1\r\nContent-Type: message/feedback-report\r\n\r\n"
           "Feedback-Type: abuse\r\nUser-Agent: SomeGenerator/1.0\r\nVersion: 1\r\n"
           "Original-Rcpt-To: <" + recipient + ">\r\n\r\n"
           "--b1\r\nContent-Type: message/rfc822\r\n\r\n"
           "From: <news@example.org>\r\nTo: <" + recipient + ">\r\nSubject: News\r\n"
           "Message-ID: <" + messageId + ">\r\n" + returnedHeaders + "\r\nBuy now.\r\n--b1--\r\n";
}

std::string dkimPublicKey(const fs::path& key, bool ed25519) {
    const fs::path der = key.string() + ".pub.der";
    EXPECT_EQ(run({"openssl", "pkey", "-in", key.string(), "-pubout", "-outform", "DER", "-out", der.string()}).exitCode,
              0);
    const auto b64 = run({"/usr/bin/python3", "-c",
                          std::string("import base64,sys; d=open(sys.argv[1],'rb').read(); print(base64.b64encode(") +
                              (ed25519 ? "d[-32:]" : "d") + ").decode())",
                          der.string()});
    EXPECT_EQ(b64.exitCode, 0) << b64.err;
    return b64.out.substr(0, b64.out.find('\n'));
}

}  // namespace campaignd::test

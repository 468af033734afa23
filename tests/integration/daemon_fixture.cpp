// daemon_fixture.cpp: see daemon_fixture.h.
#include "daemon_fixture.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <stdexcept>

namespace campaignd::test {
namespace fs = std::filesystem;

std::string campaigndBinary() { return CAMPAIGND_BINARY; }
std::string ctlBinary() { return CAMPAIGND_CTL_BINARY; }

namespace {

// The client as another user runs it: a copy in a directory everyone may enter, made once per
// test program. The build tree may be where that user cannot go (a root user's clone under
// /root, mode 0700, is the usual case), and the test is about what the daemon allows, not
// about the checkout's permissions.
const std::string& ctlBinaryForOthers() {
    static const TempDir dir = [] {
        TempDir d("campaignd-ctl");
        fs::permissions(d.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                      fs::perms::others_read | fs::perms::others_exec);
        fs::copy_file(ctlBinary(), d / "campaignd-ctl");
        fs::permissions(d / "campaignd-ctl", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                                 fs::perms::others_read | fs::perms::others_exec);
        return d;
    }();
    static const std::string path = (dir / "campaignd-ctl").string();
    return path;
}

}  // namespace

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
    std::vector<std::string> argv{as ? ctlBinaryForOthers() : ctlBinary()};
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

}  // namespace campaignd::test

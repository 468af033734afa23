// daemon_fixture.h: the real campaignd on a private bus (support/private_bus.h), driven as a
// user would drive it. Campaignd starts the built daemon against it with a config the test
// writes, as a GuardedServer that is ready at its sd_notify READY=1 (support/notify_socket.h),
// and runs campaignd-ctl and busctl against it, optionally as another user; ctlOk/ctlJson/ctlCampaign
// are the one copy of "run campaignd-ctl and expect success" that every integration test uses
// (a failure there is a GoogleTest failure, not an exception). Everything started is stopped
// when the objects die.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/guarded_server.h"
#include "support/notify_socket.h"
#include "support/private_bus.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::test {

struct DaemonConfig {
    std::string database;            // "sqlite:..." or a postgresql:// URL
    std::string adminGroup;          // empty: the default ("campaignd")
    std::string extra;               // appended to the config file verbatim
};

class Campaignd {
public:
    // Writes the config into `dir` and starts the daemon; throws if it does not become ready.
    Campaignd(const PrivateBus& bus, const TempDir& dir, const DaemonConfig& config);
    ~Campaignd();
    Campaignd(const Campaignd&) = delete;
    Campaignd& operator=(const Campaignd&) = delete;

    // SIGTERM and wait; returns the exit status.
    int stop();
    bool running();
    Process& process() { return server_->process(); }
    // Every sd_notify message received so far, in order.
    std::vector<std::string> notifications();

    // campaignd-ctl ARGS (with --user on a session bus), optionally as another user.
    RunResult ctl(const std::vector<std::string>& args, std::optional<UserIds> as = {}) const;
    // campaignd-ctl ARGS with `input` on its standard input (as pipe(8) runs it).
    RunResult ctlWithInput(const std::vector<std::string>& args, const std::string& input) const;
    // campaignd-ctl ARGS expected to exit 0 (a test failure otherwise, naming the command with
    // its stderr and stdout); returns its stdout.
    std::string ctlOk(const std::vector<std::string>& args) const;
    // campaignd-ctl --json ARGS expected to exit 0, its stdout parsed; a test failure and an
    // empty object when it is not JSON.
    nlohmann::json ctlJson(std::vector<std::string> args) const;
    // campaignd-ctl --json campaign show ID.
    nlohmann::json ctlCampaign(int id) const;
    // busctl --address=... ARGS.
    RunResult busctl(const std::vector<std::string>& args, std::optional<UserIds> as = {}) const;

private:
    RunResult ctlRun(const std::vector<std::string>& args, std::optional<UserIds> as, const std::string* input) const;

    const PrivateBus& bus_;
    std::filesystem::path configPath_;
    std::unique_ptr<NotifySocket> notify_;
    std::unique_ptr<GuardedServer> server_;
};

// The built binaries (from the build system).
std::string campaigndBinary();
std::string ctlBinary();
// A copy of the built program `built` that every user may run, for tests that run it as another
// user: the build tree may be where that user cannot go. Made once per program.
std::string binaryForOthers(const std::string& built);

// An abuse report (ARF, RFC 5965) about `recipient`, as a feedback loop sends one, returning the
// message that went out with `messageId`. `reportId` keeps each report's own Message-ID apart
// (<arf-ID@fbl.example.com>); `returnedHeaders` ("Name: value\r\n"...) are added to the
// returned message's header.
std::string arfReport(const std::string& recipient, const std::string& messageId, const std::string& reportId = "1",
                      const std::string& returnedHeaders = "");

// The p= of a DKIM key file: base64 of its DER public key (of its raw 32 bytes for ed25519),
// computed with openssl and python, not with campaignd. Writes KEY.pub.der beside the key.
std::string dkimPublicKey(const std::filesystem::path& key, bool ed25519);

}  // namespace campaignd::test

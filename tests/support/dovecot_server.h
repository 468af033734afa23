// dovecot_server.h: a private Dovecot for tests: `dovecot -F -c` with a config of its own
// (base_dir, state_dir and log inside a private directory), IMAP without TLS on its own
// loopback address and port, users from a passwd-file (user@domain, plain password), mail as
// uid/gid 65534 in Maildirs under a base the test names (e.g. a PostfixServer's mailBase(),
// so the mail Postfix delivers is what IMAP serves). The destructor stops it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/network.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::test {

struct DovecotOptions {
    // "user@domain" -> password. The Maildir of user@domain is <mailBase>/<domain>/<user>/Maildir.
    std::vector<std::pair<std::string, std::string>> users;
    std::filesystem::path mailBase;
};

class DovecotServer {
public:
    // Starts Dovecot and waits until IMAP listens; throws std::runtime_error with its log if not.
    explicit DovecotServer(DovecotOptions options);
    ~DovecotServer();
    DovecotServer(const DovecotServer&) = delete;
    DovecotServer& operator=(const DovecotServer&) = delete;

    const Endpoint& imap() const { return endpoint_; }
    // "imap://127.x.y.z:PORT/FOLDER"
    std::string url(const std::string& folder = "INBOX") const;
    std::string log() const;
    void stop();

private:
    TempDir dir_{"campaignd-dovecot"};
    Endpoint endpoint_;
    std::unique_ptr<Process> process_;
};

}  // namespace campaignd::test

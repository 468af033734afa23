// dovecot_server.h: the one private Dovecot for tests: `dovecot -F -c` with a config of its own
// (base_dir, state_dir and log inside a private directory), run as a GuardedServer. Users come
// from a passwd-file (plain passwords). It serves IMAP without TLS on its own loopback address
// and port, mail as uid/gid 65534 in Maildirs under a base the test names (e.g. a PostfixServer's
// mailBase(), so the mail Postfix delivers is what IMAP serves); and/or SASL authentication for
// Postfix on a unix socket (saslSocket()). The destructor stops it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/guarded_server.h"
#include "support/network.h"
#include "support/temp_dir.h"

namespace campaignd::test {

struct DovecotOptions {
    // Name -> password. An IMAP user is "user@domain", whose Maildir is
    // <mailBase>/<domain>/<user>/Maildir; a SASL-only user may be any name.
    std::vector<std::pair<std::string, std::string>> users;
    std::filesystem::path mailBase;  // "": a directory of the fixture's own
    bool imap = true;                // IMAP on imap()
    bool sasl = false;               // Postfix's SASL (smtpd_sasl_type = dovecot) on saslSocket()
};

class DovecotServer {
public:
    // Whether dovecot is installed and has its user.
    static bool available();

    // Starts Dovecot and waits until IMAP listens and the SASL socket exists (as asked); throws
    // std::runtime_error with its log if not.
    explicit DovecotServer(DovecotOptions options);
    ~DovecotServer();
    DovecotServer(const DovecotServer&) = delete;
    DovecotServer& operator=(const DovecotServer&) = delete;

    const Endpoint& imap() const { return endpoint_; }
    // "imap://127.x.y.z:PORT/FOLDER"
    std::string url(const std::string& folder = "INBOX") const;
    // The unix socket for Postfix's smtpd_sasl_path (mode 0666).
    std::filesystem::path saslSocket() const { return dir_ / "auth"; }
    pid_t pid() const { return server_ ? server_->pid() : -1; }  // Dovecot's master
    std::string log() const;
    void stop();  // idempotent; the destructor calls it

private:
    DovecotOptions options_;
    TempDir dir_{"campaignd-dovecot"};
    Endpoint endpoint_;
    std::unique_ptr<GuardedServer> server_;
};

}  // namespace campaignd::test

// postfix_server.h: a real, private Postfix for tests that need what smtp-sink cannot do:
// STARTTLS and implicit TLS (smtps) with a fresh self-signed certificate whose CA file the test
// gets, and SASL AUTH against a private Dovecot (passwd-file users), offered only after TLS as
// a careful server does. Accepted mail for the mailbox domains lands in one Maildir the test can
// read; nothing ever leaves the machine (every other destination is an error transport). Both
// servers run from a TempDir on their own loopback address and ports, stop when the object dies,
// and are stopped by a guard process if the test dies. Needs root (Postfix's master).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/network.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::test {

struct PostfixServerOptions {
    // SASL users (name -> password), served by a private Dovecot; empty: no AUTH at all.
    std::map<std::string, std::string> users;
    // Domains whose mail is delivered into maildir(); everything else is refused at RCPT.
    std::vector<std::string> mailboxDomains{"example.org"};
};

class PostfixServer {
public:
    // Throws std::runtime_error with the servers' logs if they do not start.
    explicit PostfixServer(PostfixServerOptions options = {});
    ~PostfixServer();
    PostfixServer(const PostfixServer&) = delete;
    PostfixServer& operator=(const PostfixServer&) = delete;

    // Whether postfix, dovecot and openssl are installed and we are root.
    static bool available();

    // STARTTLS (offered, not required) on endpoint(); implicit TLS on smtpsEndpoint().
    const Endpoint& endpoint() const { return endpoint_; }
    const Endpoint& smtpsEndpoint() const { return smtpsEndpoint_; }
    std::string url() const { return "smtp://" + endpoint_.hostPort(); }
    std::string smtpsUrl() const { return "smtps://" + smtpsEndpoint_.hostPort(); }
    // The PEM certificate the server presents (self-signed, for its IP address): the CA file.
    std::filesystem::path caFile() const { return dir_ / "cert.pem"; }
    std::filesystem::path maildir() const { return dir_ / "mail" / "Maildir"; }

    // The delivered messages' contents (Maildir new/), in file-name order.
    std::vector<std::string> delivered() const;
    bool waitForDeliveries(std::size_t count, std::chrono::milliseconds timeout = 30s) const;
    std::string log() const;  // Postfix's and Dovecot's logs

    void stop();  // idempotent; the destructor calls it

private:
    pid_t dovecotMasterPid() const;  // from its pid file; -1 if there is none (yet)

    PostfixServerOptions options_;
    TempDir dir_;
    Endpoint endpoint_;
    Endpoint smtpsEndpoint_;
    bool postfixRunning_ = false;
    pid_t dovecotPid_ = -1;
    int guardPipe_ = -1;
    std::unique_ptr<Process> guard_;
};

}  // namespace campaignd::test

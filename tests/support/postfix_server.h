// postfix_server.h: the one private Postfix for tests, from its own config directory (one
// main.cf writer, never the system's), as a GuardedServer on its own loopback address and ports.
// Nothing ever leaves the machine: every destination it does not deliver itself is an error
// transport. Two profiles:
//   Relay   (relayProfile):   the smtp plugin's peer. STARTTLS (offered, not required) on
//           endpoint() and implicit TLS on smtpsEndpoint() with a fresh self-signed certificate
//           (caFile()); SASL AUTH against a private DovecotServer, offered only after TLS; mail
//           for the domains lands in one Maildir (maildir()), other recipients are refused.
//   Mailbox (mailboxProfile): a destination with mailboxes. Plain SMTP on endpoint(); each
//           listed local part has a Maildir (virtual(8), uid/gid 65534, under mailBase()); an
//           unknown user is accepted and bounced with Postfix's genuine DSN to the envelope
//           sender; recipient_delimiter is "+", so VERP senders (bounces+1-x@dom) reach "bounces".
// Needs root (Postfix's master). The destructor stops it (and its Dovecot).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/dovecot_server.h"
#include "support/guarded_server.h"
#include "support/network.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::test {

enum class PostfixProfile { Relay, Mailbox };

struct PostfixServerOptions {
    PostfixProfile profile = PostfixProfile::Relay;
    // The domains it takes mail for. Relay: all of it into maildir(); Mailbox: into the Maildirs
    // of `mailboxes` (the first domain is domain(): its host name and myorigin).
    std::vector<std::string> domains{"example.org"};
    // Relay: SASL users (name -> password), served by a private Dovecot; empty: no AUTH at all.
    std::map<std::string, std::string> users;
    // Mailbox: the local parts that have a Maildir, in each domain.
    std::vector<std::string> mailboxes{"bounces"};
    // Relay: addresses refused at RCPT with "550 5.1.1 <ADDRESS>: Recipient address rejected:
    // User unknown" (check_recipient_access), the others taken: a share of a group refused.
    std::vector<std::string> rejectedRecipients;
    // false: PIPELINING is not announced (smtpd_discard_ehlo_keywords). Postfix 3.7 still
    // takes commands sent ahead of time (reject_unauth_pipelining catches only a body sent
    // before the 354), so this shows a client copes, not that it waited.
    bool pipelining = true;
    // false: no CHUNKING (BDAT, RFC 3030) in the EHLO reply.
    bool chunking = true;
    // message_size_limit (announced as SIZE); 0: the fixture's default (10240000).
    std::uint64_t messageSizeLimit = 0;
    // Relay with users: the SASL mechanisms announced (smtpd_sasl_mechanism_filter, e.g.
    // "login"); "" announces what the SASL server offers (PLAIN and LOGIN).
    std::string saslMechanisms;
};

PostfixServerOptions relayProfile(std::map<std::string, std::string> users = {},
                                  std::vector<std::string> domains = {"example.org"});
PostfixServerOptions mailboxProfile(std::string domain = "campaignd.test",
                                    std::vector<std::string> mailboxes = {"bounces"});

class PostfixServer {
public:
    // Throws std::runtime_error with the servers' logs if they do not start.
    explicit PostfixServer(PostfixServerOptions options = {});
    ~PostfixServer();
    PostfixServer(const PostfixServer&) = delete;
    PostfixServer& operator=(const PostfixServer&) = delete;

    // Whether we are root and what the profile needs is installed (postfix; for Relay also
    // dovecot and openssl).
    static bool available(PostfixProfile profile = PostfixProfile::Relay);

    const PostfixServerOptions& options() const { return options_; }
    const std::string& domain() const { return options_.domains.front(); }
    const Endpoint& endpoint() const { return endpoint_; }
    std::string url() const { return "smtp://" + endpoint_.hostPort(); }
    // Relay only (std::logic_error otherwise): implicit TLS, and the PEM certificate the server
    // presents (self-signed, for its IP address and mx.test), to use as the CA file.
    const Endpoint& smtpsEndpoint() const;
    std::string smtpsUrl() const { return "smtps://" + smtpsEndpoint().hostPort(); }
    std::filesystem::path caFile() const;

    // Where virtual(8) keeps the mail: Relay <mailBase>/Maildir; Mailbox
    // <mailBase>/<domain>/<local part>/Maildir.
    std::filesystem::path mailBase() const { return dir_ / "mail"; }
    // Relay: the one Maildir; its delivered messages' contents (new/), in file-name order.
    std::filesystem::path maildir() const { return mailBase() / "Maildir"; }
    std::vector<std::string> delivered() const;
    bool waitForDeliveries(std::size_t count, std::chrono::milliseconds timeout = 30s) const;
    // Mailbox: a mailbox of domain(), and the files delivered to its new/ so far (sorted).
    std::filesystem::path maildir(const std::string& localPart) const;
    std::vector<std::filesystem::path> deliveredFiles(const std::string& localPart) const;

    pid_t masterPid() const { return server_ ? server_->pid() : -1; }
    pid_t saslServerPid() const { return dovecot_ ? dovecot_->pid() : -1; }  // -1 without users
    std::string log() const;  // Postfix's maillog (and the SASL Dovecot's log)

    void stop();  // idempotent; the destructor calls it

private:
    void writeConfig(const UserIds& nobody) const;

    PostfixServerOptions options_;
    TempDir dir_{"campaignd-postfix"};
    Endpoint endpoint_;
    Endpoint smtpsEndpoint_;
    std::unique_ptr<DovecotServer> dovecot_;  // Relay with users: SASL
    std::unique_ptr<GuardedServer> server_;
};

}  // namespace campaignd::test

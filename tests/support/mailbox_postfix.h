// mailbox_postfix.h: a private Postfix for tests, from its own config directory (never the
// system's), listening for SMTP on its own loopback address and port. It delivers mail for one
// test domain into Maildirs (virtual(8), uid/gid 65534) and accepts unknown users there, so
// that their mail comes back as Postfix's genuine DSN to the envelope sender; nothing ever
// leaves the machine (every other destination is error:). recipient_delimiter is "+", so VERP
// senders (bounces+1-token@domain) reach the "bounces" mailbox. The destructor stops it.
// (postfix_server.h is the other private Postfix: STARTTLS, smtps and SASL for the smtp
// plugin's tests, one Maildir for everything; this one is for bounces.)
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "support/network.h"
#include "support/temp_dir.h"

namespace campaignd::test {

struct MailboxPostfixOptions {
    std::string domain = "campaignd.test";
    std::vector<std::string> mailboxes = {"bounces"};  // local parts that have a Maildir
};

class MailboxPostfix {
public:
    // Writes the config and starts Postfix; throws std::runtime_error (with its log) if it
    // does not listen within a few seconds. Needs root (Postfix drops to its own users).
    explicit MailboxPostfix(MailboxPostfixOptions options = {});
    ~MailboxPostfix();
    MailboxPostfix(const MailboxPostfix&) = delete;
    MailboxPostfix& operator=(const MailboxPostfix&) = delete;

    const Endpoint& smtp() const { return endpoint_; }
    const std::string& domain() const { return options_.domain; }
    // Where virtual(8) keeps the domain's mailboxes: <base>/<domain>/<local part>/Maildir.
    std::filesystem::path mailBase() const { return dir_ / "mail"; }
    std::filesystem::path maildir(const std::string& localPart) const;
    // The messages delivered to new/ of a mailbox so far (file paths, sorted).
    std::vector<std::filesystem::path> delivered(const std::string& localPart) const;
    std::string log() const;  // Postfix's maillog
    void stop();

private:
    MailboxPostfixOptions options_;
    TempDir dir_{"campaignd-postfix"};
    Endpoint endpoint_;
    bool running_ = false;
};

}  // namespace campaignd::test

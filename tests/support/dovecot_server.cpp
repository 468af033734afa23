// dovecot_server.cpp: see dovecot_server.h. Dovecot keeps descriptors it inherits open, so it
// runs as a Process (stdin /dev/null, output in memory files); -F keeps it in the foreground,
// so stopping the Process stops the master and its children (one process group). The passwd
// file must be readable by Dovecot's auth user; auth_failure_delay = 0 keeps failed logins fast.
#include "support/dovecot_server.h"

#include <unistd.h>

#include <stdexcept>

namespace campaignd::test {
namespace fs = std::filesystem;

DovecotServer::DovecotServer(DovecotOptions options) {
    const auto dovecot = lookupUser("dovecot");
    if (!dovecot) throw std::runtime_error("DovecotServer: there is no dovecot user (apt-get install dovecot-imapd)");
    endpoint_ = freeLoopbackEndpoint();
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec);
    std::string passwd;
    for (const auto& [user, password] : options.users) passwd += user + ":{PLAIN}" + password + "\n";
    writeFile(dir_ / "passwd", passwd, fs::perms::owner_read | fs::perms::owner_write);
    if (::chown((dir_ / "passwd").c_str(), dovecot->uid, dovecot->gid) != 0)
        throw std::runtime_error("DovecotServer: chown failed (run the tests as root)");
    const std::string d = dir_.str();
    writeFile(dir_ / "dovecot.conf",
              "base_dir = " + d + "/run\n"
              "state_dir = " + d + "/state\n"
              "log_path = " + d + "/dovecot.log\n"
              "protocols = imap\n"
              "listen = " + endpoint_.address + "\n"
              "ssl = no\n"
              "disable_plaintext_auth = no\n"
              "auth_mechanisms = plain login\n"
              "auth_failure_delay = 0\n"
              "mail_location = maildir:~/Maildir\n"
              "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u " + d + "/passwd\n}\n"
              "userdb {\n  driver = static\n  args = uid=65534 gid=65534 home=" + options.mailBase.string() +
                  "/%d/%n\n}\n"
              "service imap-login {\n  inet_listener imap {\n    address = " + endpoint_.address +
                  "\n    port = " + std::to_string(endpoint_.port) +
                  "\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}\n"
              "service pop3-login {\n  inet_listener pop3 {\n    port = 0\n  }\n}\n");
    process_ = std::make_unique<Process>(std::vector<std::string>{"dovecot", "-F", "-c", (dir_ / "dovecot.conf").string()});
    if (!waitUntil([&] { return isListening(endpoint_) || !process_->running(); }, 10s) || !process_->running()) {
        const std::string why = process_->err() + process_->out() + "\n" + log();
        stop();
        throw std::runtime_error("DovecotServer: dovecot did not start: " + why);
    }
}

DovecotServer::~DovecotServer() { stop(); }

void DovecotServer::stop() {
    if (process_ && process_->running()) process_->stop(10s);
}

std::string DovecotServer::url(const std::string& folder) const {
    return "imap://" + endpoint_.hostPort() + "/" + folder;
}

std::string DovecotServer::log() const {
    try {
        return readFile(dir_ / "dovecot.log");
    } catch (const std::exception&) {
        return {};
    }
}

}  // namespace campaignd::test

// dovecot_server.cpp: see dovecot_server.h. Dovecot keeps descriptors it inherits open, so it
// runs as a Process (stdin /dev/null, output in memory files); -F keeps it in the foreground,
// so stopping the Process stops the master and its children (one process group). The passwd
// file must be readable by Dovecot's auth user; auth_failure_delay = 0 keeps failed logins fast.
// Plaintext logins are allowed only with IMAP (served without TLS); Postfix offers AUTH only
// after TLS itself.
#include "support/dovecot_server.h"

#include <unistd.h>

#include <stdexcept>

#include "support/process.h"

namespace campaignd::test {
namespace fs = std::filesystem;

bool DovecotServer::available() {
    return ::access("/usr/sbin/dovecot", X_OK) == 0 && lookupUser("dovecot").has_value();
}

DovecotServer::DovecotServer(DovecotOptions options) : options_(std::move(options)) {
    const auto dovecot = lookupUser("dovecot");
    if (!dovecot) throw std::runtime_error("DovecotServer: there is no dovecot user (apt-get install dovecot-imapd)");
    if (!options_.imap && !options_.sasl) throw std::logic_error("DovecotServer: neither IMAP nor SASL asked for");
    endpoint_ = freeLoopbackEndpoint();
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec);
    std::string passwd;
    for (const auto& [user, password] : options_.users) passwd += user + ":{PLAIN}" + password + "\n";
    writeFile(dir_ / "passwd", passwd, fs::perms::owner_read | fs::perms::owner_write);
    if (::chown((dir_ / "passwd").c_str(), dovecot->uid, dovecot->gid) != 0)
        throw std::runtime_error("DovecotServer: chown failed (run the tests as root)");
    const std::string d = dir_.str();
    const std::string mailBase = options_.mailBase.empty() ? d + "/home" : options_.mailBase.string();
    std::string conf = "base_dir = " + d + "/run\n"
                       "state_dir = " + d + "/state\n"
                       "log_path = " + d + "/dovecot.log\n"
                       "protocols =" + std::string(options_.imap ? " imap" : "") + "\n"
                       "listen = " + endpoint_.address + "\n"
                       "ssl = no\n"
                       "disable_plaintext_auth = " + (options_.imap ? "no" : "yes") + "\n"
                       "auth_mechanisms = plain login\n"
                       "auth_failure_delay = 0\n"
                       "mail_location = maildir:~/Maildir\n"
                       "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u " + d + "/passwd\n}\n"
                       "userdb {\n  driver = static\n  args = uid=65534 gid=65534 home=" + mailBase + "/%d/%n\n}\n";
    if (options_.imap)
        conf += "service imap-login {\n  inet_listener imap {\n    address = " + endpoint_.address +
                "\n    port = " + std::to_string(endpoint_.port) +
                "\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}\n"
                "service pop3-login {\n  inet_listener pop3 {\n    port = 0\n  }\n}\n";
    if (options_.sasl) conf += "service auth {\n  unix_listener " + saslSocket().string() + " {\n    mode = 0666\n  }\n}\n";
    writeFile(dir_ / "dovecot.conf", conf);

    GuardedServerSpec spec;
    spec.name = "dovecot on " + endpoint_.hostPort();
    spec.argv = {"/usr/sbin/dovecot", "-F", "-c", (dir_ / "dovecot.conf").string()};
    spec.readyTimeout = 10s;
    spec.ready = [this] {
        return (!options_.imap || isListening(endpoint_)) && (!options_.sasl || fs::exists(saslSocket()));
    };
    spec.guardRemoves = dir_.path();
    spec.logs = [this] { return "dovecot.log:\n" + log(); };
    server_ = std::make_unique<GuardedServer>(std::move(spec));
}

DovecotServer::~DovecotServer() { stop(); }

void DovecotServer::stop() {
    if (server_) server_->stop();
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

// postfix_server.cpp: one writer of main.cf/master.cf for both profiles: the lines every
// private Postfix needs (shared/NOTES-servers.md: errors go only to a terminal, so everything
// is logged to a file through the postlog service; inet_interfaces names an interface address
// while master.cf binds the private 127.x.y.z; every service unchrooted; virtual_mailbox_limit
// not below message_size_limit), then each profile's own. A freshly written main.cf or map is
// re-read for ~2 s unless it is over a second old, so the files are backdated. Postfix runs as
// a GuardedServer daemon (pid from master.pid, stopped with `postfix abort`).
#include "support/postfix_server.h"

#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <stdexcept>

namespace campaignd::test {
namespace fs = std::filesystem;
namespace {

void backdate(const fs::path& path) {
    struct timeval times[2];
    ::gettimeofday(&times[0], nullptr);
    times[0].tv_sec -= 60;
    times[1] = times[0];
    ::utimes(path.c_str(), times);
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : separator) + i;
    return out;
}

constexpr const char* kServices[] = {
    "pickup unix n - n 60 1 pickup",        "cleanup unix n - n - 0 cleanup",
    "qmgr unix n - n 300 1 qmgr",           "tlsmgr unix - - n 1000? 1 tlsmgr",
    "rewrite unix - - n - - trivial-rewrite", "bounce unix - - n - 0 bounce",
    "defer unix - - n - 0 bounce",          "trace unix - - n - 0 bounce",
    "verify unix - - n - 1 verify",         "flush unix n - n 1000? 0 flush",
    "proxymap unix - - n - - proxymap",     "smtp unix - - n - - smtp",
    "relay unix - - n - - smtp",            "showq unix n - n - - showq",
    "error unix - - n - - error",           "retry unix - - n - - error",
    "discard unix - - n - - discard",       "local unix - n n - - local",
    "virtual unix - n n - - virtual",       "lmtp unix - - n - - lmtp",
    "anvil unix - - n - 1 anvil",           "scache unix - - n - 1 scache",
    "postlog unix-dgram n - n - 1 postlogd"};

}  // namespace

PostfixServerOptions relayProfile(std::map<std::string, std::string> users, std::vector<std::string> domains) {
    PostfixServerOptions options;
    options.profile = PostfixProfile::Relay;
    options.users = std::move(users);
    options.domains = std::move(domains);
    return options;
}

PostfixServerOptions mailboxProfile(std::string domain, std::vector<std::string> mailboxes) {
    PostfixServerOptions options;
    options.profile = PostfixProfile::Mailbox;
    options.domains = {std::move(domain)};
    options.mailboxes = std::move(mailboxes);
    return options;
}

bool PostfixServer::available(PostfixProfile profile) {
    const bool postfix = ::geteuid() == 0 && ::access("/usr/sbin/postfix", X_OK) == 0;
    if (profile == PostfixProfile::Mailbox) return postfix;
    return postfix && ::access("/usr/sbin/dovecot", X_OK) == 0 && ::access("/usr/bin/openssl", X_OK) == 0;
}

PostfixServer::PostfixServer(PostfixServerOptions options)
    : options_(std::move(options)), endpoint_(freeLoopbackEndpoint()) {
    if (options_.domains.empty()) throw std::logic_error("PostfixServer: no domains");
    if (!available(options_.profile))
        throw std::runtime_error("PostfixServer needs root and postfix (and for the relay profile dovecot and openssl)");
    const bool relay = options_.profile == PostfixProfile::Relay;
    const auto postfixUser = lookupUser("postfix");
    const auto nobody = lookupUser("nobody");
    if (!postfixUser || !nobody) throw std::runtime_error("PostfixServer: no postfix or nobody user");
    // Postfix's own users (and Dovecot's IMAP, as nobody) must reach what is under the directory.
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec);
    for (const char* sub : {"conf", "queue", "data", "mail"}) fs::create_directory(dir_ / sub);
    if (::chown((dir_ / "data").c_str(), postfixUser->uid, postfixUser->gid) != 0 ||
        ::chown((dir_ / "mail").c_str(), nobody->uid, nobody->gid) != 0)
        throw std::runtime_error("PostfixServer: chown in " + dir_.str() + " failed (run the tests as root)");

    if (relay) {
        smtpsEndpoint_ = {endpoint_.address, freePortOn(endpoint_.address)};
        const RunResult cert = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                    "-nodes", "-keyout", (dir_ / "key.pem").string(), "-out", caFile().string(),
                                    "-days", "2", "-subj", "/CN=mx.test", "-addext",
                                    "subjectAltName=IP:" + endpoint_.address + ",DNS:mx.test"},
                                   {}, 60s);
        if (cert.exitCode != 0) throw std::runtime_error("openssl req failed: " + cert.out + cert.err);
        if (!options_.users.empty()) {
            DovecotOptions sasl;
            sasl.users.assign(options_.users.begin(), options_.users.end());
            sasl.imap = false;
            sasl.sasl = true;
            dovecot_ = std::make_unique<DovecotServer>(std::move(sasl));
        }
    }
    writeConfig(*nobody);

    GuardedServerSpec spec;
    spec.name = "postfix on " + endpoint_.hostPort();
    spec.argv = {"/usr/sbin/postfix", "-c", (dir_ / "conf").string(), "start"};
    spec.pidFile = dir_ / "queue" / "pid" / "master.pid";
    spec.ready = [this, relay] { return isListening(endpoint_) && (!relay || isListening(smtpsEndpoint_)); };
    spec.readyTimeout = 30s;
    spec.stopCommand = {"/usr/sbin/postfix", "-c", (dir_ / "conf").string(), "abort"};
    spec.guardRemoves = dir_.path();
    spec.logs = [this] { return "logs:\n" + log(); };
    server_ = std::make_unique<GuardedServer>(std::move(spec));
}

void PostfixServer::writeConfig(const UserIds& nobody) const {
    const std::string d = dir_.str();
    const bool relay = options_.profile == PostfixProfile::Relay;
    std::string main =
        "compatibility_level = 3.6\n"
        "queue_directory = " + d + "/queue\n"
        "data_directory = " + d + "/data\n"
        "command_directory = /usr/sbin\n"
        "daemon_directory = /usr/lib/postfix/sbin\n"
        "shlib_directory = /usr/lib/postfix\n"
        "mail_owner = postfix\n"
        "setgid_group = postdrop\n"
        "mydestination =\n"
        "inet_interfaces = loopback-only\n"
        "inet_protocols = ipv4\n"
        "smtp_dns_support_level = disabled\n"
        "alias_maps =\n"
        "alias_database =\n"
        "maillog_file = " + d + "/maillog\n"
        "maillog_file_prefixes = " + d + "\n"
        "virtual_mailbox_domains = " + joined(options_.domains, ", ") + "\n"
        "virtual_mailbox_base = " + d + "/mail\n"
        "virtual_uid_maps = static:" + std::to_string(nobody.uid) + "\n"
        "virtual_gid_maps = static:" + std::to_string(nobody.gid) + "\n"
        "message_size_limit = " + std::to_string(options_.messageSizeLimit != 0 ? options_.messageSizeLimit : 10240000) + "\n"
        "virtual_mailbox_limit = 51200000\n"
        "default_transport = error:no mail leaves this test server\n"
        "relay_transport = error:no mail leaves this test server\n";
    if (relay) {
        main += "myhostname = mx.test\n"
                "mydomain = test\n"
                "smtpd_tls_cert_file = " + caFile().string() + "\n"
                "smtpd_tls_key_file = " + d + "/key.pem\n"
                "smtpd_tls_security_level = may\n"
                "smtpd_tls_auth_only = yes\n"
                "virtual_mailbox_maps = static:Maildir/\n";
        if (!options_.rejectedRecipients.empty()) {
            std::string map;
            for (const auto& address : options_.rejectedRecipients)
                map += address + " 550 5.1.1 User unknown\n";  // Postfix puts "<ADDRESS>: Recipient address rejected: " before it
            writeFile(dir_ / "conf" / "rejected", map);
            backdate(dir_ / "conf" / "rejected");
            main += "smtpd_recipient_restrictions = check_recipient_access texthash:" + d + "/conf/rejected\n";
        }
        if (!options_.pipelining || !options_.chunking) {
            std::string discard;
            if (!options_.pipelining) discard += "pipelining ";
            if (!options_.chunking) discard += "chunking";
            main += "smtpd_discard_ehlo_keywords = " + discard + "\n";
        }
        if (!dovecot_) {
            main += "smtpd_relay_restrictions = reject_unauth_destination\n";
        } else {
            main += "smtpd_sasl_auth_enable = yes\n"
                    "smtpd_sasl_type = dovecot\n"
                    "smtpd_sasl_path = " + dovecot_->saslSocket().string() + "\n"
                    "smtpd_relay_restrictions = permit_sasl_authenticated, reject\n";
            if (!options_.saslMechanisms.empty())
                main += "smtpd_sasl_mechanism_filter = " + options_.saslMechanisms + "\n";
        }
    } else {
        main += "myhostname = mail." + domain() + "\n"
                "mydomain = " + domain() + "\n"
                "myorigin = " + domain() + "\n"
                "mynetworks = 127.0.0.0/8\n"
                "smtpd_relay_restrictions = permit_mynetworks, reject\n"
                "virtual_mailbox_maps = texthash:" + d + "/conf/vmailbox\n"
                "recipient_delimiter = +\n"
                "smtpd_reject_unlisted_recipient = no\n";
        std::string map;
        for (const auto& dom : options_.domains)
            for (const auto& box : options_.mailboxes) map += box + "@" + dom + " " + dom + "/" + box + "/Maildir/\n";
        writeFile(dir_ / "conf" / "vmailbox", map);
        backdate(dir_ / "conf" / "vmailbox");
    }
    writeFile(dir_ / "conf" / "main.cf", main);

    std::string master = endpoint_.hostPort() + " inet n - n - - smtpd\n";
    if (relay) master += smtpsEndpoint_.hostPort() + " inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n";
    for (const char* line : kServices) master += std::string(line) + "\n";
    writeFile(dir_ / "conf" / "master.cf", master);
    backdate(dir_ / "conf" / "main.cf");
    backdate(dir_ / "conf" / "master.cf");
}

PostfixServer::~PostfixServer() {
    try {
        stop();
    } catch (const std::exception& e) {
        std::cerr << "campaignd-test: stopping postfix: " << e.what() << "\n";
    }
}

void PostfixServer::stop() {
    if (server_) server_->stop();
    if (dovecot_) dovecot_->stop();
}

const Endpoint& PostfixServer::smtpsEndpoint() const {
    if (options_.profile != PostfixProfile::Relay) throw std::logic_error("PostfixServer: smtps is in the relay profile only");
    return smtpsEndpoint_;
}

fs::path PostfixServer::caFile() const {
    if (options_.profile != PostfixProfile::Relay) throw std::logic_error("PostfixServer: TLS is in the relay profile only");
    return dir_ / "cert.pem";
}

std::vector<std::string> PostfixServer::delivered() const {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(maildir() / "new", ec)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(readFile(f));
    return out;
}

bool PostfixServer::waitForDeliveries(std::size_t count, std::chrono::milliseconds timeout) const {
    return waitUntil([&] { return delivered().size() >= count; }, timeout);
}

fs::path PostfixServer::maildir(const std::string& localPart) const {
    return mailBase() / domain() / localPart / "Maildir";
}

std::vector<fs::path> PostfixServer::deliveredFiles(const std::string& localPart) const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(maildir(localPart) / "new", ec)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string PostfixServer::log() const {
    std::string out;
    try {
        out += readFile(dir_ / "maillog");
    } catch (const std::exception&) {
    }
    if (dovecot_) out += dovecot_->log();
    return out;
}

}  // namespace campaignd::test

// postfix_server.cpp: writes main.cf/master.cf (every service unchrooted, logging to a file
// through postlogd since there is no /dev/log), a certificate made by openssl, and a Dovecot
// config that only serves SASL on a socket in the temp dir; starts both, waits until the SMTP
// listeners accept. The guard shell holds a pipe: at EOF (the test process died) it aborts
// Postfix, kills Dovecot and removes the directory.
#include "support/postfix_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <stdexcept>

namespace campaignd::test {
namespace {

constexpr const char* kGuardScript =
    "read _ignored;"
    " postfix -c \"$1/postfix\" abort >/dev/null 2>&1;"
    " pid=$(head -n1 \"$1/dovecot/master.pid\" 2>/dev/null); [ -n \"$pid\" ] && kill \"$pid\" 2>/dev/null;"
    " sleep 1; rm -rf \"$1\"";

// Postfix re-reads a main.cf younger than a second for a while; an older one it takes at once.
void backdate(const std::filesystem::path& path) {
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

}  // namespace

bool PostfixServer::available() {
    return ::geteuid() == 0 && ::access("/usr/sbin/postfix", X_OK) == 0 && ::access("/usr/sbin/dovecot", X_OK) == 0 &&
           ::access("/usr/bin/openssl", X_OK) == 0;
}

PostfixServer::PostfixServer(PostfixServerOptions options)
    : options_(std::move(options)), dir_("campaignd-postfix"), endpoint_(freeLoopbackEndpoint()) {
    if (!available()) throw std::runtime_error("PostfixServer needs root, postfix, dovecot and openssl");
    smtpsEndpoint_ = {endpoint_.address, freePortOn(endpoint_.address)};
    const auto postfixUser = lookupUser("postfix");
    const auto nobody = lookupUser("nobody");
    if (!postfixUser || !nobody) throw std::runtime_error("no postfix or nobody user");
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                                  std::filesystem::perms::others_exec);
    for (const char* sub : {"postfix", "queue", "data", "mail", "dovecot"}) std::filesystem::create_directory(dir_ / sub);
    if (::chown((dir_ / "data").c_str(), postfixUser->uid, postfixUser->gid) != 0 ||
        ::chown((dir_ / "mail").c_str(), nobody->uid, nobody->gid) != 0)
        throw std::runtime_error("chown in " + dir_.str() + " failed");

    const RunResult cert = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                "-nodes", "-keyout", (dir_ / "key.pem").string(), "-out", caFile().string(), "-days",
                                "2", "-subj", "/CN=mx.test", "-addext",
                                "subjectAltName=IP:" + endpoint_.address + ",DNS:mx.test"},
                               {}, 60s);
    if (cert.exitCode != 0) throw std::runtime_error("openssl req failed: " + cert.out + cert.err);

    const std::string d = dir_.str();
    std::string main =
        "compatibility_level = 3.6\n"
        "queue_directory = " + d + "/queue\n"
        "data_directory = " + d + "/data\n"
        "mail_owner = postfix\n"
        "myhostname = mx.test\n"
        "mydomain = test\n"
        "mydestination =\n"
        "inet_interfaces = loopback-only\n"
        "inet_protocols = ipv4\n"
        "smtp_dns_support_level = disabled\n"
        "alias_maps =\n"
        "alias_database =\n"
        "maillog_file = " + d + "/postfix.log\n"
        "maillog_file_prefixes = " + d + "\n"
        "smtpd_tls_cert_file = " + d + "/cert.pem\n"
        "smtpd_tls_key_file = " + d + "/key.pem\n"
        "smtpd_tls_security_level = may\n"
        "smtpd_tls_auth_only = yes\n"
        "virtual_mailbox_domains = " + joined(options_.mailboxDomains, ", ") + "\n"
        "virtual_mailbox_base = " + d + "/mail\n"
        "virtual_mailbox_maps = static:Maildir/\n"
        "virtual_uid_maps = static:" + std::to_string(nobody->uid) + "\n"
        "virtual_gid_maps = static:" + std::to_string(nobody->gid) + "\n"
        "virtual_mailbox_limit = 0\n"
        "message_size_limit = 10240000\n"
        "default_transport = error:no delivery outside the test\n"
        "relay_transport = error:no delivery outside the test\n";
    if (options_.users.empty()) {
        main += "smtpd_relay_restrictions = reject_unauth_destination\n";
    } else {
        main += "smtpd_sasl_auth_enable = yes\n"
                "smtpd_sasl_type = dovecot\n"
                "smtpd_sasl_path = " + d + "/auth\n"
                "smtpd_relay_restrictions = permit_sasl_authenticated, reject\n";
    }
    writeFile(dir_ / "postfix" / "main.cf", main);
    std::string master =
        endpoint_.hostPort() + " inet n - n - - smtpd\n" +
        smtpsEndpoint_.hostPort() + " inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n";
    for (const char* line : {
             "pickup unix n - n 60 1 pickup", "cleanup unix n - n - 0 cleanup", "qmgr unix n - n 300 1 qmgr",
             "tlsmgr unix - - n 1000? 1 tlsmgr", "rewrite unix - - n - - trivial-rewrite",
             "bounce unix - - n - 0 bounce", "defer unix - - n - 0 bounce", "trace unix - - n - 0 bounce",
             "verify unix - - n - 1 verify", "flush unix n - n 1000? 0 flush", "proxymap unix - - n - - proxymap",
             "smtp unix - - n - - smtp", "relay unix - - n - - smtp", "showq unix n - n - - showq",
             "error unix - - n - - error", "retry unix - - n - - error", "discard unix - - n - - discard",
             "local unix - n n - - local", "virtual unix - n n - - virtual", "lmtp unix - - n - - lmtp",
             "anvil unix - - n - 1 anvil", "scache unix - - n - 1 scache", "postlog unix-dgram n - n - 1 postlogd"})
        master += std::string(line) + "\n";
    writeFile(dir_ / "postfix" / "master.cf", master);
    backdate(dir_ / "postfix" / "main.cf");
    backdate(dir_ / "postfix" / "master.cf");

    if (!options_.users.empty()) {
        std::string users;
        for (const auto& [name, password] : options_.users) users += name + ":{PLAIN}" + password + "\n";
        writeFile(dir_ / "users", users);
        writeFile(dir_ / "dovecot.conf",
                  "base_dir = " + d + "/dovecot\n"
                  "state_dir = " + d + "/dovecot\n"
                  "log_path = " + d + "/dovecot.log\n"
                  "protocols =\n"
                  "ssl = no\n"
                  "auth_mechanisms = plain login\n"
                  "auth_failure_delay = 0\n"
                  "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN " + d + "/users\n}\n"
                  "userdb {\n  driver = static\n  args = uid=65534 gid=65534 home=" + d + "/home/%u\n}\n"
                  "service auth {\n  unix_listener " + d + "/auth {\n    mode = 0666\n  }\n}\n");
        const RunResult started = run({"/usr/sbin/dovecot", "-c", d + "/dovecot.conf"}, {}, 30s);
        // The master writes its pid file a moment after the socket appears: wait for both, or
        // stop() would not know whom to stop.
        const bool up = started.exitCode == 0 && waitUntil([&] {
            dovecotPid_ = dovecotMasterPid();
            return dovecotPid_ > 0 && std::filesystem::exists(dir_ / "auth");
        }, 10s);
        if (!up) {
            stop();
            throw std::runtime_error("dovecot did not start: " + started.out + started.err + "\n" + log());
        }
    }

    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) == 0) {
        ProcessOptions guardOptions;
        guardOptions.stdinFd = pipeFds[0];
        guardOptions.captureOutput = false;
        guard_ = std::make_unique<Process>(
            std::vector<std::string>{"/bin/sh", "-c", kGuardScript, "campaignd-postfix-guard", d}, guardOptions);
        guardPipe_ = pipeFds[1];
        ::close(pipeFds[0]);
    }

    const RunResult started = run({"/usr/sbin/postfix", "-c", d + "/postfix", "start"}, {}, 60s);
    postfixRunning_ = true;
    const bool listening =
        waitUntil([&] { return isListening(endpoint_) && isListening(smtpsEndpoint_); }, 20s);
    if (started.exitCode != 0 || !listening) {
        const std::string said = started.out + started.err + "\n" + log();
        stop();
        throw std::runtime_error("postfix did not start on " + endpoint_.hostPort() + ": " + said);
    }
}

PostfixServer::~PostfixServer() {
    try {
        stop();
    } catch (const std::exception& e) {
        std::cerr << "campaignd-test: stopping postfix: " << e.what() << "\n";
    }
}

void PostfixServer::stop() {
    if (guard_) {
        guard_->kill();
        guard_->wait(5s);
        guard_.reset();
    }
    if (guardPipe_ >= 0) {
        ::close(guardPipe_);
        guardPipe_ = -1;
    }
    if (postfixRunning_) {
        postfixRunning_ = false;
        pid_t master = -1;
        try {
            master = std::stoi(readFile(dir_ / "queue" / "pid" / "master.pid"));
        } catch (const std::exception&) {
        }
        run({"/usr/sbin/postfix", "-c", dir_.str() + "/postfix", "abort"}, {}, 60s);
        if (master > 0 && !waitForProcessExit(master, 10s)) ::kill(master, SIGKILL);
    }
    if (dovecotPid_ <= 0 && !options_.users.empty()) dovecotPid_ = dovecotMasterPid();
    if (dovecotPid_ > 0) {
        ::kill(dovecotPid_, SIGTERM);
        if (!waitForProcessExit(dovecotPid_, 10s)) ::kill(dovecotPid_, SIGKILL);
        dovecotPid_ = -1;
    }
}

pid_t PostfixServer::dovecotMasterPid() const {
    try {
        return pid_t(std::stoi(readFile(dir_ / "dovecot" / "master.pid")));
    } catch (const std::exception&) {
        return -1;
    }
}

std::vector<std::string> PostfixServer::delivered() const {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(maildir() / "new", ec)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(readFile(f));
    return out;
}

bool PostfixServer::waitForDeliveries(std::size_t count, std::chrono::milliseconds timeout) const {
    return waitUntil([&] { return delivered().size() >= count; }, timeout);
}

std::string PostfixServer::log() const {
    std::string out;
    for (const char* name : {"postfix.log", "dovecot.log"}) {
        try {
            out += readFile(dir_ / name);
        } catch (const std::exception&) {
        }
    }
    return out;
}

}  // namespace campaignd::test

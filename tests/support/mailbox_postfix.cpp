// mailbox_postfix.cpp: see mailbox_postfix.h. Facts it relies on (shared/NOTES-servers.md):
// postfix prints errors only to a terminal, so everything goes to maillog_file through the
// postlog service; inet_interfaces must name an interface address (loopback-only), while the
// master.cf service binds the private 127.x.y.z itself; a freshly written main.cf or map is
// re-read for ~2 s unless it is over a second old, so the files are backdated; every service
// runs unchrooted; virtual_mailbox_limit must not be below message_size_limit.
#include "support/mailbox_postfix.h"

#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include "support/process.h"

namespace campaignd::test {
namespace fs = std::filesystem;

namespace {

void backdate(const fs::path& file) {
    const std::time_t past = std::time(nullptr) - 10;
    utimbuf times{past, past};
    ::utime(file.c_str(), &times);
}

}  // namespace

MailboxPostfix::MailboxPostfix(MailboxPostfixOptions options) : options_(std::move(options)) {
    const auto postfix = lookupUser("postfix");
    if (!postfix) throw std::runtime_error("MailboxPostfix: there is no postfix user (apt-get install postfix)");
    endpoint_ = freeLoopbackEndpoint();
    // Postfix's own users must reach the queue and the mailboxes under the test directory.
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec);
    for (const char* d : {"conf", "queue", "data", "mail"}) fs::create_directories(dir_ / d);
    if (::chown((dir_ / "data").c_str(), postfix->uid, postfix->gid) != 0 ||
        ::chown((dir_ / "mail").c_str(), 65534, 65534) != 0)
        throw std::runtime_error("MailboxPostfix: chown failed (run the tests as root)");

    const std::string d = dir_.str();
    writeFile(dir_ / "conf" / "main.cf",
              "compatibility_level = 3.6\n"
              "queue_directory = " + d + "/queue\n"
              "data_directory = " + d + "/data\n"
              "command_directory = /usr/sbin\n"
              "daemon_directory = /usr/lib/postfix/sbin\n"
              "shlib_directory = /usr/lib/postfix\n"
              "mail_owner = postfix\n"
              "setgid_group = postdrop\n"
              "myhostname = mail." + options_.domain + "\n"
              "mydomain = " + options_.domain + "\n"
              "myorigin = " + options_.domain + "\n"
              "mydestination =\n"
              "inet_interfaces = loopback-only\n"
              "inet_protocols = ipv4\n"
              "mynetworks = 127.0.0.0/8\n"
              "smtpd_relay_restrictions = permit_mynetworks, reject\n"
              "smtp_dns_support_level = disabled\n"
              "alias_maps =\n"
              "alias_database =\n"
              "maillog_file = " + d + "/maillog\n"
              "maillog_file_prefixes = " + d + "\n"
              "virtual_mailbox_domains = " + options_.domain + "\n"
              "virtual_mailbox_base = " + d + "/mail\n"
              "virtual_mailbox_maps = texthash:" + d + "/conf/vmailbox\n"
              "virtual_uid_maps = static:65534\n"
              "virtual_gid_maps = static:65534\n"
              "message_size_limit = 10240000\n"
              "virtual_mailbox_limit = 51200000\n"
              "recipient_delimiter = +\n"
              "smtpd_reject_unlisted_recipient = no\n"
              "default_transport = error:no mail leaves this test server\n"
              "relay_transport = error:no mail leaves this test server\n");
    writeFile(dir_ / "conf" / "master.cf",
              endpoint_.hostPort() + " inet n - n - - smtpd\n"
              "pickup unix n - n 60 1 pickup\n"
              "cleanup unix n - n - 0 cleanup\n"
              "qmgr unix n - n 300 1 qmgr\n"
              "rewrite unix - - n - - trivial-rewrite\n"
              "bounce unix - - n - 0 bounce\n"
              "defer unix - - n - 0 bounce\n"
              "trace unix - - n - 0 bounce\n"
              "verify unix - - n - 1 verify\n"
              "flush unix n - n 1000? 0 flush\n"
              "proxymap unix - - n - - proxymap\n"
              "showq unix n - n - - showq\n"
              "error unix - - n - - error\n"
              "retry unix - - n - - error\n"
              "discard unix - - n - - discard\n"
              "virtual unix - n n - - virtual\n"
              "anvil unix - - n - 1 anvil\n"
              "scache unix - - n - 1 scache\n"
              "postlog unix-dgram n - n - 1 postlogd\n");
    std::string map;
    for (const auto& box : options_.mailboxes)
        map += box + "@" + options_.domain + " " + options_.domain + "/" + box + "/Maildir/\n";
    writeFile(dir_ / "conf" / "vmailbox", map);
    for (const char* f : {"main.cf", "master.cf", "vmailbox"}) backdate(dir_ / "conf" / f);

    const RunResult r = run({"postfix", "-c", (dir_ / "conf").string(), "start"}, {}, 30s);
    if (r.exitCode != 0 || !waitUntil([&] { return isListening(endpoint_); }, 10s)) {
        running_ = true;
        stop();
        throw std::runtime_error("MailboxPostfix: postfix did not start (exit " + std::to_string(r.exitCode) +
                                 "): " + r.err + r.out + "\nmaillog:\n" + log());
    }
    running_ = true;
}

MailboxPostfix::~MailboxPostfix() {
    try {
        stop();
    } catch (...) {
    }
}

void MailboxPostfix::stop() {
    if (!running_) return;
    running_ = false;
    pid_t master = -1;
    try {
        master = static_cast<pid_t>(std::stol(readFile(dir_ / "queue" / "pid" / "master.pid")));
    } catch (const std::exception&) {
    }
    run({"postfix", "-c", (dir_ / "conf").string(), "stop"}, {}, 30s);
    if (master > 0) waitForProcessExit(master, 10s);
}

fs::path MailboxPostfix::maildir(const std::string& localPart) const {
    return mailBase() / options_.domain / localPart / "Maildir";
}

std::vector<fs::path> MailboxPostfix::delivered(const std::string& localPart) const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(maildir(localPart) / "new", ec)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string MailboxPostfix::log() const {
    try {
        return readFile(dir_ / "maillog");
    } catch (const std::exception&) {
        return {};
    }
}

}  // namespace campaignd::test

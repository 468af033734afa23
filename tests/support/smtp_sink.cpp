// smtp_sink.cpp: runs /usr/sbin/smtp-sink with -c (counters on stdout) and -d (one file per
// message) as a GuardedServer (stopped by its guard if the test dies), ready when its listening
// socket shows in /proc/net/tcp (connecting to probe it would count as a session in the
// counters).
#include "support/smtp_sink.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace campaignd::test {
namespace {

constexpr const char* kSmtpSink = "/usr/sbin/smtp-sink";

std::string joined(const std::vector<std::string>& commands) {
    std::string out;
    for (const auto& c : commands) {
        if (!out.empty()) out += ',';
        out += c;
    }
    return out;
}

// Whether a TCP socket in state LISTEN is bound to endpoint, from /proc/net/tcp ("local_address"
// is the IPv4 address as a host-order hex word and the port in hex; state 0A is LISTEN).
bool listensOn(const Endpoint& endpoint) {
    in_addr address{};
    if (::inet_pton(AF_INET, endpoint.address.c_str(), &address) != 1) return false;
    char wanted[32];
    std::snprintf(wanted, sizeof wanted, "%08X:%04X", address.s_addr, unsigned(endpoint.port));
    std::ifstream tcp("/proc/net/tcp");
    std::string line;
    std::getline(tcp, line);  // header
    while (std::getline(tcp, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state;
        fields >> slot >> local >> remote >> state;
        if (local == wanted && state == "0A") return true;
    }
    return false;
}

std::string insideAngles(const std::string& args) {
    const auto open = args.find('<');
    const auto close = args.find('>', open == std::string::npos ? 0 : open);
    if (open == std::string::npos || close == std::string::npos) return args;
    return args.substr(open + 1, close - open - 1);
}

}  // namespace

bool SmtpSink::available() { return ::access(kSmtpSink, X_OK) == 0; }

SmtpSink::SmtpSink(SmtpSinkOptions options)
    : options_(std::move(options)), dir_("campaignd-smtp-sink"), endpoint_(freeLoopbackEndpoint()) {
    if (!available()) throw std::runtime_error(std::string(kSmtpSink) + " is not installed (package postfix)");
    saveDir_ = dir_ / "messages";
    std::filesystem::create_directory(saveDir_);
    if (::geteuid() == 0) {
        // smtp-sink refuses to run as root; it drops to -u after binding, and writes as that user.
        const auto nobody = lookupUser("nobody");
        if (!nobody) throw std::runtime_error("no user nobody to run smtp-sink as");
        if (::chown(saveDir_.c_str(), nobody->uid, nobody->gid) != 0)
            throw std::runtime_error("chown " + saveDir_.string() + " failed");
        // The test's temp dir is 0700 root: nobody must be able to reach the save directory.
        std::filesystem::permissions(dir_.path(), std::filesystem::perms::owner_all |
                                                      std::filesystem::perms::others_exec);
    }
    start();
}

SmtpSink::~SmtpSink() {
    try {
        stop();
    } catch (const std::exception& e) {
        std::cerr << "campaignd-test: stopping smtp-sink: " << e.what() << "\n";
    }
}

std::vector<std::string> SmtpSink::arguments() const {
    std::vector<std::string> argv{kSmtpSink, "-c"};
    if (::geteuid() == 0) argv.insert(argv.end(), {"-u", "nobody"});
    if (options_.saveMessages) argv.insert(argv.end(), {"-d", (saveDir_ / "%Y%m%d%H%M%S.").string()});
    if (!options_.hardReject.empty()) argv.insert(argv.end(), {"-f", joined(options_.hardReject)});
    if (!options_.hardReply.empty()) argv.insert(argv.end(), {"-B", options_.hardReply});
    if (!options_.softReject.empty()) argv.insert(argv.end(), {"-r", joined(options_.softReject)});
    if (!options_.softReply.empty()) argv.insert(argv.end(), {"-b", options_.softReply});
    if (!options_.dropAt.empty()) argv.insert(argv.end(), {"-q", joined(options_.dropAt)});
    if (!options_.close421At.empty()) argv.insert(argv.end(), {"-Q", joined(options_.close421At)});
    for (const auto& wait : options_.waitAt) argv.insert(argv.end(), {"-W", wait});
    if (!options_.advertiseAuth) argv.push_back("-a");
    if (!options_.advertisePipelining) argv.push_back("-p");
    if (!options_.hostname.empty()) argv.insert(argv.end(), {"-h", options_.hostname});
    argv.insert(argv.end(), {"-m", std::to_string(options_.maxConnections)});
    argv.push_back("inet:" + endpoint_.hostPort());
    argv.push_back("256");  // listen backlog
    return argv;
}

void SmtpSink::start() {
    if (server_) {
        server_->start();
        return;
    }
    GuardedServerSpec spec;
    spec.name = "smtp-sink on " + endpoint_.hostPort();
    spec.argv = arguments();
    spec.options.workingDir = dir_.path();
    spec.ready = [endpoint = endpoint_] { return listensOn(endpoint); };
    spec.guardRemoves = dir_.path();
    server_ = std::make_unique<GuardedServer>(std::move(spec));
}

void SmtpSink::stop() {
    if (!running()) return;
    server_->stop(5s);
    // The listening socket goes with the process; wait so that start() binds anew.
    waitUntil([&] { return !listensOn(endpoint_); }, 5s);
}

SavedMessage SmtpSink::parseSaved(const std::string& text) {
    SavedMessage message;
    std::size_t pos = 0;
    bool inReceived = false;
    // smtp-sink's own records, up to and including its three-line Received header.
    while (pos < text.size()) {
        const auto eol = text.find('\n', pos);
        const std::string line = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
        const std::size_t next = eol == std::string::npos ? text.size() : eol + 1;
        if (inReceived) {
            if (line.empty() || (line[0] != '\t' && line[0] != ' ')) break;  // data starts here
            pos = next;
            continue;
        }
        auto value = [&](const char* prefix) -> std::optional<std::string> {
            const std::string p(prefix);
            if (line.compare(0, p.size(), p) == 0) return line.substr(p.size());
            return std::nullopt;
        };
        if (auto v = value("X-Helo-Args: ")) message.heloArgs = *v;
        else if (auto m = value("X-Mail-Args: ")) {
            message.mailArgs = *m;
            message.sender = insideAngles(*m);
        } else if (auto r = value("X-Rcpt-Args: ")) message.recipients.push_back(insideAngles(*r));
        else if (value("Received: ")) inReceived = true;
        else if (!value("X-Client-Addr: ") && !value("X-Client-Proto: ")) break;  // not smtp-sink's
        pos = next;
    }
    // The data, then the empty line smtp-sink appends after a complete message.
    std::string data = text.substr(std::min(pos, text.size()));
    if (data.size() >= 2 && data.compare(data.size() - 2, 2, "\n\n") == 0) data.pop_back();
    message.data.reserve(data.size() + data.size() / 32);
    for (char ch : data) {
        if (ch == '\n') message.data += "\r\n";
        else message.data += ch;
    }
    return message;
}

std::vector<SavedMessage> SmtpSink::messages() const {
    struct Entry {
        std::filesystem::file_time_type time;
        std::filesystem::path path;
    };
    std::vector<Entry> entries;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(saveDir_, ec)) {
        // A file of an aborted transaction may go between the listing and these calls.
        std::error_code gone;
        if (!entry.is_regular_file(gone)) continue;
        const auto time = entry.last_write_time(gone);
        if (!gone) entries.push_back({time, entry.path()});
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return a.time != b.time ? a.time < b.time : a.path < b.path;
    });
    std::vector<SavedMessage> out;
    out.reserve(entries.size());
    for (const auto& entry : entries) {
        // smtp-sink opens the file at MAIL and removes it when the transaction is aborted; a
        // file without its Received record never reached DATA, and one may vanish meanwhile.
        std::string text;
        try {
            text = readFile(entry.path);
        } catch (const std::runtime_error&) {
            continue;
        }
        if (text.find("\nReceived: ") == std::string::npos) continue;
        SavedMessage message = parseSaved(text);
        message.file = entry.path;
        out.push_back(std::move(message));
    }
    return out;
}

bool SmtpSink::waitForMessages(std::size_t count, std::chrono::milliseconds timeout) const {
    return waitUntil(
        [&] {
            std::size_t n = 0;
            std::error_code ec;
            for (const auto& entry : std::filesystem::directory_iterator(saveDir_, ec))
                if (entry.is_regular_file()) ++n;
            return n >= count && messages().size() >= count;
        },
        timeout);
}

SmtpSinkCounters SmtpSink::counters() const {
    SmtpSinkCounters counters;
    const std::string out = output();
    // "sess=N quit=N mesg=N" records separated by CR; the last complete one counts (the very
    // last may be half-written while we read).
    std::size_t at = out.find("sess=");
    while (at != std::string::npos) {
        unsigned long long sessions = 0, quits = 0, messages = 0;
        const auto end = out.find('\r', at);
        if (end != std::string::npos &&
            std::sscanf(out.c_str() + at, "sess=%llu quit=%llu mesg=%llu", &sessions, &quits, &messages) == 3)
            counters = {sessions, quits, messages};
        at = out.find("sess=", at + 1);
    }
    return counters;
}

std::string SmtpSink::output() const { return running() ? server_->output() : std::string(); }

}  // namespace campaignd::test

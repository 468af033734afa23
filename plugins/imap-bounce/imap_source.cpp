// imap_source.cpp: the "imap-bounce" plugin (bounce-source capability, ABI 1.4). One fetch()
// is one IMAP session: libcurl connects (imap:// with STARTTLS, or imaps://) and logs in
// (CURLOPT_CONNECT_ONLY stops right after LOGIN/AUTHENTICATE), then this file speaks the few
// commands it needs over curl_easy_send/recv: SELECT the folder, UID SEARCH UNSEEN, UID FETCH
// BODY.PEEK[] (PEEK: reading does not set \Seen), and only after the host says the record is
// committed UID STORE +FLAGS (\Seen) or UID MOVE. So a crash between the two leaves the notice
// unseen, to be read again, and the host records it once. Why not libcurl's own IMAP
// requests: a custom FETCH's literal (the message itself) is not passed to the write callback,
// and a URL fetch sends BODY[], which marks the message seen before anything is recorded.
// Promises: the password comes from PasswordFile= or a systemd credential and is never in a
// log line or an error; one unreadable message never stops the others; at most
// kMaxMessagesPerRun messages per run (the timer comes back); a run ends by its deadline
// (Timeout=, whole seconds, default 300) however slowly the server answers: every wait for the
// server, libcurl's login included, gets at most what is left of it (and at most
// kTimeoutSeconds), and the run then fails with CAMPAIGND_ERR_CONNECTION naming the deadline
// (what was recorded stays processed, the rest waits for the next run). Refuses: credentials
// in the URL, a password over an unencrypted connection to another machine, folder names with control
// characters or non-ASCII (modified UTF-7 is not implemented).
#include <campaignd/plugin.h>

#include "plugin_text.h"
#include "imap_response.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

constexpr std::size_t kMaxPasswordFile = 4096;
constexpr std::size_t kMaxMessagesPerRun = 1000;
constexpr long kTimeoutSeconds = 30;  // connect, and each wait for the server
constexpr long kDefaultRunSeconds = 300;  // Timeout=: the deadline of one whole run
constexpr long kMaxRunSeconds = 86400;

struct Instance {
    const campaignd_host* host = nullptr;
};

void logLine(const Instance* self, campaignd_log_level level, const std::string& message,
             std::initializer_list<std::pair<const char*, std::string>> fields = {}) {
    if (self == nullptr || self->host == nullptr) return;
    std::vector<campaignd_log_field> f;
    for (const auto& [k, v] : fields) f.push_back({k, v.c_str()});
    self->host->log(self->host->host_ctx, level, message.c_str(), f.empty() ? nullptr : f.data(), f.size(), nullptr);
}

using campaignd::plugin_text::equalsIgnoreCase;
using campaignd::plugin_text::errnoText;

using campaignd::imap::Failure;
using campaignd::imap::Response;

// ---- Settings ---------------------------------------------------------------------------------

struct Settings {
    std::string connectUrl;  // scheme://host:port/ for libcurl
    std::string folder = "INBOX";
    bool implicitTls = false;
    bool loopback = false;
    std::string username;
    std::string password;     // never logged, never in a message
    std::string moveTo;       // AfterProcessing=move:FOLDER; "" marks \Seen
    long runSeconds = kDefaultRunSeconds;  // Timeout=
};

bool readPasswordFile(const std::string& key, const std::string& path, std::string& password, Failure& f) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0) {
        f = {CAMPAIGND_ERR_INVALID_ARGUMENT, key + ": cannot open " + path + ": " + errnoText(errno)};
        return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & (S_IROTH | S_IWOTH)) != 0 ||
        st.st_size > static_cast<off_t>(kMaxPasswordFile)) {
        ::close(fd);
        f = {CAMPAIGND_ERR_INVALID_ARGUMENT,
             key + ": " + path + " must be a regular file of at most 4 KiB that others cannot read or write"};
        return false;
    }
    char buffer[kMaxPasswordFile + 1];
    std::size_t length = 0;
    while (length < sizeof buffer) {
        const ssize_t n = ::read(fd, buffer + length, sizeof buffer - length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        length += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (length > 0 && buffer[length - 1] == '\n') --length;
    if (length > 0 && buffer[length - 1] == '\r') --length;
    bool bad = length == 0 || length > kMaxPasswordFile;
    for (std::size_t i = 0; i < length && !bad; ++i) bad = buffer[i] == '\0' || buffer[i] == '\n' || buffer[i] == '\r';
    if (!bad) password.assign(buffer, length);
    ::explicit_bzero(buffer, sizeof buffer);
    if (bad) f = {CAMPAIGND_ERR_INVALID_ARGUMENT, key + ": " + path + " must hold one non-empty line (the password)"};
    return !bad;
}

bool validFolder(std::string_view name) {
    if (name.empty() || name.size() > 200) return false;
    for (const char c : name)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
    return true;
}

// The one reading of the settings, for fetch() and validate() (ABI 1.4): connects to nothing,
// reads the password file (or credential) as fetch() must. On a failure *badKey (if given) is
// the index of the setting to fix, or count when a required one is missing.
bool parseSettings(const char* const* keys, const char* const* values, std::size_t count, Settings& s, Failure& f,
                   std::size_t* badKey = nullptr) {
    std::size_t urlAt = count, usernameAt = count, passwordFileAt = count, passwordCredentialAt = count,
                afterAt = count, timeoutAt = count;
    auto invalid = [&](std::size_t at, const std::string& why) {
        f = {CAMPAIGND_ERR_INVALID_ARGUMENT, why};
        if (badKey != nullptr) *badKey = at;
        return false;
    };
    std::string url, passwordFile, passwordCredential, after = "seen", timeout;
    for (std::size_t i = 0; i < count; ++i) {
        const std::string key = keys[i] ? keys[i] : "";
        const std::string value = values[i] ? values[i] : "";
        if (equalsIgnoreCase(key, "URL")) url = value, urlAt = i;
        else if (equalsIgnoreCase(key, "Username")) s.username = value, usernameAt = i;
        else if (equalsIgnoreCase(key, "PasswordFile")) passwordFile = value, passwordFileAt = i;
        else if (equalsIgnoreCase(key, "PasswordCredential")) passwordCredential = value, passwordCredentialAt = i;
        else if (equalsIgnoreCase(key, "AfterProcessing")) after = value, afterAt = i;
        else if (equalsIgnoreCase(key, "Timeout")) timeout = value, timeoutAt = i;
        // Other keys of the section (SoftBounceLimit=, ...) are the host's.
    }
    if (url.empty()) return invalid(urlAt, "URL= is not set (imap://HOST[:PORT]/FOLDER or imaps://...)");
    CURLU* u = curl_url();
    if (u == nullptr) {
        f = {CAMPAIGND_ERR_FAILED, "out of memory"};
        return false;
    }
    char* scheme = nullptr;
    char* host = nullptr;
    char* port = nullptr;
    char* path = nullptr;
    char* user = nullptr;
    bool ok = curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK;
    if (ok) {
        if (curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) path = nullptr;
        if (curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_OK) user = nullptr;
    }
    const std::string schemeText = scheme ? scheme : "", hostText = host ? host : "", portText = port ? port : "";
    std::string pathText = path ? path : "";
    const bool hasUser = user != nullptr;
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(user);
    curl_url_cleanup(u);
    if (!ok) return invalid(urlAt, "URL=" + url + " is not a URL (imap://HOST[:PORT]/FOLDER)");
    if (hasUser) return invalid(urlAt, "URL= must not carry credentials: use Username= and PasswordFile=");
    if (schemeText == "imaps") s.implicitTls = true;
    else if (schemeText != "imap") return invalid(urlAt, "URL=" + url + ": the scheme must be imap or imaps");
    while (!pathText.empty() && pathText.front() == '/') pathText.erase(0, 1);
    if (const auto semicolon = pathText.find(';'); semicolon != std::string::npos) pathText.erase(semicolon);
    if (!pathText.empty()) s.folder = pathText;
    if (!validFolder(s.folder)) return invalid(urlAt, "URL=" + url + ": the folder must be printable ASCII");
    s.connectUrl = schemeText + "://" + hostText + ":" + portText + "/";
    s.loopback = hostText == "localhost" || hostText == "[::1]" || hostText.rfind("127.", 0) == 0;

    if (after == "seen") s.moveTo.clear();
    else if (after.rfind("move:", 0) == 0 && validFolder(after.substr(5))) s.moveTo = after.substr(5);
    else return invalid(afterAt, "AfterProcessing=" + after + " is neither seen nor move:FOLDER (printable ASCII)");

    if (!timeout.empty()) {
        const bool digits = timeout.size() <= 5 && timeout.find_first_not_of("0123456789") == std::string::npos;
        s.runSeconds = digits ? std::stol(timeout) : 0;
        if (s.runSeconds < 1 || s.runSeconds > kMaxRunSeconds)
            return invalid(timeoutAt, "Timeout=" + timeout + " is not a number of seconds from 1 to " +
                           std::to_string(kMaxRunSeconds));
    }

    if (s.username.empty()) return invalid(usernameAt, "Username= is not set (the mailbox's login)");
    if (!passwordFile.empty() && !passwordCredential.empty())
        return invalid(std::max(passwordFileAt, passwordCredentialAt),
                       "PasswordFile= and PasswordCredential= are both set; keep one");
    if (!passwordFile.empty()) {
        if (passwordFile.front() != '/')
            return invalid(passwordFileAt, "PasswordFile=" + passwordFile + " is not an absolute path");
        if (badKey != nullptr) *badKey = passwordFileAt;
        return readPasswordFile("PasswordFile=", passwordFile, s.password, f);
    }
    if (!passwordCredential.empty()) {
        if (passwordCredential.find('/') != std::string::npos || passwordCredential == "." || passwordCredential == "..")
            return invalid(passwordCredentialAt, "PasswordCredential=" + passwordCredential + " is not a credential name");
        const char* directory = std::getenv("CREDENTIALS_DIRECTORY");
        if (directory == nullptr || *directory == '\0')
            return invalid(passwordCredentialAt,
                           "PasswordCredential=" + passwordCredential + ": CREDENTIALS_DIRECTORY is not set");
        if (badKey != nullptr) *badKey = passwordCredentialAt;
        return readPasswordFile("PasswordCredential=", std::string(directory) + "/" + passwordCredential, s.password, f);
    }
    return invalid(count, "PasswordFile= (or PasswordCredential=) is not set");
}

// ---- A minimal IMAP command layer over libcurl's connection ----------------------------------

// An IMAP quoted string (RFC 3501): the folder names are checked printable ASCII already.
std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// The deadline of one run (Timeout=): what is left of it bounds every wait for the server.
class Deadline {
public:
    explicit Deadline(long seconds) : seconds_(seconds), end_(Clock::now() + std::chrono::seconds(seconds)) {}

    // Rounded up: a wait of this long ends with passed() true.
    long long millisecondsLeft() const {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(end_ - Clock::now()).count();
        return left > 0 ? left : 0;
    }
    bool passed() const { return millisecondsLeft() == 0; }
    Failure failure() const {
        return {CAMPAIGND_ERR_CONNECTION,
                "the bounce fetch did not end within its deadline (Timeout=" + std::to_string(seconds_) +
                    " s): the IMAP server is too slow; notices recorded so far stay processed, the rest are read "
                    "by the next run"};
    }

private:
    using Clock = std::chrono::steady_clock;
    long seconds_;
    Clock::time_point end_;
};

// One logged-in IMAP connection: commands go out through libcurl's socket, responses are read
// by imap::ResponseReader (imap_response.h). No wait outlasts the run's deadline.
class Connection {
public:
    Connection(CURL* curl, const Deadline& deadline) : curl_(curl), deadline_(deadline) {}

    bool command(const std::string& text, Response& r, Failure& f) {
        const std::string tag = "cd" + std::to_string(++counter_);
        return sendAll(tag + " " + text + "\r\n", f) && reader_.read(tag, r, f);
    }

private:
    bool waitFor(bool forWrite, Failure& f) {
        curl_socket_t sock = CURL_SOCKET_BAD;
        if (curl_easy_getinfo(curl_, CURLINFO_ACTIVESOCKET, &sock) != CURLE_OK || sock == CURL_SOCKET_BAD) {
            f = {CAMPAIGND_ERR_CONNECTION, "the connection to the IMAP server is gone"};
            return false;
        }
        pollfd p{sock, static_cast<short>(forWrite ? POLLOUT : POLLIN), 0};
        int ready;
        const auto waitMs = std::min(kTimeoutSeconds * 1000LL, deadline_.millisecondsLeft());
        do ready = ::poll(&p, 1, static_cast<int>(waitMs));
        while (ready < 0 && errno == EINTR);
        if (ready <= 0) {
            f = deadline_.passed() ? deadline_.failure()
                                   : Failure{CAMPAIGND_ERR_CONNECTION, "the IMAP server did not answer within " +
                                                                           std::to_string(kTimeoutSeconds) + " s"};
            return false;
        }
        return true;
    }

    bool sendAll(std::string_view data, Failure& f) {
        while (!data.empty()) {
            if (deadline_.passed()) {
                f = deadline_.failure();
                return false;
            }
            std::size_t sent = 0;
            const CURLcode rc = curl_easy_send(curl_, data.data(), data.size(), &sent);
            if (rc == CURLE_AGAIN) {
                if (!waitFor(true, f)) return false;
                continue;
            }
            if (rc != CURLE_OK) {
                f = {CAMPAIGND_ERR_CONNECTION, std::string("sending to the IMAP server failed: ") + curl_easy_strerror(rc)};
                return false;
            }
            data.remove_prefix(sent);
        }
        return true;
    }

    // The reader's byte source: what the server sent next, appended to `buffer`.
    bool fill(std::string& buffer, Failure& f) {
        char chunk[65536];
        for (;;) {
            // A server that never stops sending (a byte at a time, or lines within the
            // reader's limits) ends here.
            if (deadline_.passed()) {
                f = deadline_.failure();
                return false;
            }
            std::size_t n = 0;
            const CURLcode rc = curl_easy_recv(curl_, chunk, sizeof chunk, &n);
            if (rc == CURLE_AGAIN) {
                if (!waitFor(false, f)) return false;
                continue;
            }
            if (rc != CURLE_OK || n == 0) {
                f = {CAMPAIGND_ERR_CONNECTION, rc != CURLE_OK
                                                   ? std::string("reading from the IMAP server failed: ") + curl_easy_strerror(rc)
                                                   : std::string("the IMAP server closed the connection")};
                return false;
            }
            buffer.append(chunk, n);
            return true;
        }
    }

    CURL* curl_;
    const Deadline& deadline_;
    campaignd::imap::ResponseReader reader_{[this](std::string& buffer, Failure& f) { return fill(buffer, f); }};
    unsigned counter_ = 0;
};

campaignd_status statusOfConnect(CURLcode rc) {
    switch (rc) {
    case CURLE_LOGIN_DENIED: return CAMPAIGND_ERR_AUTH;
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE: return CAMPAIGND_ERR_TLS;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING: return CAMPAIGND_ERR_CONNECTION;
    default: return CAMPAIGND_ERR_FAILED;
    }
}

struct CurlHandle {
    CURL* curl = curl_easy_init();
    ~CurlHandle() {
        if (curl) curl_easy_cleanup(curl);
    }
};

campaignd_status run(Instance* self, const Settings& s, const campaignd_bounce_sink* sink, Failure& f) {
    const Deadline deadline(s.runSeconds);
    CurlHandle handle;
    CURL* curl = handle.curl;
    if (curl == nullptr) {
        f = {CAMPAIGND_ERR_FAILED, "libcurl could not start"};
        return f.status;
    }
    curl_easy_setopt(curl, CURLOPT_URL, s.connectUrl.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    curl_easy_setopt(curl, CURLOPT_USERNAME, s.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, s.password.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
    // The login is libcurl's one perform: bounded by the run's deadline as a whole, and a
    // server that stalls (under a byte a second for kTimeoutSeconds) ends it sooner.
    const long loginMs = static_cast<long>(std::max(1LL, deadline.millisecondsLeft()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, loginMs);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(kTimeoutSeconds * 1000, loginMs));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, kTimeoutSeconds);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    // The password never crosses the network in clear text, except on loopback.
    if (!s.implicitTls) curl_easy_setopt(curl, CURLOPT_USE_SSL, s.loopback ? CURLUSESSL_TRY : CURLUSESSL_ALL);
    const CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        f = rc == CURLE_OPERATION_TIMEDOUT && deadline.passed()
                ? deadline.failure()
                : Failure{statusOfConnect(rc),
                          std::string("cannot log in to ") + s.connectUrl + ": " + curl_easy_strerror(rc)};
        return f.status;
    }
    Connection imap(curl, deadline);
    Response r;
    if (!imap.command("SELECT " + quoted(s.folder), r, f)) return f.status;
    if (r.status != "OK") {
        f = {CAMPAIGND_ERR_FAILED, "cannot select the folder " + s.folder + ": " + r.status + " " + r.text};
        return f.status;
    }
    r = {};
    if (!imap.command("UID SEARCH UNSEEN", r, f)) return f.status;
    if (r.status != "OK") {
        f = {CAMPAIGND_ERR_FAILED, "SEARCH UNSEEN failed: " + r.status + " " + r.text};
        return f.status;
    }
    std::vector<unsigned long> uids = campaignd::imap::searchUids(r.untagged);
    if (uids.empty()) {
        logLine(self, CAMPAIGND_LOG_INFO, "no unseen messages in the bounce mailbox", {{"FOLDER", s.folder}});
    } else if (uids.size() > kMaxMessagesPerRun) {
        logLine(self, CAMPAIGND_LOG_NOTICE, "more unseen messages than one run takes; the rest come next time",
                {{"FOLDER", s.folder}, {"UNSEEN", std::to_string(uids.size())}});
        uids.resize(kMaxMessagesPerRun);
    }
    for (const unsigned long uid : uids) {
        const std::string id = s.folder + " UID " + std::to_string(uid);
        r = {};
        if (!imap.command("UID FETCH " + std::to_string(uid) + " (BODY.PEEK[])", r, f)) return f.status;
        if (r.status != "OK" || r.literals.empty()) {
            // Expunged meanwhile, or the server would not give it: nothing to mark.
            logLine(self, CAMPAIGND_LOG_WARNING, "cannot fetch a message of the bounce mailbox",
                    {{"MESSAGE", id}, {"IMAP_STATUS", r.status + " " + r.text}});
            continue;
        }
        const std::string& raw = r.literals.back();
        char buffer[1024] = {0};
        campaignd_error err{buffer, sizeof buffer};
        const campaignd_status st = sink->message(sink->sink_ctx, id.c_str(), raw.data(), raw.size(), &err);
        if (st != CAMPAIGND_OK && st != CAMPAIGND_ERR_INVALID_ARGUMENT) {
            buffer[sizeof buffer - 1] = '\0';
            f = {st, std::string("the host did not take ") + id + ": " + buffer};
            return f.status;
        }
        // Committed (or unreadable and counted): now, and only now, mark it processed.
        Response mark;
        const std::string command = s.moveTo.empty()
                                        ? "UID STORE " + std::to_string(uid) + " +FLAGS.SILENT (\\Seen)"
                                        : "UID MOVE " + std::to_string(uid) + " " + quoted(s.moveTo);
        if (!imap.command(command, mark, f)) return f.status;
        if (mark.status != "OK") {
            f = {CAMPAIGND_ERR_FAILED, "cannot mark " + id + " processed (" + command.substr(0, command.find(' ', 4)) +
                                           "): " + mark.status + " " + mark.text};
            return f.status;
        }
    }
    Response bye;
    Failure ignored;
    imap.command("LOGOUT", bye, ignored);
    return CAMPAIGND_OK;
}

// ---- The ABI ----------------------------------------------------------------------------------

campaignd_status fetchBounces(void* instance, const char* const* keys, const char* const* values, size_t count,
                              const campaignd_bounce_sink* sink, campaignd_error* err) {
    auto* self = static_cast<Instance*>(instance);
    if (sink == nullptr || sink->message == nullptr || (count > 0 && (keys == nullptr || values == nullptr))) {
        campaignd_error_set(err, "fetch: a sink and the settings are required");
        return CAMPAIGND_ERR_INVALID_ARGUMENT;
    }
    try {
        Settings s;
        Failure f;
        campaignd_status status = parseSettings(keys, values, count, s, f) ? run(self, s, sink, f) : f.status;
        ::explicit_bzero(s.password.data(), s.password.size());
        if (status != CAMPAIGND_OK) campaignd_error_set(err, f.message.c_str());
        return status;
    } catch (const std::bad_alloc&) {
        campaignd_error_set(err, "out of memory");
    } catch (...) {
        campaignd_error_set(err, "unexpected failure");
    }
    return CAMPAIGND_ERR_FAILED;
}

campaignd_status start(const campaignd_host* host, void** instance, campaignd_error* err) {
    if (host == nullptr || instance == nullptr) {
        campaignd_error_set(err, "start: no host table");
        return CAMPAIGND_ERR_INVALID_ARGUMENT;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        campaignd_error_set(err, "libcurl could not be initialised");
        return CAMPAIGND_ERR_FAILED;
    }
    auto* self = new (std::nothrow) Instance;
    if (self == nullptr) {
        curl_global_cleanup();
        campaignd_error_set(err, "out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
    self->host = host;
    *instance = self;
    return CAMPAIGND_OK;
}

void stop(void* instance) {
    delete static_cast<Instance*>(instance);
    curl_global_cleanup();
}

// ABI 1.4: the settings as fetch() reads them, with no connection; the password it had to read
// is wiped at once.
campaignd_status validateSettings(void* instance, const char* section, const char* const* keys,
                                  const char* const* values, size_t count, size_t* badKey, campaignd_error* err) {
    (void)instance;
    (void)section;
    if (count > 0 && (keys == nullptr || values == nullptr)) {
        campaignd_error_set(err, "validate: the settings are required");
        return CAMPAIGND_ERR_INVALID_ARGUMENT;
    }
    try {
        Settings s;
        Failure f;
        const bool ok = parseSettings(keys, values, count, s, f, badKey);
        ::explicit_bzero(s.password.data(), s.password.size());
        if (ok) return CAMPAIGND_OK;
        campaignd_error_set(err, f.message.c_str());
        return f.status;
    } catch (...) {
        campaignd_error_set(err, "out of memory");
    }
    return CAMPAIGND_ERR_FAILED;
}

const campaignd_bounce_source kBounceSource = {
    sizeof(campaignd_bounce_source),
    fetchBounces,
    validateSettings,
};

const campaignd_plugin_descriptor kDescriptor = {
    CAMPAIGND_PLUGIN_ABI_MAJOR,
    CAMPAIGND_PLUGIN_ABI_MINOR,
    sizeof(campaignd_plugin_descriptor),
    "imap-bounce",
    "0.1.0",
    "Reads delivery notices from an IMAP mailbox (imap://, imaps://) and marks them seen once recorded",
    CAMPAIGND_CAP_BOUNCE_SOURCE,
    start,
    stop,
    nullptr,
    nullptr,
    &kBounceSource,
    nullptr,
};

}  // namespace

extern "C" CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor* campaignd_plugin_entry_v1(void) {
    return &kDescriptor;
}

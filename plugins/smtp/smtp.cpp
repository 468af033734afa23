// smtp.cpp: the "smtp" transport plugin (ABI 1.4) on libcurl. One session is one CURL easy
// handle, i.e. one SMTP connection that carries many messages (libcurl keeps it open between
// transfers and reconnects by itself after a server closed it, e.g. after a rejected RCPT);
// validate() checks a section's settings with open()'s own parser, connecting to nothing.
// Promises: every message gets SENT/DEFERRED/FAILED from the server's own reply (code, RFC 3463
// status, text), or UNKNOWN when the connection was lost after its final "." went out, or no
// result at all when it was not handed over (then send() fails with CONNECTION, AUTH or TLS);
// the password is read from a file or a systemd credential at open and never appears in a log
// line, an error message or a result. Refuses: URLs other than smtp:// or smtps://, credentials
// inside the URL, credentials over a connection that is not TLS (except on loopback), a
// password file that others can read, and sending unauthenticated when Username= is set.
#include <campaignd/plugin.h>

#include "plugin_text.h"
#include "smtp_reply.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <system_error>

namespace {

constexpr std::size_t kMaxPasswordFile = 4096;  // a password file larger than this is refused
constexpr long kDefaultTimeout = 30;            // seconds: connect, each reply, a stalled body

using campaignd::plugin_text::equalsIgnoreCase;
using campaignd::plugin_text::errnoText;

// ---- Settings ---------------------------------------------------------------------------------

enum class StartTls { Required, Opportunistic, No };

struct Settings {
    bool implicitTls = false;  // smtps://
    std::string host;          // as in the URL ("[::1]" keeps its brackets)
    long port = 0;
    bool loopback = false;
    StartTls startTls = StartTls::Required;
    std::string username;
    std::string password;  // never logged, never in a message
    std::string heloName;
    std::string caFile;
    long timeout = kDefaultTimeout;
};

struct SettingError {
    campaignd_status status;
    std::string message;
    std::size_t key = 0;  // the index of the offending setting; the count when one is missing
};

bool isLoopbackHost(std::string_view host) {
    if (host == "localhost" || host == "[::1]") return true;
    if (host.rfind("127.", 0) != 0) return false;
    return host.find_first_not_of("0123456789.") == std::string_view::npos;
}

// A host name, an IPv4 address or a bracketed IPv6 literal; nothing curl would read as more.
bool validHost(std::string_view host) {
    if (host.empty() || host.size() > 255) return false;
    if (host.front() == '[')
        return host.back() == ']' && host.size() > 2 &&
               host.substr(1, host.size() - 2).find_first_not_of("0123456789abcdefABCDEF:.") ==
                   std::string_view::npos;
    for (char c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
    return host.front() != '-' && host.front() != '.';
}

// URL=smtp://host[:port][/] or smtps://host[:port][/]. No user info, path, query or fragment:
// the EHLO name is HeloName=, the credentials are Username= and PasswordFile=.
bool parseUrl(std::string_view url, Settings& s, std::string& why) {
    std::string_view rest;
    if (url.rfind("smtp://", 0) == 0) {
        rest = url.substr(7);
        s.port = 25;
    } else if (url.rfind("smtps://", 0) == 0) {
        rest = url.substr(8);
        s.implicitTls = true;
        s.port = 465;
    } else {
        why = "is not smtp://HOST[:PORT] or smtps://HOST[:PORT]";
        return false;
    }
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.find('@') != std::string_view::npos) {
        why = "must not carry credentials: use Username= and PasswordFile=";
        return false;
    }
    if (rest.find_first_of("/?#") != std::string_view::npos) {
        why = "must have no path, query or fragment (the EHLO name is HeloName=)";
        return false;
    }
    std::string_view host = rest;
    const auto bracket = rest.rfind(']');
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
        host = rest.substr(0, colon);
        const std::string_view port = rest.substr(colon + 1);
        if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
            std::stol(std::string(port)) < 1 || std::stol(std::string(port)) > 65535) {
            why = "has a bad port";
            return false;
        }
        s.port = std::stol(std::string(port));
    }
    if (!validHost(host)) {
        why = "has a bad host name";
        return false;
    }
    s.host = host;
    s.loopback = isLoopbackHost(host);
    return true;
}

// Reads a password file: a regular file, not readable or writable by others (group access is
// allowed, for root:campaignd 0640), at most 4 KiB; one trailing newline (LF or CRLF) is not
// part of the password. Messages name the file, never its contents.
bool readPasswordFile(const std::string& key, const std::string& path, std::string& password,
                      SettingError& error) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0) {
        error = {CAMPAIGND_ERR_INVALID_ARGUMENT, key + ": cannot open " + path + ": " + errnoText(errno)};
        return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        error = {CAMPAIGND_ERR_INVALID_ARGUMENT, key + ": " + path + " is not a regular file"};
        return false;
    }
    if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
        ::close(fd);
        error = {CAMPAIGND_ERR_INVALID_ARGUMENT,
                 key + ": " + path + " can be read or written by others (chmod o-rw it)"};
        return false;
    }
    if (st.st_size > static_cast<off_t>(kMaxPasswordFile)) {
        ::close(fd);
        error = {CAMPAIGND_ERR_INVALID_ARGUMENT, key + ": " + path + " is larger than 4 KiB"};
        return false;
    }
    char buffer[kMaxPasswordFile + 1];
    std::size_t length = 0;
    while (length < sizeof buffer) {
        const ssize_t n = ::read(fd, buffer + length, sizeof buffer - length);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int e = errno;
            ::close(fd);
            ::explicit_bzero(buffer, sizeof buffer);
            error = {CAMPAIGND_ERR_INVALID_ARGUMENT, key + ": cannot read " + path + ": " + errnoText(e)};
            return false;
        }
        if (n == 0) break;
        length += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (length > 0 && buffer[length - 1] == '\n') --length;
    if (length > 0 && buffer[length - 1] == '\r') --length;
    bool bad = length == 0 || length > kMaxPasswordFile;
    for (std::size_t i = 0; i < length && !bad; ++i)
        bad = buffer[i] == '\0' || buffer[i] == '\n' || buffer[i] == '\r';
    if (!bad) password.assign(buffer, length);
    ::explicit_bzero(buffer, sizeof buffer);
    if (bad) {
        error = {CAMPAIGND_ERR_INVALID_ARGUMENT,
                 key + ": " + path + " must hold one non-empty line (the password)"};
        return false;
    }
    return true;
}

// The one reading of a session's settings: open() uses it, and validate() (ABI 1.4) runs it
// alone, so the two cannot disagree. It connects to nothing; it reads the password file (or
// credential), as open() must. On a failure error.key is the index of the setting to fix, or
// count when a required one is missing.
bool parseSettings(const char* const* keys, const char* const* values, std::size_t count, Settings& s,
                   SettingError& error) {
    std::string url, startTls, passwordFile, passwordCredential, timeout;
    // Where each key is (count: not given); a key given twice counts where it was last.
    std::size_t urlAt = count, startTlsAt = count, usernameAt = count, passwordFileAt = count,
                passwordCredentialAt = count, timeoutAt = count, heloNameAt = count, caFileAt = count;
    for (std::size_t i = 0; i < count; ++i) {
        const std::string_view key = keys[i] != nullptr ? keys[i] : "";
        const std::string value = values[i] != nullptr ? values[i] : "";
        if (equalsIgnoreCase(key, "URL")) url = value, urlAt = i;
        else if (equalsIgnoreCase(key, "StartTLS")) startTls = value, startTlsAt = i;
        else if (equalsIgnoreCase(key, "Username")) s.username = value, usernameAt = i;
        else if (equalsIgnoreCase(key, "PasswordFile")) passwordFile = value, passwordFileAt = i;
        else if (equalsIgnoreCase(key, "PasswordCredential")) passwordCredential = value, passwordCredentialAt = i;
        else if (equalsIgnoreCase(key, "Timeout")) timeout = value, timeoutAt = i;
        else if (equalsIgnoreCase(key, "HeloName")) s.heloName = value, heloNameAt = i;
        else if (equalsIgnoreCase(key, "CAFile")) s.caFile = value, caFileAt = i;
        // Anything else (Connections=, MaxPerSecond=, MaxPerDomain=, ...) is the daemon's.
    }
    auto invalid = [&](std::size_t at, std::string message) {
        error = {CAMPAIGND_ERR_INVALID_ARGUMENT, std::move(message), at};
        return false;
    };
    if (url.empty()) return invalid(urlAt, "URL= is missing (smtp://HOST[:PORT] or smtps://HOST[:PORT])");
    std::string why;
    // A URL with user info may hold a password: it is not repeated.
    if (!parseUrl(url, s, why))
        return invalid(urlAt, "URL=" + (url.find('@') == std::string::npos ? url + " " : std::string()) + why);

    if (startTlsAt < count) {
        if (equalsIgnoreCase(startTls, "required")) s.startTls = StartTls::Required;
        else if (equalsIgnoreCase(startTls, "opportunistic")) s.startTls = StartTls::Opportunistic;
        else if (equalsIgnoreCase(startTls, "no")) s.startTls = StartTls::No;
        else return invalid(startTlsAt, "StartTLS=" + startTls + " is not required, opportunistic or no");
        if (s.implicitTls && s.startTls != StartTls::Required)
            return invalid(startTlsAt, "StartTLS=" + startTls + " contradicts URL=smtps:// (TLS from the first byte)");
    } else {
        // A relay on this machine often has no certificate; anything beyond it gets TLS or nothing.
        s.startTls = s.loopback ? StartTls::Opportunistic : StartTls::Required;
    }

    if (!timeout.empty()) {
        char* end = nullptr;
        errno = 0;
        const long t = std::strtol(timeout.c_str(), &end, 10);
        if (errno != 0 || end == timeout.c_str() || *end != '\0' || t < 1 || t > 3600)
            return invalid(timeoutAt, "Timeout=" + timeout + " is not a number of seconds from 1 to 3600");
        s.timeout = t;
    }
    if (!s.heloName.empty() && !validHost(s.heloName))
        return invalid(heloNameAt, "HeloName=" + s.heloName + " is not a host name or an address literal");
    if (!s.caFile.empty() && s.caFile.front() != '/')
        return invalid(caFileAt, "CAFile=" + s.caFile + " is not an absolute path");

    if (!passwordFile.empty() && !passwordCredential.empty())
        return invalid(std::max(passwordFileAt, passwordCredentialAt),
                       "PasswordFile= and PasswordCredential= are both set; keep one");
    const bool havePassword = !passwordFile.empty() || !passwordCredential.empty();
    if (!s.username.empty() && !havePassword)
        return invalid(usernameAt, "Username= is set without PasswordFile= or PasswordCredential=");
    if (s.username.empty() && havePassword)
        return invalid(passwordFile.empty() ? passwordCredentialAt : passwordFileAt,
                       "PasswordFile=/PasswordCredential= is set without Username=");
    for (char c : s.username)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return invalid(usernameAt, "Username= has a control character");
    if (!s.username.empty() && !s.implicitTls && s.startTls != StartTls::Required && !s.loopback)
        return invalid(startTlsAt < count ? startTlsAt : urlAt,
                       "StartTLS= must be required (or URL= smtps://) when Username= is set: the password "
                       "would cross the network in clear text");
    if (!passwordFile.empty()) {
        if (passwordFile.front() != '/')
            return invalid(passwordFileAt, "PasswordFile=" + passwordFile + " is not an absolute path");
        if (!readPasswordFile("PasswordFile=", passwordFile, s.password, error)) {
            error.key = passwordFileAt;
            return false;
        }
    } else if (!passwordCredential.empty()) {
        if (passwordCredential.find('/') != std::string::npos || passwordCredential == "." || passwordCredential == "..")
            return invalid(passwordCredentialAt,
                           "PasswordCredential=" + passwordCredential + " is not a credential name");
        const char* directory = std::getenv("CREDENTIALS_DIRECTORY");
        if (directory == nullptr || *directory == '\0')
            return invalid(passwordCredentialAt,
                           "PasswordCredential=" + passwordCredential +
                               ": CREDENTIALS_DIRECTORY is not set (give the unit LoadCredential=" +
                               passwordCredential + ":FILE)");
        if (!readPasswordFile("PasswordCredential=", std::string(directory) + "/" + passwordCredential, s.password,
                              error)) {
            error.key = passwordCredentialAt;
            return false;
        }
    }
    return true;
}

// ---- The session ------------------------------------------------------------------------------

// Where the current transfer is, from the commands libcurl sends and the replies it gets.
enum class Phase { Connect, Mail, Rcpt, Data, Body, Dot };

struct Session {
    ~Session() {
        if (curl != nullptr) curl_easy_cleanup(curl);  // sends QUIT on an open connection
        ::explicit_bzero(password.data(), password.size());
    }

    Settings settings;
    std::string transportName;
    std::string password;  // a copy kept only to scrub it from messages; libcurl has its own
    std::string resultText;  // the text of the last result, reused
    CURL* curl = nullptr;
    char curlError[CURL_ERROR_SIZE] = {};

    // The message being sent.
    const char* data = nullptr;
    std::size_t dataLength = 0;
    std::size_t offset = 0;
    bool eofGiven = false;  // the read callback returned 0: the final "." follows at once

    // What the debug callback saw.
    Phase phase = Phase::Connect;
    const char* lastVerb = "CONNECT";  // a static string: the last SMTP command's verb
    campaignd::smtp::ReplyReader reply;  // the reply in the current phase (complete or not)
    bool inEhlo = false;
    bool quitting = false;  // QUIT went out: its reply says nothing about the message
    bool authOffered = false;
    bool authenticated = false;  // on the current connection
};

// The SMTP verbs we name in messages. Anything else libcurl sends (the lines of an AUTH LOGIN
// exchange carry the base64 credentials) is never looked at beyond this match.
const char* knownVerb(std::string_view line) {
    static const char* const kVerbs[] = {"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "QUIT", "RSET", "NOOP"};
    for (const char* verb : kVerbs) {
        const std::size_t n = std::strlen(verb);
        if (line.size() >= n && equalsIgnoreCase(line.substr(0, n), verb) && (line.size() == n || line[n] == ' ' || line[n] == '\r'))
            return verb;
    }
    return nullptr;
}

void onCommand(Session& s, std::string_view line) {
    const char* verb = knownVerb(line);
    if (verb == nullptr) return;  // an AUTH continuation: secret
    if (std::strcmp(verb, "QUIT") == 0) {
        // libcurl says goodbye when it drops a connection (after a rejected RCPT, at close):
        // keep the reply that decided the message.
        s.quitting = true;
        return;
    }
    s.quitting = false;
    s.lastVerb = verb;
    s.reply.clear();
    if (std::strcmp(verb, "EHLO") == 0 || std::strcmp(verb, "HELO") == 0) {
        s.inEhlo = true;
        s.authOffered = false;
        s.authenticated = false;
    } else {
        s.inEhlo = false;
    }
    if (std::strcmp(verb, "MAIL") == 0) s.phase = Phase::Mail;
    else if (std::strcmp(verb, "RCPT") == 0) s.phase = Phase::Rcpt;
    else if (std::strcmp(verb, "DATA") == 0) s.phase = Phase::Data;
}

void onReplyLine(Session& s, std::string_view line) {
    if (s.quitting) return;
    const auto parsed = campaignd::smtp::parseReplyLine(line);
    if (!parsed) return;
    if (s.inEhlo && parsed->code == 250 && campaignd::smtp::announcesAuth(parsed->text)) s.authOffered = true;
    if (!s.reply.take(line)) return;
    const int code = s.reply.code();
    if (std::strcmp(s.lastVerb, "AUTH") == 0 && code == 235) s.authenticated = true;
    if (s.phase == Phase::Data && code == 354) {
        s.phase = Phase::Body;
        s.reply.clear();  // the next reply is the verdict on the message
    }
    s.inEhlo = false;
}

// The code of the last complete reply in the current phase, 0 if none.
int replyCode(const Session& s) { return s.reply.complete() ? s.reply.code() : 0; }

int debugCallback(CURL*, curl_infotype type, char* data, std::size_t size, void* userp) {
    Session& s = *static_cast<Session*>(userp);
    const std::string_view chunk(data, size);
    if (type == CURLINFO_HEADER_OUT) {
        onCommand(s, chunk);
    } else if (type == CURLINFO_HEADER_IN) {
        std::size_t from = 0;
        while (from < chunk.size()) {
            const auto eol = chunk.find('\n', from);
            const std::size_t end = eol == std::string_view::npos ? chunk.size() : eol + 1;
            onReplyLine(s, chunk.substr(from, end - from));
            from = end;
        }
    } else if (type == CURLINFO_TEXT) {
        // A new connection: the state of the old one (AUTH done, EHLO seen) no longer holds.
        if (chunk.rfind("Connected to ", 0) == 0) {
            s.authenticated = false;
            s.authOffered = false;
            s.quitting = false;
            s.phase = Phase::Connect;
            s.lastVerb = "CONNECT";
        }
    }
    return 0;
}

std::size_t readCallback(char* buffer, std::size_t size, std::size_t nitems, void* userp) {
    Session& s = *static_cast<Session*>(userp);
    const std::size_t n = std::min(size * nitems, s.dataLength - s.offset);
    if (n == 0) {
        s.eofGiven = true;
        s.phase = Phase::Dot;
        return 0;
    }
    std::memcpy(buffer, s.data + s.offset, n);
    s.offset += n;
    return n;
}

// Runs after the connection is ready (greeting, EHLO, STARTTLS, AUTH) and before MAIL FROM.
int prereqCallback(void* userp, char*, char*, int, int) {
    Session& s = *static_cast<Session*>(userp);
    if (!s.settings.username.empty() && !s.authenticated) return CURL_PREREQFUNC_ABORT;
    return CURL_PREREQFUNC_OK;
}

std::string scrubbed(const Session& s, std::string text) {
    if (!s.password.empty())
        for (auto at = text.find(s.password); at != std::string::npos; at = text.find(s.password, at))
            text.replace(at, s.password.size(), "(password)");
    return text;
}

void report(const campaignd_delivery_sink* sink, std::uint64_t token, int32_t outcome, int code,
            const char* enhanced, const std::string& text) {
    campaignd_delivery_result r{};
    r.struct_size = sizeof r;
    r.token = token;
    r.outcome = outcome;
    r.smtp_code = code;
    r.enhanced_status = enhanced;
    r.text = text.c_str();
    sink->result(sink->sink_ctx, &r);
}

std::string serverName(const Session& s) {
    return (s.settings.implicitTls ? "smtps://" : "smtp://") + s.settings.host + ":" + std::to_string(s.settings.port);
}

// "550 5.1.1 <x>: User unknown (in reply to RCPT TO)"
const std::string& replyText(Session& s) {
    // Built in a buffer the session keeps: no allocation per message once it has grown.
    std::string& text = s.resultText;
    text.clear();
    char code[8];
    std::snprintf(code, sizeof code, "%d ", replyCode(s));
    text += code;
    text += s.reply.text();
    const char* verb = s.lastVerb;
    if (s.phase == Phase::Dot || s.phase == Phase::Body) verb = "end of DATA";
    else if (std::strcmp(verb, "MAIL") == 0) verb = "MAIL FROM";
    else if (std::strcmp(verb, "RCPT") == 0) verb = "RCPT TO";
    text += " (in reply to ";
    text += verb;
    text += ')';
    if (!s.password.empty() && text.find(s.password) != std::string::npos) text = scrubbed(s, text);
    return text;
}

bool isTlsError(CURLcode rc) {
    switch (rc) {
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
        return true;
    default:
        return false;
    }
}

// Sets everything that does not change between messages.
bool configure(Session& s, std::string& why) {
    const Settings& st = s.settings;
    std::string url = serverName(s);
    if (!st.heloName.empty()) url += "/" + st.heloName;  // libcurl's EHLO name is the URL path
    auto set = [&](CURLoption option, auto value) {
        if (curl_easy_setopt(s.curl, option, value) != CURLE_OK) {
            why = "libcurl refused option " + std::to_string(static_cast<int>(option));
            return false;
        }
        return true;
    };
    bool ok = set(CURLOPT_URL, url.c_str()) && set(CURLOPT_PROTOCOLS_STR, st.implicitTls ? "smtps" : "smtp") &&
              set(CURLOPT_NOSIGNAL, 1L) && set(CURLOPT_UPLOAD, 1L) &&
              set(CURLOPT_READFUNCTION, readCallback) && set(CURLOPT_READDATA, &s) &&
              set(CURLOPT_VERBOSE, 1L) &&  // the debug callback is how we see the server's replies
              set(CURLOPT_DEBUGFUNCTION, debugCallback) && set(CURLOPT_DEBUGDATA, &s) &&
              set(CURLOPT_PREREQFUNCTION, prereqCallback) && set(CURLOPT_PREREQDATA, &s) &&
              set(CURLOPT_ERRORBUFFER, s.curlError) && set(CURLOPT_CONNECTTIMEOUT, st.timeout) &&
              set(CURLOPT_SERVER_RESPONSE_TIMEOUT, st.timeout) && set(CURLOPT_LOW_SPEED_LIMIT, 1L) &&
              set(CURLOPT_LOW_SPEED_TIME, st.timeout) && set(CURLOPT_MAXCONNECTS, 1L) &&
              set(CURLOPT_TCP_KEEPALIVE, 1L);
    if (ok && !st.implicitTls)
        ok = set(CURLOPT_USE_SSL, st.startTls == StartTls::Required      ? static_cast<long>(CURLUSESSL_ALL)
                                  : st.startTls == StartTls::Opportunistic ? static_cast<long>(CURLUSESSL_TRY)
                                                                           : static_cast<long>(CURLUSESSL_NONE));
    if (ok && !st.caFile.empty()) ok = set(CURLOPT_CAINFO, st.caFile.c_str());
    if (ok && !st.username.empty())
        ok = set(CURLOPT_USERNAME, st.username.c_str()) && set(CURLOPT_PASSWORD, st.password.c_str());
    return ok;
}

campaignd_status smtpOpen(void* instance, const char* transportName, const char* const* keys,
                          const char* const* values, std::size_t count, void** session,
                          campaignd_error* err) noexcept {
    (void)instance;
    try {
        auto s = std::make_unique<Session>();
        s->transportName = transportName != nullptr ? transportName : "";
        SettingError error{CAMPAIGND_ERR_INVALID_ARGUMENT, ""};
        if (!parseSettings(keys, values, count, s->settings, error)) {
            campaignd_error_set(err, error.message.c_str());
            return error.status;
        }
        s->password = s->settings.password;
        s->curl = curl_easy_init();
        if (s->curl == nullptr) {
            campaignd_error_set(err, "libcurl could not make a handle (out of memory?)");
            return CAMPAIGND_ERR_FAILED;
        }
        std::string why;
        if (!configure(*s, why)) {
            campaignd_error_set(err, why.c_str());
            return CAMPAIGND_ERR_FAILED;
        }
        // libcurl has its own copy now; ours only serves scrubbed().
        ::explicit_bzero(s->settings.password.data(), s->settings.password.size());
        s->settings.password.clear();
        *session = s.release();
        return CAMPAIGND_OK;
    } catch (...) {
        campaignd_error_set(err, "smtp: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

campaignd_status smtpSend(void* session, const campaignd_outgoing_message* const* messages, std::size_t count,
                          const campaignd_delivery_sink* sink, campaignd_error* err) noexcept {
    Session& s = *static_cast<Session*>(session);
    try {
        struct curl_slist recipient {};  // one node, pointing at the caller's string: no allocation
        for (std::size_t i = 0; i < count; ++i) {
            const campaignd_outgoing_message& m = *messages[i];
            const char* from = m.envelope_from != nullptr ? m.envelope_from : "";
            recipient.data = const_cast<char*>(m.recipient != nullptr ? m.recipient : "");
            recipient.next = nullptr;
            s.data = m.data != nullptr ? m.data : "";
            s.dataLength = m.data != nullptr ? m.data_len : 0;
            s.offset = 0;
            s.eofGiven = false;
            s.reply.clear();
            s.curlError[0] = '\0';
            // A reused connection starts at MAIL; a new one reports "Connected to" first.
            s.phase = Phase::Connect;
            s.lastVerb = "CONNECT";
            curl_easy_setopt(s.curl, CURLOPT_MAIL_FROM, from);
            curl_easy_setopt(s.curl, CURLOPT_MAIL_RCPT, &recipient);
            curl_easy_setopt(s.curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(s.dataLength));
            const CURLcode rc = curl_easy_perform(s.curl);

            if (rc == CURLE_OK) {
                if (replyCode(s) != 0)
                    report(sink, m.token, CAMPAIGND_DELIVERY_SENT, replyCode(s), s.reply.enhanced(), replyText(s));
                else  // libcurl said OK without a reply we could read: still the server's 250
                    report(sink, m.token, CAMPAIGND_DELIVERY_SENT, 250, "", "250 (no reply text seen)");
                continue;
            }
            const std::string curlText = s.curlError[0] != '\0' ? s.curlError : curl_easy_strerror(rc);
            auto fail = [&](campaignd_status status, const std::string& text) {
                campaignd_error_set(err, scrubbed(s, text).c_str());
                return status;
            };

            // The server answered the message itself (MAIL, RCPT, DATA, or the end of DATA).
            if (s.phase != Phase::Connect && replyCode(s) >= 400) {
                if (replyCode(s) == 421)  // "closing the channel": nothing was accepted
                    return fail(CAMPAIGND_ERR_CONNECTION, serverName(s) + " is closing the connection: " + replyText(s));
                report(sink, m.token, replyCode(s) < 500 ? CAMPAIGND_DELIVERY_DEFERRED : CAMPAIGND_DELIVERY_FAILED,
                       replyCode(s), s.reply.enhanced(), replyText(s));
                continue;  // libcurl reconnects for the next message if the server closed
            }
            if (s.eofGiven) {
                // The whole message and its final "." went out; no verdict came back.
                report(sink, m.token, CAMPAIGND_DELIVERY_UNKNOWN, 0, "",
                       scrubbed(s, "the connection to " + serverName(s) +
                                       " was lost after the message was sent, before the server's reply: " + curlText));
                return fail(CAMPAIGND_ERR_CONNECTION,
                            serverName(s) + ": the connection was lost after end of DATA: " + curlText);
            }
            if (rc == CURLE_ABORTED_BY_CALLBACK)  // prereqCallback: Username= but no AUTH done
                return fail(CAMPAIGND_ERR_AUTH,
                            serverName(s) + (s.authOffered ? " did not complete AUTH" : " offers no AUTH") +
                                (s.settings.implicitTls || s.settings.startTls != StartTls::No ? "" : " (without TLS)") +
                                ", so Username=" + s.settings.username + " cannot log in; nothing was sent");
            if (rc == CURLE_LOGIN_DENIED)
                return fail(CAMPAIGND_ERR_AUTH, serverName(s) + " refused the login of Username=" +
                                                    s.settings.username + ": " +
                                                    (replyCode(s) != 0 ? replyText(s) : curlText));
            if (rc == CURLE_USE_SSL_FAILED)
                return fail(CAMPAIGND_ERR_TLS, serverName(s) +
                                                   " does not offer STARTTLS, and StartTLS=required (" + curlText + ")");
            if (isTlsError(rc)) return fail(CAMPAIGND_ERR_TLS, serverName(s) + ": TLS failed: " + curlText);
            if (s.phase == Phase::Connect && replyCode(s) >= 500)
                return fail(CAMPAIGND_ERR_FAILED, serverName(s) + " refuses the session: " + replyText(s));
            // Connect refused or timed out, the connection dropped before the end of DATA, a 4xx
            // greeting: this message was not handed over; the daemon reconnects and retries.
            std::string text = serverName(s) + ": " + curlText;
            if (replyCode(s) != 0) text += " (last reply: " + replyText(s) + ")";
            return fail(CAMPAIGND_ERR_CONNECTION, text);
        }
        return CAMPAIGND_OK;
    } catch (...) {
        campaignd_error_set(err, "smtp: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

void smtpClose(void* session) noexcept { delete static_cast<Session*>(session); }

// ABI 1.4: the settings as open() reads them (parseSettings), with nothing opened: no handle,
// no connection. The password it had to read is wiped at once.
campaignd_status smtpValidate(void* instance, const char* section, const char* const* keys,
                              const char* const* values, std::size_t count, std::size_t* badKey,
                              campaignd_error* err) noexcept {
    (void)instance;
    (void)section;
    try {
        Settings settings;
        SettingError error{CAMPAIGND_ERR_INVALID_ARGUMENT, "", count};
        const bool ok = parseSettings(keys, values, count, settings, error);
        ::explicit_bzero(settings.password.data(), settings.password.size());
        if (ok) return CAMPAIGND_OK;
        if (badKey != nullptr) *badKey = error.key;
        campaignd_error_set(err, error.message.c_str());
        return error.status;
    } catch (...) {
        campaignd_error_set(err, "smtp: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

campaignd_status smtpStart(const campaignd_host* host, void** instance, campaignd_error* err) noexcept {
    (void)host;
    *instance = nullptr;
    // Not thread-safe in every libcurl: the host calls start() once, on its start-up thread.
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        campaignd_error_set(err, "libcurl failed to initialise");
        return CAMPAIGND_ERR_FAILED;
    }
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    bool smtp = false;
    for (const char* const* p = info->protocols; p != nullptr && *p != nullptr; ++p)
        if (std::strcmp(*p, "smtp") == 0) smtp = true;
    if (!smtp || info->version_num < 0x075000) {  // 7.80: CURLOPT_PREREQFUNCTION
        curl_global_cleanup();
        campaignd_error_set(err, "this libcurl has no SMTP support or is older than 7.80");
        return CAMPAIGND_ERR_UNSUPPORTED;
    }
    return CAMPAIGND_OK;
}

void smtpStop(void* instance) noexcept {
    (void)instance;
    curl_global_cleanup();
}

const campaignd_transport kTransport = {sizeof(campaignd_transport), smtpOpen, smtpSend, smtpClose, smtpValidate};

const campaignd_plugin_descriptor kDescriptor = {
    CAMPAIGND_PLUGIN_ABI_MAJOR,
    CAMPAIGND_PLUGIN_ABI_MINOR,
    sizeof(campaignd_plugin_descriptor),
    "smtp",
    "1.0.0",
    "Sends through an SMTP server (libcurl; STARTTLS or smtps, AUTH, one connection for many messages)",
    CAMPAIGND_CAP_TRANSPORT,
    smtpStart,
    smtpStop,
    nullptr,  // importer
    &kTransport,
};

}  // namespace

extern "C" CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor* campaignd_plugin_entry_v1(void) {
    return &kDescriptor;
}

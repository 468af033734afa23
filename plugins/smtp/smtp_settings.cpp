// smtp_settings.cpp: see smtp_settings.h.
#include "smtp_settings.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "plugin_text.h"

namespace campaignd::smtp {
namespace {

constexpr std::size_t kMaxPasswordFile = 4096;  // a password file larger than this is refused

using campaignd::plugin_text::equalsIgnoreCase;
using campaignd::plugin_text::errnoText;

bool isLoopbackHost(std::string_view host) {
    if (host == "localhost" || host == "[::1]") return true;
    if (host.rfind("127.", 0) != 0) return false;
    return host.find_first_not_of("0123456789.") == std::string_view::npos;
}

}  // namespace

// A host name, an IPv4 address or a bracketed IPv6 literal; nothing else a URL could smuggle in.
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

namespace {

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

}  // namespace

// The one reading of a session's settings: open() uses it, and validate() (ABI 1.4) runs it
// alone, so the two cannot disagree. It connects to nothing; it reads the password file (or
// credential), as open() must. On a failure error.key is the index of the setting to fix, or
// count when a required one is missing.
bool parseSettings(const char* const* keys, const char* const* values, std::size_t count, Settings& s,
                   SettingError& error) {
    std::string url, startTls, passwordFile, passwordCredential, timeout, chunking;
    // Where each key is (count: not given); a key given twice counts where it was last.
    std::size_t urlAt = count, startTlsAt = count, usernameAt = count, passwordFileAt = count,
                passwordCredentialAt = count, timeoutAt = count, heloNameAt = count, caFileAt = count,
                chunkingAt = count;
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
        else if (equalsIgnoreCase(key, "Chunking")) chunking = value, chunkingAt = i;
        else {
            // The daemon keeps its own keys (Connections=, ...): anything else is a misspelling.
            error = {CAMPAIGND_ERR_INVALID_ARGUMENT,
                     std::string(key) + "= is not a setting of the smtp plugin (URL, StartTLS, Username, "
                                        "PasswordFile, PasswordCredential, Timeout, HeloName, CAFile, Chunking)",
                     i};
            return false;
        }
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
        const std::chrono::seconds all{t};
        s.timeouts = {all, all, all, all, all, all, all};
    }
    if (!s.heloName.empty() && !validHost(s.heloName))
        return invalid(heloNameAt, "HeloName=" + s.heloName + " is not a host name or an address literal");
    if (!s.caFile.empty() && s.caFile.front() != '/')
        return invalid(caFileAt, "CAFile=" + s.caFile + " is not an absolute path");
    if (chunkingAt < count) {
        if (equalsIgnoreCase(chunking, "yes")) s.chunking = true;
        else if (equalsIgnoreCase(chunking, "no")) s.chunking = false;
        else return invalid(chunkingAt, "Chunking=" + chunking + " is not yes or no");
    }

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


}  // namespace campaignd::smtp

// config.cpp: see config.h. The table kKeys below is the one list of what the daemon's config
// may contain; later features add their sections to it.
#include "config/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "config/ini.h"
#include "core/buildconfig.h"
#include "core/error.h"
#include "rules/sending_guard.h"
#include "rules/validation.h"

namespace campaignd::config {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const IniValue& v, const std::string& what) {
    throw ConfigError(v.file + ":" + std::to_string(v.line) + ": " + v.key + "=: " + what);
}

bool urlHasPassword(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return false;
    const auto hostStart = scheme + 3;
    const auto pathStart = url.find_first_of("/?", hostStart);
    const auto at = url.rfind('@', pathStart == std::string::npos ? url.size() : pathStart);
    if (at != std::string::npos && at >= hostStart &&
        url.substr(hostStart, at - hostStart).find(':') != std::string::npos)
        return true;
    const auto query = url.find('?');
    return query != std::string::npos && url.find("password=", query) != std::string::npos;
}

bool readableByOthers(const std::string& file) {
    struct stat st {};
    return stat(file.c_str(), &st) == 0 && (st.st_mode & S_IROTH);
}

void setDatabase(Config& c, const IniValue& v) {
    const auto& s = v.value;
    if (s.rfind("sqlite:", 0) == 0) {
        if (s.size() <= 7 || s[7] != '/')
            fail(v, "an SQLite database needs an absolute path, as in sqlite:/var/lib/campaignd/campaignd.db");
    } else if (s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0) {
        if (urlHasPassword(s) && readableByOthers(v.file))
            fail(v, "the URL holds a password but " + v.file +
                        " is readable by others; use a PGPASSFILE, or make the file mode 0640");
    } else {
        fail(v, "\"" + s + "\" is neither sqlite:PATH nor a postgresql:// URL");
    }
    c.database = s;
}

void setPluginDirectory(Config& c, const IniValue& v) {
    if (v.value.empty() || v.value.front() != '/') fail(v, "must be an absolute path");
    c.pluginDirectory = v.value;
}

void setAdminEmail(Config& c, const IniValue& v) {
    try {
        c.adminEmail = rules::normalizeEmail(v.value);
    } catch (const Error& e) {
        fail(v, e.what());
    }
}

void setAdminGroup(Config& c, const IniValue& v) {
    if (v.value.empty()) fail(v, "must name a group");
    c.adminGroup = v.value;
}

void setReaderGroup(Config& c, const IniValue& v) {
    if (v.value.empty()) fail(v, "must name a group");
    c.readerGroup = v.value;
}

void setLogLevel(Config& c, const IniValue& v) {
    if (!log::parseLevel(v.value, c.logLevel))
        fail(v, "\"" + v.value + "\" is not one of debug, info, notice, warning, error");
}

// "512M", "1G", "64K" or a number of bytes; "0" or "infinity" for no limit.
void setImportMaxFileSize(Config& c, const IniValue& v) {
    if (v.value == "infinity" || v.value == "0") {
        c.importMaxFileSize = 0;
        return;
    }
    std::size_t used = 0;
    unsigned long long n = 0;
    try {
        n = std::stoull(v.value, &used);
    } catch (const std::exception&) {
        fail(v, "\"" + v.value + "\" is not a size (e.g. 512M, 2G, or a number of bytes)");
    }
    const std::string unit = v.value.substr(used);
    int shift = 0;
    if (unit == "K") shift = 10;
    else if (unit == "M") shift = 20;
    else if (unit == "G") shift = 30;
    else if (!unit.empty())
        fail(v, "\"" + v.value + "\" is not a size (e.g. 512M, 2G, or a number of bytes)");
    if (n > (~0ull >> shift)) fail(v, "\"" + v.value + "\" is too large");
    c.importMaxFileSize = static_cast<std::uint64_t>(n) << shift;
}

void setSoftBounceLimit(Config& c, const IniValue& v) {
    std::size_t used = 0;
    long long n = 0;
    try {
        n = std::stoll(v.value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != v.value.size() || n < 1 || n > 1000)
        fail(v, "\"" + v.value + "\" is not a number from 1 to 1000 (consecutive soft bounces)");
    c.softBounceLimit = n;
}

void setStateDirectory(Config& c, const IniValue& v) {
    if (v.value.empty() || v.value.front() != '/') fail(v, "must be an absolute path");
    c.stateDirectory = v.value;
}

// A whole number in [lo, hi].
unsigned wholeNumber(const IniValue& v, unsigned lo, unsigned hi) {
    const auto& s = v.value;
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
        fail(v, "\"" + s + "\" is not a whole number");
    const unsigned long n = std::stoul(s);
    if (n < lo || n > hi)
        fail(v, s + " is out of range (" + std::to_string(lo) + " to " + std::to_string(hi) + ")");
    return static_cast<unsigned>(n);
}

// "30s", "5min", "2h", "500ms" or a number of seconds (systemd's time spans, the common units).
std::int64_t timeSpanUsec(const IniValue& v) {
    const auto& s = v.value;
    std::size_t digits = 0;
    while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
    if (digits == 0 || digits > 9)
        fail(v, "\"" + s + "\" is not a time span (e.g. 30s, 5min, 1h)");
    const std::int64_t n = std::stoll(s.substr(0, digits));
    const std::string unit = s.substr(digits);
    std::int64_t scale = 0;
    if (unit.empty() || unit == "s" || unit == "sec") scale = 1'000'000;
    else if (unit == "ms" || unit == "msec") scale = 1'000;
    else if (unit == "m" || unit == "min") scale = 60'000'000;
    else if (unit == "h") scale = 3'600'000'000;
    else fail(v, "\"" + s + "\" is not a time span (e.g. 30s, 5min, 1h)");
    return n * scale;
}

// A word of 1 to `max` letters, digits, '-', '_' or '.' (names, identifiers, selectors).
bool isWord(std::string_view text, std::size_t max = std::string_view::npos) {
    return !text.empty() && text.size() <= max &&
           text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
               std::string_view::npos;
}

std::string domainOf(const IniValue& v, const std::string& domain) {
    try {
        const auto normalised = rules::normalizeEmail("x@" + domain);
        return normalised.substr(2);
    } catch (const Error& e) {
        fail(v, "\"" + domain + "\" is not a valid domain");
    }
}

void applyTransport(Config& c, const IniValue& v, const std::string& name) {
    if (name.empty()) fail(v, "a [Transport NAME] section needs a name");
    if (!isWord(name))
        throw ConfigError(v.file + ":" + std::to_string(v.line) + ": [Transport " + name +
                          "]: a transport name may hold only letters, digits, '-', '_' and '.'");
    auto& t = c.transports[name];
    if (t.name.empty()) {
        t.name = name;
        t.file = v.file;
        t.line = v.line;
    }
    if (v.key == "Plugin") {
        if (v.value.empty()) fail(v, "must name a transport plugin (smtp, maildir)");
        t.plugin = v.value;
        t.pluginAt = v.file + ":" + std::to_string(v.line);
    } else if (v.key == "Connections") {
        t.connections = wholeNumber(v, 1, 64);
    } else if (v.key == "MaxPerSecond") {
        char* end = nullptr;
        const double d = std::strtod(v.value.c_str(), &end);
        if (v.value.empty() || *end != '\0' || !(d >= 0) || d > 1e6)
            fail(v, "\"" + v.value + "\" is not a rate (messages per second, 0 for no limit)");
        t.maxPerSecond = d;
    } else if (v.key == "MaxPerDomain") {
        t.maxPerDomain = wholeNumber(v, 0, 100000);
    } else {
        if (readableByOthers(v.file) && v.key.find("Password") != std::string::npos && v.key != "PasswordFile")
            fail(v, "passwords do not belong in a config others can read; use PasswordFile=");
        t.settings[v.key] = v.value;
        t.settingsAt[v.key] = v.file + ":" + std::to_string(v.line);
    }
}

void applySending(Config& c, const IniValue& v) {
    auto& s = c.sending;
    if (v.key == "DefaultTransport") {
        if (v.value.empty()) fail(v, "must name a [Transport NAME] section");
        s.defaultTransport = v.value;
        s.defaultTransportAt = v.file + ":" + std::to_string(v.line);
    } else if (v.key == "From") {
        try {
            s.from = rules::normalizeFromAddress(v.value);
        } catch (const Error& e) {
            fail(v, e.what());
        }
    } else if (v.key == "EnvelopeDomain") {
        s.envelopeDomain = domainOf(v, v.value);
    } else if (v.key == "FeedbackSenderId") {
        if (!isWord(v.value, 64))
            fail(v, "must be 1 to 64 letters, digits, '-', '_' or '.' (no ':'), the same for all your mail");
        s.feedbackSenderId = v.value;
    } else if (v.key == "EnvelopeSubdomain") {
        if (v.value.empty() || v.value.size() > 63 || v.value.front() == '.' || v.value.back() == '.' ||
            v.value.find("..") != std::string::npos ||
            v.value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") !=
                std::string::npos)
            fail(v, "must be DNS labels (letters, digits, '-'), as in EnvelopeSubdomain=bounces");
        s.envelopeSubdomain = v.value;
        for (char& ch : s.envelopeSubdomain) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    } else if (v.key == "MessageIdDomain") {
        s.messageIdDomain = domainOf(v, v.value);
    } else if (v.key == "VerpPrefix") {
        if (!isWord(v.value, 40))
            fail(v, "must be 1 to 40 letters, digits, '-', '_' or '.'");
        s.verpPrefix = v.value;
    } else if (v.key == "VerpDelimiter") {
        if (v.value.size() != 1 || std::string_view("+-=_").find(v.value[0]) == std::string_view::npos)
            fail(v, "must be one of + - = _ (the mail server's recipient_delimiter)");
        s.verpDelimiter = v.value[0];
    } else if (v.key == "VerpSecretFile") {
        if (v.value.empty() || v.value.front() != '/') fail(v, "must be an absolute path");
        s.verpSecretFile = v.value;
    } else if (v.key == "UnsubscribeURL") {
        if (v.value.rfind("https://", 0) != 0 && v.value.rfind("http://", 0) != 0)
            fail(v, "must be an http(s) URL with {token} in it");
        if (v.value.find("{token}") == std::string::npos) fail(v, "must contain {token}");
        s.unsubscribeUrl = v.value;
    } else if (v.key == "UnsubscribeMailto") {
        try {
            s.unsubscribeMailto = rules::normalizeEmail(v.value);
        } catch (const Error& e) {
            fail(v, e.what());
        }
    } else if (v.key == "MaxAttempts") {
        s.maxAttempts = wholeNumber(v, 1, 100);
    } else if (v.key == "RetryDelay") {
        s.retryDelayUsec = timeSpanUsec(v);
        if (s.retryDelayUsec < 1'000'000 || s.retryDelayUsec > 24ll * 3'600'000'000)
            fail(v, "must be between 1s and 24h");
    } else if (v.key == "BatchSize") {
        s.batchSize = wholeNumber(v, 1, 10000);
    } else if (v.key == "LogDeliveries") {
        if (v.value != "yes" && v.value != "no") fail(v, "must be yes or no");
        s.logDeliveries = v.value == "yes";
    } else if (v.key == "HardBounceLimit" || v.key == "ComplaintLimit") {
        std::int64_t ppm = 0;
        try {
            ppm = rules::parsePercent(v.value);
        } catch (const Error& e) {
            fail(v, e.what());
        }
        (v.key == "HardBounceLimit" ? s.guard.hardBounceLimitPpm : s.guard.complaintLimitPpm) = ppm;
    } else if (v.key == "HardBounceMinimum") {
        s.guard.hardBounceMinimum = wholeNumber(v, 0, 100'000'000);
    } else if (v.key == "ComplaintMinimum") {
        s.guard.complaintMinimum = wholeNumber(v, 0, 100'000'000);
    } else if (v.key == "InstanceId") {
        if (!isWord(v.value, 64))
            fail(v, "must be 1 to 64 letters, digits, '-', '_' or '.', unique per daemon sharing a database");
        s.instanceId = v.value;
    } else {
        fail(v, "unknown key in [Sending]");
    }
}

void setBounceSourceKey(Config& c, const IniValue& v) {
    const std::string& s = v.value;
    if (v.key == "URL") {
        if (s.rfind("imap://", 0) != 0 && s.rfind("imaps://", 0) != 0)
            fail(v, "\"" + s + "\" is not an imap:// or imaps:// URL (imaps://HOST/FOLDER)");
        const auto hostStart = s.find("://") + 3;
        const auto pathStart = s.find('/', hostStart);
        if (s.substr(hostStart, pathStart == std::string::npos ? std::string::npos : pathStart - hostStart).find('@') !=
            std::string::npos)
            fail(v, "the URL must not hold credentials; use Username= and PasswordFile=");
    } else if (v.key == "PasswordFile") {
        if (s.empty() || s.front() != '/') fail(v, "must be an absolute path");
    } else if (v.key == "AfterProcessing") {
        if (s != "seen" && (s.rfind("move:", 0) != 0 || s.size() == 5))
            fail(v, "\"" + s + "\" is neither seen nor move:FOLDER");
    } else if (v.key == "Timeout") {
        wholeNumber(v, 1, 86400);  // seconds: the deadline of one whole fetch
    } else if (s.empty()) {
        fail(v, "must not be empty");
    }
    c.bounceSourceAt[v.key] = v.file + ":" + std::to_string(v.line);
    for (auto& kv : c.bounceSource)
        if (kv.first == v.key) {
            kv.second = s;  // a drop-in overrides
            return;
        }
    c.bounceSource.emplace_back(v.key, s);
}

// Plugin= in [Import], [Bounces], [Reports]: a plugin's descriptor name.
void setPluginChoice(PluginChoice& choice, const IniValue& v) {
    const std::string& s = v.value;
    const auto alnum = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; };
    if (s.empty() || s.size() > 64 || !alnum(s.front()) ||
        !std::all_of(s.begin(), s.end(), [&](char ch) { return alnum(ch) || ch == '.' || ch == '_' || ch == '-'; }))
        fail(v, "\"" + s + "\" is not a plugin name (1-64 characters of A-Z a-z 0-9 . _ -, as campaignd-ctl status shows)");
    choice.plugin = s;
    choice.at = v.file + ":" + std::to_string(v.line);
}

void setWebPublicUrl(Config& c, const IniValue& v) {
    std::string url = v.value;
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
        fail(v, "must be the http(s) URL campaignd-web is reached at, as in https://news.example.org");
    const auto host = url.find("://") + 3;
    if (host >= url.size() || url.find_first_of("?#{}\"<> \t", host) != std::string::npos)
        fail(v, "must be a plain http(s) URL (a host, optionally a path), with no query, fragment or braces");
    c.web.publicUrl = url;
}

void setWebUser(Config& c, const IniValue& v) {
    if (!isWord(v.value, 32))
        fail(v, "must be a user name");
    c.web.user = v.value;
}

// "[DKIM DOMAIN]" or "[DKIM DOMAIN LABEL]".
void applyDkim(Config& c, const IniValue& v, const std::string& rest) {
    const auto where = v.file + ":" + std::to_string(v.line);
    const std::string domain = rest.substr(0, rest.find(' '));
    if (domain.empty())
        throw ConfigError(where + ": [DKIM]: a DKIM section names the From domain it signs, as in [DKIM example.org]");
    auto& k = c.dkim[v.section];
    if (k.section.empty()) {
        k.section = v.section;
        k.domain = domainOf(v, domain);
        k.file = v.file;
        k.line = v.line;
    }
    if (v.key == "Selector") {
        if (!isWord(v.value, 63) ||
            v.value.front() == '.' || v.value.back() == '.')
            fail(v, "must be a DNS label (letters, digits, '-', '_'), as in Selector=mail2026");
        k.selector = v.value;
    } else if (v.key == "KeyFile") {
        if (v.value.empty() || v.value.front() != '/') fail(v, "must be an absolute path");
        // As with password files: a private key others can read is no secret.
        if (readableByOthers(v.value))
            fail(v, v.value + " is readable by others; a private key must not be (chmod 0600 or 0640)");
        k.keyFile = v.value;
    } else if (v.key == "KeyCredential") {
        if (v.value.empty() || v.value.find('/') != std::string::npos || v.value == "." || v.value == "..")
            fail(v, "must be a credential name (LoadCredential=NAME:PATH in the unit)");
        k.keyCredential = v.value;
    } else if (v.key == "Algorithm") {
        if (v.value != "rsa-sha256" && v.value != "ed25519-sha256")
            fail(v, "\"" + v.value + "\" is neither rsa-sha256 nor ed25519-sha256");
        k.algorithm = v.value;
    } else {
        fail(v, "unknown key in [" + v.section + "] (Selector, KeyFile, KeyCredential, Algorithm)");
    }
    k.at[v.key] = where;
}

struct KeySpec {
    std::string_view section;
    std::string_view key;
    std::function<void(Config&, const IniValue&)> apply;
};

const std::vector<KeySpec>& keys() {
    static const std::vector<KeySpec> kKeys = {
        {"Daemon", "Database", setDatabase},
        {"Daemon", "PluginDirectory", setPluginDirectory},
        {"Daemon", "AdminEmail", setAdminEmail},
        {"Daemon", "AdminGroup", setAdminGroup},
        {"Daemon", "ReaderGroup", setReaderGroup},
        {"Daemon", "LogLevel", setLogLevel},
        {"Daemon", "StateDirectory", setStateDirectory},
        {"Import", "MaxFileSize", setImportMaxFileSize},
        {"Import", "Plugin", [](Config& c, const IniValue& v) { setPluginChoice(c.importPlugin, v); }},
        {"Bounces", "SoftBounceLimit", setSoftBounceLimit},
        {"Bounces", "ActOnUnmatched",
         [](Config& c, const IniValue& v) {
             if (v.value != "yes" && v.value != "no") fail(v, "must be yes or no");
             c.actOnUnmatchedBounces = v.value == "yes";
         }},
        {"Bounces", "Plugin", [](Config& c, const IniValue& v) { setPluginChoice(c.bouncePlugin, v); }},
        {"Reports", "Plugin", [](Config& c, const IniValue& v) { setPluginChoice(c.reportPlugin, v); }},
        {"Bounces", "URL", setBounceSourceKey},
        {"Bounces", "Username", setBounceSourceKey},
        {"Bounces", "PasswordFile", setBounceSourceKey},
        {"Bounces", "PasswordCredential", setBounceSourceKey},
        {"Bounces", "AfterProcessing", setBounceSourceKey},
        {"Bounces", "Timeout", setBounceSourceKey},
        {"Web", "PublicURL", setWebPublicUrl},
        {"Web", "User", setWebUser},
    };
    return kKeys;
}

void apply(Config& c, const IniValue& v) {
    constexpr std::string_view kPlugin = "Plugin ";
    if (v.section.rfind(kPlugin, 0) == 0) {
        const auto name = v.section.substr(kPlugin.size());
        if (name.empty()) fail(v, "a [Plugin NAME] section needs the plugin's name");
        if (readableByOthers(v.file) &&
            (v.key.find("Password") != std::string::npos && v.key != "PasswordFile"))
            fail(v, "passwords do not belong in a config others can read; use PasswordFile=");
        c.plugins[name][v.key] = v.value;
        return;
    }
    constexpr std::string_view kTransport = "Transport ";
    if (v.section.rfind(kTransport, 0) == 0) {
        applyTransport(c, v, v.section.substr(kTransport.size()));
        return;
    }
    if (v.section == "Sending") {
        applySending(c, v);
        return;
    }
    constexpr std::string_view kDkim = "DKIM ";
    if (v.section.rfind(kDkim, 0) == 0 || v.section == "DKIM") {
        applyDkim(c, v, v.section.size() > kDkim.size() ? v.section.substr(kDkim.size()) : std::string());
        return;
    }
    bool sectionKnown = false;
    for (const auto& spec : keys()) {
        if (spec.section != v.section) continue;
        sectionKnown = true;
        if (spec.key == v.key) {
            spec.apply(c, v);
            return;
        }
    }
    if (!sectionKnown)
        throw ConfigError(v.file + ":" + std::to_string(v.line) + ": unknown section [" +
                          v.section + "]");
    fail(v, "unknown key in [" + v.section + "]");
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot be read: " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string envOr(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return (v && *v == '/') ? std::string(v) : fallback;
}

std::string home() {
    const char* h = std::getenv("HOME");
    return h ? h : "/";
}

}  // namespace

Defaults builtinDefaults(bool user) {
    Defaults d;
    d.pluginDirectory = CAMPAIGND_PLUGIN_DIR;
    d.adminEmail = "root@localhost.localdomain";
    if (user) {
        const auto state = envOr("XDG_STATE_HOME", home() + "/.local/state");
        d.database = "sqlite:" + state + "/campaignd/campaignd.db";
        d.stateDirectory = state + "/campaignd";
    } else {
        d.database = "sqlite:" CAMPAIGND_STATE_DIR "/campaignd.db";
        // systemd's StateDirectory= (the first, if several).
        std::string dir = envOr("STATE_DIRECTORY", CAMPAIGND_STATE_DIR);
        d.stateDirectory = dir.substr(0, dir.find(':'));
    }
    return d;
}

std::string defaultConfigPath(bool user) {
    if (user) return envOr("XDG_CONFIG_HOME", home() + "/.config") + "/campaignd/campaignd.conf";
    return CAMPAIGND_CONF_DIR "/campaignd.conf";
}

Config loadConfig(const std::string& mainPath, bool required, const Defaults& defaults) {
    Config c;
    c.database = defaults.database;
    c.pluginDirectory = defaults.pluginDirectory;
    c.adminEmail = defaults.adminEmail;
    c.stateDirectory = defaults.stateDirectory.empty() ? std::string(CAMPAIGND_STATE_DIR)
                                                        : defaults.stateDirectory;

    std::vector<std::string> files;
    std::error_code ec;
    if (fs::is_regular_file(mainPath, ec)) {
        files.push_back(mainPath);
    } else if (required || fs::exists(mainPath, ec)) {
        throw ConfigError(mainPath + ": " +
                          (fs::exists(mainPath, ec) ? "is not a regular file" : "no such file"));
    }
    const fs::path dropins = mainPath + ".d";
    if (fs::is_directory(dropins, ec)) {
        std::vector<std::string> found;
        for (const auto& entry : fs::directory_iterator(dropins, ec))
            if (entry.path().extension() == ".conf" && entry.is_regular_file(ec))
                found.push_back(entry.path().string());
        std::sort(found.begin(), found.end());
        files.insert(files.end(), found.begin(), found.end());
    }
    for (const auto& file : files) {
        for (const auto& v : parseIni(readFile(file), file)) apply(c, v);
    }
    c.files = std::move(files);
    for (const auto& [name, t] : c.transports)
        if (t.plugin.empty())
            throw ConfigError(t.file + ":" + std::to_string(t.line) + ": [Transport " + name +
                              "]: Plugin= is missing (smtp or maildir)");
    for (const auto& [name, k] : c.dkim) {
        const std::string where = k.file + ":" + std::to_string(k.line) + ": [" + name + "]: ";
        if (k.selector.empty()) throw ConfigError(where + "Selector= is missing");
        if (k.keyFile.empty() == k.keyCredential.empty())
            throw ConfigError(where + (k.keyFile.empty() ? "KeyFile= or KeyCredential= is missing"
                                                         : "KeyFile= and KeyCredential= are both set; keep one"));
    }
    if (!c.sending.defaultTransport.empty() && !c.transports.count(c.sending.defaultTransport))
        throw ConfigError(c.sending.defaultTransportAt + ": DefaultTransport=: no [Transport " +
                          c.sending.defaultTransport + "] section is configured");
    return c;
}

const TransportConfig* transportFor(const Config& config, const std::string& campaignTransport) {
    std::string name = campaignTransport;
    if (name.empty()) name = config.sending.defaultTransport;
    if (name.empty() && config.transports.size() == 1) return &config.transports.begin()->second;
    const auto it = config.transports.find(name);
    return it == config.transports.end() ? nullptr : &it->second;
}

std::string transportError(const TransportConfig& transport, const std::string& what) {
    return transport.file + ":" + std::to_string(transport.line) + ": [Transport " + transport.name +
           "] Plugin=" + transport.plugin + ": " + what;
}

std::string pluginChoiceError(const PluginChoice& choice, const std::string& what) {
    if (choice.plugin.empty()) return "[" + choice.section + "] Plugin= is not set: " + what;
    return choice.at + ": [" + choice.section + "] Plugin=" + choice.plugin + ": " + what;
}

}  // namespace campaignd::config

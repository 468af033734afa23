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

// The [Transport NAME] a value belongs to, registered at its first key.
TransportConfig& transportOf(Config& c, const IniValue& v) {
    const std::string name = v.section.substr(std::string_view("Transport ").size());
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
    return t;
}

// A key of [Transport NAME] that is not the engine's: the plugin's, checked by the plugin.
void setTransportPluginKey(Config& c, const IniValue& v) {
    auto& t = transportOf(c, v);
    if (readableByOthers(v.file) && v.key.find("Password") != std::string::npos && v.key != "PasswordFile")
        fail(v, "passwords do not belong in a config others can read; use PasswordFile=");
    t.settings[v.key] = v.value;
    t.settingsAt[v.key] = v.file + ":" + std::to_string(v.line);
}

void setTransportPlugin(Config& c, const IniValue& v) {
    auto& t = transportOf(c, v);
    if (v.value.empty()) fail(v, "must name a transport plugin (smtp, maildir)");
    t.plugin = v.value;
    t.pluginAt = v.file + ":" + std::to_string(v.line);
}

void setTransportMaxPerSecond(Config& c, const IniValue& v) {
    char* end = nullptr;
    const double d = std::strtod(v.value.c_str(), &end);
    if (v.value.empty() || *end != '\0' || !(d >= 0) || d > 1e6)
        fail(v, "\"" + v.value + "\" is not a rate (messages per second, 0 for no limit)");
    transportOf(c, v).maxPerSecond = d;
}

void setDefaultTransport(Config& c, const IniValue& v) {
    if (v.value.empty()) fail(v, "must name a [Transport NAME] section");
    c.sending.defaultTransport = v.value;
    c.sending.defaultTransportAt = v.file + ":" + std::to_string(v.line);
}

void setFrom(Config& c, const IniValue& v) {
    try {
        c.sending.from = rules::normalizeFromAddress(v.value);
    } catch (const Error& e) {
        fail(v, e.what());
    }
}

void setFeedbackSenderId(Config& c, const IniValue& v) {
    if (!isWord(v.value, 64)) fail(v, "must be 1 to 64 letters, digits, '-', '_' or '.' (no ':'), the same for all your mail");
    c.sending.feedbackSenderId = v.value;
}

void setDmarcReports(Config& c, const IniValue& v) {
    try {
        c.sending.dmarcReports = rules::normalizeEmail(v.value);
    } catch (const Error& e) {
        fail(v, e.what());
    }
}

void setEnvelopeSubdomain(Config& c, const IniValue& v) {
    if (v.value.empty() || v.value.size() > 63 || v.value.front() == '.' || v.value.back() == '.' ||
        v.value.find("..") != std::string::npos ||
        v.value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != std::string::npos)
        fail(v, "must be DNS labels (letters, digits, '-'), as in EnvelopeSubdomain=bounces");
    auto& sub = c.sending.envelopeSubdomain = v.value;
    for (char& ch : sub) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
}

void setVerpPrefix(Config& c, const IniValue& v) {
    if (!isWord(v.value, 40)) fail(v, "must be 1 to 40 letters, digits, '-', '_' or '.'");
    c.sending.verpPrefix = v.value;
}

void setVerpDelimiter(Config& c, const IniValue& v) {
    if (v.value.size() != 1 || std::string_view("+-=_").find(v.value[0]) == std::string_view::npos)
        fail(v, "must be one of + - = _ (the mail server's recipient_delimiter)");
    c.sending.verpDelimiter = v.value[0];
}

void setVerpSecretFile(Config& c, const IniValue& v) {
    if (v.value.empty() || v.value.front() != '/') fail(v, "must be an absolute path");
    c.sending.verpSecretFile = v.value;
}

void setUnsubscribeUrl(Config& c, const IniValue& v) {
    if (v.value.rfind("https://", 0) != 0 && v.value.rfind("http://", 0) != 0)
        fail(v, "must be an http(s) URL with {token} in it");
    if (v.value.find("{token}") == std::string::npos) fail(v, "must contain {token}");
    c.sending.unsubscribeUrl = v.value;
}

void setUnsubscribeMailto(Config& c, const IniValue& v) {
    try {
        c.sending.unsubscribeMailto = rules::normalizeEmail(v.value);
    } catch (const Error& e) {
        fail(v, e.what());
    }
}

void setRetryDelay(Config& c, const IniValue& v) {
    c.sending.retryDelayUsec = timeSpanUsec(v);
    if (c.sending.retryDelayUsec < 1'000'000 || c.sending.retryDelayUsec > 24ll * 3'600'000'000)
        fail(v, "must be between 1s and 24h");
}

void setClaimLease(Config& c, const IniValue& v) {
    c.sending.claimLeaseUsec = timeSpanUsec(v);
    if (c.sending.claimLeaseUsec < 1'000'000 || c.sending.claimLeaseUsec > 24ll * 3'600'000'000)
        fail(v, "must be between 1s and 24h");
}

// HardBounceLimit=, ComplaintLimit=: a percentage, kept in parts per million.
void setGuardLimit(std::int64_t& ppm, const IniValue& v) {
    try {
        ppm = rules::parsePercent(v.value);
    } catch (const Error& e) {
        fail(v, e.what());
    }
}

void setInstanceId(Config& c, const IniValue& v) {
    if (!isWord(v.value, 64))
        fail(v, "must be 1 to 64 letters, digits, '-', '_' or '.', unique per daemon sharing a database");
    c.sending.instanceId = v.value;
}

bool yesNo(const IniValue& v) {
    if (v.value != "yes" && v.value != "no") fail(v, "must be yes or no");
    return v.value == "yes";
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

// The "[DKIM DOMAIN]" or "[DKIM DOMAIN LABEL]" a value belongs to, registered at its first key;
// each setter records where its key was.
DkimKeyConfig& dkimOf(Config& c, const IniValue& v) {
    const auto where = v.file + ":" + std::to_string(v.line);
    const std::string rest = v.section.size() > 5 ? v.section.substr(5) : std::string();
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
    k.at[v.key] = where;
    return k;
}

void setDkimSelector(Config& c, const IniValue& v) {
    if (!isWord(v.value, 63) || v.value.front() == '.' || v.value.back() == '.')
        fail(v, "must be a DNS label (letters, digits, '-', '_'), as in Selector=mail2026");
    dkimOf(c, v).selector = v.value;
}

void setDkimKeyFile(Config& c, const IniValue& v) {
    if (v.value.empty() || v.value.front() != '/') fail(v, "must be an absolute path");
    // As with password files: a private key others can read is no secret.
    if (readableByOthers(v.value))
        fail(v, v.value + " is readable by others; a private key must not be (chmod 0600 or 0640)");
    dkimOf(c, v).keyFile = v.value;
}

void setDkimKeyCredential(Config& c, const IniValue& v) {
    if (v.value.empty() || v.value.find('/') != std::string::npos || v.value == "." || v.value == "..")
        fail(v, "must be a credential name (LoadCredential=NAME:PATH in the unit)");
    dkimOf(c, v).keyCredential = v.value;
}

void setDkimAlgorithm(Config& c, const IniValue& v) {
    if (v.value != "rsa-sha256" && v.value != "ed25519-sha256")
        fail(v, "\"" + v.value + "\" is neither rsa-sha256 nor ed25519-sha256");
    dkimOf(c, v).algorithm = v.value;
}

// Sections that come in families carry a placeholder in the table: "[Transport relay]" is
// read by the "Transport NAME" rows, "[DKIM example.org ed25519]" by the "DKIM DOMAIN" rows.
constexpr std::string_view kTransportFamily = "Transport NAME";
constexpr std::string_view kDkimFamily = "DKIM DOMAIN";
constexpr std::string_view kPluginFamily = "Plugin NAME";

struct KeySpec {
    std::string_view section;  // a section, or a family of them (above)
    std::string_view key;
    std::function<void(Config&, const IniValue&)> apply;
};

// Every key the config reader knows, and what it does with it: the one list, which
// knownKeys() hands to the test that holds campaignd.conf(5) to it. The keys of [Plugin NAME]
// and the plugin's own keys of [Transport NAME] are not here: their plugins read them.
const std::vector<KeySpec>& keys() {
    using C = Config;
    using V = IniValue;
    static const std::vector<KeySpec> kKeys = {
        {"Daemon", "Database", setDatabase},
        {"Daemon", "PluginDirectory", setPluginDirectory},
        {"Daemon", "AdminEmail", setAdminEmail},
        {"Daemon", "AdminGroup", setAdminGroup},
        {"Daemon", "ReaderGroup", setReaderGroup},
        {"Daemon", "LogLevel", setLogLevel},
        {"Daemon", "StateDirectory", setStateDirectory},
        {"Import", "MaxFileSize", setImportMaxFileSize},
        {"Import", "Plugin", [](C& c, const V& v) { setPluginChoice(c.importPlugin, v); }},
        {"Reports", "Plugin", [](C& c, const V& v) { setPluginChoice(c.reportPlugin, v); }},
        {"Bounces", "Plugin", [](C& c, const V& v) { setPluginChoice(c.bouncePlugin, v); }},
        {"Bounces", "SoftBounceLimit", setSoftBounceLimit},
        {"Bounces", "ActOnUnmatched", [](C& c, const V& v) { c.actOnUnmatchedBounces = yesNo(v); }},
        {"Bounces", "URL", setBounceSourceKey},
        {"Bounces", "Username", setBounceSourceKey},
        {"Bounces", "PasswordFile", setBounceSourceKey},
        {"Bounces", "PasswordCredential", setBounceSourceKey},
        {"Bounces", "AfterProcessing", setBounceSourceKey},
        {"Bounces", "Timeout", setBounceSourceKey},
        {"Sending", "DefaultTransport", setDefaultTransport},
        {"Sending", "From", setFrom},
        {"Sending", "EnvelopeDomain", [](C& c, const V& v) { c.sending.envelopeDomain = domainOf(v, v.value); }},
        {"Sending", "EnvelopeSubdomain", setEnvelopeSubdomain},
        {"Sending", "FeedbackSenderId", setFeedbackSenderId},
        {"Sending", "DmarcReports", setDmarcReports},
        {"Sending", "MessageIdDomain", [](C& c, const V& v) { c.sending.messageIdDomain = domainOf(v, v.value); }},
        {"Sending", "VerpPrefix", setVerpPrefix},
        {"Sending", "VerpDelimiter", setVerpDelimiter},
        {"Sending", "VerpSecretFile", setVerpSecretFile},
        {"Sending", "UnsubscribeURL", setUnsubscribeUrl},
        {"Sending", "UnsubscribeMailto", setUnsubscribeMailto},
        {"Sending", "MaxAttempts", [](C& c, const V& v) { c.sending.maxAttempts = wholeNumber(v, 1, 100); }},
        {"Sending", "RetryDelay", setRetryDelay},
        {"Sending", "BatchSize", [](C& c, const V& v) { c.sending.batchSize = wholeNumber(v, 1, 10000); }},
        {"Sending", "LogDeliveries", [](C& c, const V& v) { c.sending.logDeliveries = yesNo(v); }},
        {"Sending", "HardBounceLimit", [](C& c, const V& v) { setGuardLimit(c.sending.guard.hardBounceLimitPpm, v); }},
        {"Sending", "HardBounceMinimum",
         [](C& c, const V& v) { c.sending.guard.hardBounceMinimum = wholeNumber(v, 0, 100'000'000); }},
        {"Sending", "ComplaintLimit", [](C& c, const V& v) { setGuardLimit(c.sending.guard.complaintLimitPpm, v); }},
        {"Sending", "ComplaintMinimum",
         [](C& c, const V& v) { c.sending.guard.complaintMinimum = wholeNumber(v, 0, 100'000'000); }},
        {"Sending", "InstanceId", setInstanceId},
        {"Sending", "ClaimLease", setClaimLease},
        {"Web", "PublicURL", setWebPublicUrl},
        {"Web", "User", setWebUser},
        {kDkimFamily, "Selector", setDkimSelector},
        {kDkimFamily, "KeyFile", setDkimKeyFile},
        {kDkimFamily, "KeyCredential", setDkimKeyCredential},
        {kDkimFamily, "Algorithm", setDkimAlgorithm},
        {kTransportFamily, "Plugin", setTransportPlugin},
        {kTransportFamily, "Connections", [](C& c, const V& v) { transportOf(c, v).connections = wholeNumber(v, 1, 1000); }},
        {kTransportFamily, "MaxPerSecond", setTransportMaxPerSecond},
        {kTransportFamily, "MaxPerDomain",
         [](C& c, const V& v) { transportOf(c, v).maxPerDomain = wholeNumber(v, 0, 100000); }},
    };
    return kKeys;
}

// The table's name for a section: its family for "[Transport NAME]", "[DKIM DOMAIN ...]" and
// "[Plugin NAME]", else the section itself.
std::string_view familyOf(const std::string& section) {
    if (section.rfind("Transport ", 0) == 0) return kTransportFamily;
    if (section.rfind("DKIM ", 0) == 0 || section == "DKIM") return kDkimFamily;
    if (section.rfind("Plugin ", 0) == 0) return kPluginFamily;
    return section;
}

void apply(Config& c, const IniValue& v) {
    c.values["[" + v.section + "] " + v.key] = v.value;
    const std::string_view family = familyOf(v.section);
    if (family == kPluginFamily) {
        const auto name = v.section.substr(std::string_view("Plugin ").size());
        if (name.empty()) fail(v, "a [Plugin NAME] section needs the plugin's name");
        if (readableByOthers(v.file) &&
            (v.key.find("Password") != std::string::npos && v.key != "PasswordFile"))
            fail(v, "passwords do not belong in a config others can read; use PasswordFile=");
        c.plugins[name][v.key] = v.value;
        return;
    }
    // A family's section exists (and is checked) from its first key, whatever the key.
    if (family == kTransportFamily) transportOf(c, v);
    if (family == kDkimFamily) dkimOf(c, v);
    bool sectionKnown = false;
    std::string known;  // the section's keys, for an unknown one's message
    for (const auto& spec : keys()) {
        if (spec.section != family) continue;
        sectionKnown = true;
        if (spec.key == v.key) {
            spec.apply(c, v);
            return;
        }
        known += (known.empty() ? "" : ", ") + std::string(spec.key);
    }
    if (family == kTransportFamily) {
        setTransportPluginKey(c, v);  // the plugin's to read (and to refuse)
        return;
    }
    if (!sectionKnown)
        throw ConfigError(v.file + ":" + std::to_string(v.line) + ": unknown section [" +
                          v.section + "]");
    if (family == kDkimFamily) fail(v, "unknown key in [" + v.section + "] (" + known + ")");
    fail(v, "unknown key in [" + v.section + "]");
}

}  // namespace

std::vector<std::pair<std::string, std::string>> knownKeys() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& spec : keys()) out.emplace_back(spec.section, spec.key);
    return out;
}

namespace {

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

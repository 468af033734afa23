// config.h: the daemon's configuration: the main file (default
// /etc/campaignd/campaignd.conf), then its drop-ins, "<main>.d/*.conf" in lexical order, each
// overriding what came before (as systemd's drop-ins do). Every key is checked here, at start-up:
// an unknown section or key, a malformed value, or a password in a file others can read stops
// the daemon with one line naming the file, the line, the key and what is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"
#include "rules/sending_guard.h"

namespace campaignd::config {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One "[Transport NAME]" section. Plugin= names the transport plugin (smtp, maildir); the
// engine's own keys are read here; every other key goes to the plugin's openSession as it is.
struct TransportConfig {
    std::string name;
    std::string plugin;
    std::map<std::string, std::string> settings;  // the plugin's keys (not Plugin= nor the engine's)
    std::map<std::string, std::string> settingsAt;  // "FILE:LINE" of each of them, for the plugin's verdict
    std::string pluginAt;                           // "FILE:LINE" of Plugin=
    unsigned connections = 1;   // Connections=: parallel sessions (1..1000)
    double maxPerSecond = 0;    // MaxPerSecond=: messages per second over all sessions; 0 unlimited
    unsigned maxPerDomain = 0;  // MaxPerDomain=: messages in flight per recipient domain; 0 unlimited
    std::string file;           // where the section was first seen, for errors found later
    int line = 0;               //   (the plugin is not a running transport)
};

// A "Plugin=" key that chooses the one plugin of a capability: [Import] (the importer),
// [Bounces] (the bounce source), [Reports] (the reporter). Not set: the only running plugin of
// that capability is used, and several are an error. Whether the named plugin runs and has
// the capability is checked by the daemon once plugins load (see pluginChoiceError).
struct PluginChoice {
    std::string section;  // "Import", "Bounces", "Reports"
    std::string plugin;   // the plugin's name; empty when the key is not set
    std::string at;       // "FILE:LINE" of the key, for errors found later; empty when not set
};

// "[Sending]".
struct SendingConfig {
    std::string defaultTransport;   // DefaultTransport=: a [Transport NAME]; empty: the only one
    std::string defaultTransportAt; // "FILE:LINE" of DefaultTransport=, for errors
    std::string from;               // From=: the sender when a campaign has none; empty: AdminEmail
    std::string envelopeDomain;     // EnvelopeDomain=: the VERP domain for every campaign; empty:
                                    //   each campaign's own From domain (aligned, for SPF)
    std::string envelopeSubdomain;  // EnvelopeSubdomain=: with no EnvelopeDomain=, the VERP domain
                                    //   is this label + "." + the campaign's From domain
    std::string verpPrefix = "bounces";  // VerpPrefix=
    char verpDelimiter = '+';       // VerpDelimiter=
    std::string verpSecretFile;     // VerpSecretFile=; empty: <StateDirectory>/verp-secret, made once
    std::string messageIdDomain;    // MessageIdDomain=; empty: From's domain
    std::string feedbackSenderId;   // FeedbackSenderId=: Feedback-ID's SenderId; empty: From's domain
    std::string dmarcReports;       // DmarcReports=: the rua= address of `dns records`' DMARC
                                    //   record; empty: postmaster@ the From domain
    std::string unsubscribeUrl;     // UnsubscribeURL= (https://.../{campaign_id}/{token})
    std::string unsubscribeMailto;  // UnsubscribeMailto=
    unsigned maxAttempts = 5;       // MaxAttempts=: transport attempts per recipient (4xx retries)
    std::int64_t retryDelayUsec = 60'000'000;  // RetryDelay=: the first retry's delay, doubling
    unsigned batchSize = 100;       // BatchSize=: recipients claimed per ledger transaction
    std::string instanceId;         // InstanceId=; empty: <StateDirectory>/instance-id, made once
    // ClaimLease=: how long a daemon sharing the database may be silent (no heartbeat) before
    // another takes back its claims, as its own restart would (services/cluster_service.h).
    std::int64_t claimLeaseUsec = 60'000'000;
    bool logDeliveries = true;      // LogDeliveries=: one journal line per delivery outcome
    // HardBounceLimit=, HardBounceMinimum=, ComplaintLimit=, ComplaintMinimum=: the sending
    // guard (rules/sending_guard.h); 0 turns a check off.
    rules::GuardLimits guard;
};

// One "[DKIM DOMAIN]" section (or "[DKIM DOMAIN LABEL]", for a second key of the same domain,
// e.g. "[DKIM example.org ed25519]"): a key that signs the mail whose From address is in
// DOMAIN. Checked here: Selector= and exactly one of KeyFile= (absolute, not readable by
// others) or KeyCredential= (a systemd credential name), Algorithm= one of rsa-sha256,
// ed25519-sha256. The key itself is read and checked by the daemon at start-up (app/dkim_keys).
struct DkimKeyConfig {
    std::string section;        // "DKIM example.org" as written
    std::string domain;         // normalised (lower case, A-labels)
    std::string selector;       // Selector=
    std::string keyFile;        // KeyFile=
    std::string keyCredential;  // KeyCredential=
    std::string algorithm;      // Algorithm=: empty (the key's type decides) or as written
    std::map<std::string, std::string> at;  // "FILE:LINE" of each key given
    std::string file;           // where the section was first seen
    int line = 0;
};

// "[Web]": the public side, campaignd-web (web/).
struct WebConfig {
    // PublicURL=: where campaignd-web is reached from the internet ("https://news.example.org",
    // no trailing '/'); empty: none. When set, messages get List-Unsubscribe and
    // {{unsubscribe_url}} = PublicURL + "/u/<campaign id>-<token>" (unless [Sending]
    // UnsubscribeURL= names a site's own endpoint) and {{view_url}} = PublicURL + "/v/...".
    std::string publicUrl;
    // User=: the user campaignd-web runs as; it (with root and the daemon's own user) may call
    // org.campaignd.Campaignd1.Web. Empty: nobody else.
    std::string user = "campaignd-web";
};

struct Config {
    // [Daemon]
    std::string database;         // "sqlite:/abs/path" or "postgresql://..."
    std::string pluginDirectory;  // absolute
    std::string adminEmail;       // normalised; reports go here
    std::string adminGroup = "campaignd";  // members may call mutating methods
    std::string readerGroup = "campaignd-readers";  // members may read personal data, not change it
    log::Level logLevel = log::Level::Info;
    std::string stateDirectory;   // absolute; the VERP secret and the instance id live here
    // [Import]
    std::uint64_t importMaxFileSize = 512ull << 20;  // bytes; 0: no limit
    PluginChoice importPlugin{"Import", {}, {}};     // Plugin=: the importer
    // [Bounces]
    std::int64_t softBounceLimit = 3;  // consecutive soft bounces that suppress a recipient
    // ActOnUnmatched=: results matched by neither a valid VERP token nor the send ledger change
    // their recipient too (the old rule: a forged notice can then suppress anyone); default no.
    bool actOnUnmatchedBounces = false;
    PluginChoice bouncePlugin{"Bounces", {}, {}};    // Plugin=: the bounce source
    // [Reports]
    PluginChoice reportPlugin{"Reports", {}, {}};    // Plugin=: the reporter
    // [Transport NAME] sections, by name (see TransportConfig).
    std::map<std::string, TransportConfig> transports;
    // [Sending]
    SendingConfig sending;
    // [Web]
    WebConfig web;
    // [DKIM DOMAIN] sections, by section name (see DkimKeyConfig).
    std::map<std::string, DkimKeyConfig> dkim;
    // URL=, Username=, PasswordFile=, PasswordCredential=, AfterProcessing= for the bounce
    // source plugin, in the order given (the plugin checks them again at start-up and when it
    // runs), and "FILE:LINE" of each, for the plugin's verdict.
    std::vector<std::pair<std::string, std::string>> bounceSource;
    std::map<std::string, std::string> bounceSourceAt;
    // [Plugin NAME] sections: each plugin's own keys, checked by the plugin.
    std::map<std::string, std::map<std::string, std::string>> plugins;
    // The files read, in order (the main file first, if it existed).
    std::vector<std::string> files;
    // Every value as read, drop-ins applied: "[Section] Key" -> value. For a reload, to say
    // which keys changed (names only: a value may be a secret).
    std::map<std::string, std::string> values;
};

struct Defaults {
    std::string database;
    std::string pluginDirectory;
    std::string adminEmail;
    std::string stateDirectory = {};
};

// The built-in defaults: the system ones, or with `user` the per-user ones
// ($XDG_STATE_HOME/campaignd/campaignd.db, as `systemctl --user` services keep state).
Defaults builtinDefaults(bool user);
// The default main file: /etc/campaignd/campaignd.conf, or with `user`
// $XDG_CONFIG_HOME/campaignd/campaignd.conf.
std::string defaultConfigPath(bool user);

// Loads `mainPath` and its drop-ins over `defaults`. A missing main file is an error only when
// `required` (the administrator named it with --config). Throws ConfigError. Cross-checks once
// everything is read: every [Transport] has Plugin=; DefaultTransport= names one of them.
// (Whether each plugin is a running transport is checked by the daemon once plugins load:
// checkTransportPlugins.)
Config loadConfig(const std::string& mainPath, bool required, const Defaults& defaults);

// Every (section, key) the reader knows, from its own table, in the table's order. Sections that
// come in families appear as "Transport NAME" and "DKIM DOMAIN". Not listed: [Plugin NAME] and
// the plugin's own keys of [Transport NAME] (their plugins read them). For the test that holds
// campaignd.conf(5) to the program.
std::vector<std::pair<std::string, std::string>> knownKeys();

// The transport a campaign uses: its own, else DefaultTransport=, else the only one
// configured; nullptr when there is none of that name (or none at all).
const TransportConfig* transportFor(const Config& config, const std::string& campaignTransport);

// "FILE:LINE: [Transport NAME] Plugin=: <what>" for errors the daemon finds after loading.
std::string transportError(const TransportConfig& transport, const std::string& what);

// For errors the daemon finds about a plugin choice after loading: "FILE:LINE: [Import]
// Plugin=NAME: <what>" when the key was given, "[Import] Plugin= is not set: <what>" when not.
std::string pluginChoiceError(const PluginChoice& choice, const std::string& what);

}  // namespace campaignd::config

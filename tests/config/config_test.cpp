// config_test.cpp: the daemon's config as an administrator meets it: values from the main file
// and drop-ins, and one clear line naming file, line and key for each kind of mistake.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/ini.h"

namespace fs = std::filesystem;
using campaignd::config::Config;
using campaignd::config::ConfigError;
using campaignd::config::Defaults;
using campaignd::config::loadConfig;

namespace {

class ConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("campaignd-config-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        main_ = (dir_ / "campaignd.conf").string();
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write(const fs::path& path, const std::string& text, mode_t mode = 0640) {
        fs::create_directories(path.parent_path());
        std::ofstream(path) << text;
        ::chmod(path.c_str(), mode);
    }

    std::string errorOf(bool required = true) {
        try {
            loadConfig(main_, required, defaults_);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "";
    }

    Defaults defaults_{"sqlite:/var/lib/campaignd/campaignd.db", "/usr/lib/campaignd/plugins",
                       "root@localhost.localdomain"};
    fs::path dir_;
    std::string main_;
};

TEST_F(ConfigTest, MissingDefaultFileGivesDefaults) {
    const Config c = loadConfig(main_, false, defaults_);
    EXPECT_EQ(c.database, defaults_.database);
    EXPECT_EQ(c.pluginDirectory, defaults_.pluginDirectory);
    EXPECT_EQ(c.adminGroup, "campaignd");
    EXPECT_EQ(c.readerGroup, "campaignd-readers");
    EXPECT_TRUE(c.files.empty());
}

TEST_F(ConfigTest, MissingExplicitFileIsAnError) {
    EXPECT_EQ(errorOf(true), main_ + ": no such file");
}

TEST_F(ConfigTest, ReadsValuesCommentsAndWhitespace) {
    write(main_,
          "# a comment\n; another\n\n[Daemon]\n  Database = sqlite:/srv/c.db  \n"
          "AdminEmail=Reports@EXAMPLE.org\nAdminGroup=mailadmins\nReaderGroup=helpdesk\nLogLevel=debug\n"
          "[Plugin smtp]\nURL=smtp://127.0.0.1:25\n");
    const Config c = loadConfig(main_, true, defaults_);
    EXPECT_EQ(c.database, "sqlite:/srv/c.db");
    EXPECT_EQ(c.adminEmail, "Reports@example.org");
    EXPECT_EQ(c.adminGroup, "mailadmins");
    EXPECT_EQ(c.readerGroup, "helpdesk");
    EXPECT_EQ(c.logLevel, campaignd::log::Level::Debug);
    EXPECT_EQ(c.plugins.at("smtp").at("URL"), "smtp://127.0.0.1:25");
    EXPECT_EQ(c.files, std::vector<std::string>{main_});
}

TEST_F(ConfigTest, DropInsOverrideInLexicalOrder) {
    write(main_, "[Daemon]\nDatabase=sqlite:/a.db\nLogLevel=error\n");
    write(dir_ / "campaignd.conf.d" / "20-late.conf", "[Daemon]\nDatabase=sqlite:/c.db\n");
    write(dir_ / "campaignd.conf.d" / "10-early.conf", "[Daemon]\nDatabase=sqlite:/b.db\n");
    write(dir_ / "campaignd.conf.d" / "99-ignored.txt", "[Daemon]\nDatabase=sqlite:/x.db\n");
    const Config c = loadConfig(main_, true, defaults_);
    EXPECT_EQ(c.database, "sqlite:/c.db");
    EXPECT_EQ(c.logLevel, campaignd::log::Level::Error);
    ASSERT_EQ(c.files.size(), 3u);
    EXPECT_NE(c.files[1].find("10-early.conf"), std::string::npos);
}

TEST_F(ConfigTest, UnknownKeyNamesFileLineAndKey) {
    write(main_, "[Daemon]\n\nDatabse=sqlite:/a.db\n");
    EXPECT_EQ(errorOf(), main_ + ":3: Databse=: unknown key in [Daemon]");
}

TEST_F(ConfigTest, UnknownSection) {
    write(main_, "[Deamon]\nDatabase=sqlite:/a.db\n");
    EXPECT_EQ(errorOf(), main_ + ":2: unknown section [Deamon]");
}

TEST_F(ConfigTest, MalformedLine) {
    write(main_, "[Daemon]\nDatabase sqlite:/a.db\n");
    EXPECT_NE(errorOf().find(main_ + ":2: expected Key=Value"), std::string::npos);
}

TEST_F(ConfigTest, KeyBeforeSection) {
    write(main_, "Database=sqlite:/a.db\n");
    EXPECT_EQ(errorOf(), main_ + ":1: Database=: a key before any [Section]");
}

TEST_F(ConfigTest, BadValuesAreExplained) {
    write(main_, "[Daemon]\nDatabase=mysql://x\n");
    EXPECT_NE(errorOf().find(":2: Database=: \"mysql://x\" is neither"), std::string::npos);
    write(main_, "[Daemon]\nDatabase=sqlite:relative.db\n");
    EXPECT_NE(errorOf().find("absolute path"), std::string::npos);
    write(main_, "[Daemon]\nAdminEmail=not an address\n");
    EXPECT_NE(errorOf().find(":2: AdminEmail=: "), std::string::npos);
    write(main_, "[Daemon]\nLogLevel=loud\n");
    EXPECT_NE(errorOf().find("LogLevel=: \"loud\" is not one of"), std::string::npos);
    write(main_, "[Daemon]\nPluginDirectory=plugins\n");
    EXPECT_NE(errorOf().find("PluginDirectory=: must be an absolute path"), std::string::npos);
}

TEST_F(ConfigTest, PasswordInWorldReadableFileIsRefused) {
    write(main_, "[Daemon]\nDatabase=postgresql://campaignd:s3cret@db.example/campaignd\n", 0644);
    const auto err = errorOf();
    EXPECT_NE(err.find("holds a password"), std::string::npos);
    EXPECT_EQ(err.find("s3cret"), std::string::npos) << "the error must not repeat the password";
    write(main_, "[Daemon]\nDatabase=postgresql://campaignd:s3cret@db.example/campaignd\n", 0640);
    EXPECT_EQ(errorOf(), "");
    write(main_, "[Daemon]\nDatabase=postgresql://db.example/c?password=s3cret\n", 0644);
    EXPECT_NE(errorOf().find("holds a password"), std::string::npos);
    write(main_, "[Daemon]\nDatabase=postgresql://campaignd@db.example/campaignd\n", 0644);
    EXPECT_EQ(errorOf(), "");
}

TEST_F(ConfigTest, PluginPasswordInWorldReadableFileIsRefused) {
    write(main_, "[Plugin smtp]\nPassword=hunter2\n", 0644);
    EXPECT_NE(errorOf().find("Password=: passwords do not belong"), std::string::npos);
    write(main_, "[Plugin smtp]\nPasswordFile=/etc/campaignd/smtp.pw\n", 0644);
    EXPECT_EQ(errorOf(), "");
}

TEST_F(ConfigTest, ImportMaxFileSize) {
    EXPECT_EQ(loadConfig(main_, false, defaults_).importMaxFileSize, 512ull << 20);
    write(main_, "[Import]\nMaxFileSize=2G\n");
    EXPECT_EQ(loadConfig(main_, true, defaults_).importMaxFileSize, 2ull << 30);
    write(main_, "[Import]\nMaxFileSize=1000\n");
    EXPECT_EQ(loadConfig(main_, true, defaults_).importMaxFileSize, 1000u);
    write(main_, "[Import]\nMaxFileSize=infinity\n");
    EXPECT_EQ(loadConfig(main_, true, defaults_).importMaxFileSize, 0u);
    write(main_, "[Import]\nMaxFileSize=lots\n");
    EXPECT_NE(errorOf().find(":2: MaxFileSize=: \"lots\" is not a size"), std::string::npos);
    write(main_, "[Import]\nMaxFileSize=5T\n");
    EXPECT_NE(errorOf().find("is not a size"), std::string::npos);
}

TEST_F(ConfigTest, BouncesSection) {
    const Config none = loadConfig(main_, false, defaults_);
    EXPECT_EQ(none.softBounceLimit, 3);
    EXPECT_TRUE(none.bounceSource.empty());
    EXPECT_FALSE(none.actOnUnmatchedBounces) << "only a notice that proves itself acts, by default";
    write(main_, "[Bounces]\nURL=imaps://mail.example.org/INBOX\nUsername=b@example.org\n"
                 "PasswordFile=/etc/campaignd/pw\nAfterProcessing=move:Done\nSoftBounceLimit=5\nTimeout=120\n");
    write(dir_ / "campaignd.conf.d" / "10.conf", "[Bounces]\nAfterProcessing=seen\n");
    const Config c = loadConfig(main_, true, defaults_);
    EXPECT_EQ(c.softBounceLimit, 5);
    using KV = std::pair<std::string, std::string>;
    EXPECT_EQ(c.bounceSource, (std::vector<KV>{{"URL", "imaps://mail.example.org/INBOX"},
                                               {"Username", "b@example.org"},
                                               {"PasswordFile", "/etc/campaignd/pw"},
                                               {"AfterProcessing", "seen"},
                                               {"Timeout", "120"}}))
        << "the drop-in overrides AfterProcessing=";
    fs::remove(dir_ / "campaignd.conf.d" / "10.conf");
    write(main_, "[Bounces]\nActOnUnmatched=yes\n");
    EXPECT_TRUE(loadConfig(main_, false, defaults_).actOnUnmatchedBounces);
    write(main_, "[Bounces]\nActOnUnmatched=maybe\n");
    EXPECT_NE(errorOf().find("ActOnUnmatched=: must be yes or no"), std::string::npos) << errorOf();
    write(main_, "[Bounces]\nSoftBounceLimit=0\n");
    EXPECT_NE(errorOf().find("SoftBounceLimit=: \"0\" is not a number from 1 to 1000"), std::string::npos) << errorOf();
    write(main_, "[Bounces]\nURL=pop3://mail.example.org/\n");
    EXPECT_NE(errorOf().find("is not an imap:// or imaps:// URL"), std::string::npos) << errorOf();
    write(main_, "[Bounces]\nURL=imaps://user:secret@mail.example.org/INBOX\n");
    EXPECT_NE(errorOf().find("must not hold credentials"), std::string::npos) << errorOf();
    EXPECT_EQ(errorOf().find("secret"), std::string::npos) << "the password is not repeated";
    write(main_, "[Bounces]\nPasswordFile=relative/pw\n");
    EXPECT_NE(errorOf().find("must be an absolute path"), std::string::npos) << errorOf();
    write(main_, "[Bounces]\nAfterProcessing=delete\n");
    EXPECT_NE(errorOf().find("neither seen nor move:FOLDER"), std::string::npos) << errorOf();
    // Timeout=: whole seconds, the deadline of one fetch.
    write(main_, "[Bounces]\nTimeout=0\n");
    EXPECT_NE(errorOf().find("Timeout=: 0 is out of range (1 to 86400)"), std::string::npos) << errorOf();
    write(main_, "[Bounces]\nTimeout=5min\n");
    EXPECT_NE(errorOf().find("Timeout=: \"5min\" is not a whole number"), std::string::npos) << errorOf();
}

TEST_F(ConfigTest, PluginChoicePerCapability) {
    const Config none = loadConfig(main_, false, defaults_);
    EXPECT_TRUE(none.importPlugin.plugin.empty());
    EXPECT_TRUE(none.bouncePlugin.plugin.empty());
    EXPECT_TRUE(none.reportPlugin.plugin.empty());
    write(main_, "[Import]\nPlugin=csv-importer\n\n[Bounces]\nURL=imaps://mail.example.org/INBOX\nPlugin=imap-bounce\n"
                 "\n[Reports]\nPlugin=report-mailer\n");
    write(dir_ / "campaignd.conf.d" / "10.conf", "[Reports]\nPlugin=report.mailer_2\n");
    const Config c = loadConfig(main_, true, defaults_);
    EXPECT_EQ(c.importPlugin.plugin, "csv-importer");
    EXPECT_EQ(c.importPlugin.at, main_ + ":2");
    EXPECT_EQ(c.bouncePlugin.plugin, "imap-bounce");
    EXPECT_EQ(c.bouncePlugin.at, main_ + ":6");
    EXPECT_EQ(c.reportPlugin.plugin, "report.mailer_2") << "the drop-in overrides";
    EXPECT_EQ(c.reportPlugin.at, (dir_ / "campaignd.conf.d" / "10.conf").string() + ":2");
    using KV = std::pair<std::string, std::string>;
    EXPECT_EQ(c.bounceSource, (std::vector<KV>{{"URL", "imaps://mail.example.org/INBOX"}}))
        << "Plugin= chooses the plugin; it is not one of the plugin's settings";

    EXPECT_EQ(campaignd::config::pluginChoiceError(c.importPlugin, "the plugin \"csv-importer\" is not an importer"),
              main_ + ":2: [Import] Plugin=csv-importer: the plugin \"csv-importer\" is not an importer");
    EXPECT_EQ(campaignd::config::pluginChoiceError(none.bouncePlugin, "more than one"),
              "[Bounces] Plugin= is not set: more than one");

    fs::remove(dir_ / "campaignd.conf.d" / "10.conf");
    for (const std::string& bad : std::vector<std::string>{"", "../csv", "-csv", "csv importer", std::string(65, 'a')}) {
        write(main_, "[Reports]\n# which reporter\nPlugin=" + bad + "\n");
        EXPECT_NE(errorOf().find(main_ + ":3: Plugin=: \"" + bad + "\" is not a plugin name"), std::string::npos)
            << bad << ": " << errorOf();
    }
    write(main_, "[Reports]\nAdminEmail=admin@example.org\n");
    EXPECT_NE(errorOf().find(":2: AdminEmail=: unknown key in [Reports]"), std::string::npos) << errorOf();
}

TEST(Ini, ParsesRepeatedAndNamedSections) {
    const auto values = campaignd::config::parseIni(
        "[Plugin a]\nX=1\n[Plugin b]\nX=2\n[Plugin a]\nY=3\nEmpty=\n", "f.conf");
    ASSERT_EQ(values.size(), 4u);
    EXPECT_EQ(values[2].section, "Plugin a");
    EXPECT_EQ(values[2].key, "Y");
    EXPECT_EQ(values[2].line, 6);
    EXPECT_EQ(values[3].value, "");
}

TEST(Ini, RefusesEmptySectionAndUnterminatedHeader) {
    EXPECT_THROW(campaignd::config::parseIni("[]\n", "f"), ConfigError);
    EXPECT_THROW(campaignd::config::parseIni("[Daemon\n", "f"), ConfigError);
    EXPECT_THROW(campaignd::config::parseIni("[Daemon]\n=value\n", "f"), ConfigError);
}

}  // namespace

namespace {

TEST_F(ConfigTest, DkimSectionsPerFromDomain) {
    write(dir_ / "rsa.key", "key", 0600);
    write(dir_ / "ed.key", "key", 0640);
    write(main_, "[DKIM Example.ORG]\nSelector=mail2026\nKeyFile=" + (dir_ / "rsa.key").string() +
                     "\n\n[DKIM example.org ed25519]\nSelector=ed2026\nKeyCredential=dkim-ed\n"
                     "Algorithm=ed25519-sha256\n");
    const Config c = loadConfig(main_, true, defaults_);
    ASSERT_EQ(c.dkim.size(), 2u);
    const auto& rsa = c.dkim.at("DKIM Example.ORG");
    EXPECT_EQ(rsa.domain, "example.org");
    EXPECT_EQ(rsa.selector, "mail2026");
    EXPECT_EQ(rsa.keyFile, (dir_ / "rsa.key").string());
    EXPECT_EQ(rsa.at.at("KeyFile"), main_ + ":3");
    const auto& ed = c.dkim.at("DKIM example.org ed25519");
    EXPECT_EQ(ed.domain, "example.org");
    EXPECT_EQ(ed.keyCredential, "dkim-ed");
    EXPECT_EQ(ed.algorithm, "ed25519-sha256");
}

TEST_F(ConfigTest, DkimKeyReadableByOthersOrIncompleteSectionsAreRefused) {
    write(dir_ / "open.key", "key", 0644);
    write(main_, "[DKIM example.org]\nSelector=s\nKeyFile=" + (dir_ / "open.key").string() + "\n");
    EXPECT_NE(errorOf().find(":3: KeyFile=: " + (dir_ / "open.key").string() + " is readable by others"),
              std::string::npos)
        << errorOf();
    write(main_, "[DKIM example.org]\nKeyFile=/etc/campaignd/dkim.key\n");
    EXPECT_NE(errorOf().find(":2: [DKIM example.org]: Selector= is missing"), std::string::npos) << errorOf();
    write(main_, "[DKIM example.org]\nSelector=s\n");
    EXPECT_NE(errorOf().find("KeyFile= or KeyCredential= is missing"), std::string::npos) << errorOf();
    write(main_, "[DKIM example.org]\nSelector=s\nKeyFile=/k\nKeyCredential=k\n");
    EXPECT_NE(errorOf().find("both set"), std::string::npos) << errorOf();
    write(main_, "[DKIM example.org]\nSelector=s\nKeyFile=/k\nAlgorithm=dsa\n");
    EXPECT_NE(errorOf().find(":4: Algorithm=: \"dsa\" is neither rsa-sha256 nor ed25519-sha256"), std::string::npos)
        << errorOf();
    write(main_, "[DKIM example.org]\nSelector=a b\nKeyFile=/k\n");
    EXPECT_NE(errorOf().find(":2: Selector=: must be a DNS label"), std::string::npos) << errorOf();
    write(main_, "[DKIM]\nSelector=s\n");
    EXPECT_NE(errorOf().find("names the From domain"), std::string::npos) << errorOf();
    write(main_, "[DKIM example.org]\nKey=/k\n");
    EXPECT_NE(errorOf().find(":2: Key=: unknown key"), std::string::npos) << errorOf();
}

}  // namespace

namespace {

TEST_F(ConfigTest, EnvelopeSubdomainIsDnsLabels) {
    EXPECT_TRUE(loadConfig(main_, false, defaults_).sending.envelopeSubdomain.empty());
    write(main_, "[Sending]\nEnvelopeSubdomain=Bounces\n");
    EXPECT_EQ(loadConfig(main_, true, defaults_).sending.envelopeSubdomain, "bounces");
    write(main_, "[Sending]\nEnvelopeSubdomain=mail.bounces\n");
    EXPECT_EQ(loadConfig(main_, true, defaults_).sending.envelopeSubdomain, "mail.bounces");
    for (const char* bad : {"", ".bounces", "bounces.", "a..b", "b@d", "b_x"}) {
        write(main_, std::string("[Sending]\nEnvelopeSubdomain=") + bad + "\n");
        EXPECT_NE(errorOf().find(":2: EnvelopeSubdomain=: must be DNS labels"), std::string::npos) << bad << errorOf();
    }
}

}  // namespace

namespace {

TEST_F(ConfigTest, FeedbackSenderIdHasNoColon) {
    write(main_, "[Sending]\nFeedbackSenderId=acme-news\n");
    EXPECT_EQ(loadConfig(main_, true, defaults_).sending.feedbackSenderId, "acme-news");
    write(main_, "[Sending]\nFeedbackSenderId=acme:news\n");
    EXPECT_NE(errorOf().find(":2: FeedbackSenderId=: must be 1 to 64 letters"), std::string::npos) << errorOf();
}

TEST_F(ConfigTest, ClaimLeaseIsATimeSpanOfOneSecondToADay) {
    write(main_, "[Sending]\n");
    EXPECT_EQ(loadConfig(main_, true, defaults_).sending.claimLeaseUsec, 60'000'000);
    write(main_, "[Sending]\nClaimLease=3s\n");
    EXPECT_EQ(loadConfig(main_, true, defaults_).sending.claimLeaseUsec, 3'000'000);
    write(main_, "[Sending]\nClaimLease=500ms\n");
    EXPECT_NE(errorOf().find(":2: ClaimLease=: must be between 1s and 24h"), std::string::npos) << errorOf();
}

}  // namespace

// campaignd.conf(5) documents every key the reader knows, each under its section's heading, and
// no key the reader does not know: the page is held to the program's own table (knownKeys()).
// A key is documented by a definition line, "*Key=*" (or "*A=*, *B=*"), under a "# [Section]" heading
// ("# [Transport NAME]", "# [DKIM DOMAIN], [DKIM DOMAIN LABEL]" for the families).
TEST(ConfigManPage, DocumentsEveryKeyTheReaderKnowsAndNoOther) {
    std::ifstream page(CAMPAIGND_CONF_MAN_PAGE);
    ASSERT_TRUE(page) << CAMPAIGND_CONF_MAN_PAGE;
    std::set<std::pair<std::string, std::string>> documented;
    std::set<std::string> headings;
    std::string section;  // "" outside a [Section] heading
    std::string line;
    while (std::getline(page, line)) {
        if (line.rfind("# ", 0) == 0) {
            section.clear();
            if (line.size() > 3 && line[2] == '[') {
                section = line.substr(3, line.find(']') - 3);  // the first of "[A], [A B]"
                headings.insert(section);
            }
            continue;
        }
        // A definition line: "*Key=*", or several keys documented together, "*A=*, *B=*".
        if (section.empty()) continue;
        std::vector<std::string> keys;
        bool definition = true;
        for (std::size_t at = 0; definition && at < line.size();) {
            const std::size_t end = std::min(line.find(", ", at), line.size());
            const std::string item = line.substr(at, end - at);
            const std::string key = item.size() > 3 ? item.substr(1, item.size() - 3) : "";
            definition = item.size() > 3 && item.front() == '*' && item.substr(item.size() - 2) == "=*" &&
                         key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == std::string::npos;
            keys.push_back(key);
            at = end + 2;
        }
        if (definition)
            for (const auto& key : keys) documented.emplace(section, key);
    }
    std::set<std::pair<std::string, std::string>> known;
    for (const auto& [s, k] : campaignd::config::knownKeys()) known.emplace(s, k);
    ASSERT_GT(known.size(), 40u) << "the table is the reader's: it has every key";
    for (const auto& [s, k] : known) {
        EXPECT_TRUE(headings.count(s)) << "campaignd.conf(5) has no heading # [" << s << "]";
        EXPECT_TRUE(documented.count({s, k})) << "campaignd.conf(5) does not document [" << s << "] " << k << "=";
    }
    for (const auto& [s, k] : documented)
        EXPECT_TRUE(known.count({s, k})) << "campaignd.conf(5) documents [" << s << "] " << k
                                         << "=, which the reader does not know";
    EXPECT_TRUE(headings.count("Plugin NAME")) << "the plugins' own sections are documented too";
}

namespace {

TEST_F(ConfigTest, DmarcReportsIsAnAddress) {
    EXPECT_TRUE(loadConfig(main_, false, defaults_).sending.dmarcReports.empty());
    write(main_, "[Sending]\nDmarcReports=DMARC@Example.org\n");
    EXPECT_EQ(loadConfig(main_, true, defaults_).sending.dmarcReports, "DMARC@example.org");
    write(main_, "[Sending]\nDmarcReports=not an address\n");
    EXPECT_NE(errorOf().find(":2: DmarcReports=: "), std::string::npos) << errorOf();
}

// The sending guard's keys: percentages and counts, 0 turning a check off; the defaults are
// 5% after 500 attempts and 0.3% after 1,000 delivered.
TEST_F(ConfigTest, SendingGuardLimitsArePercentagesAndCounts) {
    const auto defaults = loadConfig(main_, false, defaults_).sending.guard;
    EXPECT_EQ(defaults.hardBounceLimitPpm, 50'000);
    EXPECT_EQ(defaults.hardBounceMinimum, 500);
    EXPECT_EQ(defaults.complaintLimitPpm, 3'000);
    EXPECT_EQ(defaults.complaintMinimum, 1000);
    write(main_, "[Sending]\nHardBounceLimit=2.5%\nHardBounceMinimum=0\nComplaintLimit=0.1\nComplaintMinimum=200\n");
    const auto guard = loadConfig(main_, true, defaults_).sending.guard;
    EXPECT_EQ(guard.hardBounceLimitPpm, 25'000);
    EXPECT_EQ(guard.hardBounceMinimum, 0);
    EXPECT_EQ(guard.complaintLimitPpm, 1'000);
    EXPECT_EQ(guard.complaintMinimum, 200);
    write(main_, "[Sending]\nHardBounceLimit=120%\n");
    EXPECT_NE(errorOf().find(":2: HardBounceLimit=: \"120%\" is not a percentage from 0 to 100"), std::string::npos)
        << errorOf();
    write(main_, "[Sending]\nComplaintMinimum=-1\n");
    EXPECT_NE(errorOf().find(":2: ComplaintMinimum=: \"-1\" is not a whole number"), std::string::npos) << errorOf();
}

}  // namespace

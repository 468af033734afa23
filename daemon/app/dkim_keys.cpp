// dkim_keys.cpp: see dkim_keys.h.
#include "app/dkim_keys.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace campaignd::app {
namespace {

std::string at(const config::DkimKeyConfig& k, const std::string& key) {
    const auto it = k.at.find(key);
    const std::string where = it != k.at.end() ? it->second : k.file + ":" + std::to_string(k.line);
    return where + ": [" + k.section + "] " + key + "=: ";
}

std::string readKey(const config::DkimKeyConfig& k) {
    const std::string key = k.keyFile.empty() ? "KeyCredential" : "KeyFile";
    std::string path = k.keyFile;
    if (path.empty()) {
        const char* directory = std::getenv("CREDENTIALS_DIRECTORY");
        if (!directory || !*directory)
            throw config::ConfigError(at(k, key) + "CREDENTIALS_DIRECTORY is not set (give the unit LoadCredential=" +
                                      k.keyCredential + ":/path/to/key)");
        path = std::string(directory) + "/" + k.keyCredential;
    }
    struct stat st {};
    if (stat(path.c_str(), &st) != 0)
        throw config::ConfigError(at(k, key) + path + " cannot be read: " + std::strerror(errno));
    if (st.st_mode & S_IROTH)
        throw config::ConfigError(at(k, key) + path +
                                  " is readable by others; a private key must not be (chmod 0600 or 0640)");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config::ConfigError(at(k, key) + path + " cannot be read: " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

mail::DkimKeyring loadDkimKeys(const config::Config& config) {
    std::map<std::string, std::vector<mail::DkimKey>> byDomain;
    std::map<std::string, const config::DkimKeyConfig*> firstOf;
    for (const auto& [name, k] : config.dkim) {
        const std::string key = k.keyFile.empty() ? "KeyCredential" : "KeyFile";
        mail::DkimKey parsed;
        try {
            parsed = mail::parseDkimKey(k.domain, k.selector,
                                        k.algorithm.empty() ? std::nullopt : mail::parseDkimAlgorithm(k.algorithm),
                                        readKey(k));
        } catch (const Error& e) {
            throw config::ConfigError(at(k, key) + e.what());
        }
        for (const auto& other : byDomain[k.domain])
            if (other.algorithm == parsed.algorithm)
                throw config::ConfigError(at(k, key) + "[" + firstOf[k.domain]->section + "] already has an " +
                                          std::string(mail::toString(parsed.algorithm)) + " key for " + k.domain +
                                          "; one key per algorithm and domain");
        if (!firstOf.count(k.domain)) firstOf[k.domain] = &k;
        byDomain[k.domain].push_back(std::move(parsed));
    }
    mail::DkimKeyring keyring;
    for (auto& [domain, keys] : byDomain) {
        try {
            keyring[domain] = std::make_shared<const mail::DkimSigner>(std::move(keys));
        } catch (const Error& e) {
            throw config::ConfigError(firstOf[domain]->file + ":" + std::to_string(firstOf[domain]->line) + ": [" +
                                      firstOf[domain]->section + "]: " + e.what());
        }
    }
    return keyring;
}

}  // namespace campaignd::app

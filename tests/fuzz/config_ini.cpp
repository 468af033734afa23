// config_ini.cpp: fuzzes the daemon's config reader, parseIni() and the whole loadConfig() path
// (main file, a drop-in, every key's check). Refusal is ConfigError and nothing else; what is
// accepted must have the shape the daemon relies on (trimmed keys and values, one line each;
// an absolute database path or a PostgreSQL URL, an absolute plugin directory, a normalised
// admin address; the sending guard's limits within 0-100%; a [DKIM DOMAIN] section with its
// selector and one key source). The input's
// part after the first form feed becomes a drop-in; an input of odd length is written readable
// by others, so the password checks run both ways.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/ini.h"
#include "core/error.h"
#include "fuzz_check.h"
#include "rules/validation.h"

namespace {

using campaignd::fuzz::check;
namespace fs = std::filesystem;

std::string gDirectory;  // a private temporary directory, removed at exit
std::string gMain;       // <dir>/campaignd.conf
std::string gDropin;     // <dir>/campaignd.conf.d/50-fuzz.conf

void removeDirectory() {
    std::error_code ec;
    if (!gDirectory.empty()) fs::remove_all(gDirectory, ec);
}

void writeFile(const std::string& path, std::string_view data, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    check(fd >= 0, "the fuzz target can write its temporary config file", path);
    for (std::size_t done = 0; done < data.size();) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        check(n > 0, "the fuzz target can write its temporary config file", path);
        done += static_cast<std::size_t>(n);
    }
    ::fchmod(fd, mode);
    ::close(fd);
}

bool isTrimmed(std::string_view s) {
    return s.empty() || (s.front() != ' ' && s.front() != '\t' && s.front() != '\r' &&
                         s.back() != ' ' && s.back() != '\t' && s.back() != '\r');
}

void fuzzParseIni(const std::string& text) {
    std::vector<campaignd::config::IniValue> values;
    try {
        values = campaignd::config::parseIni(text, "fuzz.conf");
    } catch (const campaignd::config::ConfigError&) {
        return;
    }
    std::size_t lines = 1;
    for (char c : text) lines += c == '\n';
    int previous = 0;
    for (const auto& v : values) {
        check(!v.section.empty() && isTrimmed(v.section), "a value's section is named and trimmed",
              v.section);
        check(!v.key.empty() && isTrimmed(v.key), "a key is non-empty and trimmed", v.key);
        check(v.key.find('=') == std::string::npos, "a key holds no '='", v.key);
        check(isTrimmed(v.value), "a value is trimmed", v.value);
        for (const std::string* s : {&v.section, &v.key, &v.value})
            check(s->find('\n') == std::string::npos && s->find('\0') == std::string::npos,
                  "sections, keys and values hold no LF and no NUL", *s);
        check(v.file == "fuzz.conf", "a value names the file it came from", v.file);
        check(v.line > previous && static_cast<std::size_t>(v.line) <= lines,
              "values come in line order, with line numbers inside the file",
              std::to_string(v.line));
        previous = v.line;
    }
}

void fuzzLoadConfig(std::string_view input) {
    const std::size_t split = input.find('\f');
    const mode_t mode = input.size() % 2 ? 0644 : 0640;
    writeFile(gMain, input.substr(0, split), mode);
    if (split != std::string_view::npos) {
        writeFile(gDropin, input.substr(split + 1), mode);
    } else {
        ::unlink(gDropin.c_str());
    }

    campaignd::config::Config c;
    try {
        c = campaignd::config::loadConfig(gMain, true, campaignd::config::builtinDefaults(false));
    } catch (const campaignd::config::ConfigError&) {
        return;
    }
    check(!c.files.empty() && c.files.front() == gMain, "the main file is read first");
    check(c.database.rfind("sqlite:/", 0) == 0 || c.database.rfind("postgresql://", 0) == 0 ||
              c.database.rfind("postgres://", 0) == 0,
          "Database= is sqlite:/ABSOLUTE or a PostgreSQL URL", c.database);
    check(!c.pluginDirectory.empty() && c.pluginDirectory.front() == '/',
          "PluginDirectory= is absolute", c.pluginDirectory);
    check(!c.adminGroup.empty(), "AdminGroup= names a group");
    check(!c.readerGroup.empty(), "ReaderGroup= names a group");
    std::string again;
    try {
        again = campaignd::rules::normalizeEmail(c.adminEmail);
    } catch (const campaignd::Error&) {
        check(false, "AdminEmail= is a valid address", c.adminEmail);
    }
    check(again == c.adminEmail, "AdminEmail= is kept normalised", c.adminEmail);
    for (const auto& [name, keys] : c.plugins)
        check(!name.empty(), "a [Plugin NAME] section has a name");
    // The sending guard's limits are percentages (parts per million) and its minimums counts.
    const auto& guard = c.sending.guard;
    check(guard.hardBounceLimitPpm >= 0 && guard.hardBounceLimitPpm <= 1'000'000 && guard.complaintLimitPpm >= 0 &&
              guard.complaintLimitPpm <= 1'000'000,
          "HardBounceLimit= and ComplaintLimit= are from 0 to 100%");
    check(guard.hardBounceMinimum >= 0 && guard.complaintMinimum >= 0, "the guard's minimums are not negative");
    // [DKIM DOMAIN]: what app/dkim_keys relies on before it opens a key.
    for (const auto& [name, k] : c.dkim) {
        check(!k.domain.empty() && k.domain == campaignd::rules::normalizeEmail("x@" + k.domain).substr(2),
              "a [DKIM DOMAIN] section's domain is kept normalised", k.domain);
        check(!k.selector.empty(), "a [DKIM DOMAIN] section has Selector=", name);
        check(k.keyFile.empty() != k.keyCredential.empty(), "a [DKIM DOMAIN] section has exactly one key source",
              name);
        check(k.keyFile.empty() || k.keyFile.front() == '/', "KeyFile= is absolute", k.keyFile);
        check(k.keyCredential.find('/') == std::string::npos, "KeyCredential= is a name, not a path",
              k.keyCredential);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/campaignd-fuzz-config.XXXXXX";
    check(::mkdtemp(pattern.data()) != nullptr, "a temporary directory can be made", pattern);
    gDirectory = pattern;
    gMain = gDirectory + "/campaignd.conf";
    gDropin = gMain + ".d/50-fuzz.conf";
    fs::create_directory(gMain + ".d");
    std::atexit(removeDirectory);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    fuzzParseIni(text);
    fuzzLoadConfig(text);
    return 0;
}

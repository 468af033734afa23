// ini.cpp: see ini.h.
#include "config/ini.h"

#include <string_view>

#include "config/config.h"

namespace campaignd::config {
namespace {

std::string_view trim(std::string_view s) {
    const auto ws = " \t\r";
    const auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

[[noreturn]] void fail(const std::string& file, int line, const std::string& what) {
    throw ConfigError(file + ":" + std::to_string(line) + ": " + what);
}

}  // namespace

std::vector<IniValue> parseIni(const std::string& text, const std::string& file) {
    std::vector<IniValue> out;
    std::string section;
    int lineNo = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto nl = text.find('\n', pos);
        const std::string_view raw(text.data() + pos,
                                   (nl == std::string::npos ? text.size() : nl) - pos);
        pos = (nl == std::string::npos) ? text.size() + 1 : nl + 1;
        ++lineNo;
        const auto line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (line.find('\0') != std::string_view::npos) fail(file, lineNo, "contains a NUL byte");
        if (line.front() == '[') {
            if (line.back() != ']') fail(file, lineNo, "a section header must end with ']'");
            section = std::string(trim(line.substr(1, line.size() - 2)));
            if (section.empty()) fail(file, lineNo, "empty section name");
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string_view::npos)
            fail(file, lineNo, "expected Key=Value, a [Section] or a comment, found \"" +
                                   std::string(line) + "\"");
        const auto key = trim(line.substr(0, eq));
        if (key.empty()) fail(file, lineNo, "a value without a key");
        if (section.empty())
            fail(file, lineNo, std::string(key) + "=: a key before any [Section]");
        out.push_back({section, std::string(key), std::string(trim(line.substr(eq + 1))), file,
                       lineNo});
    }
    return out;
}

}  // namespace campaignd::config

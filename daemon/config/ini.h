// ini.h: a systemd-style INI reader that remembers where each value came from.
// Accepts "[Section]" headers (a section may repeat and may carry a name, "[Plugin smtp]"),
// "Key=Value" lines, '#' and ';' comments, blank lines, and trailing white space. Refuses
// anything else with the file and line. Why not Poco::Util::IniFileConfiguration: it silently
// accepts malformed lines, does not know '#' comments, and keeps no line numbers, so it cannot
// produce the one clear line ("FILE:LINE: Key=: what is wrong") a bad config must give.
#pragma once

#include <string>
#include <vector>

namespace campaignd::config {

struct IniValue {
    std::string section;  // as written, e.g. "Plugin smtp"
    std::string key;
    std::string value;
    std::string file;
    int line = 0;
};

// Parses `text` read from `file` (the name is used in errors). Throws ConfigError.
std::vector<IniValue> parseIni(const std::string& text, const std::string& file);

}  // namespace campaignd::config

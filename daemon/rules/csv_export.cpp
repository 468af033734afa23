// csv_export.cpp: see csv_export.h (OWASP's advice on CSV injection).
#include "rules/csv_export.h"

#include "core/utf8.h"

namespace campaignd::rules {
namespace {

// The text with every control character but tab, CR and LF (which CSV quoting carries) escaped,
// and bytes that are not UTF-8 shown as \xNN: an export printed to a terminal cannot drive it.
std::string withoutControls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i < text.size() && text[i] != '\t' && text[i] != '\r' && text[i] != '\n') continue;
        out += utf8::escapeControls(text.substr(start, i - start));
        if (i < text.size()) out += text[i];
        start = i + 1;
    }
    return out;
}

}  // namespace

std::string csvCell(std::string_view text) {
    std::string cell;
    cell.reserve(text.size() + 3);
    if (!text.empty() && (text.front() == '=' || text.front() == '+' || text.front() == '-' ||
                          text.front() == '@' || text.front() == '\t' || text.front() == '\r'))
        cell += '\'';
    cell += withoutControls(text);
    if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
    std::string quoted = "\"";
    for (const char c : cell) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    quoted += '"';
    return quoted;
}

}  // namespace campaignd::rules

// csv_export.cpp: see csv_export.h (OWASP's advice on CSV injection).
#include "rules/csv_export.h"

namespace campaignd::rules {

std::string csvCell(std::string_view text) {
    std::string cell;
    cell.reserve(text.size() + 3);
    if (!text.empty() && (text.front() == '=' || text.front() == '+' || text.front() == '-' ||
                          text.front() == '@' || text.front() == '\t' || text.front() == '\r'))
        cell += '\'';
    cell += text;
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

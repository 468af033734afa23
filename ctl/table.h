// table.h: human output of campaignd-ctl: aligned tables and "Label: value" blocks. Widths
// come from the content and count Unicode code points, so non-ASCII names keep columns
// straight; control characters coming from the daemon are replaced so a name cannot move the
// cursor or inject terminal escapes. It does not know about terminal widths or colour.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace campaignd::ctl {

// The terminal columns UTF-8 TEXT takes: 2 for an East Asian wide character (CJK, emoji), 0 for
// a combining mark, 1 otherwise.
std::size_t displayWidth(std::string_view text);

// TEXT with C0/C1 control characters and DEL replaced by '?', tabs and newlines by a space.
std::string sanitizeForTerminal(std::string_view text);

// TEXT with every control character written out as an escape (\r, \n, \x1B,
// \u009B), so a server's reply shows what it contained and cannot act on the terminal.
std::string escapeForTerminal(std::string_view text);

enum class Align { Left, Right };

class Table {
public:
    explicit Table(std::vector<std::string> headers);

    void setAlign(std::size_t column, Align align);
    // A row with as many cells as headers (missing cells are empty, extra ones are dropped).
    void addRow(std::vector<std::string> cells);
    bool empty() const { return rows_.empty(); }
    std::size_t rowCount() const { return rows_.size(); }

    // Header and rows, columns separated by two spaces, one line each ending in '\n', no
    // trailing spaces.
    std::string render() const;

private:
    std::vector<std::string> headers_;
    std::vector<Align> aligns_;
    std::vector<std::vector<std::string>> rows_;
};

// "Label: value" lines with the values aligned one space after the longest label's colon.
using Field = std::pair<std::string, std::string>;
std::string renderFields(const std::vector<Field>& fields);

}  // namespace campaignd::ctl

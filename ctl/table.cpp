// table.cpp: see table.h. Padding is computed on sanitised cells, so the width that is
// measured is the width that is printed.
#include "table.h"

#include <locale.h>
#include <wchar.h>

#include <algorithm>

#include "core/utf8.h"

namespace campaignd::ctl {

std::size_t displayWidth(std::string_view text)
{
    // The columns a terminal gives the text: glibc's wcwidth() under C.UTF-8 (built into glibc,
    // whatever the user's locale is): 2 for East Asian wide characters, 0 for combining marks, 1
    // for the rest and for what it cannot tell (a byte that is not UTF-8 is shown as one).
    static const locale_t cUtf8 = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    const locale_t previous = cUtf8 != static_cast<locale_t>(nullptr) ? ::uselocale(cUtf8) : nullptr;
    std::size_t n = 0;
    for (std::size_t i = 0; i < text.size();) {
        char32_t cp;
        const std::size_t len = utf8::decode(text, i, cp);
        if (len == 0) {
            ++n;
            ++i;
            continue;
        }
        const int w = previous != nullptr ? ::wcwidth(static_cast<wchar_t>(cp)) : 1;
        n += w < 0 ? 1 : static_cast<std::size_t>(w);
        i += len;
    }
    if (previous != nullptr) ::uselocale(previous);
    return n;
}

std::string escapeForTerminal(std::string_view text)
{
    return utf8::escapeControls(text);
}

std::string sanitizeForTerminal(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\t' || c == '\n' || c == '\r') {
            out += ' ';
        } else if (c < 0x20 || c == 0x7F) {
            out += '?';
        } else if (c == 0xC2 && i + 1 < text.size() &&
                   static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
            out += '?';  // a C1 control (U+0080..U+009F), e.g. CSI
            ++i;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

Table::Table(std::vector<std::string> headers)
    : headers_(std::move(headers)), aligns_(headers_.size(), Align::Left)
{
}

void Table::setAlign(std::size_t column, Align align)
{
    if (column < aligns_.size())
        aligns_[column] = align;
}

void Table::addRow(std::vector<std::string> cells)
{
    cells.resize(headers_.size());
    for (auto& cell : cells)
        cell = sanitizeForTerminal(cell);
    rows_.push_back(std::move(cells));
}

std::string Table::render() const
{
    std::vector<std::size_t> widths(headers_.size(), 0);
    for (std::size_t c = 0; c < headers_.size(); ++c) {
        widths[c] = displayWidth(headers_[c]);
        for (const auto& row : rows_)
            widths[c] = std::max(widths[c], displayWidth(row[c]));
    }

    std::string out;
    auto emit = [&](const std::vector<std::string>& cells) {
        std::string line;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            std::size_t pad = widths[c] - displayWidth(cells[c]);
            bool last = c + 1 == cells.size();
            if (c > 0)
                line += "  ";
            if (aligns_[c] == Align::Right) {
                line.append(pad, ' ');
                line += cells[c];
            } else {
                line += cells[c];
                if (!last)
                    line.append(pad, ' ');
            }
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line;
        out += '\n';
    };
    emit(headers_);
    for (const auto& row : rows_)
        emit(row);
    return out;
}

std::string renderFields(const std::vector<Field>& fields)
{
    std::size_t width = 0;
    for (const auto& [label, value] : fields)
        width = std::max(width, displayWidth(label) + 1);
    std::string out;
    for (const auto& [label, value] : fields) {
        std::string line = sanitizeForTerminal(label) + ":";
        line.append(width + 1 - displayWidth(label + ":"), ' ');
        line += sanitizeForTerminal(value);
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line;
        out += '\n';
    }
    return out;
}

}  // namespace campaignd::ctl

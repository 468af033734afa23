// csv_export.h: one CSV cell as campaignd writes it in every CSV it produces (import error
// lists, bounce reports, failure attachments): quoted when it holds a delimiter, a quote or a
// line break, and neutralised against formula injection: a cell that a spreadsheet would run
// as a formula (starting with =, +, -, @, tab or CR) gets a leading apostrophe; control
// characters other than tab, CR and LF, and bytes that are not UTF-8, are escaped (\x1B).
#pragma once

#include <string>
#include <string_view>

namespace campaignd::rules {

std::string csvCell(std::string_view text);

}  // namespace campaignd::rules

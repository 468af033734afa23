// plugin_text.h: small text helpers the plugins share. Plugins link no daemon code (see
// plugins/CMakeLists.txt), so what several of them need lives here, header-only, in the
// plugins' own tree.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace campaignd::plugin_text {

// strerror for an errno value, thread-safe.
inline std::string errnoText(int error) { return std::system_category().message(error); }

// ASCII case-insensitive equality, for protocol words and header names (not for UTF-8 text).
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    return true;
}

}  // namespace campaignd::plugin_text

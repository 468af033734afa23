// text.h: the plugin host's text rules, in one place. What a plugin says is made safe to show
// (sanitizeText, copyBounded: valid UTF-8, no control character, bounded); what a plugin hands
// back as data is checked, not repaired (isCleanText); what the host hands a plugin is checked
// before the call (fitsCString, hasControlCharacter). Pure functions: no I/O, never throw
// except std::bad_alloc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace campaignd::plugins {

// Valid UTF-8 is kept; an invalid byte becomes '?', a control character a space, so that what
// a plugin says can go to the journal, a log line and D-Bus (which requires valid UTF-8).
std::string sanitizeText(std::string_view in);

// A plugin's C string: NULL is "", at most maxBytes are read, the copy is sanitised.
std::string copyBounded(const char* text, std::size_t maxBytes);

// Whether s is valid UTF-8 with no control character (C0, DEL): what a plugin's data must be
// when the host passes it on as it is (an import row's strings).
bool isCleanText(std::string_view s);

// What must not reach an SMTP command or a header: NUL (it would cut the C string), CR, LF and
// the other control characters (C0, DEL).
bool hasControlCharacter(std::string_view s);

// The longest string the host hands a plugin as a setting or option (bytes).
inline constexpr std::size_t kMaxSettingBytes = 64 * 1024;

// Whether s can be handed to a plugin as a C string: no NUL (the plugin would read it cut
// short) and at most kMaxSettingBytes.
bool fitsCString(std::string_view s);

}  // namespace campaignd::plugins

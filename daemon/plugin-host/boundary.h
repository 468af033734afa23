// boundary.h: the one way the host calls into a plugin. callPlugin() gives the plugin an error
// buffer, catches what the plugin throws (the ABI forbids it; it is reported, never passed
// on), bounds and sanitises the message, and words every failure the same way with the
// caller's prefix ("plugin csv: ", "transport mail (plugin smtp): "). Before the call, the
// host's inputs go through the same checks for every capability (CStrings, CSettings,
// requireNoControl): a refusal is InputRefused and the plugin is not called.
#pragma once

#include <campaignd/plugin.h>

#include <array>
#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin-host/text.h"

namespace campaignd::plugins {

// The error buffer a plugin writes into, and the most the host reads back from it.
inline constexpr std::size_t kErrorBufferBytes = 1024;

// What one call into a plugin came to. Strings are the host's bounded, sanitised copies.
struct PluginCallResult {
    std::string who;                  // the message prefix, e.g. "plugin csv: " (may be empty)
    std::string function;             // the plugin function called, e.g. "import"
    campaignd_status status = CAMPAIGND_ERR_FAILED;
    bool threw = false;               // the plugin threw (against the ABI)
    std::string thrownWhat;           // what() of a std::exception it threw; else empty
    std::string message;              // what the plugin wrote to err; empty when nothing

    bool ok() const { return !threw && status == CAMPAIGND_OK; }
    // who + "FUNCTION threw an exception (not allowed by the ABI)[: what]" when it threw; else
    // who + the plugin's message; else who + "FUNCTION failed (status N)".
    std::string failure() const;
    // Like failure(), but a returned failure reads who + "FUNCTION failed (status N): MESSAGE"
    // (or "no message"): for calls whose status number matters to the reader (start, import).
    std::string failureWithStatus() const;
};

// Calls call(campaignd_error*) -> campaignd_status once. Never lets the plugin's exception
// through; throws only std::bad_alloc. A void plugin function (stop, close) is called through
// a lambda that returns CAMPAIGND_OK.
template <class Call>
PluginCallResult callPlugin(std::string who, std::string function, Call&& call) {
    PluginCallResult result;
    result.who = std::move(who);
    result.function = std::move(function);
    std::array<char, kErrorBufferBytes> buffer{};
    campaignd_error err{buffer.data(), buffer.size()};
    try {
        result.status = std::forward<Call>(call)(&err);
    } catch (const std::exception& e) {
        result.threw = true;
        result.thrownWhat = copyBounded(e.what(), kErrorBufferBytes);
    } catch (...) {
        result.threw = true;
    }
    buffer.back() = '\0';  // a plugin that ignored the size is cut here
    result.message = copyBounded(buffer.data(), buffer.size() - 1);
    return result;
}

// An input the host refuses to hand to a plugin; what() says which and why. The plugin was not
// called. A std::invalid_argument, so a caller that does not map it sees a refused argument.
class InputRefused : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// Throws InputRefused(what + " contains a control character") when value has NUL, CR, LF or
// another control character: for text the plugin puts into SMTP commands and header lines.
void requireNoControl(std::string_view value, const std::string& what);

// Strings handed to a plugin as a C array. Each must fit a C string (no NUL, at most
// kMaxSettingBytes). OWNERSHIP: the pointers point into the strings added, which must outlive
// this object and the plugin call.
class CStrings {
public:
    // Throws InputRefused(what + " contains a NUL byte or is too long") when !fitsCString(s).
    void add(const std::string& s, const std::string& what);
    // NULL when empty, as the ABI's count-0 arrays are.
    const char* const* data() const { return pointers_.empty() ? nullptr : pointers_.data(); }
    std::size_t size() const { return pointers_.size(); }

private:
    std::vector<const char*> pointers_;
};

// Key/value settings (a [Transport NAME] section, the [Bounces] section) as the ABI's two
// parallel arrays. Throws InputRefused("setting KEY contains a NUL byte or is too long").
class CSettings {
public:
    template <class Range>
    explicit CSettings(const Range& settings) {
        for (const auto& [key, value] : settings) {
            const std::string what = "setting " + sanitizeText(std::string_view(key).substr(0, 64));
            keys_.add(key, what);
            values_.add(value, what);
        }
    }
    const char* const* keys() const { return keys_.data(); }
    const char* const* values() const { return values_.data(); }
    std::size_t size() const { return keys_.size(); }

private:
    CStrings keys_;
    CStrings values_;
};

}  // namespace campaignd::plugins

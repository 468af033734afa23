// settings_check.h: a plugin's verdict on a config section's settings (ABI 1.4 validate), one
// rule for transports and bounce sources. The host hands the settings over as it would to
// open()/fetch(), maps the plugin's bad_key index back to the key, and tells "a bad setting"
// (the config is wrong) from "the plugin could not check" and from "this plugin cannot check"
// (built against an older minor, or no validate): only the first is the administrator's to fix.
#pragma once

#include <campaignd/plugin.h>

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace campaignd::plugins {

struct SettingsCheck {
    enum class Verdict {
        Valid,        // the plugin accepts the settings
        Unchecked,    // the plugin has no validate (an older minor): nothing was checked
        BadSetting,   // CAMPAIGND_ERR_INVALID_ARGUMENT: the config is wrong
        CheckFailed,  // any other failure, or the plugin threw: it could not check
    };
    Verdict verdict = Verdict::Unchecked;
    // BadSetting: the key the plugin blamed (one of the settings given); empty when it said a
    // required key is missing (bad_key == count) or gave an index out of range.
    std::string key;
    // BadSetting, CheckFailed: the plugin's message, bounded and sanitised, after `who`.
    std::string message;

    bool bad() const { return verdict == Verdict::BadSetting; }
};

// The C validate call with its arguments bound but the settings: (keys, values, count,
// bad_key, err) -> status.
using ValidateCall = std::function<campaignd_status(const char* const*, const char* const*, std::size_t,
                                                    std::size_t*, campaignd_error*)>;

// Calls `validate` (Unchecked when it is empty) through callPlugin() with `settings`, in their
// order. A key or value that is no C string (NUL, over 64 KiB) is BadSetting naming that key
// without calling the plugin, as open()/fetch() would refuse it. `who` prefixes the message
// ("plugin smtp: "). Throws only std::bad_alloc.
SettingsCheck checkSettings(const std::string& who, const std::vector<std::pair<std::string, std::string>>& settings,
                            const ValidateCall& validate);

}  // namespace campaignd::plugins

// settings_check.cpp: see settings_check.h.
#include "plugin-host/settings_check.h"

#include "plugin-host/boundary.h"
#include "plugin-host/text.h"

namespace campaignd::plugins {

SettingsCheck checkSettings(const std::string& who, const std::vector<std::pair<std::string, std::string>>& settings,
                            const ValidateCall& validate) {
    SettingsCheck check;
    if (!validate) return check;
    for (const auto& [key, value] : settings)
        if (!fitsCString(key) || !fitsCString(value)) {
            check.verdict = SettingsCheck::Verdict::BadSetting;
            check.key = key;
            check.message = who + "the setting contains a NUL byte or is longer than 64 KiB";
            return check;
        }
    const CSettings args(settings);
    std::size_t badKey = args.size();
    const PluginCallResult r = callPlugin(who, "validate", [&](campaignd_error* err) {
        return validate(args.keys(), args.values(), args.size(), &badKey, err);
    });
    if (r.ok()) {
        check.verdict = SettingsCheck::Verdict::Valid;
        return check;
    }
    check.message = r.failure();
    if (r.threw || r.status != CAMPAIGND_ERR_INVALID_ARGUMENT) {
        check.verdict = SettingsCheck::Verdict::CheckFailed;
        return check;
    }
    check.verdict = SettingsCheck::Verdict::BadSetting;
    if (badKey < settings.size()) check.key = settings[badKey].first;
    return check;
}

}  // namespace campaignd::plugins

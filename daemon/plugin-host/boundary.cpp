// boundary.cpp: see boundary.h. The wording of every failure across the ABI lives here, so
// the capabilities cannot drift apart again.
#include "plugin-host/boundary.h"

namespace campaignd::plugins {
namespace {

std::string threwText(const PluginCallResult& r) {
    return r.who + r.function + " threw an exception (not allowed by the ABI)" +
           (r.thrownWhat.empty() ? std::string() : ": " + r.thrownWhat);
}

std::string statusText(const PluginCallResult& r) {
    return r.function + " failed (status " + std::to_string(r.status) + ")";
}

}  // namespace

std::string PluginCallResult::failure() const {
    if (threw) return threwText(*this);
    return who + (message.empty() ? statusText(*this) : message);
}

std::string PluginCallResult::failureWithStatus() const {
    if (threw) return threwText(*this);
    return who + statusText(*this) + ": " + (message.empty() ? std::string("no message") : message);
}

void requireNoControl(std::string_view value, const std::string& what) {
    if (hasControlCharacter(value)) throw InputRefused(what + " contains a control character");
}

void CStrings::add(const std::string& s, const std::string& what) {
    if (!fitsCString(s)) throw InputRefused(what + " contains a NUL byte or is too long");
    pointers_.push_back(s.c_str());
}

}  // namespace campaignd::plugins

// name_owner.cpp: see name_owner.h. The bus driver's methods are open to every peer, also
// under the system bus's default-deny policy (its own policy allows them).
#include "bus/name_owner.h"

#include <cstdint>

#include <sdbus-c++/sdbus-c++.h>

namespace campaignd::bus {
namespace {

constexpr const char* kBusName = "org.freedesktop.DBus";
constexpr const char* kBusPath = "/org/freedesktop/DBus";
constexpr const char* kBusInterface = "org.freedesktop.DBus";

}  // namespace

std::optional<NameOwner> findNameOwner(sdbus::IConnection& connection, const std::string& name) {
    const auto driver = sdbus::createProxy(connection, kBusName, kBusPath);
    NameOwner owner;
    try {
        driver->callMethod("GetNameOwner").onInterface(kBusInterface).withArguments(name).storeResultsTo(owner.uniqueName);
    } catch (const sdbus::Error& e) {
        if (e.getName() == "org.freedesktop.DBus.Error.NameHasNoOwner") return std::nullopt;
        throw;
    }
    try {
        std::uint32_t pid = 0;
        driver->callMethod("GetConnectionUnixProcessID")
            .onInterface(kBusInterface)
            .withArguments(owner.uniqueName)
            .storeResultsTo(pid);
        if (pid != 0) owner.pid = static_cast<pid_t>(pid);
    } catch (const sdbus::Error&) {
        // Gone in between, or a bus that does not know: the name's owner is still the answer.
    }
    return owner;
}

}  // namespace campaignd::bus

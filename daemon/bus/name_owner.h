// name_owner.h: who owns a bus name, as the bus itself answers (org.freedesktop.DBus
// GetNameOwner, then GetConnectionUnixProcessID for the owner's pid). The daemon asks before it
// opens its database or loads its plugins, so that a second campaignd stops before it touches
// either. A question, not a claim: the name is taken with RequestName only once the objects
// are exported (app/daemon.cpp says why).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include <sdbus-c++/IConnection.h>

namespace campaignd::bus {

struct NameOwner {
    std::string uniqueName;    // ":1.42"
    std::optional<pid_t> pid;  // nothing when the bus would not say
};

// The name's current owner, or nothing when it has none. Throws sdbus::Error when the bus
// does not answer GetNameOwner (a pid it will not give is only left out).
std::optional<NameOwner> findNameOwner(sdbus::IConnection& connection, const std::string& name);

}  // namespace campaignd::bus

// access.h: who may change campaignd's state, or read personal data in bulk (the bounce export,
// a campaign's recipients with the servers' replies). A caller may call such a method if it is
// root, runs as the daemon's own user, or is a member of the admin group (AdminGroup=,
// default "campaignd"). The caller's uid comes from the bus (the kernel's peer credentials,
// as dbus-daemon reports them), never from anything the caller says; its groups are those of
// that uid in the group database, plus the supplementary groups the bus reports. This check
// stands on top of the D-Bus policy file, not instead of it.
#pragma once

#include <string>
#include <string_view>

#include <sdbus-c++/Message.h>

namespace campaignd::bus {

class AccessPolicy {
public:
    explicit AccessPolicy(std::string adminGroup);

    // Throws Error(PermissionDenied) unless the sender of `message` may mutate state.
    // `action` names what was refused in the message ("CreateCampaign"); `why` says why it
    // is for administrators ("changes campaignd's data", "reads personal data").
    void requireAdmin(const sdbus::Message* message, std::string_view action,
                      std::string_view why = "changes campaignd's data") const;

    void setAdminGroup(std::string adminGroup) { adminGroup_ = std::move(adminGroup); }

private:
    bool uidMayMutate(uid_t uid, const sdbus::Message& message) const;

    std::string adminGroup_;
};

}  // namespace campaignd::bus

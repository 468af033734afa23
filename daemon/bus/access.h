// access.h: who may change campaignd's state. A caller may call a mutating method if it is
// root, runs as the daemon's own user, or is a member of the admin group (AdminGroup=,
// default "campaignd"). The caller's uid comes from the bus (the kernel's peer credentials,
// as dbus-daemon reports them), never from anything the caller says; its groups are those of
// that uid in the group database, plus the supplementary groups the bus reports. This check
// stands on top of the D-Bus policy file, not instead of it.
// The web interface (org.campaignd.Campaignd1.Web, for campaignd-web) is narrower: root, the
// daemon's own user, and the [Web] User= only; the admin group is not enough, since those
// methods act for a recipient, not for an administrator.
#pragma once

#include <string>
#include <string_view>

#include <sdbus-c++/Message.h>

namespace campaignd::bus {

class AccessPolicy {
public:
    explicit AccessPolicy(std::string adminGroup);

    // Throws Error(PermissionDenied) unless the sender of `message` may mutate state.
    // `action` names what was refused in the message ("CreateCampaign").
    void requireAdmin(const sdbus::Message* message, std::string_view action) const;

    void setAdminGroup(std::string adminGroup) { adminGroup_ = std::move(adminGroup); }

    // Throws Error(PermissionDenied) unless the sender of `message` is root, the daemon's own
    // user, or the web user ([Web] User=, looked up at each call).
    void requireWebCaller(const sdbus::Message* message, std::string_view action) const;
    void setWebUser(std::string webUser) { webUser_ = std::move(webUser); }

private:
    bool uidMayMutate(uid_t uid, const sdbus::Message& message) const;

    std::string adminGroup_;
    std::string webUser_ = "campaignd-web";
};

}  // namespace campaignd::bus

// access.h: who may call what (the table is api_access.h). A caller may call a mutating method
// if it is root, runs as the daemon's own user, or is a member of the admin group (AdminGroup=,
// default "campaignd"); a method that returns personal data (addresses, names, per-recipient
// rows) also if it is a member of the reader group (ReaderGroup=, default "campaignd-readers"),
// for staff who look recipients up but must not change or send anything. The caller's uid comes
// from the bus (the kernel's peer credentials, as dbus-daemon reports them), never from anything
// the caller says; its groups are those of that uid in the group database, plus the
// supplementary groups the bus reports. This check stands on top of the D-Bus policy file, not
// instead of it, and refuses what the policy refuses (both follow api_access.h).
// The web interface (org.campaignd.Campaignd1.Web, for campaignd-web) is narrower: root, the
// daemon's own user, and the [Web] User= only; the admin group is not enough, since those
// methods act for a recipient, not for an administrator.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sdbus-c++/Message.h>

#include "bus/api_access.h"

namespace campaignd::bus {

class AccessPolicy {
public:
    AccessPolicy(std::string adminGroup, std::string readerGroup);

    // Throws Error(PermissionDenied) unless the sender of `message` may call a member of class
    // `access` (Open and JobOwner pass here: the latter is the handler's to check). `action`
    // names what was refused in the message ("CreateCampaign").
    void require(const sdbus::Message* message, Access access, std::string_view action) const;
    void requireAdmin(const sdbus::Message* message, std::string_view action) const {
        require(message, Access::Admin, action);
    }

    // What the sender of `message` may do, as require() would decide it, refusing nothing: for
    // a user interface that shows only the actions the caller can take (Manager.GetAccess).
    struct Grants {
        bool change = false;    // Access::Admin members
        bool personal = false;  // Access::Personal members
        bool known = false;     // the sender's credentials could be read
        uid_t uid = 0;
    };
    Grants grants(const sdbus::Message* message) const;

    void setGroups(std::string adminGroup, std::string readerGroup) {
        adminGroup_ = std::move(adminGroup);
        readerGroup_ = std::move(readerGroup);
    }

    // Throws Error(PermissionDenied) unless the sender of `message` is root, the daemon's own
    // user, or the web user ([Web] User=, looked up at each call).
    void requireWebCaller(const sdbus::Message* message, std::string_view action) const;
    void setWebUser(std::string webUser) { webUser_ = std::move(webUser); }
    const std::string& adminGroup() const { return adminGroup_; }
    const std::string& readerGroup() const { return readerGroup_; }

private:
    static constexpr std::size_t kMaxCachedSenders = 4096;

    // The sender's uid, from the bus (asked once per unique name, then kept).
    uid_t senderUid(const sdbus::Message& message) const;
    bool uidIsInGroup(uid_t uid, const sdbus::Message& message, const std::string& group) const;

    std::string adminGroup_;
    std::string readerGroup_;
    mutable std::mutex uidsMutex_;
    mutable std::unordered_map<std::string, uid_t> uids_;
    std::string webUser_ = "campaignd-web";
};

}  // namespace campaignd::bus

// access.cpp: see access.h. Group membership is looked up at each call (not cached), so adding
// an administrator to the group takes effect without restarting the daemon.
#include "bus/access.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "core/error.h"
#include "core/log.h"

namespace campaignd::bus {
namespace {

std::optional<gid_t> groupId(const std::string& name) {
    std::vector<char> buf(16384);
    struct group gr {};
    struct group* result = nullptr;
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &result) != 0 || !result)
        return std::nullopt;
    return result->gr_gid;
}

std::vector<gid_t> groupsOfUser(uid_t uid) {
    std::vector<char> buf(16384);
    struct passwd pw {};
    struct passwd* result = nullptr;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) != 0 || !result) return {};
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (getgrouplist(result->pw_name, result->pw_gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<std::size_t>(n));
        if (getgrouplist(result->pw_name, result->pw_gid, groups.data(), &n) < 0) return {};
    }
    groups.resize(static_cast<std::size_t>(n));
    return groups;
}

}  // namespace

AccessPolicy::AccessPolicy(std::string adminGroup, std::string readerGroup)
    : adminGroup_(std::move(adminGroup)), readerGroup_(std::move(readerGroup)) {}

// On dbus-daemon a message carries no credentials: sd-bus asks the bus for them, a synchronous
// round trip on the bus thread for every call checked. A unique name (":1.42") is never given
// to another connection while the bus runs, and a connection's uid cannot change, so the
// answer is kept per sender (bounded: the cache starts afresh when full).
uid_t AccessPolicy::senderUid(const sdbus::Message& message) const {
    const std::string sender = message.getSender();
    {
        std::lock_guard lock(uidsMutex_);
        if (const auto it = uids_.find(sender); it != uids_.end()) return it->second;
    }
    const uid_t uid = message.getCredsUid();
    if (!sender.empty() && sender.front() == ':') {
        std::lock_guard lock(uidsMutex_);
        if (uids_.size() >= kMaxCachedSenders) uids_.clear();
        uids_.emplace(sender, uid);
    }
    return uid;
}

bool AccessPolicy::uidIsInGroup(uid_t uid, const sdbus::Message& message, const std::string& group) const {
    const auto gid = groupId(group);
    if (!gid) return false;
    auto groups = groupsOfUser(uid);
    try {
        const auto fromBus = message.getCredsSupplementaryGids();
        groups.insert(groups.end(), fromBus.begin(), fromBus.end());
    } catch (const sdbus::Error&) {
        // The bus does not report supplementary groups; the group database decides alone.
    }
    return std::find(groups.begin(), groups.end(), *gid) != groups.end();
}

void AccessPolicy::require(const sdbus::Message* message, Access access, std::string_view action) const {
    if (access == Access::Open || access == Access::JobOwner) return;
    if (access == Access::Web) return requireWebCaller(message, action);
    uid_t uid = 0;
    try {
        if (!message) throw sdbus::Error("org.freedesktop.DBus.Error.Failed", "no message");
        uid = senderUid(*message);
    } catch (const sdbus::Error& e) {
        log::warning("refused a call whose sender's credentials are unknown",
                     {{"ACTION", std::string(action)}});
        throw Error(ErrorCode::PermissionDenied,
                    std::string(action) + ": the caller's credentials could not be checked");
    }
    if (uid == 0 || uid == geteuid() || uidIsInGroup(uid, *message, adminGroup_)) return;
    if (access == Access::Personal && uidIsInGroup(uid, *message, readerGroup_)) return;
    log::notice("refused a call from an unprivileged user",
                {{"ACTION", std::string(action)}, {"ACCESS", std::string(toString(access))},
                 {"CALLER_UID", std::to_string(uid)}});
    if (access == Access::Personal)
        throw Error(ErrorCode::PermissionDenied,
                    std::string(action) + " returns personal data (addresses, names): only root and members of the \"" +
                        adminGroup_ + "\" or \"" + readerGroup_ + "\" group may call it (uid " +
                        std::to_string(uid) + " is neither)");
    throw Error(ErrorCode::PermissionDenied,
                std::string(action) + " changes campaignd's data: only root and members of the \"" +
                    adminGroup_ + "\" group may do that (uid " + std::to_string(uid) + " is neither)");
}

AccessPolicy::Grants AccessPolicy::grants(const sdbus::Message* message) const {
    Grants g;
    try {
        if (!message) return g;
        g.uid = senderUid(*message);
        g.known = true;
    } catch (const sdbus::Error&) {
        return g;
    }
    g.change = g.uid == 0 || g.uid == geteuid() || uidIsInGroup(g.uid, *message, adminGroup_);
    g.personal = g.change || uidIsInGroup(g.uid, *message, readerGroup_);
    return g;
}

void AccessPolicy::requireWebCaller(const sdbus::Message* message, std::string_view action) const {
    uid_t uid = 0;
    try {
        if (!message) throw sdbus::Error("org.freedesktop.DBus.Error.Failed", "no message");
        uid = senderUid(*message);
    } catch (const sdbus::Error&) {
        log::warning("refused a call whose sender's credentials are unknown",
                     {{"ACTION", std::string(action)}});
        throw Error(ErrorCode::PermissionDenied,
                    std::string(action) + ": the caller's credentials could not be checked");
    }
    if (uid == 0 || uid == geteuid()) return;
    if (!webUser_.empty()) {
        std::vector<char> buf(16384);
        struct passwd pw {};
        struct passwd* result = nullptr;
        if (getpwnam_r(webUser_.c_str(), &pw, buf.data(), buf.size(), &result) == 0 && result &&
            result->pw_uid == uid)
            return;
    }
    log::notice("refused a web call from another user",
                {{"ACTION", std::string(action)}, {"CALLER_UID", std::to_string(uid)}});
    throw Error(ErrorCode::PermissionDenied,
                std::string(action) + " is for campaignd-web: only root and the user \"" + webUser_ +
                    "\" ([Web] User=) may call it (uid " + std::to_string(uid) + " may not)");
}

}  // namespace campaignd::bus

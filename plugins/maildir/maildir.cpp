// maildir.cpp: the "maildir" transport plugin (ABI 1.5). Each message is delivered as a local
// delivery agent would (the Maildir spec, cr.yp.to/proto/maildir.html): written with
// Return-Path and Delivered-To prepended to tmp/<unique> (O_EXCL), fsync'd, moved into new/
// without replacing anything, and new/ fsync'd; only then is it reported SENT.
// Promises: a SENT message is durable (with Fsync=yes) and appears in new/ whole or not at all;
// names are unique across sessions, threads and processes; no exception leaves the plugin; an
// I/O failure stops the batch with CAMPAIGND_ERR_FAILED and leaves the failed message (and the
// rest) unreported, i.e. not handed over, with nothing of it left in tmp/.
// Refuses: relative paths; settings it does not know how to read (Fsync= other than yes/no).
// validate() checks a section's settings with open()'s own parser and creates nothing; probe() asks
// whether open() could write there now, creating nothing either.
#include <campaignd/plugin.h>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "plugin_text.h"

namespace {

// Per process, shared by every session: with the pid it makes each name unique even when two
// sessions deliver in the same microsecond.
std::atomic<unsigned long long> gSequence{0};

using campaignd::plugin_text::errnoText;

// The host name as the Maildir spec wants it in a file name: '/' and ':' written as \057, \072.
std::string maildirHostName() {
    char buffer[256] = {};
    if (gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0') return "localhost";
    std::string out;
    for (const char* p = buffer; *p != '\0'; ++p) {
        if (*p == '/') out += "\\057";
        else if (*p == ':') out += "\\072";
        else if (static_cast<unsigned char>(*p) < 0x21 || *p == 0x7f) out += '_';
        else out += *p;
    }
    return out;
}

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

struct Session {
    std::string transportName;
    std::string path;  // the Maildir, absolute, without a trailing '/'
    bool fsync = true;
    std::string hostName;
    Fd tmp;
    Fd fresh;  // new/
};

// mkdir for one directory: OK if it exists as a directory afterwards.
bool makeDirectory(const std::string& path, std::string& error) {
    if (::mkdir(path.c_str(), 0700) == 0) return true;
    const int e = errno;
    struct stat st {};
    if (e == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return true;
    error = path + ": " + errnoText(e == EEXIST ? ENOTDIR : e);
    return false;
}

// Like mkdir -p, new directories with mode 0700 (mail is personal data).
bool makeDirectories(const std::string& path, std::string& error) {
    for (std::size_t at = path.find('/', 1); at != std::string::npos; at = path.find('/', at + 1)) {
        if (!makeDirectory(path.substr(0, at), error)) return false;
    }
    return makeDirectory(path, error);
}

std::string uniqueName(const Session& s) {
    struct timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    const unsigned long long seq = gSequence.fetch_add(1, std::memory_order_relaxed);
    char buffer[128];
    snprintf(buffer, sizeof buffer, "%lld.M%06ldP%ldQ%llu.", static_cast<long long>(now.tv_sec),
             static_cast<long>(now.tv_nsec / 1000), static_cast<long>(getpid()), seq);
    return buffer + s.hostName;
}

bool writeAll(int fd, struct iovec* iov, int count) {
    while (count > 0) {
        const ssize_t n = ::writev(fd, iov, count);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        auto left = static_cast<std::size_t>(n);
        while (count > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            ++iov;
            --count;
        }
        if (count > 0) {
            iov->iov_base = static_cast<char*>(iov->iov_base) + left;
            iov->iov_len -= left;
        }
    }
    return true;
}

// Moves tmp/name to new/name, never replacing a file there.
int moveToNew(const Session& s, const std::string& name) {
    if (::renameat2(s.tmp.get(), name.c_str(), s.fresh.get(), name.c_str(), RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return errno;
    // A file system without RENAME_NOREPLACE: the spec's link + unlink.
    if (::linkat(s.tmp.get(), name.c_str(), s.fresh.get(), name.c_str(), 0) != 0) return errno;
    ::unlinkat(s.tmp.get(), name.c_str(), 0);
    return 0;
}

bool hasLineBreak(const char* s) { return std::strpbrk(s, "\r\n") != nullptr; }

void report(const campaignd_delivery_sink* sink, uint64_t token, int32_t outcome, int32_t code,
            const char* enhanced, const std::string& text) {
    campaignd_delivery_result r{};
    r.struct_size = sizeof r;
    r.token = token;
    r.outcome = outcome;
    r.smtp_code = code;
    r.enhanced_status = enhanced;
    r.text = text.c_str();
    sink->result(sink->sink_ctx, &r);
}

// The one reading of a section's settings, for open() and validate() (ABI 1.4), so the two
// cannot disagree: Path= (required, absolute) into s.path without its trailing '/', Fsync=. It
// touches no file: whether the Maildir can be created and written is open()'s to find out.
// On a failure: the message in `error`, and in `badKey` the index of the setting to fix (count
// when Path= is missing).
bool parseSettings(const char* const* keys, const char* const* values, size_t count, Session& s,
                   std::string& error, size_t& badKey) {
    size_t pathAt = count;
    for (size_t i = 0; i < count; ++i) {
        const std::string_view key = keys[i] != nullptr ? keys[i] : "";
        const std::string value = values[i] != nullptr ? values[i] : "";
        if (key == "Path") {
            s.path = value;
            pathAt = i;
        } else if (key == "Fsync") {
            if (value == "yes") s.fsync = true;
            else if (value == "no") s.fsync = false;
            else {
                error = "Fsync= must be yes or no, not '" + value + "'";
                badKey = i;
                return false;
            }
        } else {
            // The daemon keeps its own keys (Connections=, ...): anything else is a misspelling.
            error = std::string(key) + "= is not a setting of the maildir plugin (Path, Fsync)";
            badKey = i;
            return false;
        }
    }
    badKey = pathAt;
    if (s.path.empty()) {
        error = "Path= is required (the Maildir to deliver into)";
        return false;
    }
    if (s.path.front() != '/') {
        error = "Path= must be an absolute path, not '" + s.path + "'";
        return false;
    }
    while (s.path.size() > 1 && s.path.back() == '/') s.path.pop_back();
    return true;
}

campaignd_status maildirOpen(void* instance, const char* transportName, const char* const* keys,
                             const char* const* values, size_t count, void** session,
                             campaignd_error* err) noexcept {
    (void)instance;
    try {
        auto s = std::make_unique<Session>();
        s->transportName = transportName != nullptr ? transportName : "";
        const std::string where = "[Transport " + s->transportName + "]: ";
        std::string error;
        size_t badKey = count;
        if (!parseSettings(keys, values, count, *s, error, badKey)) {
            campaignd_error_set(err, (where + error).c_str());
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }

        bool ok = makeDirectories(s->path, error);
        for (const char* sub : {"tmp", "new", "cur"}) ok = ok && makeDirectory(s->path + "/" + sub, error);
        if (!ok) error = "cannot create the Maildir " + s->path + " (" + error + ")";
        if (ok) {
            s->tmp.reset(::open((s->path + "/tmp").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            s->fresh.reset(::open((s->path + "/new").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (s->tmp.get() < 0 || s->fresh.get() < 0) {
                ok = false;
                error = "cannot open " + s->path + "/tmp or new: " + errnoText(errno);
            }
        }
        if (ok) {
            // Root ignores permissions, so try for real: a read-only file system shows here.
            s->hostName = maildirHostName();
            const std::string probe = uniqueName(*s) + ".probe";
            const int fd = ::openat(s->tmp.get(), probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0) {
                ok = false;
                error = "cannot write into " + s->path + "/tmp: " + errnoText(errno);
            } else {
                ::close(fd);
                ::unlinkat(s->tmp.get(), probe.c_str(), 0);
            }
        }
        if (!ok) {
            campaignd_error_set(err, ("maildir " + where + error).c_str());
            return CAMPAIGND_ERR_FAILED;
        }
        *session = s.release();
        return CAMPAIGND_OK;
    } catch (...) {
        campaignd_error_set(err, "maildir: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

campaignd_status maildirSend(void* session, const campaignd_outgoing_message* const* messages, size_t count,
                             const campaignd_delivery_sink* sink, campaignd_error* err) noexcept {
    try {
        const Session& s = *static_cast<Session*>(session);
        // Messages moved into new/ whose directory entry is not yet durable: reported after
        // one fsync of new/ for the whole batch (a group commit), never before.
        struct Moved {
            uint64_t token;
            std::string text;
        };
        std::vector<Moved> moved;
        moved.reserve(count);
        auto commit = [&]() -> bool {
            const bool durable = !s.fsync || moved.empty() || ::fsync(s.fresh.get()) == 0;
            const std::string why = durable ? "" : errnoText(errno);
            for (const Moved& m : moved) {
                if (durable) {
                    report(sink, m.token, CAMPAIGND_DELIVERY_SENT, 250, "2.0.0", m.text);
                } else {
                    // In new/ (readers see it) but maybe not on disk: never send it again.
                    report(sink, m.token, CAMPAIGND_DELIVERY_UNKNOWN, 0, "",
                           "in " + s.path + "/new but fsync of the directory failed: " + why);
                }
            }
            moved.clear();
            return durable;
        };
        auto fail = [&](const std::string& text) {
            const bool durable = commit();
            std::string m = "maildir " + s.path + ": " + text;
            if (!durable) m += " (and fsync of new/ failed)";
            campaignd_error_set(err, m.c_str());
            return CAMPAIGND_ERR_FAILED;
        };

        for (size_t i = 0; i < count; ++i) {
            const campaignd_outgoing_message& m = *messages[i];
            const char* from = m.envelope_from != nullptr ? m.envelope_from : "";
            const char* rcpt = m.recipient != nullptr ? m.recipient : "";
            if (*rcpt == '\0' || hasLineBreak(rcpt)) {
                report(sink, m.token, CAMPAIGND_DELIVERY_FAILED, 0, "5.1.3", "the recipient address is empty or has a line break");
                continue;
            }
            if (hasLineBreak(from)) {
                report(sink, m.token, CAMPAIGND_DELIVERY_FAILED, 0, "5.1.7", "the envelope sender has a line break");
                continue;
            }
            // The data's own line ending (the ABI says CRLF), so the file is consistent.
            const std::string_view data(m.data != nullptr ? m.data : "", m.data != nullptr ? m.data_len : 0);
            const std::size_t lf = data.find('\n');
            const char* eol = (lf != std::string_view::npos && lf > 0 && data[lf - 1] != '\r') ? "\n" : "\r\n";
            std::string header = std::string("Return-Path: <") + from + ">" + eol + "Delivered-To: " + rcpt + eol;

            std::string name;
            int fd = -1;
            for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
                name = uniqueName(s);
                fd = ::openat(s.tmp.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0 && errno != EEXIST) break;
            }
            if (fd < 0) return fail("cannot create tmp/" + name + ": " + errnoText(errno));

            struct iovec iov[2];
            iov[0].iov_base = header.data();
            iov[0].iov_len = header.size();
            iov[1].iov_base = const_cast<char*>(data.data());
            iov[1].iov_len = data.size();
            // The file's data must be on disk before its name appears in new/: otherwise a
            // crash could leave an empty or partial message there, reported SENT.
            int error = 0;
            if (!writeAll(fd, iov, 2)) error = errno;
            if (error == 0 && s.fsync && ::fsync(fd) != 0) error = errno;
            if (::close(fd) != 0 && error == 0) error = errno;
            if (error == 0) error = moveToNew(s, name);
            if (error != 0) {
                ::unlinkat(s.tmp.get(), name.c_str(), 0);
                return fail("cannot deliver tmp/" + name + ": " + errnoText(error));
            }
            moved.push_back({m.token, "delivered to " + s.path + "/new/" + name});
        }
        if (!commit()) {
            campaignd_error_set(err, ("maildir " + s.path + ": fsync of new/ failed").c_str());
            return CAMPAIGND_ERR_FAILED;
        }
        return CAMPAIGND_OK;
    } catch (...) {
        // Only allocation can throw here; the unreported messages were not moved into new/.
        campaignd_error_set(err, "maildir: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

void maildirClose(void* session) noexcept { delete static_cast<Session*>(session); }

// ABI 1.4: the settings as open() reads them, creating nothing (an unwritable Maildir is the
// environment, and open() says so when a campaign sends).
campaignd_status maildirValidate(void* instance, const char* section, const char* const* keys,
                                 const char* const* values, size_t count, size_t* badKey,
                                 campaignd_error* err) noexcept {
    (void)instance;
    (void)section;  // the host names the section and the key in its own line
    try {
        Session s;
        std::string error;
        size_t at = count;
        if (parseSettings(keys, values, count, s, error, at)) return CAMPAIGND_OK;
        if (badKey != nullptr) *badKey = at;
        campaignd_error_set(err, error.c_str());
        return CAMPAIGND_ERR_INVALID_ARGUMENT;
    } catch (...) {
        campaignd_error_set(err, "maildir: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

// ABI 1.5: whether open() could deliver now, creating nothing: the Maildir (or, when it does
// not exist yet, the nearest directory above it that open() would create it in) is a directory
// this process may write into, on a file system mounted read-write. Asked as the user running
// the check, which may not be the daemon's.
campaignd_status maildirProbe(void* instance, const char* transportName, const char* const* keys,
                              const char* const* values, size_t count, campaignd_error* found,
                              campaignd_error* err) noexcept {
    (void)instance;
    try {
        Session s;
        const std::string where = "maildir [Transport " + std::string(transportName != nullptr ? transportName : "") + "]: ";
        std::string error;
        size_t at = count;
        if (!parseSettings(keys, values, count, s, error, at)) {
            campaignd_error_set(err, (where + error).c_str());
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        // The Maildir, or the nearest directory above it that open() would make it in.
        std::string existing = s.path;
        struct stat st {};
        while (::stat(existing.c_str(), &st) != 0) {
            if (errno != ENOENT && errno != ENOTDIR) {
                campaignd_error_set(err, (where + "cannot reach " + existing + ": " + errnoText(errno)).c_str());
                return CAMPAIGND_ERR_FAILED;
            }
            const std::size_t slash = existing.rfind('/');
            existing = slash == 0 ? "/" : existing.substr(0, slash);
        }
        if (!S_ISDIR(st.st_mode)) {
            campaignd_error_set(err, (where + existing + " is not a directory").c_str());
            return CAMPAIGND_ERR_FAILED;
        }
        const bool isMaildir = existing == s.path;
        // Where open() writes first: tmp/ of a complete Maildir, else the directory it makes in.
        std::string target = existing;
        if (isMaildir && ::stat((s.path + "/tmp").c_str(), &st) == 0 && S_ISDIR(st.st_mode)) target = s.path + "/tmp";
        struct statvfs fs {};
        if (::statvfs(target.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0) {
            campaignd_error_set(err, (where + target + " is on a read-only file system").c_str());
            return CAMPAIGND_ERR_FAILED;
        }
        if (::faccessat(AT_FDCWD, target.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
            campaignd_error_set(err, (where + "cannot write into " + target + ": " + errnoText(errno)).c_str());
            return CAMPAIGND_ERR_FAILED;
        }
        campaignd_error_set(found, (isMaildir ? s.path + " can be written into"
                                              : s.path + " does not exist yet; it can be made in " + existing)
                                       .c_str());
        return CAMPAIGND_OK;
    } catch (...) {
        campaignd_error_set(err, "maildir: out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
}

campaignd_status maildirStart(const campaignd_host* host, void** instance, campaignd_error* err) noexcept {
    (void)host;
    (void)err;
    *instance = nullptr;
    return CAMPAIGND_OK;
}

void maildirStop(void* instance) noexcept { (void)instance; }

const campaignd_transport kTransport = {sizeof(campaignd_transport), maildirOpen, maildirSend, maildirClose,
                                       maildirValidate, maildirProbe};

const campaignd_plugin_descriptor kDescriptor = {
    CAMPAIGND_PLUGIN_ABI_MAJOR,
    CAMPAIGND_PLUGIN_ABI_MINOR,
    sizeof(campaignd_plugin_descriptor),
    "maildir",
    "1.0.0",
    "Delivers every message as a file into a Maildir (no mail server needed)",
    CAMPAIGND_CAP_TRANSPORT,
    maildirStart,
    maildirStop,
    nullptr,  // importer
    &kTransport,
};

}  // namespace

extern "C" CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor* campaignd_plugin_entry_v1(void) {
    return &kDescriptor;
}

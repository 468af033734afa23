// state_files.cpp: see state_files.h.
#include "delivery/state_files.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace campaignd::delivery {
namespace fs = std::filesystem;
namespace {

std::string randomHex(std::size_t octets) {
    std::string raw(octets, '\0');
    std::size_t got = 0;
    while (got < octets) {
        const auto n = ::getrandom(raw.data() + got, octets - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error(ErrorCode::Failed, std::string("getrandom failed: ") + std::strerror(errno));
        }
        got += static_cast<std::size_t>(n);
    }
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    return s;
}

[[noreturn]] void failed(const std::string& path, const std::string& what) {
    throw Error(ErrorCode::Failed, path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

const std::string& newSecret() {
    thread_local std::string s;
    s = randomHex(32);
    return s;
}

const std::string& newInstanceId() {
    thread_local std::string s;
    s = randomHex(8);
    return s;
}

std::optional<std::string> readStateFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        failed(path, "cannot be read");
    }
    std::string text;
    char buf[512];
    for (;;) {
        const auto n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            failed(path, "cannot be read");
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > 4096) break;
    }
    ::close(fd);
    return trimmed(std::move(text));
}

std::string loadOrCreateStateFile(const std::string& path, bool secret, const std::string& (*generate)()) {
    for (int round = 0; round < 2; ++round) {
        if (auto existing = readStateFile(path)) {
            struct stat st {};
            if (secret && ::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
                throw Error(ErrorCode::InvalidArgument,
                            path + " is readable by others; it holds a secret: chmod 0600 it");
            if (existing->empty()) throw Error(ErrorCode::InvalidArgument, path + " is empty");
            return *existing;
        }
        const fs::path target(path);
        std::error_code ec;
        if (!fs::exists(target.parent_path(), ec)) {
            fs::create_directories(target.parent_path(), ec);
            if (ec) throw Error(ErrorCode::Failed, target.parent_path().string() + ": cannot be created: " + ec.message());
            ::chmod(target.parent_path().c_str(), 0700);
        }
        const std::string value = generate();
        const std::string tmp = path + ".tmp." + std::to_string(::getpid());
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) failed(tmp, "cannot be created");
        const std::string line = value + "\n";
        const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
        ::close(fd);
        if (!ok) {
            ::unlink(tmp.c_str());
            failed(tmp, "cannot be written");
        }
        // link() never replaces: if another daemon made the file first, its value wins.
        const int rc = ::link(tmp.c_str(), path.c_str());
        const int err = errno;
        ::unlink(tmp.c_str());
        if (rc == 0) return value;
        if (err != EEXIST) {
            errno = err;
            failed(path, "cannot be created");
        }
    }
    throw Error(ErrorCode::Failed, path + ": appeared and vanished while it was being created");
}

}  // namespace campaignd::delivery

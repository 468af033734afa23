// temp_dir.cpp: mkdtemp and a recursive remove that does not throw from a destructor.
#include "support/temp_dir.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace campaignd::test {

TempDir::TempDir(std::string_view prefix) {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string pattern = (base / (std::string(prefix) + "-XXXXXX")).string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!::mkdtemp(buffer.data()))
        throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    path_ = buffer.data();
}

TempDir::~TempDir() { remove(); }

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
    if (this != &other) {
        remove();
        path_ = std::move(other.path_);
        other.path_.clear();
    }
    return *this;
}

void TempDir::remove() noexcept {
    if (path_.empty()) return;
    const char* keep = std::getenv("CAMPAIGND_TEST_KEEP");
    if (keep && *keep && std::string_view(keep) != "0") {
        std::cerr << "campaignd-test: keeping " << path_ << "\n";
    } else {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
        if (ec) std::cerr << "campaignd-test: cannot remove " << path_ << ": " << ec.message() << "\n";
    }
    path_.clear();
}

void TempDir::chownTo(uid_t uid, gid_t gid) const {
    if (::chown(path_.c_str(), uid, gid) != 0)
        throw std::runtime_error("chown " + path_.string() + ": " + std::strerror(errno));
}

std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

void writeFile(const std::filesystem::path& path, std::string_view content,
               std::filesystem::perms perms) {
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error("cannot write " + path.string());
        out.write(content.data(), std::streamsize(content.size()));
        if (!out) throw std::runtime_error("cannot write " + path.string());
    }
    std::error_code ec;
    std::filesystem::permissions(path, perms, ec);
    if (ec) throw std::runtime_error("chmod " + path.string() + ": " + ec.message());
}

}  // namespace campaignd::test

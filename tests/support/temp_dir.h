// temp_dir.h: a private directory for one test (mkdtemp under $TMPDIR or /tmp), removed with
// everything in it when the object dies. Set CAMPAIGND_TEST_KEEP=1 to keep it for a post-
// mortem (its path is printed). Plus the two file helpers every test ends up writing.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace campaignd::test {

class TempDir {
public:
    // Throws std::runtime_error if the directory cannot be made.
    explicit TempDir(std::string_view prefix = "campaignd-test");
    ~TempDir();
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }
    std::string str() const { return path_.string(); }

    // Hands the directory itself to another user (e.g. `postgres` or `nobody`), so a server
    // or client run as that user can create files in it. Needs root.
    void chownTo(uid_t uid, gid_t gid) const;

private:
    void remove() noexcept;
    std::filesystem::path path_;
};

// Whole-file helpers; both throw std::runtime_error naming the path on failure.
std::string readFile(const std::filesystem::path& path);
void writeFile(const std::filesystem::path& path, std::string_view content,
               std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                              std::filesystem::perms::owner_write |
                                              std::filesystem::perms::group_read |
                                              std::filesystem::perms::others_read);

}  // namespace campaignd::test

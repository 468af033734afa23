// log_test.cpp: what reaches a log line from outside cannot forge another line or drive the
// terminal: control characters, C1 controls and bytes that are not UTF-8 in the message and in
// field values come out escaped (core/log.h, core/utf8.h escapeControls). The stderr form is
// read back through a memfd standing in for stderr (the test runs with JOURNAL_STREAM empty).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/log.h"
#include "core/utf8.h"

namespace campaignd::test {
namespace {

using utf8::escapeControls;

TEST(EscapeControls, ControlsAndBrokenBytesAreEscapedTextIsKept) {
    EXPECT_EQ(escapeControls("plain text, Zoë, 日本"), "plain text, Zoë, 日本");
    EXPECT_EQ(escapeControls("a\nb\rc\td"), "a\\nb\\rc\\td");
    EXPECT_EQ(escapeControls("\x1b]0;owned\x07"), "\\x1B]0;owned\\x07");
    EXPECT_EQ(escapeControls("\x7f"), "\\x7F");
    EXPECT_EQ(escapeControls("\xc2\x9b" "31m"), "\\u009B31m") << "the 8-bit CSI";
    EXPECT_EQ(escapeControls("\xff\xfe"), "\\xFF\\xFE") << "not UTF-8";
    EXPECT_EQ(escapeControls("say \"hi\" \\"), "say \"hi\" \\") << "quotes only when asked";
    EXPECT_EQ(escapeControls("say \"hi\" \\", true), "say \\\"hi\\\" \\\\");
    EXPECT_EQ(escapeControls("abcdef", false, 3), "abc...");
}

// Runs fn with stderr going to a memfd; returns what was written.
template <typename Fn>
std::string captureStderr(Fn fn) {
    std::fflush(stderr);
    const int saved = ::dup(STDERR_FILENO);
    const int fd = ::memfd_create("stderr", MFD_CLOEXEC);
    EXPECT_GE(fd, 0);
    ::dup2(fd, STDERR_FILENO);
    fn();
    std::fflush(stderr);
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    std::string out(4096, '\0');
    const auto n = ::pread(fd, out.data(), out.size(), 0);
    ::close(fd);
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

TEST(Log, AValueFromOutsideCannotForgeALineOrReachTheTerminal) {
    const std::string out = captureStderr([] {
        log::error("import of \"x.csv\ncampaignd: info: all good\" failed",
                   {{"FILE", "evil\n.csv"}, {"REPLY", "550 \x1b[2J\x1b]0;title\x07 gone"}});
    });
    EXPECT_EQ(out,
              "campaignd: error: import of \"x.csv\\ncampaignd: info: all good\" failed "
              "FILE=evil\\n.csv REPLY=550 \\x1B[2J\\x1B]0;title\\x07 gone\n");
}

}  // namespace
}  // namespace campaignd::test

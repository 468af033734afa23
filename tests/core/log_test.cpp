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

// A batch (a delivery outcome's line each) holds its lines until flushed, then writes exactly
// what the single calls would have written, escaping included; a level below the minimum is
// left out as write() leaves it out.
TEST(Log, ABatchWritesItsLinesTogetherAsTheSingleCallsWould) {
    log::Batch batch;
    const std::string held = captureStderr([&] {
        batch.add(log::Level::Info, "delivery sent", {{"RECIPIENT_ID", "7"}, {"REPLY", "250 ok\nforged"}});
        batch.add(log::Level::Debug, "below the minimum");
        batch.add(log::Level::Error, "delivery failed", {{"REPLY", "550 no"}});
    });
    EXPECT_EQ(held, "");
    const std::string flushed = captureStderr([&] { batch.flush(); });
    EXPECT_EQ(flushed, captureStderr([] {
                  log::info("delivery sent", {{"RECIPIENT_ID", "7"}, {"REPLY", "250 ok\nforged"}});
                  log::debug("below the minimum");
                  log::error("delivery failed", {{"REPLY", "550 no"}});
              }));
    EXPECT_EQ(flushed, "campaignd: info: delivery sent RECIPIENT_ID=7 REPLY=250 ok\\nforged\n"
                       "campaignd: error: delivery failed REPLY=550 no\n");
    EXPECT_EQ(captureStderr([&] { batch.flush(); }), "") << "flushed once";
}

}  // namespace
}  // namespace campaignd::test

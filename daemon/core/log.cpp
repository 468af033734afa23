// log.cpp: journal or stderr, decided once from the environment (as systemd documents for
// services: JOURNAL_STREAM holds "device:inode" of the stream stderr is connected to). Every
// message and field value is passed through utf8::escapeControls first, so nothing from outside
// (a file name, a bounce, a server's reply) can forge a line or drive the terminal.
#include "core/log.h"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <systemd/sd-journal.h>

#include "core/utf8.h"

namespace campaignd::log {
namespace {

std::atomic<int> gMinimum{static_cast<int>(Level::Info)};

bool stderrIsJournal() {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (!env) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) != 0) return false;
    return st.st_dev == dev && st.st_ino == ino;
}

const bool gJournal = stderrIsJournal();
std::mutex gStderrMutex;

std::string_view levelName(Level l) {
    switch (l) {
        case Level::Debug: return "debug";
        case Level::Info: return "info";
        case Level::Notice: return "notice";
        case Level::Warning: return "warning";
        case Level::Error: return "error";
    }
    return "info";
}

}  // namespace

void setMinimumLevel(Level level) { gMinimum = static_cast<int>(level); }

bool parseLevel(std::string_view text, Level& out) {
    for (Level l : {Level::Debug, Level::Info, Level::Notice, Level::Warning, Level::Error}) {
        if (text == levelName(l)) {
            out = l;
            return true;
        }
    }
    return false;
}

namespace {

void sendToJournal(Level level, std::string_view message, std::initializer_list<Field> fields) {
    std::vector<std::string> items;
    items.reserve(fields.size() + 3);
    items.push_back("MESSAGE=" + utf8::escapeControls(message));
    items.push_back("PRIORITY=" + std::to_string(static_cast<int>(level)));
    items.push_back("SYSLOG_IDENTIFIER=campaignd");
    for (const auto& [key, value] : fields) items.push_back(std::string(key) + "=" + utf8::escapeControls(value));
    std::vector<struct iovec> iov;
    iov.reserve(items.size());
    for (auto& s : items) iov.push_back({s.data(), s.size()});
    sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

void appendLine(std::string& line, Level level, std::string_view message, std::initializer_list<Field> fields) {
    line += "campaignd: ";
    line += levelName(level);
    line += ": ";
    line += utf8::escapeControls(message);
    for (const auto& [key, value] : fields) {
        line += ' ';
        line += key;
        line += '=';
        line += utf8::escapeControls(value);
    }
    line += '\n';
}

void writeToStderr(const std::string& lines) {
    std::lock_guard lock(gStderrMutex);
    std::fwrite(lines.data(), 1, lines.size(), stderr);
}

}  // namespace

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
    if (static_cast<int>(level) > gMinimum.load()) return;
    if (gJournal) {
        sendToJournal(level, message, fields);
        return;
    }
    std::string line;
    appendLine(line, level, message, fields);
    writeToStderr(line);
}

void Batch::add(Level level, std::string_view message, std::initializer_list<Field> fields) {
    if (static_cast<int>(level) > gMinimum.load()) return;
    if (gJournal)
        sendToJournal(level, message, fields);
    else
        appendLine(lines_, level, message, fields);
}

void Batch::flush() {
    if (lines_.empty()) return;
    writeToStderr(lines_);
    lines_.clear();
}

}  // namespace campaignd::log

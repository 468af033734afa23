// log.h: campaignd's logging. Under systemd (JOURNAL_STREAM names our stderr) each line goes to
// the journal with structured fields (CAMPAIGN_ID=, RECIPIENT=, PLUGIN=, ...); otherwise it is a
// plain line on stderr, "campaignd: <level>: <message> [KEY=value ...]". Never pass a password
// in a message or a field.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace campaignd::log {

enum class Level { Debug = 7, Info = 6, Notice = 5, Warning = 4, Error = 3 };

using Field = std::pair<std::string_view, std::string>;

void setMinimumLevel(Level level);
bool parseLevel(std::string_view text, Level& out);
void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Debug, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Info, m, f); }
inline void notice(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Notice, m, f); }
inline void warning(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Warning, m, f); }
inline void error(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Error, m, f); }

// Many lines at once (one per delivery outcome of a batch): on stderr they go out in one
// write when the batch is flushed or destroyed, instead of a write each; the journal takes
// one entry per line either way, sent as they are added. Not shared between threads.
class Batch {
public:
    Batch() = default;
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    ~Batch() { flush(); }
    void add(Level level, std::string_view message, std::initializer_list<Field> fields = {});
    void flush();

private:
    std::string lines_;
};

}  // namespace campaignd::log

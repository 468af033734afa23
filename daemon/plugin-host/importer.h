// importer.h: the importer capability (ABI 1.1), as the daemon sees it. ImporterHandle::import()
// builds the C options and sink, runs the plugin on a descriptor, bounds and re-checks every
// row before the daemon's sink sees it, and carries an exception from the daemon's callbacks
// around the plugin, never through it. Refuses: import options that are no C string.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plugin-host/running_plugin.h"

namespace campaignd::plugins {

// ---- The importer capability, for the daemon ------------------------------------------------

enum class ImportSubscription { Unspecified, Subscribed, Unsubscribed };

// One valid row. The views point into the plugin's memory and are valid during the row
// callback only: copy what you keep. The host has bounded them and checked they are valid
// UTF-8 without control characters (the plugin validated them with the daemon's services).
struct ImportRow {
    std::uint64_t line = 0;  // 1-based input line where the row starts (the header is line 1)
    std::string_view email;  // normalised
    std::string_view name;   // "" when the file has none
    ImportSubscription subscription = ImportSubscription::Unspecified;
    std::span<const std::string_view> groups;  // non-empty, trimmed names
};

struct ImportOptions {
    char delimiter = 0;            // 0: the plugin detects it
    std::vector<std::string> map;  // "email=COLUMN", "name=COLUMN", ...
    std::uint64_t maxBytes = 0;    // 0: no limit
};

// The daemon's side of an import. Called on the thread that called ImporterHandle::import(),
// in input order. An exception thrown by one stops the import; import() rethrows it.
struct ImportSink {
    std::function<void(const ImportRow& row)> row;
    // A skipped row: its line and a sentence for a person.
    std::function<void(std::uint64_t line, std::string_view reason)> rowError;
    // rows read (valid and skipped), input bytes up to the end of the last row; return false
    // to cancel. May be empty.
    std::function<bool(std::uint64_t rows, std::uint64_t bytes)> progress;
};

enum class ImportOutcome {
    Completed,  // the whole input was read; every row went to row or rowError
    Rejected,   // a structural error rejects the whole import (message names the line)
    Cancelled,  // progress returned false
    Failed,     // the plugin failed (I/O, a plugin bug, a broken status); message says what
};

struct ImportResult {
    ImportOutcome outcome = ImportOutcome::Failed;
    std::string message;  // empty when Completed; bounded, sanitised copy of the plugin's text
    std::uint64_t rows = 0;   // rows handed to row()
    std::uint64_t rowErrors = 0;  // rows handed to rowError()
};

std::string_view toString(ImportOutcome outcome);

// A running importer plugin. Cheap to copy; valid until PluginHost::stop() or the host's
// destruction, like the RunningPlugin it refers to.
class ImporterHandle {
public:
    const std::string& pluginName() const { return plugin_->name(); }

    // Runs one import of the input on fd (read from its current position, never closed here or
    // by the plugin). Blocks until the plugin returns. Never lets an exception into the plugin:
    // an exception from a sink callback is caught there, the plugin is told to stop (a failure
    // status), and the exception is rethrown here once the plugin has returned. Otherwise never
    // throws except std::bad_alloc. Thread-safe: imports may run concurrently. An option map
    // entry with a NUL byte, or longer than 64 KiB, is Failed before the plugin is called.
    ImportResult import(int fd, const ImportOptions& options, const ImportSink& sink) const;

private:
    friend class PluginHost;
    explicit ImporterHandle(const RunningPlugin* plugin) : plugin_(plugin) {}
    const RunningPlugin* plugin_;
};

}  // namespace campaignd::plugins

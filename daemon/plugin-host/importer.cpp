// importer.cpp: see importer.h. The C sink's trampolines (sinkRow, sinkRowError, sinkProgress)
// are noexcept: they bound and re-check each row, turn the daemon's exceptions into a status
// that tells the plugin to stop, and keep the exception to rethrow once the plugin returned. A
// plugin that goes on calling after the stop is not heard and the import fails.
#include "plugin-host/importer.h"

#include <cstring>
#include <exception>
#include <optional>
#include <utility>

#include "core/log.h"
#include "plugin-host/boundary.h"
#include "plugin-host/text.h"

namespace campaignd::plugins {
namespace {

void setError(campaignd_error* err, const std::string& text) { campaignd_error_set(err, text.c_str()); }

// Bounds on an import row as the host reads it.
constexpr std::size_t kMaxImportEmailBytes = CAMPAIGND_EMAIL_BUFFER_SIZE - 1;
constexpr std::size_t kMaxImportValueBytes = std::size_t{16} << 20;  // a name or a group
constexpr std::size_t kMaxImportGroups = 1000;
constexpr std::size_t kMaxRowErrorBytes = 1024;
constexpr std::size_t kImportRowMinSize = CAMPAIGND_FIELD_END(campaignd_import_row, group_count);

// The C sink's context for one ImporterHandle::import() call.
struct ImportCall {
    const ImportSink* sink = nullptr;
    std::exception_ptr thrown;     // from a daemon callback; rethrown after the plugin returned
    std::string contractBreach;    // the plugin broke the ABI (a bad row, a call after a stop)
    bool stopped = false;          // a callback failed: every later call fails at once
    bool cancelled = false;        // progress returned false
    std::uint64_t rows = 0;
    std::uint64_t rowErrors = 0;
    std::vector<std::string_view> groups;  // reused from row to row
};

campaignd_status stopWith(ImportCall& call, campaignd_error* err, campaignd_status status,
                          const std::string& message) {
    call.stopped = true;
    setError(err, message);
    return status;
}

campaignd_status alreadyStopped(ImportCall& call, campaignd_error* err) {
    if (call.contractBreach.empty())
        call.contractBreach = "the plugin called the sink again after it had been told to stop";
    setError(err, "the import was stopped");
    return CAMPAIGND_ERR_FAILED;
}

campaignd_status breach(ImportCall& call, campaignd_error* err, std::string what) {
    if (call.contractBreach.empty()) call.contractBreach = std::move(what);
    return stopWith(call, err, CAMPAIGND_ERR_FAILED, "the host refused the row: " + call.contractBreach);
}

// A plugin string of an import row, bounded; nullopt if it is missing, unterminated within
// maxBytes, or not clean text.
std::optional<std::string_view> rowText(const char* text, std::size_t maxBytes) {
    if (text == nullptr) return std::nullopt;
    const std::size_t n = strnlen(text, maxBytes + 1);
    if (n > maxBytes) return std::nullopt;
    const std::string_view view(text, n);
    if (!isCleanText(view)) return std::nullopt;
    return view;
}

campaignd_status sinkRow(void* sinkCtx, const campaignd_import_row* row, campaignd_error* err) noexcept {
    auto& call = *static_cast<ImportCall*>(sinkCtx);
    if (call.stopped) return alreadyStopped(call, err);
    try {
        if (row == nullptr || row->struct_size < kImportRowMinSize)
            return breach(call, err, "a row is NULL or its struct_size is too small");
        const auto where = [row] { return " (line " + std::to_string(row->line) + ")"; };
        const auto email = rowText(row->email, kMaxImportEmailBytes);
        if (!email || email->empty() || email->find('@') == std::string_view::npos ||
            email->find(' ') != std::string_view::npos)
            return breach(call, err, "a row's email is missing, overlong or not a normalised address" + where());
        const auto name = rowText(row->name, kMaxImportValueBytes);
        if (!name) return breach(call, err, "a row's name is missing, overlong or not clean UTF-8" + where());
        ImportSubscription subscription;
        switch (row->subscription) {
            case CAMPAIGND_IMPORT_SUBSCRIPTION_UNSPECIFIED: subscription = ImportSubscription::Unspecified; break;
            case CAMPAIGND_IMPORT_SUBSCRIPTION_SUBSCRIBED: subscription = ImportSubscription::Subscribed; break;
            case CAMPAIGND_IMPORT_SUBSCRIPTION_UNSUBSCRIBED: subscription = ImportSubscription::Unsubscribed; break;
            default: return breach(call, err, "a row's subscription is not a CAMPAIGND_IMPORT_SUBSCRIPTION_* value" + where());
        }
        if (row->group_count > kMaxImportGroups || (row->group_count > 0 && row->groups == nullptr))
            return breach(call, err, "a row's groups are NULL or more than 1000" + where());
        call.groups.clear();
        for (std::size_t i = 0; i < row->group_count; ++i) {
            const auto group = rowText(row->groups[i], kMaxImportValueBytes);
            if (!group || group->empty())
                return breach(call, err, "a row's group name is missing, empty or not clean UTF-8" + where());
            call.groups.push_back(*group);
        }
        const ImportRow out{row->line, *email, *name, subscription, call.groups};
        if (call.sink->row) call.sink->row(out);
        ++call.rows;
        return CAMPAIGND_OK;
    } catch (...) {
        call.thrown = std::current_exception();
        return stopWith(call, err, CAMPAIGND_ERR_FAILED, "the host failed to take the row");
    }
}

campaignd_status sinkRowError(void* sinkCtx, std::uint64_t line, const char* reason,
                              campaignd_error* err) noexcept {
    auto& call = *static_cast<ImportCall*>(sinkCtx);
    if (call.stopped) return alreadyStopped(call, err);
    try {
        std::string text = copyBounded(reason, kMaxRowErrorBytes);
        if (text.empty()) text = "the row is invalid (the plugin gave no reason)";
        if (call.sink->rowError) call.sink->rowError(line, text);
        ++call.rowErrors;
        return CAMPAIGND_OK;
    } catch (...) {
        call.thrown = std::current_exception();
        return stopWith(call, err, CAMPAIGND_ERR_FAILED, "the host failed to take the row error");
    }
}

campaignd_status sinkProgress(void* sinkCtx, std::uint64_t rows, std::uint64_t bytes,
                              campaignd_error* err) noexcept {
    auto& call = *static_cast<ImportCall*>(sinkCtx);
    if (call.stopped) return alreadyStopped(call, err);
    try {
        if (call.sink->progress && !call.sink->progress(rows, bytes)) {
            call.cancelled = true;
            return stopWith(call, err, CAMPAIGND_ERR_CANCELLED, "the import was cancelled");
        }
        return CAMPAIGND_OK;
    } catch (...) {
        call.thrown = std::current_exception();
        return stopWith(call, err, CAMPAIGND_ERR_FAILED, "the host failed to take the progress");
    }
}

}  // namespace

std::string_view toString(ImportOutcome outcome) {
    switch (outcome) {
        case ImportOutcome::Completed: return "completed";
        case ImportOutcome::Rejected: return "rejected";
        case ImportOutcome::Cancelled: return "cancelled";
        case ImportOutcome::Failed: return "failed";
    }
    return "failed";
}

ImportResult ImporterHandle::import(int fd, const ImportOptions& options, const ImportSink& sink) const {
    const campaignd_importer* table = plugin_->importerTable();
    ImportResult result;
    if (table == nullptr) {
        result.message = "plugin " + plugin_->name() + " is not an importer";
        return result;
    }
    if (fd < 0) {
        result.message = "no input (invalid file descriptor)";
        return result;
    }

    ImportCall call;
    call.sink = &sink;
    const std::string who = "plugin " + plugin_->name() + ": ";
    CStrings map;
    try {
        for (const auto& entry : options.map) map.add(entry, "import option " + sanitizeText(entry.substr(0, 64)));
    } catch (const InputRefused& e) {
        result.message = who + e.what();
        log::info("import failed: " + result.message, {{"PLUGIN", plugin_->name()}});
        return result;
    }
    campaignd_import_options cOptions{};
    cOptions.struct_size = sizeof cOptions;
    cOptions.delimiter = options.delimiter;
    cOptions.map = map.data();
    cOptions.map_count = map.size();
    cOptions.max_bytes = options.maxBytes;

    campaignd_import_sink cSink{};
    cSink.struct_size = sizeof cSink;
    cSink.sink_ctx = &call;
    cSink.row = &sinkRow;
    cSink.row_error = &sinkRowError;
    cSink.progress = &sinkProgress;

    const PluginCallResult r = callPlugin(who, "import", [&](campaignd_error* err) {
        return table->import(plugin_->instance(), fd, &cOptions, &cSink, err);
    });
    result.rows = call.rows;
    result.rowErrors = call.rowErrors;

    if (call.thrown) std::rethrow_exception(call.thrown);
    if (r.threw) {
        result.outcome = ImportOutcome::Failed;
        result.message = r.failure();
    } else if (!call.contractBreach.empty()) {
        result.outcome = ImportOutcome::Failed;
        result.message = who + call.contractBreach;
    } else if (call.cancelled) {
        result.outcome = ImportOutcome::Cancelled;
        result.message = "the import was cancelled";
    } else if (r.status == CAMPAIGND_OK) {
        result.outcome = ImportOutcome::Completed;
    } else if (r.status == CAMPAIGND_ERR_INVALID_ARGUMENT) {
        result.outcome = ImportOutcome::Rejected;
        result.message = r.message.empty() ? "the input was rejected (the plugin gave no reason)" : r.message;
    } else {
        result.outcome = ImportOutcome::Failed;
        result.message = r.failureWithStatus();
    }
    if (result.outcome != ImportOutcome::Completed) {
        log::info("import " + std::string(toString(result.outcome)) + ": " + result.message,
                  {{"PLUGIN", plugin_->name()}});
    }
    return result;
}

}  // namespace campaignd::plugins

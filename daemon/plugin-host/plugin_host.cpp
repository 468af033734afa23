// plugin_host.cpp: dlopen(RTLD_NOW | RTLD_LOCAL), dlsym the v1 entry, check the descriptor's
// ABI major and struct_size before anything else of the plugin runs, copy and bound whatever
// the plugin hands over, then start(). Every step that can go wrong becomes a recorded state and
// a log line, never an exception out of here. The host functions given to plugins (log,
// config_get, normalize_email, check_header_value) are noexcept C-callable shims: they validate,
// bound and never call back. The importer trampolines turn the daemon's std::function sink into
// the C sink and carry any exception around the plugin, never through it; the transport
// trampolines do the same and account for every message of a send, whatever the plugin reports.
#include "plugin-host/plugin_host.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <list>
#include <map>
#include <mutex>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "core/error.h"
#include "core/log.h"

namespace campaignd::plugins {

// Per plugin: the host table handed to start() and what its functions need. Its address is
// the table's host_ctx, so it lives on the heap and stays put until the plugin is stopped.
struct PluginHostContext {
    static constexpr std::uint64_t kMagic = 0x63616d7068737431ULL;  // "camphst1"
    std::uint64_t magic = kMagic;
    std::string pluginName;
    const PluginHost::ConfigLookup* config = nullptr;
    const HostServices* services = nullptr;  // the PluginHost's; fixed once start() ran
    campaignd_host table{};
    // Every value config_get handed out, kept so the pointer stays valid until stop():
    // per key, the values in the order they were first seen (a config reload adds one).
    std::mutex cacheMutex;
    std::map<std::string, std::list<std::string>> cache;
};

struct PluginHost::Slot {
    PluginInfo info;
    void* handle = nullptr;                   // dlopen handle while loaded
    bool keepLoaded = false;                  // start/stop threw: never dlclose it
    bool nameClaimed = false;                 // took part in the duplicate-name check
    std::unique_ptr<PluginHostContext> context;     // while running (or kept loaded)
    std::unique_ptr<RunningPlugin> running;   // while running
};

namespace {

// Bounds on what the host copies from a plugin (bytes, terminator excluded).
constexpr std::size_t kMaxNameBytes = 64;
constexpr std::size_t kMaxVersionBytes = 64;
constexpr std::size_t kMaxDescriptionBytes = 512;
constexpr std::size_t kErrorBufferBytes = 1024;
constexpr std::size_t kMaxLogMessageBytes = 4096;
constexpr std::size_t kMaxLogFields = 32;
constexpr std::size_t kMaxLogKeyBytes = 64;
constexpr std::size_t kMaxLogValueBytes = 1024;
constexpr std::size_t kMaxConfigKeyBytes = 256;
// log::write takes a fixed initializer_list, so this many plugin fields become structured
// fields; the rest are appended to the message as " KEY=value".
constexpr std::size_t kStructuredLogFields = 4;

// Valid UTF-8 is kept; an invalid byte becomes '?', a control character a space, so that what
// a plugin says can go to the journal, a log line and D-Bus (which requires valid UTF-8).
std::string sanitizeText(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t n = in.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;  // no surrogates
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        }
        bool ok = len != 0 && i + len <= n && p[i + 1] >= lo && p[i + 1] <= hi;
        for (std::size_t k = 2; ok && k < len; ++k) ok = p[i + k] >= 0x80 && p[i + k] <= 0xbf;
        if (!ok) {
            out += '?';
            ++i;
            continue;
        }
        out.append(in.data() + i, len);
        i += len;
    }
    return out;
}

// A plugin's C string: NULL is "", at most maxBytes are read, the copy is sanitised.
std::string copyBounded(const char* text, std::size_t maxBytes) {
    if (text == nullptr) return {};
    return sanitizeText(std::string_view(text, strnlen(text, maxBytes)));
}

void setError(campaignd_error* err, const std::string& text) {
    campaignd_error_set(err, text.c_str());
}

bool validPluginName(std::string_view name) {
    if (name.empty() || name.size() > kMaxNameBytes) return false;
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    if (!alnum(name.front())) return false;
    return std::all_of(name.begin(), name.end(),
                       [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

// A journal field name from a plugin's key: upper case, [A-Z0-9_] only, starting with a
// letter, at most 64 bytes; keys the host sets itself get a "PLUGIN_" prefix.
std::string journalKey(const char* key) {
    std::string k = copyBounded(key, kMaxLogKeyBytes);
    for (char& c : k) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) c = '_';
    }
    if (k.empty() || !(k.front() >= 'A' && k.front() <= 'Z')) k = "FIELD_" + k;
    static const std::array<std::string_view, 11> reserved{
        "PLUGIN",     "MESSAGE",   "MESSAGE_ID", "PRIORITY",  "SYSLOG_IDENTIFIER", "SYSLOG_PID",
        "SYSLOG_FACILITY", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "ERRNO"};
    if (std::find(reserved.begin(), reserved.end(), k) != reserved.end()) k = "PLUGIN_" + k;
    if (k.size() > kMaxLogKeyBytes) k.resize(kMaxLogKeyBytes);
    return k;
}

log::Level clampLevel(campaignd_log_level level) {
    if (level <= CAMPAIGND_LOG_ERROR) return log::Level::Error;
    if (level >= CAMPAIGND_LOG_DEBUG) return log::Level::Debug;
    return static_cast<log::Level>(level);
}

PluginHostContext* contextFrom(void* hostCtx) {
    auto* context = static_cast<PluginHostContext*>(hostCtx);
    if (context == nullptr || context->magic != PluginHostContext::kMagic) return nullptr;
    return context;
}

void writePluginLine(log::Level level, const std::string& plugin, std::string message,
                     const std::vector<std::pair<std::string, std::string>>& f) {
    for (std::size_t i = kStructuredLogFields; i < f.size(); ++i)
        message += " " + f[i].first + "=" + f[i].second;
    auto F = [&](std::size_t i) { return log::Field{f[i].first, f[i].second}; };
    const log::Field p{"PLUGIN", plugin};
    switch (std::min(f.size(), kStructuredLogFields)) {
        case 0: log::write(level, message, {p}); break;
        case 1: log::write(level, message, {p, F(0)}); break;
        case 2: log::write(level, message, {p, F(0), F(1)}); break;
        case 3: log::write(level, message, {p, F(0), F(1), F(2)}); break;
        default: log::write(level, message, {p, F(0), F(1), F(2), F(3)}); break;
    }
}

campaignd_status hostLog(void* hostCtx, campaignd_log_level level, const char* message,
                         const campaignd_log_field* fields, std::size_t fieldCount,
                         campaignd_error* err) noexcept {
    try {
        PluginHostContext* context = contextFrom(hostCtx);
        if (context == nullptr) {
            setError(err, "log: host_ctx is not the one the host passed to start()");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        if (message == nullptr) {
            setError(err, "log: message is NULL");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        if (fields == nullptr) fieldCount = 0;
        std::vector<std::pair<std::string, std::string>> f;
        const std::size_t kept = std::min(fieldCount, kMaxLogFields);
        f.reserve(kept);
        for (std::size_t i = 0; i < kept; ++i) {
            if (fields[i].key == nullptr) continue;
            f.emplace_back(journalKey(fields[i].key), copyBounded(fields[i].value, kMaxLogValueBytes));
        }
        std::string text = copyBounded(message, kMaxLogMessageBytes);
        if (fieldCount > kept) text += " (" + std::to_string(fieldCount - kept) + " fields dropped)";
        writePluginLine(clampLevel(level), context->pluginName, std::move(text), f);
        return CAMPAIGND_OK;
    } catch (...) {
        setError(err, "log: the host could not write the line");
        return CAMPAIGND_ERR_FAILED;
    }
}

campaignd_status hostConfigGet(void* hostCtx, const char* key, const char** value,
                               campaignd_error* err) noexcept {
    try {
        if (value != nullptr) *value = nullptr;
        PluginHostContext* context = contextFrom(hostCtx);
        if (context == nullptr) {
            setError(err, "config_get: host_ctx is not the one the host passed to start()");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        if (key == nullptr || value == nullptr) {
            setError(err, "config_get: key and value must not be NULL");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        if (strnlen(key, kMaxConfigKeyBytes + 1) > kMaxConfigKeyBytes) {
            setError(err, "config_get: key is longer than 256 bytes");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        const std::string k = sanitizeText(key);
        std::optional<std::string> found;
        if (context->config != nullptr && *context->config)
            found = (*context->config)(context->pluginName, k);
        if (!found) {
            setError(err, "no key '" + k + "' in [Plugin " + context->pluginName + "]");
            return CAMPAIGND_ERR_NOT_FOUND;
        }
        std::lock_guard lock(context->cacheMutex);
        auto& seen = context->cache[k];
        auto it = std::find(seen.begin(), seen.end(), *found);
        if (it == seen.end()) it = seen.insert(seen.end(), std::move(*found));
        *value = it->c_str();
        return CAMPAIGND_OK;
    } catch (const std::exception& e) {
        setError(err, std::string("config_get: ") + e.what());
        return CAMPAIGND_ERR_FAILED;
    } catch (...) {
        setError(err, "config_get: the host's config lookup failed");
        return CAMPAIGND_ERR_FAILED;
    }
}

// An exception from the daemon's services as a status and message: a refusal of the input is
// INVALID_ARGUMENT with the services' sentence, anything else FAILED.
campaignd_status statusFromException(campaignd_error* err, const char* what) {
    try {
        throw;
    } catch (const Error& e) {
        setError(err, e.what());
        return e.code() == ErrorCode::InvalidArgument ? CAMPAIGND_ERR_INVALID_ARGUMENT
                                                      : CAMPAIGND_ERR_FAILED;
    } catch (const std::exception& e) {
        setError(err, std::string(what) + ": " + e.what());
        return CAMPAIGND_ERR_FAILED;
    } catch (...) {
        setError(err, std::string(what) + ": the host failed");
        return CAMPAIGND_ERR_FAILED;
    }
}

campaignd_status hostNormalizeEmail(void* hostCtx, const char* address, std::size_t addressLen,
                                    char* out, std::size_t outSize, campaignd_error* err) noexcept {
    try {
        if (out != nullptr && outSize > 0) out[0] = '\0';
        PluginHostContext* context = contextFrom(hostCtx);
        if (context == nullptr) {
            setError(err, "normalize_email: host_ctx is not the one the host passed to start()");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        if ((address == nullptr && addressLen != 0) || out == nullptr) {
            setError(err, "normalize_email: address and out must not be NULL");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        if (outSize < CAMPAIGND_EMAIL_BUFFER_SIZE) {
            setError(err, "normalize_email: out_size must be at least CAMPAIGND_EMAIL_BUFFER_SIZE (" +
                              std::to_string(CAMPAIGND_EMAIL_BUFFER_SIZE) + ")");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        if (context->services == nullptr || !context->services->normalizeEmail) {
            setError(err, "normalize_email: this host offers no address validation");
            return CAMPAIGND_ERR_UNSUPPORTED;
        }
        const std::string normalized =
            context->services->normalizeEmail(std::string_view(address == nullptr ? "" : address, addressLen));
        if (normalized.size() >= outSize) {
            setError(err, "normalize_email: the normalised address does not fit the buffer");
            return CAMPAIGND_ERR_FAILED;
        }
        std::memcpy(out, normalized.data(), normalized.size());
        out[normalized.size()] = '\0';
        return CAMPAIGND_OK;
    } catch (...) {
        if (out != nullptr && outSize > 0) out[0] = '\0';
        return statusFromException(err, "normalize_email");
    }
}

campaignd_status hostCheckHeaderValue(void* hostCtx, const char* field, const char* value,
                                      std::size_t valueLen, campaignd_error* err) noexcept {
    try {
        PluginHostContext* context = contextFrom(hostCtx);
        if (context == nullptr) {
            setError(err, "check_header_value: host_ctx is not the one the host passed to start()");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        if (value == nullptr && valueLen != 0) {
            setError(err, "check_header_value: value must not be NULL");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        if (context->services == nullptr || !context->services->checkHeaderValue) {
            setError(err, "check_header_value: this host offers no header check");
            return CAMPAIGND_ERR_UNSUPPORTED;
        }
        const std::string fieldName = field == nullptr ? std::string("value") : copyBounded(field, kMaxLogKeyBytes);
        context->services->checkHeaderValue(fieldName, std::string_view(value == nullptr ? "" : value, valueLen));
        return CAMPAIGND_OK;
    } catch (...) {
        return statusFromException(err, "check_header_value");
    }
}

// Whether s is valid UTF-8 with no control character (C0, DEL): what every string of an
// import row must be (the plugin checked it with the host's functions; this is the cheap
// re-check that keeps a broken plugin's bytes out of the store).
bool isCleanText(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) return false;
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        } else {
            return false;
        }
        if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return false;
        for (std::size_t k = 2; k < len; ++k)
            if (p[i + k] < 0x80 || p[i + k] > 0xbf) return false;
        i += len;
    }
    return true;
}

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

    std::vector<const char*> map;
    map.reserve(options.map.size());
    for (const auto& entry : options.map) map.push_back(entry.c_str());
    campaignd_import_options cOptions{};
    cOptions.struct_size = sizeof cOptions;
    cOptions.delimiter = options.delimiter;
    cOptions.map = map.empty() ? nullptr : map.data();
    cOptions.map_count = map.size();
    cOptions.max_bytes = options.maxBytes;

    ImportCall call;
    call.sink = &sink;
    campaignd_import_sink cSink{};
    cSink.struct_size = sizeof cSink;
    cSink.sink_ctx = &call;
    cSink.row = &sinkRow;
    cSink.row_error = &sinkRowError;
    cSink.progress = &sinkProgress;

    std::array<char, kErrorBufferBytes> buffer{};
    campaignd_error err{buffer.data(), buffer.size()};
    campaignd_status status = CAMPAIGND_ERR_FAILED;
    bool pluginThrew = false;
    try {
        status = table->import(plugin_->instance(), fd, &cOptions, &cSink, &err);
    } catch (...) {
        pluginThrew = true;  // against the ABI
    }
    buffer.back() = '\0';
    std::string message = copyBounded(buffer.data(), buffer.size() - 1);
    result.rows = call.rows;
    result.rowErrors = call.rowErrors;

    if (call.thrown) std::rethrow_exception(call.thrown);
    const std::string who = "plugin " + plugin_->name() + ": ";
    if (pluginThrew) {
        result.outcome = ImportOutcome::Failed;
        result.message = who + "import threw an exception (not allowed by the ABI)";
    } else if (!call.contractBreach.empty()) {
        result.outcome = ImportOutcome::Failed;
        result.message = who + call.contractBreach;
    } else if (call.cancelled) {
        result.outcome = ImportOutcome::Cancelled;
        result.message = "the import was cancelled";
    } else if (status == CAMPAIGND_OK) {
        result.outcome = ImportOutcome::Completed;
    } else if (status == CAMPAIGND_ERR_INVALID_ARGUMENT) {
        result.outcome = ImportOutcome::Rejected;
        result.message = message.empty() ? "the input was rejected (the plugin gave no reason)" : message;
    } else {
        result.outcome = ImportOutcome::Failed;
        result.message = who + "import failed (status " + std::to_string(status) + "): " +
                         (message.empty() ? std::string("no message") : message);
    }
    if (result.outcome != ImportOutcome::Completed) {
        log::info("import " + std::string(toString(result.outcome)) + ": " + result.message,
                  {{"PLUGIN", plugin_->name()}});
    }
    return result;
}

std::string_view toString(PluginState state) {
    switch (state) {
        case PluginState::Running: return "running";
        case PluginState::Failed: return "failed";
        case PluginState::Rejected: return "rejected";
        case PluginState::Stopped: return "stopped";
    }
    return "failed";
}

std::vector<std::string> capabilityNames(std::uint64_t capabilities) {
    static const std::array<std::pair<std::uint64_t, const char*>, 4> known{{
        {CAMPAIGND_CAP_TRANSPORT, "transport"},
        {CAMPAIGND_CAP_IMPORTER, "importer"},
        {CAMPAIGND_CAP_BOUNCE_SOURCE, "bounce-source"},
        {CAMPAIGND_CAP_REPORTER, "reporter"},
    }};
    std::vector<std::string> names;
    for (unsigned bit = 0; bit < 64; ++bit) {
        const std::uint64_t mask = std::uint64_t{1} << bit;
        if ((capabilities & mask) == 0) continue;
        auto it = std::find_if(known.begin(), known.end(), [&](const auto& k) { return k.first == mask; });
        names.push_back(it != known.end() ? std::string(it->second)
                                          : "unknown-bit-" + std::to_string(bit));
    }
    return names;
}

PluginHost::PluginHost(std::filesystem::path directory, ConfigLookup config)
    : directory_(std::move(directory)), config_(std::move(config)) {}

PluginHost::PluginHost(std::filesystem::path directory, ConfigLookup config, HostServices services)
    : directory_(std::move(directory)), config_(std::move(config)), services_(std::move(services)) {}

void PluginHost::setHostServices(HostServices services) {
    if (started_) {
        log::warning("plugin host services set after start(); ignored");
        return;
    }
    services_ = std::move(services);
}

PluginHost::~PluginHost() { stop(); }

void PluginHost::start() {
    if (started_) {
        log::warning("plugin host already started; not scanning again");
        return;
    }
    started_ = true;
    std::vector<std::filesystem::path> files;
    try {
        std::error_code ec;
        const auto status = std::filesystem::status(directory_, ec);
        if (!std::filesystem::exists(status)) {
            log::info("plugin directory does not exist; no plugins loaded",
                      {{"PLUGIN_DIR", directory_.string()}});
            return;
        }
        if (!std::filesystem::is_directory(status)) {
            log::warning("plugin directory is not a directory; no plugins loaded",
                         {{"PLUGIN_DIR", directory_.string()}});
            return;
        }
        std::filesystem::directory_iterator it(directory_, ec), end;
        if (ec) {
            log::warning("cannot read the plugin directory; no plugins loaded: " + ec.message(),
                         {{"PLUGIN_DIR", directory_.string()}});
            return;
        }
        for (; it != end; it.increment(ec)) {
            if (ec) break;
            const std::string file = it->path().filename().string();
            if (file.size() <= 3 || file.front() == '.' || !file.ends_with(".so")) continue;
            std::error_code typeError;
            if (!it->is_regular_file(typeError)) continue;  // follows symlinks
            files.push_back(it->path());
        }
        if (ec) {
            log::warning("error while reading the plugin directory: " + ec.message(),
                         {{"PLUGIN_DIR", directory_.string()}});
        }
    } catch (const std::exception& e) {
        log::error(std::string("cannot scan the plugin directory: ") + e.what(),
                   {{"PLUGIN_DIR", directory_.string()}});
        return;
    }
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
        return a.filename().string() < b.filename().string();
    });
    for (const auto& file : files) loadOne(file);
    std::size_t running = 0;
    for (const auto& slot : slots_) running += slot->info.state == PluginState::Running;
    log::info("plugins loaded: " + std::to_string(running) + " running of " +
                  std::to_string(slots_.size()),
              {{"PLUGIN_DIR", directory_.string()}});
}

void PluginHost::loadOne(const std::filesystem::path& path) {
    slots_.push_back(std::make_unique<Slot>());
    Slot& slot = *slots_.back();
    PluginInfo& info = slot.info;
    info.path = path;

    auto refuse = [&](PluginState state, std::string reason) {
        info.state = state;
        info.error = std::move(reason);
        log::warning("plugin " + std::string(toString(state)) + ": " + info.error,
                     {{"PLUGIN", info.name.empty() ? path.filename().string() : info.name},
                      {"PLUGIN_FILE", path.string()},
                      {"PLUGIN_STATE", std::string(toString(state))}});
        if (slot.handle != nullptr && !slot.keepLoaded) {
            dlclose(slot.handle);
            slot.handle = nullptr;
        }
    };

    try {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IWOTH) != 0) {
            return refuse(PluginState::Rejected, "the file is writable by anyone; not loading it");
        }

        dlerror();
        slot.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (slot.handle == nullptr) {
            return refuse(PluginState::Failed,
                          "cannot load: " + copyBounded(dlerror(), kErrorBufferBytes));
        }
        void* symbol = dlsym(slot.handle, CAMPAIGND_PLUGIN_ENTRY_SYMBOL);
        if (symbol == nullptr) {
            return refuse(PluginState::Rejected,
                          "no entry point " CAMPAIGND_PLUGIN_ENTRY_SYMBOL
                          " (not a campaignd plugin, or built for another ABI major)");
        }
        auto entry = reinterpret_cast<campaignd_plugin_entry_fn>(symbol);
        const campaignd_plugin_descriptor* raw = entry();
        if (raw == nullptr) {
            return refuse(PluginState::Rejected, "the entry point returned no descriptor");
        }

        // Only the three fixed fields may be read before these checks pass.
        info.abiMajor = raw->abi_major;
        info.abiMinor = raw->abi_minor;
        const std::size_t declaredSize = raw->struct_size;
        if (raw->abi_major != CAMPAIGND_PLUGIN_ABI_MAJOR) {
            return refuse(PluginState::Rejected,
                          "built for plugin ABI " + std::to_string(raw->abi_major) + "." +
                              std::to_string(raw->abi_minor) + ", this host speaks ABI " +
                              std::to_string(CAMPAIGND_PLUGIN_ABI_MAJOR) + "." +
                              std::to_string(CAMPAIGND_PLUGIN_ABI_MINOR));
        }
        if (declaredSize < CAMPAIGND_PLUGIN_DESCRIPTOR_MIN_SIZE) {
            return refuse(PluginState::Rejected,
                          "descriptor struct_size " + std::to_string(declaredSize) +
                              " is smaller than an ABI 1.0 descriptor (" +
                              std::to_string(CAMPAIGND_PLUGIN_DESCRIPTOR_MIN_SIZE) + " bytes)");
        }

        // Copy what this host knows and the plugin has; the rest stays zero.
        campaignd_plugin_descriptor descriptor{};
        std::memcpy(&descriptor, raw, std::min(declaredSize, sizeof descriptor));

        if (descriptor.name == nullptr) {
            return refuse(PluginState::Rejected, "the descriptor has no name");
        }
        const std::size_t nameLength = strnlen(descriptor.name, kMaxNameBytes + 1);
        const std::string name = copyBounded(descriptor.name, kMaxNameBytes);
        if (nameLength > kMaxNameBytes || !validPluginName(name)) {
            return refuse(PluginState::Rejected,
                          "invalid plugin name '" + name +
                              "' (1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit)");
        }
        info.name = name;
        info.version = copyBounded(descriptor.version, kMaxVersionBytes);
        info.description = copyBounded(descriptor.description, kMaxDescriptionBytes);
        info.capabilityBits = descriptor.capabilities;
        info.capabilities = capabilityNames(descriptor.capabilities);
        if (descriptor.start == nullptr || descriptor.stop == nullptr) {
            return refuse(PluginState::Rejected, "the descriptor has no start or stop function");
        }
        for (const auto& other : slots_) {
            if (other.get() != &slot && other->nameClaimed && other->info.name == name) {
                return refuse(PluginState::Rejected, "duplicate plugin name '" + name +
                                                         "': already loaded from " +
                                                         other->info.path.string());
            }
        }
        slot.nameClaimed = true;

        auto context = std::make_unique<PluginHostContext>();
        context->pluginName = name;
        context->config = &config_;
        context->services = &services_;
        context->table.struct_size = sizeof(campaignd_host);
        context->table.abi_major = CAMPAIGND_PLUGIN_ABI_MAJOR;
        context->table.abi_minor = CAMPAIGND_PLUGIN_ABI_MINOR;
        context->table.host_ctx = context.get();
        context->table.log = &hostLog;
        context->table.config_get = &hostConfigGet;
        context->table.normalize_email = &hostNormalizeEmail;
        context->table.check_header_value = &hostCheckHeaderValue;

        std::array<char, kErrorBufferBytes> buffer{};
        campaignd_error err{buffer.data(), buffer.size()};
        void* instance = nullptr;
        campaignd_status status = CAMPAIGND_ERR_FAILED;
        try {
            status = descriptor.start(&context->table, &instance, &err);
        } catch (const std::exception& e) {
            // The plugin broke the contract; what it started may still run, so its code is never
            // unloaded and its host table lives as long as this PluginHost.
            slot.keepLoaded = true;
            slot.context = std::move(context);
            return refuse(PluginState::Failed, "start threw an exception (not allowed by the ABI): " +
                                                   copyBounded(e.what(), kErrorBufferBytes));
        } catch (...) {
            slot.keepLoaded = true;
            slot.context = std::move(context);
            return refuse(PluginState::Failed, "start threw an exception (not allowed by the ABI)");
        }
        if (status != CAMPAIGND_OK) {
            buffer.back() = '\0';
            std::string message = copyBounded(buffer.data(), buffer.size() - 1);
            if (message.empty()) message = "no message";
            return refuse(PluginState::Failed,
                          "start failed (status " + std::to_string(status) + "): " + message);
        }

        auto running = std::make_unique<RunningPlugin>();
        running->name_ = name;
        running->capabilities_ = descriptor.capabilities;
        running->descriptor_ = descriptor;
        running->descriptorSize_ = declaredSize;
        running->instance_ = instance;
        if ((descriptor.capabilities & CAMPAIGND_CAP_IMPORTER) != 0) {
            const campaignd_importer* table =
                declaredSize >= CAMPAIGND_PLUGIN_DESCRIPTOR_1_1_SIZE ? descriptor.importer : nullptr;
            constexpr std::size_t kImporterMinSize = CAMPAIGND_FIELD_END(campaignd_importer, import);
            if (table != nullptr && table->struct_size >= kImporterMinSize && table->import != nullptr) {
                std::memcpy(&running->importer_, table, std::min(table->struct_size, sizeof running->importer_));
                running->importer_.struct_size = std::min(table->struct_size, sizeof running->importer_);
                running->hasImporter_ = true;
            } else {
                log::warning("plugin says it is an importer but has no usable importer table; "
                             "it is not used for imports",
                             {{"PLUGIN", name}});
            }
        }
        if ((descriptor.capabilities & CAMPAIGND_CAP_TRANSPORT) != 0) {
            const campaignd_transport* table =
                declaredSize >= CAMPAIGND_PLUGIN_DESCRIPTOR_1_2_SIZE ? descriptor.transport : nullptr;
            constexpr std::size_t kTransportMinSize = CAMPAIGND_FIELD_END(campaignd_transport, close);
            if (table != nullptr && table->struct_size >= kTransportMinSize && table->open != nullptr &&
                table->send != nullptr && table->close != nullptr) {
                std::memcpy(&running->transport_, table, std::min(table->struct_size, sizeof running->transport_));
                running->transport_.struct_size = std::min(table->struct_size, sizeof running->transport_);
                running->hasTransport_ = true;
            } else {
                log::warning("plugin says it is a transport but has no usable transport table; "
                             "it is not used for sending",
                             {{"PLUGIN", name}});
            }
        }
        if ((descriptor.capabilities & CAMPAIGND_CAP_REPORTER) != 0) {
            const campaignd_reporter* table =
                declaredSize >= CAMPAIGND_PLUGIN_DESCRIPTOR_1_3_SIZE ? descriptor.reporter : nullptr;
            constexpr std::size_t kReporterMinSize = CAMPAIGND_FIELD_END(campaignd_reporter, compose);
            if (table != nullptr && table->struct_size >= kReporterMinSize && table->compose != nullptr) {
                std::memcpy(&running->reporter_, table, std::min(table->struct_size, sizeof running->reporter_));
                running->reporter_.struct_size = std::min(table->struct_size, sizeof running->reporter_);
                running->hasReporter_ = true;
            } else {
                log::warning("plugin says it is a reporter but has no usable reporter table; "
                             "it is not used for reports",
                             {{"PLUGIN", name}});
            }
        }
        if ((descriptor.capabilities & CAMPAIGND_CAP_BOUNCE_SOURCE) != 0) {
            const campaignd_bounce_source* table =
                declaredSize >= CAMPAIGND_FIELD_END(campaignd_plugin_descriptor, bounce_source)
                    ? descriptor.bounce_source
                    : nullptr;
            constexpr std::size_t kBounceSourceMinSize = CAMPAIGND_FIELD_END(campaignd_bounce_source, fetch);
            if (table != nullptr && table->struct_size >= kBounceSourceMinSize && table->fetch != nullptr) {
                std::memcpy(&running->bounceSource_, table,
                            std::min(table->struct_size, sizeof running->bounceSource_));
                running->bounceSource_.struct_size = std::min(table->struct_size, sizeof running->bounceSource_);
                running->hasBounceSource_ = true;
            } else {
                log::warning("plugin says it is a bounce source but has no usable bounce source table; "
                             "it is not used to fetch bounces",
                             {{"PLUGIN", name}});
            }
        }
        slot.running = std::move(running);
        slot.context = std::move(context);
        info.state = PluginState::Running;
        info.error.clear();
        log::info("plugin started",
                  {{"PLUGIN", name}, {"PLUGIN_VERSION", info.version}, {"PLUGIN_FILE", path.string()}});
    } catch (const std::exception& e) {
        refuse(PluginState::Failed, std::string("the host could not load it: ") + e.what());
    } catch (...) {
        refuse(PluginState::Failed, "the host could not load it");
    }
}

void PluginHost::stop() {
    for (auto it = slots_.rbegin(); it != slots_.rend(); ++it) {
        Slot& slot = **it;
        if (!slot.running) continue;
        try {
            slot.running->descriptor_.stop(slot.running->instance_);
        } catch (...) {
            // Against the ABI; the plugin may still be running something, so keep it mapped.
            slot.keepLoaded = true;
            log::error("plugin stop threw an exception (not allowed by the ABI)",
                       {{"PLUGIN", slot.info.name}});
        }
        slot.running.reset();
        slot.info.state = PluginState::Stopped;
        log::info("plugin stopped", {{"PLUGIN", slot.info.name}});
    }
    for (auto it = slots_.rbegin(); it != slots_.rend(); ++it) {
        Slot& slot = **it;
        if (slot.handle == nullptr || slot.keepLoaded) continue;
        slot.context.reset();
        dlclose(slot.handle);
        slot.handle = nullptr;
    }
}

std::vector<PluginInfo> PluginHost::plugins() const {
    std::vector<PluginInfo> out;
    out.reserve(slots_.size());
    for (const auto& slot : slots_) out.push_back(slot->info);
    return out;
}

const RunningPlugin* PluginHost::findPlugin(std::string_view name) const {
    for (const auto& slot : slots_) {
        if (slot->running && slot->running->name() == name) return slot->running.get();
    }
    return nullptr;
}

std::vector<ImporterHandle> PluginHost::importers() const {
    std::vector<ImporterHandle> out;
    for (const auto& slot : slots_) {
        if (slot->running && slot->running->importerTable() != nullptr)
            out.push_back(ImporterHandle(slot->running.get()));
    }
    return out;
}

std::optional<ImporterHandle> PluginHost::importer(std::string_view name) const {
    const RunningPlugin* plugin = findPlugin(name);
    if (plugin == nullptr || plugin->importerTable() == nullptr) return std::nullopt;
    return ImporterHandle(plugin);
}

std::vector<TransportHandle> PluginHost::transports() const {
    std::vector<TransportHandle> out;
    for (const auto& slot : slots_) {
        if (slot->running && slot->running->transportTable() != nullptr)
            out.push_back(TransportHandle(slot->running.get()));
    }
    return out;
}

std::optional<TransportHandle> PluginHost::transport(std::string_view pluginName) const {
    const RunningPlugin* plugin = findPlugin(pluginName);
    if (plugin == nullptr || plugin->transportTable() == nullptr) return std::nullopt;
    return TransportHandle(plugin);
}

std::vector<ReporterHandle> PluginHost::reporters() const {
    std::vector<ReporterHandle> out;
    for (const auto& slot : slots_) {
        if (slot->running && slot->running->reporterTable() != nullptr)
            out.push_back(ReporterHandle(slot->running.get()));
    }
    return out;
}

std::optional<ReporterHandle> PluginHost::reporter(std::string_view pluginName) const {
    const RunningPlugin* plugin = findPlugin(pluginName);
    if (plugin == nullptr || plugin->reporterTable() == nullptr) return std::nullopt;
    return ReporterHandle(plugin);
}

std::vector<const RunningPlugin*> PluginHost::pluginsWithCapability(std::uint64_t capability) const {
    std::vector<const RunningPlugin*> out;
    for (const auto& slot : slots_) {
        if (slot->running && capability != 0 && slot->running->hasCapability(capability))
            out.push_back(slot->running.get());
    }
    return out;
}

// ---- The transport capability (ABI 1.2) ----------------------------------------------------

namespace {

constexpr std::size_t kMaxResultTextBytes = 4096;
constexpr std::size_t kMaxEnhancedStatusBytes = 16;
constexpr std::size_t kMaxSettingBytes = 64 * 1024;
constexpr std::size_t kDeliveryResultMinSize = CAMPAIGND_FIELD_END(campaignd_delivery_result, text);

TransportStatus transportStatusOf(campaignd_status status) {
    switch (status) {
        case CAMPAIGND_OK: return TransportStatus::Ok;
        case CAMPAIGND_ERR_AUTH: return TransportStatus::Auth;
        case CAMPAIGND_ERR_TLS: return TransportStatus::Tls;
        case CAMPAIGND_ERR_CONNECTION: return TransportStatus::Connection;
        default: return TransportStatus::Failed;
    }
}

// RFC 3463: class "." subject "." detail, class 2, 4 or 5, subject and detail 1-3 digits.
bool validEnhancedStatus(std::string_view s) {
    if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
    std::size_t i = 2;
    for (int part = 0; part < 2; ++part) {
        std::size_t digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
        if (digits == 0 || digits > 3) return false;
        if (part == 0) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
    }
    return i == s.size();
}

// What must not reach an SMTP command or a header: NUL (it would cut the C string), CR, LF and
// the other control characters.
bool hasControlCharacter(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

// The C sink's context for one TransportSession::send() call.
struct SendCall {
    const std::function<void(const DeliveryResult&)>* onResult = nullptr;
    const std::string* pluginName = nullptr;
    std::unordered_map<std::uint64_t, bool> reported;  // token -> has a result
    std::exception_ptr thrown;  // from onResult; rethrown after the plugin returned
    std::string contractBreach; // the first rule the plugin broke in this call
    std::size_t breaches = 0;
};

void noteBreach(SendCall& call, std::string what) {
    ++call.breaches;
    log::warning("transport plugin broke the ABI: " + what, {{"PLUGIN", *call.pluginName}});
    if (call.contractBreach.empty()) call.contractBreach = std::move(what);
}

void deliver(SendCall& call, const DeliveryResult& result) {
    if (call.thrown || !*call.onResult) return;
    try {
        (*call.onResult)(result);
    } catch (...) {
        call.thrown = std::current_exception();
    }
}

void sinkResult(void* sinkCtx, const campaignd_delivery_result* r) noexcept {
    auto& call = *static_cast<SendCall*>(sinkCtx);
    try {
        if (r == nullptr || r->struct_size < kDeliveryResultMinSize) {
            noteBreach(call, "a delivery result is NULL or its struct_size is too small");
            return;
        }
        auto it = call.reported.find(r->token);
        if (it == call.reported.end()) {
            noteBreach(call, "a result for token " + std::to_string(r->token) + ", which it was not given");
            return;
        }
        if (it->second) {
            noteBreach(call, "a second result for token " + std::to_string(r->token));
            return;
        }
        it->second = true;
        DeliveryResult out;
        out.token = r->token;
        switch (r->outcome) {
            case CAMPAIGND_DELIVERY_SENT: out.outcome = DeliveryOutcome::Sent; break;
            case CAMPAIGND_DELIVERY_DEFERRED: out.outcome = DeliveryOutcome::Deferred; break;
            case CAMPAIGND_DELIVERY_FAILED: out.outcome = DeliveryOutcome::Failed; break;
            case CAMPAIGND_DELIVERY_UNKNOWN: out.outcome = DeliveryOutcome::Unknown; break;
            default:
                // It may have gone out: never resend what the plugin could not describe.
                out.outcome = DeliveryOutcome::Unknown;
                noteBreach(call, "outcome " + std::to_string(r->outcome) + " for token " +
                                     std::to_string(r->token) + " is not a CAMPAIGND_DELIVERY_* value");
                break;
        }
        out.smtpCode = (r->smtp_code >= 200 && r->smtp_code <= 599) ? r->smtp_code : 0;
        const std::string enhanced = copyBounded(r->enhanced_status, kMaxEnhancedStatusBytes);
        if (validEnhancedStatus(enhanced)) out.enhancedStatus = enhanced;
        out.text = copyBounded(r->text, kMaxResultTextBytes);
        deliver(call, out);
    } catch (...) {
        if (!call.thrown) call.thrown = std::current_exception();
    }
}

}  // namespace

std::string_view toString(TransportStatus status) {
    switch (status) {
        case TransportStatus::Ok: return "ok";
        case TransportStatus::Auth: return "auth";
        case TransportStatus::Tls: return "tls";
        case TransportStatus::Connection: return "connection";
        case TransportStatus::Failed: return "failed";
    }
    return "failed";
}

std::string_view toString(DeliveryOutcome outcome) {
    switch (outcome) {
        case DeliveryOutcome::Sent: return "sent";
        case DeliveryOutcome::Deferred: return "deferred";
        case DeliveryOutcome::Failed: return "failed";
        case DeliveryOutcome::Unknown: return "unknown";
        case DeliveryOutcome::NotHandedOver: return "not-handed-over";
    }
    return "unknown";
}

std::unique_ptr<TransportSession> TransportHandle::openSession(
    const std::string& transportName, const std::map<std::string, std::string>& settings) const {
    const campaignd_transport* table = plugin_->transportTable();
    const std::string who = "transport " + transportName + " (plugin " + plugin_->name() + "): ";
    if (table == nullptr) throw TransportError(TransportStatus::Failed, who + "the plugin is not a transport");
    auto clean = [](const std::string& s) {
        return s.find('\0') == std::string::npos && s.size() <= kMaxSettingBytes;
    };
    if (!clean(transportName)) throw TransportError(TransportStatus::Failed, who + "the transport name is invalid");
    std::vector<const char*> keys, values;
    keys.reserve(settings.size());
    values.reserve(settings.size());
    for (const auto& [key, value] : settings) {
        if (!clean(key) || !clean(value))
            throw TransportError(TransportStatus::Failed,
                                 who + "setting " + sanitizeText(key.substr(0, 64)) + " contains a NUL byte or is too long");
        keys.push_back(key.c_str());
        values.push_back(value.c_str());
    }

    std::array<char, kErrorBufferBytes> buffer{};
    campaignd_error err{buffer.data(), buffer.size()};
    void* session = nullptr;
    campaignd_status status = CAMPAIGND_ERR_FAILED;
    try {
        status = table->open(plugin_->instance(), transportName.c_str(), keys.empty() ? nullptr : keys.data(),
                             keys.empty() ? nullptr : values.data(), keys.size(), &session, &err);
    } catch (...) {
        throw TransportError(TransportStatus::Failed, who + "open threw an exception (not allowed by the ABI)");
    }
    if (status != CAMPAIGND_OK) {
        buffer.back() = '\0';
        std::string message = copyBounded(buffer.data(), buffer.size() - 1);
        if (message.empty()) message = "no message";
        const TransportStatus kind = transportStatusOf(status);
        log::warning("transport session not opened (" + std::string(toString(kind)) + "): " + message,
                     {{"PLUGIN", plugin_->name()}, {"TRANSPORT", transportName}});
        throw TransportError(kind, who + message);
    }
    // A private constructor: make_unique cannot reach it.
    return std::unique_ptr<TransportSession>(new TransportSession(plugin_, transportName, session));
}

const std::string& TransportSession::pluginName() const { return plugin_->name(); }

TransportSession::~TransportSession() {
    try {
        plugin_->transportTable()->close(session_);
    } catch (...) {
        log::error("transport close threw an exception (not allowed by the ABI)", {{"PLUGIN", plugin_->name()}});
    }
}

SendStatus TransportSession::send(std::span<const OutgoingMessage> messages,
                                  const std::function<void(const DeliveryResult&)>& onResult) {
    // Check the whole batch before anything of it reaches the plugin.
    SendCall call;
    call.onResult = &onResult;
    call.pluginName = &plugin_->name();
    call.reported.reserve(messages.size());
    for (const auto& m : messages) {
        if (!call.reported.emplace(m.token, false).second)
            throw std::invalid_argument("transport send: token " + std::to_string(m.token) + " appears twice in the batch");
        if (hasControlCharacter(m.envelopeFrom) || hasControlCharacter(m.recipient) || hasControlCharacter(m.messageId))
            throw std::invalid_argument("transport send: the envelope sender, recipient or Message-ID of token " +
                                        std::to_string(m.token) + " contains a control character");
        if (m.recipient.empty())
            throw std::invalid_argument("transport send: token " + std::to_string(m.token) + " has no recipient");
    }

    auto finish = [&](DeliveryOutcome missing) {
        for (const auto& m : messages) {
            auto& done = call.reported[m.token];
            if (done) continue;
            done = true;
            DeliveryResult r;
            r.token = m.token;
            r.outcome = missing;
            r.text = missing == DeliveryOutcome::NotHandedOver ? "not handed over: the session failed before it"
                                                               : "no result from the transport plugin";
            deliver(call, r);
        }
    };

    if (broken_) {
        finish(DeliveryOutcome::NotHandedOver);
        if (call.thrown) std::rethrow_exception(call.thrown);
        return {TransportStatus::Failed, "transport " + transportName_ + ": the session failed earlier; open a new one"};
    }
    if (messages.empty()) return {};

    std::vector<campaignd_outgoing_message> structs(messages.size());
    std::vector<const campaignd_outgoing_message*> pointers(messages.size());
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const OutgoingMessage& m = messages[i];
        campaignd_outgoing_message& c = structs[i];
        c.struct_size = sizeof c;
        c.token = m.token;
        c.envelope_from = m.envelopeFrom.c_str();
        c.recipient = m.recipient.c_str();
        c.message_id = m.messageId.c_str();
        c.data = m.data.data();
        c.data_len = m.data.size();
        pointers[i] = &c;
    }
    campaignd_delivery_sink sink{};
    sink.struct_size = sizeof sink;
    sink.sink_ctx = &call;
    sink.result = &sinkResult;

    std::array<char, kErrorBufferBytes> buffer{};
    campaignd_error err{buffer.data(), buffer.size()};
    campaignd_status status = CAMPAIGND_ERR_FAILED;
    bool pluginThrew = false;
    try {
        status = plugin_->transportTable()->send(session_, pointers.data(), pointers.size(), &sink, &err);
    } catch (...) {
        pluginThrew = true;  // against the ABI
    }
    buffer.back() = '\0';
    std::string message = copyBounded(buffer.data(), buffer.size() - 1);

    SendStatus result;
    result.status = pluginThrew ? TransportStatus::Failed : transportStatusOf(status);
    // Safe side: only a plugin that kept the rules is believed when it says the rest never left.
    const bool trusted = !pluginThrew && call.breaches == 0;
    finish(result.status != TransportStatus::Ok && trusted ? DeliveryOutcome::NotHandedOver : DeliveryOutcome::Unknown);

    const std::string who = "transport " + transportName_ + " (plugin " + plugin_->name() + "): ";
    if (pluginThrew) {
        result.message = who + "send threw an exception (not allowed by the ABI)";
    } else if (!result.ok()) {
        result.message = who + (message.empty() ? std::string("send failed (status ") + std::to_string(status) + ")" : message);
    } else if (!call.contractBreach.empty()) {
        // The messages are accounted for (as unknown); the session still works.
        log::warning(who + "results did not follow the ABI: " + call.contractBreach, {{"PLUGIN", plugin_->name()}});
    }
    if (!result.ok()) {
        broken_ = true;
        log::warning("transport session failed (" + std::string(toString(result.status)) + "): " + result.message,
                     {{"PLUGIN", plugin_->name()}, {"TRANSPORT", transportName_}});
    }
    if (call.thrown) std::rethrow_exception(call.thrown);
    return result;
}

// ---- ReporterHandle ---------------------------------------------------------------------------

namespace {

struct ReportOutput {
    std::string data;
    std::size_t maxBytes = 0;
    bool overflow = false;
};

campaignd_status reportWrite(void* ctx, const char* data, std::size_t len, campaignd_error* err) noexcept {
    auto& out = *static_cast<ReportOutput*>(ctx);
    if (len == 0) return CAMPAIGND_OK;
    if (data == nullptr) {
        campaignd_error_set(err, "write() was given NULL data");
        return CAMPAIGND_ERR_INVALID_ARGUMENT;
    }
    if (len > out.maxBytes - out.data.size()) {
        out.overflow = true;
        campaignd_error_set(err, "the report message is larger than the host's limit");
        return CAMPAIGND_ERR_FAILED;
    }
    try {
        out.data.append(data, len);
    } catch (...) {
        campaignd_error_set(err, "out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
    return CAMPAIGND_OK;
}

}  // namespace

std::string ReporterHandle::compose(const CampaignReport& report, std::size_t maxBytes) const {
    for (const auto& [field, value] : {std::pair<const char*, const std::string*>{"From", &report.from},
                                       {"To", &report.to},
                                       {"Message-ID", &report.messageId},
                                       {"the campaign name", &report.campaignName},
                                       {"the campaign subject", &report.campaignSubject},
                                       {"the final status", &report.finalStatus}})
        if (hasControlCharacter(*value))
            throw std::invalid_argument(std::string("report: ") + field + " contains a control character");

    std::vector<campaignd_report_reason> reasons(report.reasons.size());
    for (std::size_t i = 0; i < reasons.size(); ++i)
        reasons[i] = {report.reasons[i].first.c_str(), report.reasons[i].second};
    campaignd_report c{};
    c.struct_size = sizeof c;
    c.campaign_id = report.campaignId;
    c.campaign_name = report.campaignName.c_str();
    c.campaign_subject = report.campaignSubject.c_str();
    c.final_status = report.finalStatus.c_str();
    c.finished_at = report.finishedAt;
    c.total = report.total;
    c.sent = report.sent;
    c.failed = report.failed;
    c.unknown = report.unknown;
    c.skipped = report.skipped;
    c.pending = report.pending;
    c.in_flight = report.inFlight;
    c.success_percent = report.successPercent;
    c.reasons = reasons.empty() ? nullptr : reasons.data();
    c.reason_count = reasons.size();
    c.failures_csv = report.failuresCsv.empty() ? nullptr : report.failuresCsv.data();
    c.failures_csv_len = report.failuresCsv.size();
    c.failures_listed = report.failuresListed;
    c.failures_total = report.failuresTotal;
    c.from = report.from.c_str();
    c.to = report.to.c_str();
    c.message_id = report.messageId.c_str();
    c.date = report.date;

    ReportOutput out;
    out.maxBytes = maxBytes;
    campaignd_report_output output{};
    output.struct_size = sizeof output;
    output.output_ctx = &out;
    output.write = &reportWrite;

    std::array<char, kErrorBufferBytes> buffer{};
    campaignd_error err{buffer.data(), buffer.size()};
    campaignd_status status = CAMPAIGND_ERR_FAILED;
    bool threw = false;
    try {
        status = plugin_->reporterTable()->compose(plugin_->instance(), &c, &output, &err);
    } catch (...) {
        threw = true;  // against the ABI
    }
    buffer.back() = '\0';
    const std::string who = "reporter " + plugin_->name() + ": ";
    if (threw) throw ReportError(who + "compose threw an exception (not allowed by the ABI)");
    if (status != CAMPAIGND_OK) {
        const std::string message = copyBounded(buffer.data(), buffer.size() - 1);
        throw ReportError(who + (message.empty() ? "compose failed (status " + std::to_string(status) + ")" : message));
    }
    if (out.overflow) throw ReportError(who + "the message is larger than " + std::to_string(maxBytes) + " bytes");
    if (out.data.empty()) throw ReportError(who + "compose returned OK but wrote nothing");
    return std::move(out.data);
}

// ---- The bounce-source capability (ABI 1.3) -------------------------------------------------

namespace {

struct BounceCall {
    const BounceMessageSink* sink = nullptr;
    std::exception_ptr thrown;  // a failure other than "not a mail message": rethrown after
};

campaignd_status sinkBounceMessage(void* ctx, const char* id, const char* data, std::size_t len,
                                   campaignd_error* err) noexcept {
    auto* call = static_cast<BounceCall*>(ctx);
    if (call == nullptr || call->thrown) return CAMPAIGND_ERR_FAILED;
    if (data == nullptr && len != 0) {
        campaignd_error_set(err, "no message data");
        return CAMPAIGND_ERR_INVALID_ARGUMENT;
    }
    try {
        (*call->sink)(id ? copyBounded(id, 256) : std::string(), std::string_view(data ? data : "", len));
        return CAMPAIGND_OK;
    } catch (const Error& e) {
        if (e.code() == ErrorCode::InvalidArgument) {
            campaignd_error_set(err, e.what());
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        call->thrown = std::current_exception();
    } catch (...) {
        call->thrown = std::current_exception();
    }
    campaignd_error_set(err, "the host could not record the message");
    return CAMPAIGND_ERR_FAILED;
}

}  // namespace

std::vector<BounceSourceHandle> PluginHost::bounceSources() const {
    std::vector<BounceSourceHandle> out;
    for (const auto& slot : slots_)
        if (slot->running && slot->running->bounceSourceTable() != nullptr)
            out.push_back(BounceSourceHandle(slot->running.get()));
    return out;
}

BounceFetchStatus BounceSourceHandle::fetch(const std::vector<std::pair<std::string, std::string>>& settings,
                                            const BounceMessageSink& sink) const {
    const campaignd_bounce_source* table = plugin_->bounceSourceTable();
    const std::string who = "plugin " + plugin_->name() + ": ";
    if (table == nullptr) return {TransportStatus::Failed, who + "not a bounce source"};
    std::vector<const char*> keys, values;
    for (const auto& [k, v] : settings) {
        keys.push_back(k.c_str());
        values.push_back(v.c_str());
    }
    BounceCall call;
    call.sink = &sink;
    campaignd_bounce_sink cSink{};
    cSink.struct_size = sizeof cSink;
    cSink.sink_ctx = &call;
    cSink.message = &sinkBounceMessage;
    std::array<char, kErrorBufferBytes> buffer{};
    campaignd_error err{buffer.data(), buffer.size()};
    campaignd_status status = CAMPAIGND_ERR_FAILED;
    bool pluginThrew = false;
    try {
        status = table->fetch(plugin_->instance(), keys.empty() ? nullptr : keys.data(),
                              values.empty() ? nullptr : values.data(), keys.size(), &cSink, &err);
    } catch (...) {
        pluginThrew = true;  // against the ABI
    }
    buffer.back() = '\0';
    const std::string message = copyBounded(buffer.data(), buffer.size() - 1);
    if (call.thrown) std::rethrow_exception(call.thrown);
    if (pluginThrew) return {TransportStatus::Failed, who + "fetch threw an exception (not allowed by the ABI)"};
    if (status == CAMPAIGND_OK) return {};
    return {transportStatusOf(status), who + (message.empty() ? "fetch failed (status " + std::to_string(status) + ")" : message)};
}

}  // namespace campaignd::plugins

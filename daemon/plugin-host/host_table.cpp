// host_table.cpp: see host_table.h. log keeps the plugin's words but not its control over the
// journal: keys are forced into journal field syntax and the host's own fields cannot be
// overwritten. config_get hands out pointers that stay valid until the plugin is stopped.
// normalize_email and check_header_value are the daemon's own services, refusals included.
#include "plugin-host/host_table.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "plugin-host/text.h"

namespace campaignd::plugins {
namespace {

// Bounds on what the host reads from a plugin's host-table call (bytes, terminator excluded).
constexpr std::size_t kMaxLogMessageBytes = 4096;
constexpr std::size_t kMaxLogFields = 32;
constexpr std::size_t kMaxLogKeyBytes = 64;
constexpr std::size_t kMaxLogValueBytes = 1024;
constexpr std::size_t kMaxConfigKeyBytes = 256;
// log::write takes a fixed initializer_list, so this many plugin fields become structured
// fields; the rest are appended to the message as " KEY=value".
constexpr std::size_t kStructuredLogFields = 4;

void setError(campaignd_error* err, const std::string& text) { campaignd_error_set(err, text.c_str()); }

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

}  // namespace

std::unique_ptr<PluginHostContext> makeHostContext(const std::string& pluginName,
                                                   const PluginHost::ConfigLookup* config,
                                                   const HostServices* services) {
    auto context = std::make_unique<PluginHostContext>();
    context->pluginName = pluginName;
    context->config = config;
    context->services = services;
    context->table.struct_size = sizeof(campaignd_host);
    context->table.abi_major = CAMPAIGND_PLUGIN_ABI_MAJOR;
    context->table.abi_minor = CAMPAIGND_PLUGIN_ABI_MINOR;
    context->table.host_ctx = context.get();
    context->table.log = &hostLog;
    context->table.config_get = &hostConfigGet;
    context->table.normalize_email = &hostNormalizeEmail;
    context->table.check_header_value = &hostCheckHeaderValue;
    return context;
}

}  // namespace campaignd::plugins

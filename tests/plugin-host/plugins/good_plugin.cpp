// good_plugin.cpp: a well-behaved test plugin, written in C++ behind the C ABI, with switches in
// its config section: FailStart=yes fails start() with a message, ThrowInStart=yes throws (which
// the ABI forbids; the host must survive it), GarbageError=yes fails with an unterminated error
// buffer full of control bytes, Greeting=<text> is logged through the host, StopMarker=<path>
// gets "start NAME" / "stop NAME" lines appended, StartGate=<path> holds start() until that file
// exists (60 s at most), so a test can act while the daemon is starting. Built twice, as "good"
// and "good2".
#include <campaignd/plugin.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <stdexcept>
#include <string>

#ifndef GOOD_PLUGIN_NAME
#define GOOD_PLUGIN_NAME "good"
#endif

namespace {

struct Instance {
    std::string stopMarker;
};

// A value from [Plugin NAME], or nullptr; *status gets what config_get returned.
const char* configValue(const campaignd_host* host, const char* key, campaignd_status* status = nullptr,
                        std::string* error = nullptr) {
    const char* value = nullptr;
    char buffer[256] = {};
    campaignd_error err{buffer, sizeof buffer};
    const campaignd_status s = host->config_get(host->host_ctx, key, &value, &err);
    if (status) *status = s;
    if (error) *error = buffer;
    return s == CAMPAIGND_OK ? value : nullptr;
}

bool isYes(const char* value) { return value != nullptr && std::strcmp(value, "yes") == 0; }

void appendLine(const std::string& path, const std::string& line) {
    if (path.empty()) return;
    if (std::FILE* f = std::fopen(path.c_str(), "a")) {
        std::fputs(line.c_str(), f);
        std::fputc('\n', f);
        std::fclose(f);
    }
}

campaignd_status goodStart(const campaignd_host* host, void** instance, campaignd_error* err) {
    if (host->abi_major != CAMPAIGND_PLUGIN_ABI_MAJOR || host->struct_size < CAMPAIGND_HOST_MIN_SIZE) {
        campaignd_error_set(err, "unsupported host ABI");
        return CAMPAIGND_ERR_UNSUPPORTED;
    }
    if (isYes(configValue(host, "ThrowInStart"))) throw std::runtime_error("ThrowInStart=yes");
    if (isYes(configValue(host, "FailStart"))) {
        campaignd_error_set(err, "FailStart=yes is set in [Plugin " GOOD_PLUGIN_NAME "]");
        return CAMPAIGND_ERR_FAILED;
    }
    if (isYes(configValue(host, "GarbageError"))) {
        for (std::size_t i = 0; i < err->message_size; ++i) err->message[i] = (i % 2) ? '\x07' : '\xff';
        return 42;
    }

    if (const char* gate = configValue(host, "StartGate")) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (::access(gate, F_OK) != 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }

    const char* greeting = configValue(host, "Greeting");
    const campaignd_log_field fields[] = {
        {"greeting", greeting ? greeting : "(none)"},
        {"MESSAGE", "spoof"},        // reserved: the host must not let it replace the message
        {"bad key!", "x"},           // not a journal field name
        {"f4", "four"},
        {"f5", "five"},              // past the structured ones: folded into the text
        {"f6", "line1\nline2"},      // a newline must not split the log line
    };
    host->log(host->host_ctx, CAMPAIGND_LOG_NOTICE, "good plugin started", fields,
              sizeof fields / sizeof fields[0], err);

    campaignd_status missingStatus = CAMPAIGND_OK;
    std::string missingError;
    const char* missing = configValue(host, "NoSuchKey", &missingStatus, &missingError);
    const std::string probeStatus = std::to_string(missingStatus);
    const campaignd_log_field probe[] = {
        {"MISSING_STATUS", probeStatus.c_str()},
        {"MISSING_VALUE", missing ? missing : "null"},
        {"MISSING_ERROR", missingError.c_str()},
    };
    host->log(host->host_ctx, CAMPAIGND_LOG_INFO, "config probe", probe, 3, err);

    auto* state = new Instance;
    if (const char* marker = configValue(host, "StopMarker")) state->stopMarker = marker;
    appendLine(state->stopMarker, "start " GOOD_PLUGIN_NAME);
    *instance = state;
    return CAMPAIGND_OK;
}

void goodStop(void* instance) {
    auto* state = static_cast<Instance*>(instance);
    appendLine(state->stopMarker, "stop " GOOD_PLUGIN_NAME);
    delete state;
}

const campaignd_plugin_descriptor kDescriptor = {
    CAMPAIGND_PLUGIN_ABI_MAJOR,
    CAMPAIGND_PLUGIN_ABI_MINOR,
    sizeof(campaignd_plugin_descriptor),
    GOOD_PLUGIN_NAME,
    "1.2.3",
    "Test plugin with config switches",
    CAMPAIGND_CAP_TRANSPORT | CAMPAIGND_CAP_REPORTER,
    goodStart,
    goodStop,
    nullptr,  // importer (ABI 1.1): not an importer
};

}  // namespace

extern "C" CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor* campaignd_plugin_entry_v1(void) {
    return &kDescriptor;
}

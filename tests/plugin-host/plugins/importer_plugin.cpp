// importer_plugin.cpp: a test importer (ABI 1.1) driven by its input. Each input line is a
// command, numbered from 1:
//   row ADDRESS [NAME]  normalise ADDRESS through the host; valid: a row with NAME (default
//                       "Test Person"), groups "alpha" and "beta", subscribed; refused: a
//                       row_error with the host's message
//   name VALUE          check_header_value("name", VALUE) (\x01 in VALUE is byte 1); refused:
//                       a row_error with the host's message
//   progress            progress(rows so far, bytes so far)
//   options             a row_error describing the options it was given
//   probe               row_errors with what the host functions answer for misuse
//   reject / fail       return INVALID_ARGUMENT "line N: rejected" / FAILED "disk on fire"
//   null-email          a row with email NULL (the host must refuse it)
//   stubborn            from here on, keep calling the sink after it failed (against the ABI)
//   throw               throw a C++ exception out of import (against the ABI)
// Any other sink failure is returned as is. Its own status returns are what the host sees.
#include <campaignd/plugin.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Instance {
    const campaignd_host* host;
};

std::string readAll(int fd) {
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(n));
    return out;
}

std::string unescape(std::string s) {
    for (std::size_t i; (i = s.find("\\x01")) != std::string::npos;) s.replace(i, 4, "\x01");
    return s;
}

campaignd_status importerStart(const campaignd_host* host, void** instance, campaignd_error* err) {
    if (host->struct_size < CAMPAIGND_HOST_1_1_SIZE) {
        campaignd_error_set(err, "needs a 1.1 host");
        return CAMPAIGND_ERR_UNSUPPORTED;
    }
    *instance = new Instance{host};
    return CAMPAIGND_OK;
}

void importerStop(void* instance) { delete static_cast<Instance*>(instance); }

campaignd_status importerImport(void* instance, int fd, const campaignd_import_options* options,
                                const campaignd_import_sink* sink, campaignd_error* err) {
    const campaignd_host* host = static_cast<Instance*>(instance)->host;
    const std::string input = readAll(fd);
    std::uint64_t line = 0, rows = 0;
    bool stubborn = false;
    std::size_t at = 0;
    char message[512];
    campaignd_error local{message, sizeof message};
    // A sink status: returned as is, unless stubborn.
#define SINK(call)                                      \
    do {                                                \
        const campaignd_status s_ = (call);             \
        if (s_ != CAMPAIGND_OK && !stubborn) return s_; \
    } while (0)
    while (at < input.size()) {
        std::size_t end = input.find('\n', at);
        if (end == std::string::npos) end = input.size();
        const std::string text = input.substr(at, end - at);
        at = end + 1;
        ++line;
        const std::size_t space = text.find(' ');
        const std::string command = text.substr(0, space);
        const std::string argument = space == std::string::npos ? "" : text.substr(space + 1);
        if (command == "row") {
            ++rows;
            const std::size_t split = argument.find(' ');
            const std::string address = argument.substr(0, split);
            const std::string name = split == std::string::npos ? "Test Person" : argument.substr(split + 1);
            char email[CAMPAIGND_EMAIL_BUFFER_SIZE];
            message[0] = '\0';
            const campaignd_status s = host->normalize_email(host->host_ctx, address.data(), address.size(), email,
                                                             sizeof email, &local);
            if (s == CAMPAIGND_ERR_INVALID_ARGUMENT) {
                SINK(sink->row_error(sink->sink_ctx, line, message, err));
                continue;
            }
            if (s != CAMPAIGND_OK) {
                campaignd_error_set(err, message);
                return s;
            }
            const char* groups[] = {"alpha", "beta"};
            campaignd_import_row row{};
            row.struct_size = sizeof row;
            row.line = line;
            row.email = email;
            row.name = name.c_str();
            row.subscription = CAMPAIGND_IMPORT_SUBSCRIPTION_SUBSCRIBED;
            row.groups = groups;
            row.group_count = 2;
            SINK(sink->row(sink->sink_ctx, &row, err));
        } else if (command == "name") {
            ++rows;
            const std::string value = unescape(argument);
            message[0] = '\0';
            const campaignd_status s =
                host->check_header_value(host->host_ctx, "name", value.data(), value.size(), &local);
            if (s != CAMPAIGND_OK) SINK(sink->row_error(sink->sink_ctx, line, message, err));
        } else if (command == "progress") {
            SINK(sink->progress(sink->sink_ctx, rows, at, err));
        } else if (command == "options") {
            std::string d = "delimiter=" + std::to_string(static_cast<int>(options->delimiter)) + " map=";
            for (std::size_t i = 0; i < options->map_count; ++i) d += std::string(i ? "," : "") + options->map[i];
            d += " max_bytes=" + std::to_string(options->max_bytes);
            SINK(sink->row_error(sink->sink_ctx, line, d.c_str(), err));
        } else if (command == "probe") {
            char small[16];
            std::string out;
            message[0] = '\0';
            campaignd_status s = host->normalize_email(host->host_ctx, "a@b.org", 7, small, sizeof small, &local);
            out += "small=" + std::to_string(s) + " (" + message + ")";
            message[0] = '\0';
            char email[CAMPAIGND_EMAIL_BUFFER_SIZE];
            s = host->normalize_email(nullptr, "a@b.org", 7, email, sizeof email, &local);
            out += " null-ctx=" + std::to_string(s);
            s = host->check_header_value(host->host_ctx, nullptr, "ok", 2, &local);
            out += " null-field=" + std::to_string(s);
            s = host->check_header_value(host->host_ctx, "name", nullptr, 3, &local);
            out += " null-value=" + std::to_string(s);
            SINK(sink->row_error(sink->sink_ctx, line, out.c_str(), err));
        } else if (command == "reject") {
            const std::string m = "line " + std::to_string(line) + ": rejected";
            campaignd_error_set(err, m.c_str());
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        } else if (command == "fail") {
            campaignd_error_set(err, "disk on fire");
            return CAMPAIGND_ERR_FAILED;
        } else if (command == "null-email") {
            campaignd_import_row row{};
            row.struct_size = sizeof row;
            row.line = line;
            row.name = "";
            SINK(sink->row(sink->sink_ctx, &row, err));
        } else if (command == "stubborn") {
            stubborn = true;
        } else if (command == "throw") {
            throw std::runtime_error("the test importer throws");
        }
    }
#undef SINK
    return CAMPAIGND_OK;
}

const campaignd_importer kImporter = {sizeof(campaignd_importer), importerImport};

const campaignd_plugin_descriptor kDescriptor = {
    CAMPAIGND_PLUGIN_ABI_MAJOR,
    CAMPAIGND_PLUGIN_ABI_MINOR,
    sizeof(campaignd_plugin_descriptor),
    "importer",
    "1.1.0",
    "Test importer driven by its input",
    CAMPAIGND_CAP_IMPORTER,
    importerStart,
    importerStop,
    &kImporter,
};

}  // namespace

extern "C" CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor* campaignd_plugin_entry_v1(void) {
    return &kDescriptor;
}

// plugin.cpp: the csv-importer plugin behind the C ABI (importer capability, ABI 1.1). Glue
// only: the parser and the row rules are in csv_parser/recipient_import; validation is the
// host's (the daemon's own normalize_email and check_header_value). Promises: no exception leaves
// start, stop or import; a structural error is CAMPAIGND_ERR_INVALID_ARGUMENT naming the line;
// a sink's failure is returned as it is. Refuses: a host older than ABI 1.1 (start fails).
#include <campaignd/plugin.h>

#include <array>
#include <exception>
#include <new>
#include <string>

#include "recipient_import.h"

namespace {

using namespace campaignd::csv;

struct Instance {
    const campaignd_host* host = nullptr;
};

constexpr std::size_t kMessageBytes = 1024;

// The host's validation as a Validator. INVALID_ARGUMENT is a verdict on the value; any other
// failure means the host cannot validate, which stops the import.
class HostValidator final : public Validator {
public:
    explicit HostValidator(const campaignd_host* host) : host_(host) {}

    bool normalizeEmail(std::string_view address, char* out, std::string& reason) override {
        campaignd_error err{message_.data(), message_.size()};
        message_[0] = '\0';
        const campaignd_status s = host_->normalize_email(host_->host_ctx, address.data(), address.size(), out,
                                                          CAMPAIGND_EMAIL_BUFFER_SIZE, &err);
        return verdict(s, reason, "the address is not valid");
    }

    bool checkHeaderValue(const char* field, std::string_view value, std::string& reason) override {
        campaignd_error err{message_.data(), message_.size()};
        message_[0] = '\0';
        const campaignd_status s = host_->check_header_value(host_->host_ctx, field, value.data(), value.size(), &err);
        return verdict(s, reason, std::string("the ") + field + " is not allowed");
    }

private:
    bool verdict(campaignd_status s, std::string& reason, const std::string& fallback) {
        if (s == CAMPAIGND_OK) return true;
        message_.back() = '\0';
        std::string text(message_.data());
        if (s == CAMPAIGND_ERR_INVALID_ARGUMENT) {
            reason = text.empty() ? fallback : text;
            return false;
        }
        throw Stopped(s == CAMPAIGND_ERR_UNSUPPORTED ? CAMPAIGND_ERR_UNSUPPORTED : CAMPAIGND_ERR_FAILED,
                      "the host cannot validate: " + (text.empty() ? std::string("no message") : text));
    }

    const campaignd_host* host_;
    std::array<char, kMessageBytes> message_{};
};

// The C sink as a RowSink: a failure status becomes Stopped with the sink's status and message.
class CSink final : public RowSink {
public:
    explicit CSink(const campaignd_import_sink* sink) : sink_(sink) {}

    void row(const Row& r) override {
        campaignd_import_row row{};
        row.struct_size = sizeof row;
        row.line = r.line;
        row.email = r.email;
        row.name = r.name;
        row.subscription = static_cast<int32_t>(r.subscription);
        row.groups = r.groups;
        row.group_count = r.groupCount;
        check(sink_->row(sink_->sink_ctx, &row, error()));
    }
    void rowError(std::uint64_t line, const std::string& reason) override {
        check(sink_->row_error(sink_->sink_ctx, line, reason.c_str(), error()));
    }
    void progress(std::uint64_t rows, std::uint64_t bytes) override {
        if (sink_->progress != nullptr) check(sink_->progress(sink_->sink_ctx, rows, bytes, error()));
    }

private:
    campaignd_error* error() {
        message_[0] = '\0';
        err_ = {message_.data(), message_.size()};
        return &err_;
    }
    void check(campaignd_status s) {
        if (s == CAMPAIGND_OK) return;
        message_.back() = '\0';
        throw Stopped(s, message_[0] != '\0' ? std::string(message_.data()) : std::string("the sink stopped the import"));
    }

    const campaignd_import_sink* sink_;
    std::array<char, kMessageBytes> message_{};
    campaignd_error err_{};
};

campaignd_status csvStart(const campaignd_host* host, void** instance, campaignd_error* err) {
    if (host == nullptr || host->abi_major != CAMPAIGND_PLUGIN_ABI_MAJOR || host->struct_size < CAMPAIGND_HOST_1_1_SIZE ||
        host->normalize_email == nullptr || host->check_header_value == nullptr) {
        campaignd_error_set(err, "csv-importer needs a campaignd host with plugin ABI 1.1 or later "
                                 "(address validation through the host)");
        return CAMPAIGND_ERR_UNSUPPORTED;
    }
    auto* state = new (std::nothrow) Instance;
    if (state == nullptr) {
        campaignd_error_set(err, "out of memory");
        return CAMPAIGND_ERR_FAILED;
    }
    state->host = host;
    *instance = state;
    return CAMPAIGND_OK;
}

void csvStop(void* instance) { delete static_cast<Instance*>(instance); }

campaignd_status csvImport(void* instance, int fd, const campaignd_import_options* options,
                           const campaignd_import_sink* sink, campaignd_error* err) {
    try {
        constexpr std::size_t kSinkMin = CAMPAIGND_FIELD_END(campaignd_import_sink, progress);
        if (instance == nullptr || sink == nullptr || sink->struct_size < kSinkMin || sink->row == nullptr ||
            sink->row_error == nullptr) {
            campaignd_error_set(err, "csv-importer: import needs an instance and a sink with row and row_error");
            return CAMPAIGND_ERR_FAILED;
        }
        ImportSettings settings;
        if (options != nullptr) {
            constexpr std::size_t kOptionsMin = CAMPAIGND_FIELD_END(campaignd_import_options, max_bytes);
            if (options->struct_size < kOptionsMin) {
                campaignd_error_set(err, "csv-importer: the import options are too short");
                return CAMPAIGND_ERR_FAILED;
            }
            settings.delimiter = options->delimiter;
            settings.maxBytes = options->max_bytes;
            for (std::size_t i = 0; options->map != nullptr && i < options->map_count; ++i)
                if (options->map[i] != nullptr) settings.map.emplace_back(options->map[i]);
        }
        HostValidator validator(static_cast<Instance*>(instance)->host);
        CSink cSink(sink);
        RecipientImport import(settings, validator, cSink);
        importFromFd(fd, import);
        return CAMPAIGND_OK;
    } catch (const StructuralError& e) {
        campaignd_error_set(err, e.what());
        return CAMPAIGND_ERR_INVALID_ARGUMENT;
    } catch (const OptionError& e) {
        campaignd_error_set(err, e.what());
        return CAMPAIGND_ERR_INVALID_ARGUMENT;
    } catch (const Stopped& e) {
        campaignd_error_set(err, e.what());
        return e.status() == CAMPAIGND_OK ? CAMPAIGND_ERR_FAILED : e.status();
    } catch (const std::bad_alloc&) {
        campaignd_error_set(err, "csv-importer: out of memory");
        return CAMPAIGND_ERR_FAILED;
    } catch (const std::exception& e) {
        campaignd_error_set(err, (std::string("csv-importer: ") + e.what()).c_str());
        return CAMPAIGND_ERR_FAILED;
    } catch (...) {
        campaignd_error_set(err, "csv-importer: unexpected failure");
        return CAMPAIGND_ERR_FAILED;
    }
}

const campaignd_importer kImporter = {
    sizeof(campaignd_importer),
    csvImport,
};

const campaignd_plugin_descriptor kDescriptor = {
    CAMPAIGND_PLUGIN_ABI_MAJOR,
    CAMPAIGND_PLUGIN_ABI_MINOR,
    sizeof(campaignd_plugin_descriptor),
    "csv-importer",
    "1.0.0",
    "Imports recipients from CSV files (RFC 4180; comma, semicolon or tab; UTF-8)",
    CAMPAIGND_CAP_IMPORTER,
    csvStart,
    csvStop,
    &kImporter,
};

}  // namespace

extern "C" CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor* campaignd_plugin_entry_v1(void) {
    return &kDescriptor;
}

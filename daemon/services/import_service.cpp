// import_service.cpp: see import_service.h.
#include "services/import_service.h"

#include <chrono>
#include <system_error>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/metrics.h"
#include "core/clock.h"
#include "core/descriptor_io.h"
#include "core/log.h"
#include "mail/address_hash.h"
#include "rules/csv_export.h"
#include "rules/validation.h"

namespace campaignd::services {
namespace {

bool hasAllowedExtension(const std::string& name) {
    const auto dot = name.rfind('.');
    if (dot == std::string::npos || name.find('/', dot) != std::string::npos) return false;
    std::string ext = name.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext == "csv" || ext == "tsv" || ext == "txt";
}

std::string sizeText(std::uint64_t bytes) {
    if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    return std::to_string(bytes) + " bytes";
}

// Writes the row errors to the caller's descriptor as CSV, buffered, never blocking on it: a
// cancel (or the daemon stopping) is seen while it waits for a reader, and a descriptor that
// takes nothing for kErrorsIdle is given up (the report still has the first errors).
constexpr std::chrono::seconds kErrorsIdle{30};

class ErrorWriter {
public:
    ErrorWriter(int fd, std::function<bool()> stop) : fd_(fd), stop_(std::move(stop)) {
        if (fd_ >= 0) buffer_ = "line,reason\n";
    }
    void add(std::uint64_t line, std::string_view reason) {
        if (fd_ < 0) return;
        buffer_ += std::to_string(line);
        buffer_ += ',';
        buffer_ += rules::csvCell(reason);
        buffer_ += '\n';
        if (buffer_.size() >= 64 * 1024) flush();
    }
    void flush() {
        if (fd_ >= 0 && !buffer_.empty()) {
            WriteEnd end = WriteEnd::Written;
            try {
                end = writeAllTo(fd_, buffer_, stop_, kErrorsIdle);
            } catch (const std::system_error& e) {
                // The caller's errors file stopped taking data (disk full, closed pipe): the
                // import goes on; the report still has the first errors.
                log::warning(std::string("the import's errors file is no longer written: ") + e.code().message());
                fd_ = -1;
            }
            if (end == WriteEnd::Stopped) throw ImportCancelled();
            if (end == WriteEnd::TimedOut) {
                log::warning("the import's errors file took nothing for " + std::to_string(kErrorsIdle.count()) +
                             " s; it is no longer written");
                fd_ = -1;
            }
        }
        buffer_.clear();
    }

private:
    int fd_;
    std::function<bool()> stop_;
    std::string buffer_;
};

std::optional<SubscriptionStatus> toStatus(plugins::ImportSubscription s) {
    switch (s) {
        case plugins::ImportSubscription::Subscribed: return SubscriptionStatus::Subscribed;
        case plugins::ImportSubscription::Unsubscribed: return SubscriptionStatus::Unsubscribed;
        case plugins::ImportSubscription::Unspecified: break;
    }
    return std::nullopt;
}

}  // namespace

void checkImportRequest(const ImportRequest& request, int fd, std::uint64_t maxBytes,
                        storage::RecipientStore& recipients) {
    if (request.fileName != "-" && !hasAllowedExtension(request.fileName))
        throw Error(ErrorCode::InvalidArgument,
                    "\"" + request.fileName +
                        "\": only .csv, .tsv and .txt files can be imported");
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0)
        throw Error(ErrorCode::InvalidArgument, "the file descriptor cannot be read");
    if (S_ISDIR(st.st_mode)) throw Error(ErrorCode::InvalidArgument, "a directory cannot be imported");
    if (S_ISREG(st.st_mode) && maxBytes > 0 && static_cast<std::uint64_t>(st.st_size) > maxBytes)
        throw Error(ErrorCode::InvalidArgument,
                    "\"" + request.fileName + "\" is " + sizeText(static_cast<std::uint64_t>(st.st_size)) +
                        "; the limit is " + sizeText(maxBytes) + " ([Import] MaxFileSize=)");
    if (request.delimiter != 0 && request.delimiter != ',' && request.delimiter != ';' &&
        request.delimiter != '\t')
        throw Error(ErrorCode::InvalidArgument, "the delimiter must be ',', ';' or a tab");
    for (const auto& group : request.groups) {
        if (!recipients.findGroup(rules::normalizeGroupName(group)))
            throw Error(ErrorCode::NotFound, "no group named " + rules::quoteForMessage(group));
    }
}

ImportReport runImport(const ImportRequest& request, int fd, int errorsFd, std::uint64_t maxBytes,
                       storage::RecipientStore& recipients, storage::ImportStore& imports,
                       const plugins::ImporterHandle& importer,
                       const std::function<bool(std::uint64_t, std::uint64_t)>& progress) {
    checkImportRequest(request, fd, maxBytes, recipients);

    storage::BulkImportOptions options;
    options.updateNames = request.update;
    options.dryRun = request.dryRun;
    options.createGroups = request.createGroups;
    options.now = systemNow();
    for (const auto& group : request.groups)
        options.groupIds.push_back(recipients.findGroup(rules::normalizeGroupName(group))->id);

    ImportReport report;
    std::uint64_t rowsSoFar = 0, bytesSoFar = 0;
    const auto cancelled = [&] { return progress && !progress(rowsSoFar, bytesSoFar); };
    ErrorWriter errors(errorsFd, cancelled);
    auto session = imports.beginImport(options);

    plugins::ImportOptions parse;
    parse.delimiter = request.delimiter;
    parse.map = request.map;
    parse.maxBytes = maxBytes;
    plugins::ImportSink sink;
    std::string name;
    std::string hash;
    sink.row = [&](const plugins::ImportRow& row) {
        try {
            name = rules::normalizeRecipientName(row.name);  // the same limit as recipients add
        } catch (const Error& e) {
            sink.rowError(row.line, e.what());
            return;
        }
        storage::StagedRecipient r;
        r.line = row.line;
        r.email = row.email;
        r.name = name;
        r.status = toStatus(row.subscription);
        r.groups = row.groups;
        if (!request.suppressionSecret.empty()) {
            hash = mail::suppressionHash(request.suppressionSecret, row.email);
            r.addressHash = hash;
        }
        session->add(r);
    };
    sink.rowError = [&](std::uint64_t line, std::string_view reason) {
        ++report.invalid;
        if (report.firstErrors.size() < kMaxReportedImportErrors)
            report.firstErrors.push_back({line, std::string(reason)});
        errors.add(line, reason);
    };
    sink.progress = [&](std::uint64_t rows, std::uint64_t bytes) {
        rowsSoFar = rows;
        bytesSoFar = bytes;
        return !progress || progress(rows, bytes);
    };

    const auto result = importer.import(fd, parse, sink);
    errors.flush();
    switch (result.outcome) {
        case plugins::ImportOutcome::Completed: break;
        case plugins::ImportOutcome::Cancelled: throw ImportCancelled();
        case plugins::ImportOutcome::Rejected:
            throw Error(ErrorCode::InvalidArgument, "\"" + request.fileName + "\": " + result.message);
        case plugins::ImportOutcome::Failed:
            throw Error(ErrorCode::Failed, "the importer failed: " + result.message);
    }
    report.counts = session->finish();
    if (!request.dryRun) {  // finish() committed the rows
        metrics::importRows("imported", static_cast<std::uint64_t>(report.counts.imported));
        metrics::importRows("rejected", report.invalid);
    }
    return report;
}

}  // namespace campaignd::services

// import_service.h: the rules of a recipient import (the original design's CSV upload with
// its extension and size checks, and its bulk creation), run on the calling thread: the
// importer plugin parses the file and validates each row with the daemon's own validation;
// the store writes everything in one transaction, so an import is all or nothing. Row errors
// are collected (the first 100 for the report) and, when asked, written to a descriptor the
// caller gave as CSV lines "line,reason". Nothing here reads a path: files arrive as
// descriptors.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "plugin-host/plugin_host.h"
#include "storage/import_store.h"
#include "storage/recipient_store.h"

namespace campaignd::services {

inline constexpr std::size_t kMaxReportedImportErrors = 100;
inline constexpr std::uint64_t kDefaultMaxImportBytes = 512ull << 20;

struct ImportRequest {
    std::string fileName;             // as the user gave it ("-": standard input)
    char delimiter = 0;               // 0: detected
    std::vector<std::string> map;     // "email=COLUMN", ...
    std::vector<std::string> groups;  // every imported recipient joins these; each must exist
    bool update = false;              // update names of stored recipients
    bool dryRun = false;              // count everything, write nothing
    bool createGroups = false;        // groups the file's rows name may be created
    // Set by the daemon, not the caller: the suppression list's key. Each row is staged with
    // its address hash, so an address on the list is skipped (ImportCounts::suppressed).
    // Empty: no row is checked against the list.
    std::string suppressionSecret;
};

struct ImportRowError {
    std::uint64_t line = 0;
    std::string reason;
};

struct ImportReport {
    storage::ImportCounts counts;
    std::uint64_t invalid = 0;
    std::vector<ImportRowError> firstErrors;  // at most kMaxReportedImportErrors
};

// The import was cancelled (CancelImport, or the daemon is stopping); nothing was written.
class ImportCancelled : public std::runtime_error {
public:
    ImportCancelled() : std::runtime_error("the import was cancelled; nothing was written") {}
};

// What can be checked before any row is read: the file name's extension (.csv, .tsv, .txt),
// the size of a regular file against `maxBytes`, the delimiter, and that every group exists.
// Throws Error(InvalidArgument / NotFound) with a sentence for a person.
void checkImportRequest(const ImportRequest& request, int fd, std::uint64_t maxBytes,
                        storage::RecipientStore& recipients);

// Runs the import on `imports` (a store of the import's own, see ImportStore::beginImport;
// `recipients`, a view of the same store, finds the groups before the session starts).
// `progress(rows, bytes)` is called now and then; returning false cancels (ImportCancelled is
// thrown and nothing is written). A file the importer rejects as a whole
// (an unterminated quote, invalid UTF-8, no email column, too large) throws
// Error(InvalidArgument) naming the line; a failing plugin or database throws Error(Failed).
ImportReport runImport(const ImportRequest& request, int fd, int errorsFd, std::uint64_t maxBytes,
                       storage::RecipientStore& recipients, storage::ImportStore& imports,
                       const plugins::ImporterHandle& importer,
                       const std::function<bool(std::uint64_t rows, std::uint64_t bytes)>& progress);

}  // namespace campaignd::services

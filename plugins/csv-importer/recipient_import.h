// recipient_import.h: turns CSV records into recipient rows: finds the columns in the header,
// validates each row with the daemon's rules (through a Validator: the host's normalize_email
// and check_header_value in the plugin) and hands valid rows and row errors to a RowSink, in
// input order. Promises: no allocation per row once the buffers have grown (the validator's
// own aside); progress about every 65536 rows. Refuses, as a StructuralError (the whole input):
// no header, no email column, a --map column that is not in the header, more than max_bytes,
// and whatever the Parser refuses. A sink or validator stops the import by throwing Stopped.
#pragma once

#include <campaignd/plugin.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "csv_parser.h"

namespace campaignd::csv {

// Stops an import with a status to return across the ABI (the sink's own failure, or the
// host failing): not a verdict on the file.
class Stopped : public std::runtime_error {
public:
    Stopped(campaignd_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    campaignd_status status() const noexcept { return status_; }

private:
    campaignd_status status_;
};

// A bad option (an unknown map field, a bad delimiter): the caller's mistake, not the file's.
class OptionError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class Subscription : std::int32_t {
    Unspecified = CAMPAIGND_IMPORT_SUBSCRIPTION_UNSPECIFIED,
    Subscribed = CAMPAIGND_IMPORT_SUBSCRIPTION_SUBSCRIBED,
    Unsubscribed = CAMPAIGND_IMPORT_SUBSCRIPTION_UNSUBSCRIBED,
};

// A valid row; every pointer is NUL-terminated and valid during RowSink::row only.
struct Row {
    std::uint64_t line = 0;
    const char* email = "";  // normalised
    const char* name = "";
    Subscription subscription = Subscription::Unspecified;
    const char* const* groups = nullptr;
    std::size_t groupCount = 0;
};

class RowSink {
public:
    virtual ~RowSink() = default;
    virtual void row(const Row& row) = 0;
    virtual void rowError(std::uint64_t line, const std::string& reason) = 0;
    virtual void progress(std::uint64_t rows, std::uint64_t bytes) = 0;
};

// The daemon's validation. Returns false with a sentence in reason when the value is refused;
// throws Stopped when it cannot answer (the host failed or offers no validation).
class Validator {
public:
    virtual ~Validator() = default;
    // Writes the normalised address, NUL-terminated, into out (CAMPAIGND_EMAIL_BUFFER_SIZE).
    virtual bool normalizeEmail(std::string_view address, char* out, std::string& reason) = 0;
    virtual bool checkHeaderValue(const char* field, std::string_view value, std::string& reason) = 0;
};

struct ImportSettings {
    char delimiter = 0;                    // 0: detect
    std::vector<std::string> map;          // "field=Column", field one of kMapFields
    std::uint64_t maxBytes = 0;            // 0: no limit
    std::size_t maxRecordBytes = kMaxRecordBytes;
    std::uint64_t progressRows = 65536;    // progress after this many rows ...
    std::uint64_t progressBytes = 16u << 20;  // ... or this many bytes, whichever comes first
};

// The fields a map entry can name: email, name, first_name, last_name, subscription_status,
// groups (case-insensitive; '-' and ' ' work as '_').
extern const char* const kMapFields;

// Groups in a cell are separated by '|' or ';'.
inline constexpr std::string_view kGroupSeparators = "|;";
inline constexpr std::size_t kMaxGroupsPerRow = 1000;

class RecipientImport : private RecordHandler {
public:
    // Throws OptionError for a bad map entry or delimiter.
    RecipientImport(const ImportSettings& settings, Validator& validator, RowSink& sink);

    // Throws StructuralError, Stopped, or what the sink throws.
    void feed(std::string_view bytes);
    // The end of the input: the last row, the final progress. Throws like feed, and
    // StructuralError when there was no header at all.
    void finish();
    // No input for a while: reports the progress so far, so that the sink may stop the import.
    void idle();

    std::uint64_t rows() const { return rows_; }    // data rows seen (valid and invalid)
    std::uint64_t bytes() const { return bytes_; }  // bytes fed
    char delimiter() const { return parser_.delimiter(); }

private:
    enum Field { Email, Name, FirstName, LastName, Status, Groups, FieldCount };
    static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

    void onRecord(const Record& record) override;
    void readHeader(const Record& record);
    void readRow(const Record& record);
    void rowError(std::uint64_t line, std::string reason);
    std::string_view cell(const Record& record, Field field) const;

    ImportSettings settings_;
    Validator& validator_;
    RowSink& sink_;
    Parser parser_;
    std::string mapped_[FieldCount];  // column names from settings.map ("" = not mapped)
    std::size_t column_[FieldCount];  // column index per field, kNone when absent
    bool haveHeader_ = false;
    std::size_t headerColumns_ = 0;
    std::uint64_t rows_ = 0;
    std::uint64_t bytes_ = 0;
    std::uint64_t doneBytes_ = 0;  // input up to the end of the last record (for progress)
    std::uint64_t lastProgressRows_ = 0;
    std::uint64_t lastProgressBytes_ = 0;

    // Scratch, reused for every row.
    char email_[CAMPAIGND_EMAIL_BUFFER_SIZE] = {};
    std::string name_;
    std::string groupData_;
    std::vector<std::size_t> groupOffsets_;
    std::vector<const char*> groupPointers_;
    std::string reason_;
};

// Reads fd to its end in chunks of chunkBytes, feeding import, then finishes it. Throws what
// the import throws, and Stopped(CAMPAIGND_ERR_FAILED) when reading fails.
inline constexpr std::size_t kChunkBytes = std::size_t{256} << 10;
inline constexpr int kIdleProgressMs = 1000;
void importFromFd(int fd, RecipientImport& import, std::size_t chunkBytes = kChunkBytes);

}  // namespace campaignd::csv

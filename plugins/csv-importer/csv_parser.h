// csv_parser.h: a streaming CSV tokenizer (RFC 4180 and what spreadsheets really write). Bytes
// go in in chunks of any size, split anywhere (inside a quoted field, a CRLF, a UTF-8 sequence);
// whole records come out, one at a time, each with the line it starts on. Memory is bounded by
// the longest record (maxRecordBytes), not by the input. Promises: every field handed out is
// valid UTF-8. Refuses, as a StructuralError naming the line: invalid UTF-8, an unterminated
// quoted field (the line where it starts), a record longer than maxRecordBytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace campaignd::csv {

inline constexpr std::size_t kMaxRecordBytes = std::size_t{16} << 20;  // one record, all fields

// An error that rejects the whole input. what() is "line N: <sentence>".
class StructuralError : public std::runtime_error {
public:
    StructuralError(std::uint64_t line, const std::string& sentence)
        : std::runtime_error("line " + std::to_string(line) + ": " + sentence), line_(line) {}
    std::uint64_t line() const noexcept { return line_; }

private:
    std::uint64_t line_;
};

// One record. The views point into the parser's buffer and are valid during onRecord only.
struct Record {
    std::uint64_t line = 0;  // 1-based line where the record starts
    std::span<const std::string_view> fields;
    // Input bytes up to and including this record's line break (of a CRLF, the CR; a BOM counts):
    // the same however the input was cut into chunks.
    std::uint64_t endOffset = 0;
};

class RecordHandler {
public:
    virtual ~RecordHandler() = default;
    // May throw; the exception leaves feed()/finish() and the parser must not be used again.
    virtual void onRecord(const Record& record) = 0;
};

// The rules, in the order they apply:
//  - A UTF-8 byte-order mark at the very start is dropped.
//  - Records end at LF, CRLF, or a lone CR (old Mac files; Excel for Mac's "CSV (Macintosh)"),
//    each counting as one line. Inside a quoted field they are data and kept as they are.
//  - A field is quoted only when its first byte is '"'; inside, "" is one quote. Bytes after the
//    closing quote up to the next delimiter are appended literally ("ab"c -> abc). A quote
//    inside an unquoted field is an ordinary character (ab"c -> ab"c).
//  - A line with nothing on it (an empty record) is skipped; the input may end without a
//    newline. Fields are not trimmed here.
//  - The delimiter is given, or detected from the first non-empty line: the most frequent of
//    ',', ';' and TAB outside quotes (ties go in that order; none at all means ',').
class Parser {
public:
    explicit Parser(char delimiter = 0, std::size_t maxRecordBytes = kMaxRecordBytes);

    // Consumes bytes, calling handler.onRecord for each complete record. Throws StructuralError.
    void feed(std::string_view bytes, RecordHandler& handler);
    // The end of the input: hands out the last record if it had no newline. Throws
    // StructuralError (an unterminated quote).
    void finish(RecordHandler& handler);

    // The delimiter in use; 0 while it is still being detected.
    char delimiter() const { return delimiter_; }
    // The line of the next byte to be parsed (bytes still held for delimiter detection are
    // not counted yet).
    std::uint64_t line() const { return line_; }

private:
    enum class State { RecordStart, FieldStart, Unquoted, Quoted, QuoteInQuoted, AfterCr };

    bool finishPrelude(bool atEnd);
    void run(const char* p, const char* end, RecordHandler& handler);
    void endField();
    void endRecord(RecordHandler& handler, std::uint64_t endOffset);
    void checkSize();
    void setDelimiter(char delimiter);

    char delimiter_ = 0;
    std::size_t maxRecordBytes_;
    bool preludeDone_ = false;
    bool bomChecked_ = false;
    std::string prelude_;  // the first bytes, until the BOM and the delimiter are settled

    State state_ = State::RecordStart;
    bool quotedCr_ = false;          // inside quotes, the last byte was CR (CRLF counts once)
    std::uint64_t line_ = 1;         // line of the next byte
    std::uint64_t recordLine_ = 1;   // line where the current record started
    std::uint64_t quoteLine_ = 1;    // line where the current quoted field started
    std::string data_;               // the current record's field bytes, back to back
    std::vector<std::size_t> ends_;  // end offset in data_ of each finished field
    std::vector<std::string_view> fields_;
    bool special_[256] = {};         // delimiter, CR, LF: what ends an unquoted run
    std::uint64_t consumed_ = 0;     // input bytes before the current run() (the BOM included)
};

// Whether s is valid UTF-8; on false, *bad is the offset of the first byte that is not.
bool isValidUtf8(std::string_view s, std::size_t* bad = nullptr);

}  // namespace campaignd::csv

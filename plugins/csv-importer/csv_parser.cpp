// csv_parser.cpp: the tokenizer as a byte state machine that survives any chunk boundary. The
// hot path scans runs of ordinary bytes with a lookup table and appends each run at once; one
// record's bytes live in data_ (reused, so no allocation per record once it has grown), and a
// record is checked for UTF-8 field by field when it is complete (a delimiter between two halves
// of a sequence must not make it look valid).
#include "csv_parser.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace campaignd::csv {

bool isValidUtf8(std::string_view s, std::size_t* bad) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        // ASCII fast path, eight bytes at a time.
        while (i + 8 <= n) {
            std::uint64_t word;
            std::memcpy(&word, p + i, 8);
            if ((word & UINT64_C(0x8080808080808080)) != 0) break;
            i += 8;
        }
        if (i >= n) break;
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0) lo = 0xa0;  // no overlong forms
            if (c == 0xed) hi = 0x9f;  // no surrogates
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
        }
        bool ok = len != 0 && i + len <= n && p[i + 1] >= lo && p[i + 1] <= hi;
        for (std::size_t k = 2; ok && k < len; ++k) ok = p[i + k] >= 0x80 && p[i + k] <= 0xbf;
        if (!ok) {
            if (bad != nullptr) *bad = i;
            return false;
        }
        i += len;
    }
    return true;
}

Parser::Parser(char delimiter, std::size_t maxRecordBytes) : maxRecordBytes_(maxRecordBytes) {
    if (delimiter != 0) setDelimiter(delimiter);
}

void Parser::setDelimiter(char delimiter) {
    delimiter_ = delimiter;
    std::fill(std::begin(special_), std::end(special_), false);
    special_[static_cast<unsigned char>(delimiter)] = true;
    special_[static_cast<unsigned char>('\r')] = true;
    special_[static_cast<unsigned char>('\n')] = true;
}

bool Parser::finishPrelude(bool atEnd) {
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (!bomChecked_) {
        const std::size_t n = std::min(prelude_.size(), kBom.size());
        if (std::string_view(prelude_).substr(0, n) == kBom.substr(0, n)) {
            if (n < kBom.size() && !atEnd) return false;  // maybe a BOM, split by the chunking
            if (n == kBom.size()) {
                prelude_.erase(0, n);
                consumed_ += n;
            }
        }
        bomChecked_ = true;
    }
    if (delimiter_ == 0) {
        // The first non-empty line, up to a line break outside quotes.
        std::size_t i = prelude_.find_first_not_of("\r\n");
        std::size_t counts[3] = {0, 0, 0};  // ',' ';' '\t'
        bool quoted = false, complete = false;
        for (; i < prelude_.size(); ++i) {
            const char c = prelude_[i];
            if (c == '"') {
                quoted = !quoted;
            } else if (!quoted) {
                if (c == '\n' || c == '\r') {
                    complete = true;
                    break;
                }
                counts[0] += c == ',';
                counts[1] += c == ';';
                counts[2] += c == '\t';
            }
        }
        if (!complete && !atEnd) return false;
        static constexpr char kCandidates[3] = {',', ';', '\t'};
        std::size_t best = 0;
        for (std::size_t k = 1; k < 3; ++k)
            if (counts[k] > counts[best]) best = k;
        setDelimiter(kCandidates[best]);
    }
    preludeDone_ = true;
    return true;
}

void Parser::feed(std::string_view bytes, RecordHandler& handler) {
    if (!preludeDone_) {
        prelude_.append(bytes);
        if (!finishPrelude(false)) {
            if (prelude_.size() > maxRecordBytes_)
                throw StructuralError(1, "the header line is longer than " +
                                             std::to_string(maxRecordBytes_ >> 20) + " MiB");
            return;
        }
        const std::string prelude = std::move(prelude_);
        prelude_.clear();
        prelude_.shrink_to_fit();
        run(prelude.data(), prelude.data() + prelude.size(), handler);
        return;
    }
    run(bytes.data(), bytes.data() + bytes.size(), handler);
}

void Parser::finish(RecordHandler& handler) {
    if (!preludeDone_) {
        finishPrelude(true);
        const std::string prelude = std::move(prelude_);
        prelude_.clear();
        run(prelude.data(), prelude.data() + prelude.size(), handler);
    }
    switch (state_) {
        case State::RecordStart:
        case State::AfterCr:
            return;
        case State::Quoted:
            throw StructuralError(quoteLine_,
                                  "a quoted field starts here and is never closed (a '\"' is missing)");
        case State::FieldStart:
        case State::Unquoted:
        case State::QuoteInQuoted:
            endField();
            endRecord(handler, consumed_);
            state_ = State::RecordStart;
            return;
    }
}

void Parser::checkSize() {
    if (data_.size() <= maxRecordBytes_) return;
    const std::string limit = std::to_string(maxRecordBytes_ >> 20) + " MiB";
    if (state_ == State::Quoted)
        throw StructuralError(quoteLine_, "a quoted field starts here and runs on for more than " +
                                              limit + " (a closing '\"' is probably missing)");
    throw StructuralError(recordLine_, "the row is longer than " + limit);
}

void Parser::endField() { ends_.push_back(data_.size()); }

void Parser::endRecord(RecordHandler& handler, std::uint64_t endOffset) {
    // An empty line is one empty field: skip it.
    if (ends_.size() == 1 && ends_[0] == 0) {
        ends_.clear();
        return;
    }
    fields_.clear();
    std::size_t start = 0;
    for (std::size_t end : ends_) {
        const std::string_view field(data_.data() + start, end - start);
        std::size_t bad = 0;
        if (!isValidUtf8(field, &bad)) {
            // Line breaks inside quoted fields are the only ones in data_.
            std::uint64_t line = recordLine_;
            const std::size_t at = start + bad;
            for (std::size_t i = 0; i < at; ++i) {
                if (data_[i] == '\n' || (data_[i] == '\r' && (i + 1 >= data_.size() || data_[i + 1] != '\n')))
                    ++line;
            }
            throw StructuralError(line, "the text is not valid UTF-8 (save the file as UTF-8; field " +
                                            std::to_string(fields_.size() + 1) + ")");
        }
        fields_.push_back(field);
        start = end;
    }
    const Record record{recordLine_, fields_, endOffset};
    handler.onRecord(record);
    data_.clear();
    ends_.clear();
}

void Parser::run(const char* p, const char* end, RecordHandler& handler) {
    const char* const start = p;
    const std::uint64_t base = consumed_;
    consumed_ += static_cast<std::uint64_t>(end - p);  // what a throwing handler leaves is moot
    auto offset = [&] { return base + static_cast<std::uint64_t>(p - start); };
    while (p < end) {
        switch (state_) {
            case State::AfterCr:
                if (*p == '\n') ++p;
                state_ = State::RecordStart;
                break;
            case State::RecordStart:
                recordLine_ = line_;
                state_ = State::FieldStart;
                [[fallthrough]];
            case State::FieldStart:
                if (*p == '"') {
                    quoteLine_ = line_;
                    quotedCr_ = false;
                    state_ = State::Quoted;
                    ++p;
                    break;
                }
                state_ = State::Unquoted;
                [[fallthrough]];
            case State::Unquoted: {
                const char* q = p;
                while (q < end && !special_[static_cast<unsigned char>(*q)]) ++q;
                if (q != p) {
                    data_.append(p, static_cast<std::size_t>(q - p));
                    checkSize();
                    p = q;
                }
                if (p == end) break;
                const char c = *p++;
                endField();
                if (c == delimiter_) {
                    state_ = State::FieldStart;
                } else {
                    ++line_;
                    endRecord(handler, offset());
                    state_ = c == '\r' ? State::AfterCr : State::RecordStart;
                }
                break;
            }
            case State::Quoted: {
                const char* q = p;
                while (q < end && *q != '"' && *q != '\n' && *q != '\r') ++q;
                if (q != p) {
                    data_.append(p, static_cast<std::size_t>(q - p));
                    quotedCr_ = false;
                    p = q;
                }
                if (p == end) {
                    checkSize();
                    break;
                }
                const char c = *p++;
                if (c == '"') {
                    state_ = State::QuoteInQuoted;
                } else {
                    data_ += c;
                    if (c == '\r' || !quotedCr_) ++line_;  // CRLF counts as one line break
                    quotedCr_ = c == '\r';
                }
                checkSize();
                break;
            }
            case State::QuoteInQuoted: {
                const char c = *p;
                if (c == '"') {  // a doubled quote: one quote of data
                    data_ += '"';
                    quotedCr_ = false;
                    state_ = State::Quoted;
                    ++p;
                } else if (c == delimiter_) {
                    ++p;
                    endField();
                    state_ = State::FieldStart;
                } else if (c == '\n' || c == '\r') {
                    ++p;
                    endField();
                    ++line_;
                    endRecord(handler, offset());
                    state_ = c == '\r' ? State::AfterCr : State::RecordStart;
                } else {  // text after the closing quote: kept literally
                    state_ = State::Unquoted;
                }
                break;
            }
        }
    }
}

}  // namespace campaignd::csv

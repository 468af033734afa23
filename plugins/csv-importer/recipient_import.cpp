// recipient_import.cpp: the header's column map, one row's validation, and the read loop.
// Each row is checked in a fixed order (field count, email, name, subscription, groups) and
// its first problem is its reason. Scratch buffers are members, so a steady import allocates
// nothing per row here.
#include "recipient_import.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

namespace campaignd::csv {

const char* const kMapFields = "email, name, first_name, last_name, subscription_status, groups";

namespace {

struct Spelling {
    std::string_view key;  // as normalisedHeader() makes it
    int field;
};

// Header names per field, after normalisedHeader(). "email" covers E-Mail, e_mail, EMAIL ...
constexpr Spelling kSpellings[] = {
    {"email", 0},        {"emailaddress", 0},     {"mail", 0},     {"mailaddress", 0},
    {"name", 1},         {"fullname", 1},         {"displayname", 1},
    {"firstname", 2},    {"givenname", 2},        {"forename", 2},
    {"lastname", 3},     {"surname", 3},          {"familyname", 3},
    {"subscriptionstatus", 4}, {"subscription", 4}, {"status", 4},
    {"groups", 5},       {"group", 5},
};

bool isBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
    while (!s.empty() && isBlank(s.back())) s.remove_suffix(1);
    return s;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowerTrimmed(std::string_view s) {
    s = trim(s);
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

// Lower case without spaces, '-', '_' and '.': "E-Mail Address" -> "emailaddress".
std::string normalisedHeader(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == ' ' || c == '\t' || c == '-' || c == '_' || c == '.') continue;
        out += lower(c);
    }
    return out;
}

int fieldOf(std::string_view header) {
    const std::string key = normalisedHeader(header);
    for (const auto& s : kSpellings)
        if (s.key == key) return s.field;
    return -1;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

// A value fit to quote in a message: control bytes as \\xNN, at most 60 bytes (at a character
// boundary), in double quotes.
std::string quoted(std::string_view value) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out = "\"";
    std::size_t i = 0;
    for (; i < value.size() && i < 60; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (i < value.size()) {
        while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
        if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
        out += "...";
    }
    out += '"';
    return out;
}

std::string columnList(const Record& record) {
    std::string out;
    const std::size_t shown = std::min<std::size_t>(record.fields.size(), 20);
    for (std::size_t i = 0; i < shown; ++i) {
        if (i) out += ", ";
        out += quoted(trim(record.fields[i]));
    }
    if (shown < record.fields.size()) out += ", ...";
    return out;
}

std::string byteCount(std::uint64_t n) {
    if (n >= (1u << 20) && n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
    if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
    return std::to_string(n) + " bytes";
}

}  // namespace

RecipientImport::RecipientImport(const ImportSettings& settings, Validator& validator, RowSink& sink)
    : settings_(settings), validator_(validator), sink_(sink),
      parser_(settings.delimiter, settings.maxRecordBytes) {
    std::fill(std::begin(column_), std::end(column_), kNone);
    const char d = settings.delimiter;
    if (d != 0 && (d == '"' || d == '\r' || d == '\n' || (static_cast<unsigned char>(d) < 0x20 && d != '\t') ||
                   static_cast<unsigned char>(d) >= 0x7f))
        throw OptionError("the delimiter must be one printable ASCII character or a tab, and not '\"'");
    for (const std::string& entry : settings.map) {
        const std::size_t eq = entry.find('=');
        const std::string_view key = trim(std::string_view(entry).substr(0, eq));
        const std::string_view column = eq == std::string::npos ? std::string_view{} : trim(std::string_view(entry).substr(eq + 1));
        if (eq == std::string::npos || key.empty() || column.empty())
            throw OptionError("map entry " + quoted(entry) + " is not FIELD=COLUMN (fields: " + kMapFields + ")");
        const int field = fieldOf(key);
        if (field < 0)
            throw OptionError("map entry " + quoted(entry) + " names no known field (fields: " + kMapFields + ")");
        mapped_[field] = std::string(column);
    }
    name_.reserve(256);
    groupData_.reserve(256);
}

void RecipientImport::feed(std::string_view bytes) {
    if (settings_.maxBytes != 0 && bytes_ + bytes.size() > settings_.maxBytes) {
        const std::uint64_t allowed = settings_.maxBytes - bytes_;
        bytes_ += allowed;
        parser_.feed(bytes.substr(0, allowed), *this);
        throw StructuralError(parser_.line(), "the file is larger than the limit of " +
                                                  byteCount(settings_.maxBytes));
    }
    bytes_ += bytes.size();
    parser_.feed(bytes, *this);
}

void RecipientImport::idle() { sink_.progress(rows_, doneBytes_); }

void RecipientImport::finish() {
    parser_.finish(*this);
    if (!haveHeader_)
        throw StructuralError(1, "the file is empty; it needs a header row naming the columns (e.g. email,name)");
    sink_.progress(rows_, bytes_);
}

void RecipientImport::onRecord(const Record& record) {
    bool blank = true;
    for (std::string_view f : record.fields) {
        if (!trim(f).empty()) {
            blank = false;
            break;
        }
    }
    doneBytes_ = record.endOffset;
    if (blank) return;  // an empty line, or only delimiters (",,,")
    if (!haveHeader_) {
        readHeader(record);
        return;
    }
    ++rows_;
    readRow(record);
    if (rows_ - lastProgressRows_ >= settings_.progressRows ||
        doneBytes_ - lastProgressBytes_ >= settings_.progressBytes) {
        lastProgressRows_ = rows_;
        lastProgressBytes_ = doneBytes_;
        sink_.progress(rows_, doneBytes_);
    }
}

void RecipientImport::readHeader(const Record& record) {
    haveHeader_ = true;
    headerColumns_ = record.fields.size();
    for (int f = 0; f < FieldCount; ++f) {
        if (mapped_[f].empty()) continue;
        const std::string wanted = lowerTrimmed(mapped_[f]);
        for (std::size_t i = 0; i < record.fields.size(); ++i) {
            if (lowerTrimmed(record.fields[i]) == wanted) {
                column_[f] = i;
                break;
            }
        }
        if (column_[f] == kNone) {
            static constexpr const char* kNames[] = {"email", "name", "first_name", "last_name",
                                                     "subscription_status", "groups"};
            throw StructuralError(record.line, "the column " + quoted(mapped_[f]) + " mapped to " + kNames[f] +
                                                   " is not in the header (columns: " + columnList(record) + ")");
        }
    }
    for (std::size_t i = 0; i < record.fields.size(); ++i) {
        const int f = fieldOf(record.fields[i]);
        if (f >= 0 && mapped_[f].empty() && column_[f] == kNone) column_[f] = i;  // the first one wins
    }
    if (column_[Email] == kNone)
        throw StructuralError(record.line,
                              "the header has no email column (looked for email, e-mail, email address, mail; "
                              "name it with a map entry email=COLUMN); columns: " + columnList(record));
}

std::string_view RecipientImport::cell(const Record& record, Field field) const {
    const std::size_t i = column_[field];
    if (i == kNone || i >= record.fields.size()) return {};  // a missing trailing field is empty
    return record.fields[i];
}

void RecipientImport::rowError(std::uint64_t line, std::string reason) { sink_.rowError(line, reason); }

void RecipientImport::readRow(const Record& record) {
    const std::uint64_t line = record.line;
    if (record.fields.size() > headerColumns_) {
        for (std::size_t i = headerColumns_; i < record.fields.size(); ++i) {
            if (!trim(record.fields[i]).empty()) {
                return rowError(line, "the row has " + std::to_string(record.fields.size()) +
                                          " fields but the header has " + std::to_string(headerColumns_) +
                                          " columns (an unquoted value with a delimiter in it?)");
            }
        }
    }

    const std::string_view address = trim(cell(record, Email));
    if (address.empty()) return rowError(line, "no email address");
    reason_.clear();
    if (!validator_.normalizeEmail(address, email_, reason_)) return rowError(line, reason_);

    if (column_[Name] != kNone) {
        name_.assign(trim(cell(record, Name)));
    } else {
        name_.assign(trim(cell(record, FirstName)));
        const std::string_view last = trim(cell(record, LastName));
        if (!last.empty()) {
            if (!name_.empty()) name_ += ' ';
            name_ += last;
        }
    }
    if (!name_.empty() && !validator_.checkHeaderValue("name", name_, reason_)) return rowError(line, reason_);

    Subscription subscription = Subscription::Unspecified;
    const std::string_view status = trim(cell(record, Status));
    if (!status.empty()) {
        if (iequals(status, "subscribed")) {
            subscription = Subscription::Subscribed;
        } else if (iequals(status, "unsubscribed")) {
            subscription = Subscription::Unsubscribed;
        } else {
            return rowError(line, "subscription_status " + quoted(status) +
                                      " is neither subscribed nor unsubscribed (or empty)");
        }
    }

    groupData_.clear();
    groupOffsets_.clear();
    std::string_view groups = cell(record, Groups);
    while (!groups.empty()) {
        const std::size_t cut = groups.find_first_of(kGroupSeparators);
        const std::string_view group = trim(groups.substr(0, cut));
        groups = cut == std::string_view::npos ? std::string_view{} : groups.substr(cut + 1);
        if (group.empty()) continue;
        bool seen = false;
        for (std::size_t offset : groupOffsets_) {
            if (std::string_view(groupData_.data() + offset) == group) {
                seen = true;
                break;
            }
        }
        if (seen) continue;
        if (groupOffsets_.size() == kMaxGroupsPerRow)
            return rowError(line, "more than " + std::to_string(kMaxGroupsPerRow) + " groups");
        if (!validator_.checkHeaderValue("group", group, reason_)) return rowError(line, reason_);
        groupOffsets_.push_back(groupData_.size());
        groupData_.append(group);
        groupData_ += '\0';
    }
    groupPointers_.clear();
    for (std::size_t offset : groupOffsets_) groupPointers_.push_back(groupData_.data() + offset);

    Row row;
    row.line = line;
    row.email = email_;
    row.name = name_.c_str();
    row.subscription = subscription;
    row.groups = groupPointers_.empty() ? nullptr : groupPointers_.data();
    row.groupCount = groupPointers_.size();
    sink_.row(row);
}

void importFromFd(int fd, RecipientImport& import, std::size_t chunkBytes) {
    if (chunkBytes == 0) chunkBytes = kChunkBytes;
    const std::unique_ptr<char[]> buffer(new char[chunkBytes]);
    for (;;) {
        // A pipe can stall with no end in sight; the import is then still cancellable because,
        // every second without input, the sink hears of the progress so far and can stop it.
        pollfd readable{fd, POLLIN, 0};
        const int ready = ::poll(&readable, 1, kIdleProgressMs);
        if (ready == 0) {
            import.idle();
            continue;
        }
        if (ready < 0 && errno != EINTR)
            throw Stopped(CAMPAIGND_ERR_FAILED, "cannot wait for the input: " + std::error_code(errno, std::generic_category()).message());
        const ssize_t n = ::read(fd, buffer.get(), chunkBytes);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Stopped(CAMPAIGND_ERR_FAILED, "cannot read the input: " + std::error_code(errno, std::generic_category()).message());
        }
        if (n == 0) break;
        import.feed(std::string_view(buffer.get(), static_cast<std::size_t>(n)));
    }
    import.finish();
}

}  // namespace campaignd::csv

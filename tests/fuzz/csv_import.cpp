// csv_import.cpp: fuzzes the csv-importer plugin's CSV reader (plugins/csv-importer): the
// streaming Parser alone, and RecipientImport with the daemon's own validation behind its
// Validator, as the host gives it. Refusal is StructuralError (the whole file) or a row error
// (one row); nothing else may leave. Properties: the input fed whole, byte by byte and in
// uneven chunks gives the same records and the same events (chunks may split anything);
// every field is valid UTF-8; every row's address is normalised and its name a one-line
// header value; rows and row errors come in line order; progress never goes back.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "csv_parser.h"
#include "fuzz_check.h"
#include "recipient_import.h"
#include "rules/validation.h"

namespace {

using campaignd::fuzz::check;
using campaignd::fuzz::isValidUtf8;
namespace csv = campaignd::csv;
namespace rules = campaignd::rules;

// Feeds `input` to feed() in pieces: whole (step 0), or in chunks whose sizes cycle through
// `step`, 1, 2*step+1, ... so that boundaries land everywhere.
template <typename Feed>
void feedInChunks(std::string_view input, std::size_t step, Feed&& feed) {
    if (step == 0) {
        feed(input);
        return;
    }
    std::size_t size = step;
    for (std::size_t at = 0; at < input.size();) {
        const std::size_t n = std::min(size, input.size() - at);
        feed(input.substr(at, n));
        at += n;
        size = size == 1 ? step : (size % 7 == 0 ? 1 : size * 2 + 1);
    }
}

// The records as text, for comparison: "L:field|field|...".
struct Records final : csv::RecordHandler {
    std::vector<std::string> records;
    void onRecord(const csv::Record& record) override {
        std::string r = std::to_string(record.line) + ":";
        for (std::string_view field : record.fields) {
            check(isValidUtf8(field), "every field the parser hands out is valid UTF-8", field);
            r += field;
            r += '\x1f';
        }
        check(records.empty() || record.line > std::stoull(records.back()),
              "records come with increasing line numbers", r);
        records.push_back(std::move(r));
    }
};

std::vector<std::string> parse(std::string_view input, std::size_t step) {
    csv::Parser parser;
    Records out;
    try {
        feedInChunks(input, step, [&](std::string_view chunk) { parser.feed(chunk, out); });
        parser.finish(out);
    } catch (const csv::StructuralError& e) {
        check(e.line() >= 1, "a structural error names a line", e.what());
        out.records.push_back(std::string("refused: ") + e.what());
    }
    return out.records;
}

// The daemon's validation, as the host table hands it to the plugin.
struct DaemonValidator final : csv::Validator {
    bool normalizeEmail(std::string_view address, char* out, std::string& reason) override {
        try {
            const std::string n = rules::normalizeEmail(address);
            check(n.size() < CAMPAIGND_EMAIL_BUFFER_SIZE, "a normalised address fits the buffer", n);
            std::memcpy(out, n.c_str(), n.size() + 1);
            return true;
        } catch (const campaignd::Error& e) {
            reason = e.what();
            return false;
        }
    }
    bool checkHeaderValue(const char* field, std::string_view value, std::string& reason) override {
        try {
            rules::checkHeaderValue(field, value);
            return true;
        } catch (const campaignd::Error& e) {
            reason = e.what();
            return false;
        }
    }
};

// What the sink saw, as text: "row L email|name|S|g1,g2", "error L reason".
struct Events final : csv::RowSink {
    std::vector<std::string> events;
    std::uint64_t lastLine = 0;

    void row(const csv::Row& r) override {
        const std::string email = r.email;
        std::string again;
        try {
            again = rules::normalizeEmail(email);
        } catch (const campaignd::Error&) {
            check(false, "a row's address is a valid address", email);
        }
        check(again == email, "a row's address is normalised", email);
        const std::string name = r.name;
        check(isValidUtf8(name) && name.find_first_of("\r\n") == std::string::npos,
              "a row's name is one line of UTF-8", name);
        check(r.groupCount <= csv::kMaxGroupsPerRow, "a row has at most kMaxGroupsPerRow groups");
        std::string groups;
        for (std::size_t i = 0; i < r.groupCount; ++i) {
            const std::string group = r.groups[i];
            check(isValidUtf8(group), "a group name is valid UTF-8", group);
            groups += (i ? "," : "") + group;
        }
        check(r.line >= lastLine, "rows and row errors come in line order", email);
        lastLine = r.line;
        events.push_back("row " + std::to_string(r.line) + " " + email + "|" + name + "|" +
                         std::to_string(static_cast<int>(r.subscription)) + "|" + groups);
    }
    void rowError(std::uint64_t line, const std::string& reason) override {
        check(line >= lastLine, "rows and row errors come in line order", reason);
        lastLine = line;
        events.push_back("error " + std::to_string(line) + " " + reason);
    }
    // Progress is not compared between chunkings: when it comes and the byte count it gives
    // depend on where the chunks end. It only never goes back.
    std::uint64_t lastRows = 0;
    std::uint64_t lastBytes = 0;
    void progress(std::uint64_t rows, std::uint64_t bytes) override {
        check(rows >= lastRows && bytes >= lastBytes, "progress never goes back",
              std::to_string(rows) + " rows, " + std::to_string(bytes) + " bytes");
        lastRows = rows;
        lastBytes = bytes;
    }
};

std::vector<std::string> import(std::string_view input, std::size_t step) {
    csv::ImportSettings settings;
    settings.progressRows = 3;
    settings.progressBytes = 100;
    DaemonValidator validator;
    Events sink;
    csv::RecipientImport importer(settings, validator, sink);
    try {
        feedInChunks(input, step, [&](std::string_view chunk) { importer.feed(chunk); });
        importer.finish();
        check(importer.bytes() == input.size(), "every byte fed is counted");
        check(sink.lastBytes <= input.size(), "progress counts no more bytes than were fed");
    } catch (const csv::StructuralError& e) {
        sink.events.push_back(std::string("refused: ") + e.what());
    }
    return sink.events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string shown(input.substr(0, 200));

    const auto whole = parse(input, 0);
    check(parse(input, 1) == whole, "the parser gives the same records fed byte by byte", shown);
    check(parse(input, 3) == whole, "the parser gives the same records fed in uneven chunks", shown);

    const auto events = import(input, 0);
    check(import(input, 1) == events, "an import sees the same events fed byte by byte", shown);
    check(import(input, 5) == events, "an import sees the same events fed in uneven chunks", shown);
    return 0;
}

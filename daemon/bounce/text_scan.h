// text_scan.h: the text primitives the bounce parser reads notices with: addresses, RFC 3463
// status codes and SMTP reply codes in free text, the [CID:N] tag, and the field blocks of a
// delivery-status or feedback report. Pure functions on views; nothing is allocated beyond the
// results. Internal to daemon/bounce.
#pragma once

#include <algorithm>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bounce/mime_walk.h"

namespace campaignd::bounce::scan {

struct FoundAddress {
    std::string address;
    std::size_t begin = 0;  // in the searched text
    std::size_t end = 0;
};

// Fields of a delivery-status or feedback-report block, names in lower case.
struct Fields {
    std::vector<std::pair<std::string, std::string>> list;
    std::string get(std::string_view name) const {
        for (const auto& [n, v] : list) {
            if (n == name) return v;
        }
        return {};
    }
    bool has(std::string_view name) const {
        return std::any_of(list.begin(), list.end(), [&](const auto& f) { return f.first == name; });
    }
};

// A fixed list of phrases looked for in one pass over a text, for the lists the parser tries on
// every notice (copy markers, server signatures, command words). A table of the phrases' first
// two bytes lets the pass skip every position where none starts, instead of one search of the
// whole text per phrase. Phrases are compared byte for byte (give lower-case phrases a
// lower-case text); a phrase under two bytes long is not supported (never found).
class PhraseSet {
public:
    static constexpr std::size_t npos = std::string_view::npos;
    template <typename List>
    explicit PhraseSet(const List& phrases) : phrases_(std::begin(phrases), std::end(phrases)) {
        index();
    }
    // The offset of the earliest occurrence of any phrase, or npos.
    std::size_t firstOffset(std::string_view text) const;
    // The lowest index (in the list) of a phrase that occurs anywhere in the text, or npos.
    std::size_t firstListed(std::string_view text) const;
    // Every occurrence of every phrase, as (phrase index, offset), by offset.
    std::vector<std::pair<std::size_t, std::size_t>> all(std::string_view text) const;
    std::string_view operator[](std::size_t i) const { return phrases_[i]; }

private:
    void index();
    // Calls found(phrase index, offset) for each phrase at each position, left to right,
    // until it returns false.
    template <typename Found>
    void scan(std::string_view text, Found found) const;

    std::vector<std::string_view> phrases_;
    std::bitset<65536> starts_;                 // the first two bytes of some phrase
    std::vector<std::vector<std::size_t>> byFirstByte_ = std::vector<std::vector<std::size_t>>(256);
};

// A character of a domain name as the scanner takes it: letters, digits, '.', '-'.
bool isDomainChar(unsigned char c);
// The first addr-spec at or after `from` in `text` (a dot-atom local part, a dotted domain).
std::optional<FoundAddress> findAddress(std::string_view text, std::size_t from = 0);
// The first address in a header or field value ("Name <a@b>", "rfc822; a@b"), or "".
std::string addressIn(std::string_view value);
// "rfc822; a@b" -> "a@b"; "smtp; 550 ..." -> "550 ..."
std::string_view afterType(std::string_view value);
// White space runs folded to one space and trimmed, cut after `limit` bytes (a character the
// cut split is repaired).
std::string collapse(std::string_view text, std::size_t limit = 1000);
// The first enhanced status code ("5.1.1") in the text, not part of an IP address or version.
std::string findStatus(std::string_view text);
// The first SMTP reply code ("550") standing as a word in the text.
int findSmtpCode(std::string_view text);
// A whole positive decimal number (white space around it allowed), or nullopt.
std::optional<std::int64_t> positiveNumber(std::string_view digits);
// The original design's subject tag, [CID:N].
std::optional<std::int64_t> findCidTag(std::string_view text);
// Splits a delivery-status body into its blocks (separated by blank lines).
std::vector<Fields> parseFieldBlocks(std::string_view text);

}  // namespace campaignd::bounce::scan

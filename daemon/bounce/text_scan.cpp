// text_scan.cpp: the text primitives of the bounce parser (text_scan.h).
#include "bounce/text_scan.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace campaignd::bounce::scan {

using mime::toLower;
using mime::trim;

namespace {

bool isLocalChar(unsigned char c) {
    return std::isalnum(c) || std::string_view("!#$%&'*+/=?^_`{|}~.-").find(static_cast<char>(c)) !=
                                  std::string_view::npos;
}

// The local part as written, the domain in lower case.
std::string normalizeAddress(std::string_view local, std::string_view domain) {
    std::string out(local);
    out.push_back('@');
    out += toLower(domain);
    return out;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

void PhraseSet::index() {
    for (std::size_t i = 0; i < phrases_.size(); ++i) {
        const std::string_view p = phrases_[i];
        if (p.size() < 2) continue;
        const auto a = static_cast<unsigned char>(p[0]);
        const auto b = static_cast<unsigned char>(p[1]);
        starts_.set(std::size_t{a} << 8 | b);
        byFirstByte_[a].push_back(i);
    }
}

template <typename Found>
void PhraseSet::scan(std::string_view text, Found found) const {
    if (text.size() < 2) return;
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    for (std::size_t i = 0; i + 1 < n; ++i) {
        if (!starts_.test(std::size_t{bytes[i]} << 8 | bytes[i + 1])) continue;
        for (std::size_t k : byFirstByte_[bytes[i]]) {
            const std::string_view p = phrases_[k];
            if (p.size() <= n - i && std::memcmp(text.data() + i, p.data(), p.size()) == 0 && !found(k, i)) {
                return;
            }
        }
    }
}

std::size_t PhraseSet::firstOffset(std::string_view text) const {
    std::size_t at = npos;
    scan(text, [&](std::size_t, std::size_t offset) {
        at = offset;
        return false;
    });
    return at;
}

std::size_t PhraseSet::firstListed(std::string_view text) const {
    std::size_t best = npos;
    scan(text, [&](std::size_t k, std::size_t) {
        best = std::min(best, k);
        return best != 0;
    });
    return best;
}

std::vector<std::pair<std::size_t, std::size_t>> PhraseSet::all(std::string_view text) const {
    std::vector<std::pair<std::size_t, std::size_t>> found;
    scan(text, [&](std::size_t k, std::size_t offset) {
        found.emplace_back(k, offset);
        return true;
    });
    return found;
}

bool isDomainChar(unsigned char c) { return std::isalnum(c) || c == '.' || c == '-'; }

// The first addr-spec at or after `from` in `text` (a dot-atom local part, a dotted domain).
std::optional<FoundAddress> findAddress(std::string_view text, std::size_t from) {
    std::size_t at = text.find('@', from);
    while (at != std::string_view::npos) {
        std::size_t b = at;
        while (b > from && isLocalChar(static_cast<unsigned char>(text[b - 1]))) {
            --b;
        }
        std::size_t e = at + 1;
        while (e < text.size() && isDomainChar(static_cast<unsigned char>(text[e]))) {
            ++e;
        }
        std::string_view local = text.substr(b, at - b);
        std::string_view domain = text.substr(at + 1, e - at - 1);
        while (!local.empty() && local.front() == '.') {
            local.remove_prefix(1);
            ++b;
        }
        while (!domain.empty() && (domain.back() == '.' || domain.back() == '-')) {
            domain.remove_suffix(1);
            --e;
        }
        // Exchange names a recipient "SMTP=a@b" or "[SMTP:a@b]": the type is not the address's.
        for (std::string_view type : {"SMTP=", "smtp=", "SMTP:", "smtp:"}) {
            if (local.size() > type.size() && local.substr(0, type.size()) == type) {
                local.remove_prefix(type.size());
                b += type.size();
            }
        }
        if (!local.empty() && domain.find('.') != std::string_view::npos && domain.front() != '.' &&
            local.size() <= 64 && domain.size() <= 255) {
            return FoundAddress{normalizeAddress(local, domain), b, at + 1 + domain.size()};
        }
        at = text.find('@', at + 1);
    }
    return std::nullopt;
}

std::string addressIn(std::string_view value) {
    if (auto found = findAddress(value)) {
        return found->address;
    }
    return {};
}

// "rfc822; a@b" -> "a@b"; "smtp; 550 ..." -> "550 ..."
std::string_view afterType(std::string_view value) {
    std::size_t semi = value.find(';');
    if (semi != std::string_view::npos && semi < 16) {
        return trim(value.substr(semi + 1));
    }
    return trim(value);
}

std::string collapse(std::string_view text, std::size_t limit) {
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = true;
            continue;
        }
        if (space && !out.empty()) {
            out.push_back(' ');
        }
        space = false;
        out.push_back(c);
        if (out.size() >= limit) {
            break;
        }
    }
    mime::sanitizeUtf8(out);  // a cut may split a character
    return out;
}

// The first enhanced status code ("5.1.1") in the text, not part of an IP address or version.
std::string findStatus(std::string_view text) {
    for (std::size_t i = 0; i + 4 < text.size(); ++i) {
        char c = text[i];
        if ((c != '2' && c != '4' && c != '5') || text[i + 1] != '.') {
            continue;
        }
        if (i > 0 && (isDigit(text[i - 1]) || text[i - 1] == '.' ||
                      std::isalpha(static_cast<unsigned char>(text[i - 1])))) {
            continue;
        }
        std::size_t p = i + 2;
        std::size_t s1 = p;
        while (p < text.size() && isDigit(text[p]) && p - s1 < 3) ++p;
        if (p == s1 || p >= text.size() || text[p] != '.') continue;
        ++p;
        std::size_t s2 = p;
        while (p < text.size() && isDigit(text[p]) && p - s2 < 3) ++p;
        if (p == s2) continue;
        if (p < text.size() && (isDigit(text[p]) ||
                                (text[p] == '.' && p + 1 < text.size() && isDigit(text[p + 1])))) {
            continue;
        }
        return std::string(text.substr(i, p - i));
    }
    return {};
}

// The first SMTP reply code ("550") standing as a word in the text.
int findSmtpCode(std::string_view text) {
    for (std::size_t i = 0; i + 3 <= text.size(); ++i) {
        char c = text[i];
        if ((c != '2' && c != '4' && c != '5') || !isDigit(text[i + 1]) || !isDigit(text[i + 2])) {
            continue;
        }
        if (i > 0) {
            char before = text[i - 1];
            if (!(before == ' ' || before == '\t' || before == '\n' || before == '#' ||
                  before == '(' || before == ';' || before == '<' || before == '"' || before == ':')) {
                continue;
            }
        }
        if (i + 3 < text.size()) {
            char after = text[i + 3];
            if (!(after == ' ' || after == '-' || after == ':' || after == '\r' || after == '\n')) {
                continue;
            }
            // "550-5.1.1 ..." continues a reply; "480-624-2500" is a telephone number.
            if (after == '-' && i + 4 < text.size() && isDigit(text[i + 4]) &&
                !(i + 5 < text.size() && text[i + 5] == '.')) {
                continue;
            }
        }
        return (c - '0') * 100 + (text[i + 1] - '0') * 10 + (text[i + 2] - '0');
    }
    return 0;
}

std::optional<std::int64_t> positiveNumber(std::string_view digits) {
    digits = trim(digits);
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || value <= 0) {
        return std::nullopt;
    }
    return value;
}

// The original design's subject tag, [CID:N].
std::optional<std::int64_t> findCidTag(std::string_view text) {
    std::size_t pos = text.find("[CID:");
    while (pos != std::string_view::npos) {
        std::size_t p = pos + 5;
        std::size_t start = p;
        while (p < text.size() && isDigit(text[p]) && p - start < 18) ++p;
        if (p > start && p < text.size() && text[p] == ']') {
            if (auto n = positiveNumber(text.substr(start, p - start))) {
                return n;
            }
        }
        pos = text.find("[CID:", pos + 1);
    }
    return std::nullopt;
}


// Splits a delivery-status body into its blocks (separated by blank lines).
std::vector<Fields> parseFieldBlocks(std::string_view text) {
    std::vector<Fields> blocks(1);
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        std::size_t next = eol == std::string_view::npos ? text.size() : eol + 1;
        std::string_view line = text.substr(pos, next - pos);
        pos = next;
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        if (trim(line).empty()) {
            if (!blocks.back().list.empty()) blocks.emplace_back();
            continue;
        }
        if ((line[0] == ' ' || line[0] == '\t') && !blocks.back().list.empty()) {
            blocks.back().list.back().second.append(" ").append(trim(line));
            continue;
        }
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) continue;
        blocks.back().list.emplace_back(toLower(trim(line.substr(0, colon))),
                                        std::string(trim(line.substr(colon + 1))));
    }
    if (blocks.back().list.empty()) blocks.pop_back();
    return blocks;
}

}  // namespace campaignd::bounce::scan

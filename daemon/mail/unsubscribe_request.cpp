// unsubscribe_request.cpp: see unsubscribe_request.h. The header block is read by hand: five
// fields' raw values are all it needs, and Poco's MessageHeader refuses a whole block for one
// malformed line, which would make a mail client's oddity unsubscribe nobody.
#include "mail/unsubscribe_request.h"

#include <array>
#include <cctype>
#include <string>
#include <vector>

#include "core/text.h"

namespace campaignd::mail {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

constexpr std::array<std::string_view, 5> kAddressFields = {"to", "cc", "delivered-to", "x-original-to",
                                                            "envelope-to"};

struct Headers {
    std::string subject;
    std::vector<std::string> addresses;  // the values of kAddressFields, lower case
};

// The fields of the header block (up to the first empty line, or kMaxUnsubscribeHeaderBytes),
// continuation lines unfolded.
Headers readHeaders(std::string_view raw) {
    Headers h;
    raw = raw.substr(0, kMaxUnsubscribeHeaderBytes);
    std::string name, value;
    const auto flush = [&] {
        if (name.empty()) return;
        const std::string key = lower(text::trimWhitespace(name));
        if (key == "subject" && h.subject.empty()) h.subject = std::string(text::trimWhitespace(value));
        for (std::string_view field : kAddressFields)
            if (key == field) h.addresses.push_back(lower(value));
        name.clear();
        value.clear();
    };
    std::size_t pos = 0;
    while (pos < raw.size()) {
        std::size_t end = raw.find('\n', pos);
        if (end == std::string_view::npos) end = raw.size();
        std::string_view line = raw.substr(pos, end - pos);
        pos = end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;  // the end of the header block
        if (line.front() == ' ' || line.front() == '\t') {
            value += ' ';
            value += line;
            continue;
        }
        flush();
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;  // no field (an mbox "From " line)
        name = std::string(line.substr(0, colon));
        value = std::string(line.substr(colon + 1));
    }
    flush();
    return h;
}

bool isLocalChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+/=?^_`{|}~.-").find(c) != std::string_view::npos;
}

bool isDomainChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'; }

}  // namespace

std::optional<VerpAddress> unsubscribeRequest(std::string_view raw, std::string_view mailto, std::string_view secret,
                                              char delimiter) {
    const std::string address = lower(text::trimWhitespace(mailto));
    const std::size_t at = address.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == address.size() || secret.empty()) return std::nullopt;
    const std::string local = address.substr(0, at);
    const std::string atDomain = address.substr(at);  // "@example.org"

    const Headers h = readHeaders(raw);
    bool addressed = false;
    std::optional<VerpAddress> fromAddress;
    for (const std::string& value : h.addresses) {
        for (std::size_t p = value.find(atDomain); p != std::string::npos; p = value.find(atDomain, p + 1)) {
            const std::size_t after = p + atDomain.size();
            if (after < value.size() && isDomainChar(value[after])) continue;  // a longer domain
            std::size_t start = p;
            while (start > 0 && isLocalChar(value[start - 1])) --start;
            const std::string_view candidate = std::string_view(value).substr(start, p - start);
            if (candidate == local) {
                addressed = true;
            } else if (candidate.size() > local.size() + 1 && candidate.substr(0, local.size()) == local &&
                       candidate[local.size()] == delimiter) {
                addressed = true;
                if (!fromAddress) fromAddress = parsePublicToken(secret, candidate.substr(local.size() + 1));
            }
        }
    }
    if (!addressed) return std::nullopt;

    // "unsubscribe <token>", as the mailto: URI's subject has it; any case, any white space.
    const std::string_view subject = text::trimWhitespace(h.subject);
    constexpr std::string_view kWord = "unsubscribe";
    if (subject.size() > kWord.size() && lower(subject.substr(0, kWord.size())) == kWord &&
        (subject[kWord.size()] == ' ' || subject[kWord.size()] == '\t')) {
        const std::string_view token = text::trimWhitespace(subject.substr(kWord.size()));
        if (token.find_first_of(" \t") == std::string_view::npos)
            if (auto found = parsePublicToken(secret, token)) return found;
    }
    return fromAddress;
}

}  // namespace campaignd::mail

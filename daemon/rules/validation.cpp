// validation.cpp: the mailbox grammar, the header-injection check, UTF-8 validation, From
// addresses and group names. Refuses with Error(InvalidArgument) and a message of the form
// `<field> "<value as quoted>": <problem>`; the quoted value is made printable and valid UTF-8
// so that the message can travel on the bus. Accepts only what RFC 5321 calls a Mailbox with
// a dot-atom local part and a domain name; quoted local parts and address literals are refused.
//
// Why a hand-written grammar: no library packaged in Debian validates an RFC 5321 mailbox
// (the regular expressions in circulation accept "a..b@x" and refuse valid addresses, and
// libidn2 only handles the domain), so the grammar is written out here, rule by rule, with a
// message per rule. libidn2 does the part that must not be hand-written: IDNA2008/UTS #46.
#include "rules/validation.h"

#include "core/utf8.h"

#include <idn2.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/error.h"

namespace campaignd::rules {
namespace {

constexpr std::size_t kMaxLocalPart = 64;     // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxDomain = 255;       // RFC 5321 4.5.3.1.2
constexpr std::size_t kMaxLabel = 63;         // RFC 1035 2.3.4
constexpr std::size_t kMaxAddress = 254;      // RFC 5321 forward-path (256) less the "<>"
constexpr std::size_t kMaxGroupName = 200;    // characters
constexpr std::size_t kQuoteLimit = 80;       // characters of a value shown in a message

[[noreturn]] void refuse(std::string_view field, std::string_view value, std::string_view problem) {
    std::string message(field);
    message += " \"";
    message += quoteForMessage(value);
    message += "\": ";
    message += problem;
    throw Error(ErrorCode::InvalidArgument, message);
}

bool isAsciiAlpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isAsciiDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool isSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// RFC 5322 3.2.3 atext.
bool isAtext(unsigned char c) {
    if (isAsciiAlpha(c) || isAsciiDigit(c)) return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '/': case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}':
    case '~':
        return true;
    default:
        return false;
    }
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && isSpace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && isSpace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string asciiLower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool isAscii(std::string_view s) {
    for (unsigned char c : s)
        if (c >= 0x80) return false;
    return true;
}


// The offset of the first invalid UTF-8 byte, or npos.
std::size_t firstInvalidUtf8(std::string_view s) {
    char32_t cp;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t len = utf8::decode(s, i, cp);
        if (len == 0) return i;
        i += len;
    }
    return std::string_view::npos;
}

std::size_t countCodePoints(std::string_view utf8) {
    std::size_t n = 0;
    for (unsigned char c : utf8)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

std::string hexByte(unsigned char c) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    return std::string{'\\', 'x', kHex[c >> 4], kHex[c & 0xF]};
}

// Refuses control characters: C0 except tab, DEL, and the C1 range. `value` is valid UTF-8.
void checkNoControls(std::string_view field, std::string_view value) {
    char32_t cp;
    for (std::size_t i = 0; i < value.size();) {
        const std::size_t len = utf8::decode(value, i, cp);
        if (cp == '\r' || cp == '\n')
            refuse(field, value,
                   "contains a line break (CR or LF); it must be a single line (a line break "
                   "in a mail header could add headers of its own)");
        if (cp == 0) refuse(field, value, "contains a NUL character");
        if ((cp < 0x20 && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
            refuse(field, value, std::string("contains the control character ") + buf);
        }
        i += len;
    }
}

void checkLocalPart(std::string_view address, std::string_view local) {
    constexpr std::string_view field = "address";
    if (local.empty()) refuse(field, address, "the local part (before the @) is empty");
    if (local.front() == '"')
        refuse(field, address, "quoted local parts (\"...\"@domain) are not supported");
    if (!isAscii(local))
        refuse(field, address,
               "the local part contains non-ASCII characters; internationalised local parts "
               "(SMTPUTF8) are not supported");
    if (local.size() > kMaxLocalPart)
        refuse(field, address,
               "the local part is " + std::to_string(local.size()) + " octets long; at most " +
                   std::to_string(kMaxLocalPart) + " are allowed");
    if (local.front() == '.') refuse(field, address, "the local part starts with a dot");
    if (local.back() == '.') refuse(field, address, "the local part ends with a dot");
    for (std::size_t i = 0; i < local.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(local[i]);
        if (c == '.') {
            if (local[i + 1] == '.') refuse(field, address, "the local part has two dots in a row");
            continue;
        }
        if (!isAtext(c)) {
            std::string shown = (c > 0x20 && c < 0x7F) ? std::string("'") + char(c) + "'" : hexByte(c);
            if (c == '@')
                refuse(field, address, "the local part contains '@' (only one @ is allowed)");
            refuse(field, address, "the local part contains " + shown + ", which is not allowed in an address");
        }
    }
}

// Converts an internationalised domain to its A-label form. Non-transitional UTS #46
// processing (IDNA2008: "ß" stays "ß" and becomes xn--...) first; if that refuses the name as
// disallowed, transitional processing (IDNA2003 compatible mappings), as curl and wget do.
std::string toALabels(std::string_view address, const std::string& domain) {
    char* out = nullptr;
    int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(domain.c_str()),
                            reinterpret_cast<uint8_t**>(&out), IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc == IDN2_DISALLOWED) {
        rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(domain.c_str()),
                            reinterpret_cast<uint8_t**>(&out), IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
    }
    if (rc != IDN2_OK) {
        refuse("address", address,
               std::string("the internationalised domain cannot be converted to ASCII (") +
                   idn2_strerror(rc) + ")");
    }
    std::unique_ptr<char, decltype(&idn2_free)> owned(out, &idn2_free);
    return std::string(out);
}

void checkDomain(std::string_view address, std::string_view domain) {
    constexpr std::string_view field = "address";
    if (domain.size() > kMaxDomain)
        refuse(field, address,
               "the domain is " + std::to_string(domain.size()) + " octets long; at most " +
                   std::to_string(kMaxDomain) + " are allowed");
    if (domain.front() == '.') refuse(field, address, "the domain starts with a dot");
    if (domain.back() == '.') refuse(field, address, "the domain ends with a dot");
    std::size_t labels = 0;
    std::string_view last;
    std::size_t start = 0;
    while (start <= domain.size()) {
        std::size_t end = domain.find('.', start);
        if (end == std::string_view::npos) end = domain.size();
        const std::string_view label = domain.substr(start, end - start);
        if (label.empty()) refuse(field, address, "the domain has two dots in a row");
        if (label.size() > kMaxLabel)
            refuse(field, address,
                   "the domain label \"" + quoteForMessage(label) + "\" is " +
                       std::to_string(label.size()) + " octets long; at most " +
                       std::to_string(kMaxLabel) + " are allowed");
        for (unsigned char c : label) {
            if (!isAsciiAlpha(c) && !isAsciiDigit(c) && c != '-') {
                std::string shown = (c > 0x20 && c < 0x7F) ? std::string("'") + char(c) + "'" : hexByte(c);
                refuse(field, address,
                       "the domain contains " + shown +
                           "; only letters, digits, hyphens and dots are allowed");
            }
        }
        if (label.front() == '-' || label.back() == '-')
            refuse(field, address,
                   "the domain label \"" + std::string(label) +
                       "\" starts or ends with a hyphen");
        ++labels;
        last = label;
        start = end + 1;
    }
    if (labels < 2)
        refuse(field, address, "the domain needs at least two labels (like example.org)");
    bool numeric = true;
    for (unsigned char c : last) numeric = numeric && isAsciiDigit(c);
    if (numeric)
        refuse(field, address,
               "the top-level domain \"" + std::string(last) +
                   "\" is all digits; IP addresses are not supported as mail domains");
}

}  // namespace

std::string quoteForMessage(std::string_view value) {
    return utf8::escapeControls(value, /*quotes=*/true, kQuoteLimit);
}

std::string normalizeEmail(std::string_view input) {
    constexpr std::string_view field = "address";
    const std::string_view address = trim(input);
    if (address.empty()) throw Error(ErrorCode::InvalidArgument, "address is empty");
    checkUtf8(field, address);
    if (address.front() == '"')
        refuse(field, address, "quoted local parts (\"...\"@domain) are not supported");
    for (unsigned char c : address) {
        if (c < 0x20 || c == 0x7F || c == ' ')
            refuse(field, address,
                   c == ' ' ? "contains a space" : "contains the control character " + hexByte(c));
    }
    const std::size_t at = address.rfind('@');
    if (at == std::string_view::npos) refuse(field, address, "has no @ between the local part and the domain");
    const std::string_view local = address.substr(0, at);
    const std::string_view rawDomain = address.substr(at + 1);
    if (rawDomain.empty()) refuse(field, address, "the domain (after the @) is empty");
    if (rawDomain.front() == '[')
        refuse(field, address, "address literals ([IP address]) are not supported; use a domain name");
    checkLocalPart(address, local);

    std::string domain = isAscii(rawDomain) ? asciiLower(rawDomain)
                                            : toALabels(address, std::string(rawDomain));
    domain = asciiLower(domain);
    if (domain.empty()) refuse(field, address, "the domain (after the @) is empty");
    checkDomain(address, domain);

    std::string normalized(local);
    normalized += '@';
    normalized += domain;
    if (normalized.size() > kMaxAddress)
        refuse(field, address,
               "is " + std::to_string(normalized.size()) + " octets long; at most " +
                   std::to_string(kMaxAddress) + " are allowed");
    return normalized;
}

std::string emailKey(std::string_view normalizedAddress) { return asciiLower(normalizedAddress); }

void checkUtf8(std::string_view field, std::string_view value) {
    const std::size_t bad = firstInvalidUtf8(value);
    if (bad != std::string_view::npos) {
        throw Error(ErrorCode::InvalidArgument,
                    std::string(field) + " is not valid UTF-8 (the first bad byte is at offset " +
                        std::to_string(bad) + ")");
    }
}

void checkHeaderValue(std::string_view field, std::string_view value) {
    checkUtf8(field, value);
    checkNoControls(field, value);
}

std::string normalizeFromAddress(std::string_view input) {
    constexpr std::string_view field = "from address";
    checkHeaderValue(field, input);
    const std::string_view from = trim(input);
    if (from.empty()) throw Error(ErrorCode::InvalidArgument, "from address is empty");
    if (from.back() != '>') {
        if (from.find('<') != std::string_view::npos)
            refuse(field, from, "has '<' without a closing '>' at the end");
        try {
            return normalizeEmail(from);
        } catch (const Error& e) {
            throw Error(ErrorCode::InvalidArgument, std::string("from ") + e.what());
        }
    }
    const std::size_t open = from.rfind('<');
    if (open == std::string_view::npos) refuse(field, from, "has '>' without an opening '<'");
    std::string_view display = trim(from.substr(0, open));
    const std::string_view inner = from.substr(open + 1, from.size() - open - 2);

    std::string name;
    if (!display.empty() && display.front() == '"') {
        if (display.size() < 2 || display.back() != '"')
            refuse(field, from, "the quoted display name has no closing quote");
        const std::string_view quoted = display.substr(1, display.size() - 2);
        for (std::size_t i = 0; i < quoted.size(); ++i) {
            if (quoted[i] == '\\') {
                if (i + 1 == quoted.size()) refuse(field, from, "the display name ends with a backslash");
                name += quoted[++i];
            } else if (quoted[i] == '"') {
                refuse(field, from, "the display name has an unescaped quote inside");
            } else {
                name += quoted[i];
            }
        }
    } else {
        if (display.find_first_of("<>\"") != std::string_view::npos)
            refuse(field, from, "the display name contains '<', '>' or an unbalanced quote");
        name = std::string(display);
    }

    std::string address;
    try {
        address = normalizeEmail(inner);
    } catch (const Error& e) {
        throw Error(ErrorCode::InvalidArgument, std::string("from ") + e.what());
    }
    // Spaces at either end of a name, quoted or not, carry nothing, and would not survive a
    // second pass (which trims the value): without them the result normalises to itself.
    name = std::string(trim(name));
    if (name.empty()) return address;

    // Quote the display name when it holds an RFC 5322 special, so that it reads back the same.
    bool needsQuotes = false;
    for (unsigned char c : name)
        if (std::string_view("()<>[]:;@\\,.\"").find(static_cast<char>(c)) != std::string_view::npos)
            needsQuotes = true;
    std::string out;
    if (needsQuotes) {
        out += '"';
        for (char c : name) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    } else {
        out = name;
    }
    out += " <";
    out += address;
    out += '>';
    return out;
}

std::string normalizeGroupName(std::string_view input) {
    constexpr std::string_view field = "group name";
    checkUtf8(field, input);
    const std::string_view name = trim(input);
    if (name.empty()) throw Error(ErrorCode::InvalidArgument, "group name is empty");
    checkNoControls(field, name);
    const std::size_t length = countCodePoints(name);
    if (length > kMaxGroupName)
        refuse(field, name,
               "is " + std::to_string(length) + " characters long; at most " +
                   std::to_string(kMaxGroupName) + " are allowed");
    return std::string(name);
}

std::string normalizeRecipientName(std::string_view input) {
    constexpr std::string_view field = "recipient name";
    checkHeaderValue(field, input);
    const std::string_view name = trim(input);
    const std::size_t length = countCodePoints(name);
    if (length > kMaxRecipientNameChars)
        refuse(field, name,
               "is " + std::to_string(length) + " characters long; at most " +
                   std::to_string(kMaxRecipientNameChars) + " are allowed");
    return std::string(name);
}

}  // namespace campaignd::rules

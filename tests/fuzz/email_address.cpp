// email_address.cpp: fuzzes the validation of outside input in daemon/rules/validation.h:
// normalizeEmail, normalizeFromAddress, checkHeaderValue, normalizeGroupName and
// quoteForMessage, each on the whole input. Refusal is Error(InvalidArgument) and nothing else.
// What is accepted must be what the rest of campaignd assumes: a normalised address is
// printable ASCII with exactly one '@', at most 254 octets, and normalises to itself; a From
// value, a header value and a group name are single-line UTF-8; a message quote is printable.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "fuzz_check.h"
#include "rules/validation.h"

namespace {

using campaignd::Error;
using campaignd::ErrorCode;
using campaignd::fuzz::check;
using campaignd::fuzz::isValidUtf8;
namespace rules = campaignd::rules;

bool hasLineBreakOrNul(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// C0 controls other than tab, DEL, and the C1 controls (U+0080..U+009F, "\xC2\x80".."\xC2\x9F").
bool hasControl(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if ((c < 0x20 && c != '\t') || c == 0x7F) return true;
        if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
            static_cast<unsigned char>(s[i + 1]) <= 0x9F)
            return true;
    }
    return false;
}

// Calls f(); true if it returned, false if it refused with InvalidArgument. Any other
// exception escapes and is a crash: the callers map only InvalidArgument to a bus error.
template <typename F>
bool accepted(F&& f) {
    try {
        f();
        return true;
    } catch (const Error& e) {
        check(e.code() == ErrorCode::InvalidArgument, "refusals are InvalidArgument", e.what());
        check(isValidUtf8(e.what()), "a refusal's message is valid UTF-8 (it travels on the bus)",
              e.what());
        return false;
    }
}

void checkNormalizedAddress(const std::string& address, const char* what) {
    check(address.size() <= 254, what, address);
    std::size_t ats = 0;
    for (unsigned char c : address) {
        ats += c == '@';
        check(c > 0x20 && c < 0x7F, "a normalised address is printable ASCII", address);
    }
    check(ats == 1, "a normalised address holds exactly one '@'", address);
    check(!hasLineBreakOrNul(address), "a normalised address holds no CR, LF or NUL", address);
    std::string again;
    check(accepted([&] { again = rules::normalizeEmail(address); }),
          "a normalised address is accepted again", address);
    check(again == address, "normalizeEmail is idempotent", address);
    check(rules::emailKey(address) == rules::emailKey(again), "emailKey is stable", address);
}

void fuzzEmail(std::string_view input) {
    std::string address;
    if (!accepted([&] { address = rules::normalizeEmail(input); })) return;
    checkNormalizedAddress(address, "a normalised address is at most 254 octets");
}

// The address inside a normalised From value: what is between the last '<' and the final '>',
// or the whole value.
std::string_view addressOfFrom(std::string_view from) {
    if (from.empty() || from.back() != '>') return from;
    const std::size_t open = from.rfind('<');
    if (open == std::string_view::npos) return {};
    return from.substr(open + 1, from.size() - open - 2);
}

void fuzzFrom(std::string_view input) {
    std::string from;
    if (!accepted([&] { from = rules::normalizeFromAddress(input); })) return;
    check(isValidUtf8(from), "a From value is valid UTF-8", from);
    check(!hasLineBreakOrNul(from) && !hasControl(from),
          "a From value holds no line break, NUL or control character", from);
    check(accepted([&] { rules::checkHeaderValue("from", from); }),
          "a normalised From value passes checkHeaderValue", from);
    checkNormalizedAddress(std::string(addressOfFrom(from)),
                           "the address in a From value is at most 254 octets");
    // Normalising again changes nothing.
    std::string again;
    check(accepted([&] { again = rules::normalizeFromAddress(from); }),
          "a normalised From value is accepted again", from);
    check(again == from, "normalizeFromAddress is idempotent", from);
}

void fuzzHeaderValue(std::string_view input) {
    if (!accepted([&] { rules::checkHeaderValue("subject", input); })) return;
    check(isValidUtf8(input), "an accepted header value is valid UTF-8", input);
    check(!hasLineBreakOrNul(input) && !hasControl(input),
          "an accepted header value holds no line break, NUL or control character", input);
}

void fuzzGroupName(std::string_view input) {
    std::string name;
    if (!accepted([&] { name = rules::normalizeGroupName(input); })) return;
    check(!name.empty() && isValidUtf8(name), "a group name is non-empty UTF-8", name);
    check(!hasLineBreakOrNul(name) && !hasControl(name), "a group name is one printable line", name);
    std::size_t characters = 0;
    for (unsigned char c : name) characters += (c & 0xC0) != 0x80;
    check(characters <= 200, "a group name is at most 200 characters", name);
    std::string again;
    check(accepted([&] { again = rules::normalizeGroupName(name); }),
          "a normalised group name is accepted again", name);
    check(again == name, "normalizeGroupName is idempotent", name);
}

void fuzzQuote(std::string_view input) {
    const std::string quoted = rules::quoteForMessage(input);
    check(isValidUtf8(quoted), "quoteForMessage gives valid UTF-8", quoted);
    check(!hasLineBreakOrNul(quoted) && !hasControl(quoted),
          "quoteForMessage gives one printable line", quoted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzzEmail(input);
    fuzzFrom(input);
    fuzzHeaderValue(input);
    fuzzGroupName(input);
    fuzzQuote(input);
    return 0;
}

// validation.h: the checks every piece of outside input passes before it is stored, in one
// place so that the bus API, the CSV importer and the senders apply exactly the same rules.
// Each function throws Error(InvalidArgument) with a message that names the field and says
// what is wrong; none of them logs or stores anything.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace campaignd::rules {

// Validates an address as an RFC 5321 mailbox: a dot-atom local part (at most 64 octets),
// a domain of LDH labels (1-63 octets, no leading or trailing hyphen, at least two labels,
// at most 255 octets), the whole at most 254 octets. An internationalised domain is converted
// to its A-label form (IDNA2008 via libidn2). Returns the normalised address: the local part
// as given, the domain in lower case. Surrounding white space is trimmed.
std::string normalizeEmail(std::string_view address);

// The key under which addresses are unique: the normalised address in lower case.
std::string emailKey(std::string_view normalizedAddress);

// Refuses CR, LF and NUL (header injection) and other control characters in a value that
// becomes part of a mail header (subject, a display name, a from address). `field` names it
// in the error message.
void checkHeaderValue(std::string_view field, std::string_view value);

// Checks that `value` is valid UTF-8; `field` names it in the error.
void checkUtf8(std::string_view field, std::string_view value);

// A From address: either "addr@domain" or "Display Name <addr@domain>". Returns it with the
// address normalised as normalizeEmail does.
std::string normalizeFromAddress(std::string_view from);

// A group name: 1-200 characters of valid UTF-8, no control characters, trimmed.
std::string normalizeGroupName(std::string_view name);

// A recipient's name (the display name of the To header): trimmed, no control characters or
// invalid UTF-8 (checkHeaderValue), at most kMaxRecipientNameChars characters. "" is no name.
inline constexpr std::size_t kMaxRecipientNameChars = 200;
std::string normalizeRecipientName(std::string_view name);

// A value made fit to quote inside an error message: valid UTF-8, control characters, quotes
// and backslashes escaped (\r, \n, \xNN, \"), cut after 80 characters with "...".
std::string quoteForMessage(std::string_view value);

}  // namespace campaignd::rules

// smtp_settings.h: the one reading of a "[Transport NAME]" section with Plugin=smtp, shared by
// open() and validate() (ABI 1.4) so the two cannot disagree. It connects to nothing; it reads
// the password file (or systemd credential), as open() must, and the caller wipes it.
// Refuses: URLs other than smtp:// or smtps://, credentials inside the URL, credentials over a
// connection that is not TLS (except on loopback), a password file that others can read, and
// Username= without a password (or the reverse).
#pragma once

#include <campaignd/plugin.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace campaignd::smtp {

enum class StartTls { Required, Opportunistic, No };

// How long to wait for each reply (RFC 5321 4.5.3.2's minimums are the defaults) and for a
// connection. Timeout= sets every one of them to its value, as it always did.
struct Timeouts {
    std::chrono::seconds connect{30};
    std::chrono::seconds greeting{300};  // the 220, and EHLO/STARTTLS/AUTH replies
    std::chrono::seconds mail{300};
    std::chrono::seconds rcpt{300};
    std::chrono::seconds dataInit{120};  // the 354 to DATA
    std::chrono::seconds dataBlock{180}; // a write of the message body
    std::chrono::seconds dataTerm{600};  // the reply to the final "."
};

struct Settings {
    bool implicitTls = false;  // smtps://
    std::string host;          // as in the URL ("[::1]" keeps its brackets)
    long port = 0;
    bool loopback = false;
    StartTls startTls = StartTls::Required;
    std::string username;
    std::string password;  // never logged, never in a message
    std::string heloName;
    std::string caFile;
    bool chunking = true;  // BDAT (RFC 3030) when the server announces CHUNKING and PIPELINING
    Timeouts timeouts;
};

struct SettingError {
    campaignd_status status;
    std::string message;
    std::size_t key = 0;  // the index of the offending setting; the count when one is missing
};

// A host name, an IPv4 address or a bracketed IPv6 literal.
bool validHost(std::string_view host);

// On a failure error.key is the index of the setting to fix, or count when a required one is
// missing.
bool parseSettings(const char* const* keys, const char* const* values, std::size_t count, Settings& s,
                   SettingError& error);

}  // namespace campaignd::smtp

// dns_lookup.h: DNS look-ups for `campaignd-ctl dns check`, with the C library's resolver
// (glibc's res_nquery, and ns_initparse/ns_parserr to walk the answer): it is already linked,
// reads /etc/resolv.conf as every other program here does, and lets --server name one server
// (the resolver state's nsaddr_list) without a new dependency; libldns would add a library for
// four record types. parseDnsAnswer reads a server's answer, which is outside input: it checks
// every length against the message (it is fuzzed: tests/fuzz/dns_answer.cpp) and throws
// DnsParseError for anything malformed, never reading past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace campaignd::ctl {

enum class DnsType : std::uint16_t { A = 1, Mx = 15, Txt = 16, Aaaa = 28 };

class DnsParseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The records of type `type` in the answer section of the DNS message `message` (other types,
// e.g. a CNAME on the way, are skipped): TXT as its character-strings joined (RFC 7208 3.3,
// RFC 6376 3.6.2.2), MX as "PREFERENCE HOST" (no final dot), A and AAAA as text addresses.
std::vector<std::string> parseDnsAnswer(const unsigned char* message, std::size_t length, DnsType type);

struct DnsLookup {
    enum class Status { Found, NoSuchName, NoData, Failed };
    Status status = Status::Failed;
    std::vector<std::string> records;  // Found: as parseDnsAnswer gives them
    std::string error;                 // Failed: why (a timeout, SERVFAIL, a malformed answer)
    bool found() const { return status == Status::Found && !records.empty(); }
};

class DnsResolver {
public:
    // `server`: "ADDR" or "ADDR:PORT" (IPv4; port 53 by default) to ask only that server;
    // nullopt: the system's servers (/etc/resolv.conf). Throws std::invalid_argument for a
    // server that is not an IPv4 address and port.
    explicit DnsResolver(const std::optional<std::string>& server = std::nullopt);
    ~DnsResolver();
    DnsResolver(const DnsResolver&) = delete;
    DnsResolver& operator=(const DnsResolver&) = delete;

    DnsLookup lookup(const std::string& name, DnsType type);

private:
    struct State;
    State* state_;
};

}  // namespace campaignd::ctl

// dns_answer.cpp: fuzzes campaignd-ctl's reader of DNS answers (ctl/dns_lookup.h:
// parseDnsAnswer), which `dns check` feeds with whatever a DNS server sent. The first byte
// chooses the record type asked for (A, MX, TXT, AAAA), the rest is the message. Properties:
// a malformed message is refused with DnsParseError only; a TXT record is never longer than the
// message; an address is one inet_pton reads back; an MX is "PREFERENCE HOST" with a
// preference of at most 65535.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dns_lookup.h"
#include "fuzz_check.h"

namespace {

using campaignd::fuzz::check;
using campaignd::ctl::DnsType;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    static constexpr DnsType kTypes[] = {DnsType::A, DnsType::Mx, DnsType::Txt, DnsType::Aaaa};
    const DnsType type = kTypes[data[0] % 4];
    const unsigned char* message = data + 1;
    const std::size_t length = size - 1;
    std::vector<std::string> records;
    try {
        records = campaignd::ctl::parseDnsAnswer(message, length, type);
    } catch (const campaignd::ctl::DnsParseError&) {
        return 0;
    }
    for (const auto& r : records) {
        switch (type) {
        case DnsType::Txt:
            check(r.size() <= length, "a TXT record no longer than the message", r);
            break;
        case DnsType::A:
        case DnsType::Aaaa: {
            unsigned char bytes[16];
            check(::inet_pton(type == DnsType::A ? AF_INET : AF_INET6, r.c_str(), bytes) == 1,
                  "an address inet_pton reads back", r);
            break;
        }
        case DnsType::Mx: {
            const auto space = r.find(' ');
            check(space != std::string::npos && space >= 1 && space <= 5 &&
                      r.find_first_not_of("0123456789") == space && std::stoul(r.substr(0, space)) <= 65535,
                  "PREFERENCE HOST", r);
            break;
        }
        }
    }
    return 0;
}

// dns_lookup.cpp: see dns_lookup.h.
#include "dns_lookup.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace campaignd::ctl {
namespace {

std::string rcodeText(int code) {
    switch (code) {
    case HOST_NOT_FOUND: return "no such name";
    case NO_DATA: return "no record of that type";
    case TRY_AGAIN: return "no answer (a timeout, or the server failed: SERVFAIL)";
    case NO_RECOVERY: return "the server refused or failed the query";
    default: return "look-up failed";
    }
}

std::string txtText(const unsigned char* rdata, std::size_t length) {
    std::string out;
    std::size_t at = 0;
    while (at < length) {
        const std::size_t n = rdata[at++];
        if (n > length - at) throw DnsParseError("a TXT string runs past its record");
        out.append(reinterpret_cast<const char*>(rdata + at), n);
        at += n;
    }
    return out;
}

}  // namespace

std::vector<std::string> parseDnsAnswer(const unsigned char* message, std::size_t length, DnsType type) {
    if (length > 65535) throw DnsParseError("a DNS message is at most 65535 octets");
    ns_msg handle;
    if (ns_initparse(message, static_cast<int>(length), &handle) != 0) throw DnsParseError("not a DNS message");
    std::vector<std::string> out;
    const int count = ns_msg_count(handle, ns_s_an);
    for (int i = 0; i < count; ++i) {
        ns_rr rr;
        if (ns_parserr(&handle, ns_s_an, i, &rr) != 0) throw DnsParseError("a malformed answer record");
        if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != static_cast<std::uint16_t>(type)) continue;
        const unsigned char* rdata = ns_rr_rdata(rr);
        const std::size_t rdlength = ns_rr_rdlen(rr);
        switch (type) {
        case DnsType::Txt:
            out.push_back(txtText(rdata, rdlength));
            break;
        case DnsType::A:
        case DnsType::Aaaa: {
            const bool v4 = type == DnsType::A;
            if (rdlength != (v4 ? 4u : 16u)) throw DnsParseError("an address record of the wrong length");
            char text[INET6_ADDRSTRLEN] = {};
            if (!::inet_ntop(v4 ? AF_INET : AF_INET6, rdata, text, sizeof text))
                throw DnsParseError("an unreadable address");
            out.emplace_back(text);
            break;
        }
        case DnsType::Mx: {
            if (rdlength < 3) throw DnsParseError("an MX record too short");
            char host[NS_MAXDNAME] = {};
            // The exchange may be compressed: it points into the whole message, which
            // ns_name_uncompress checks against its end.
            if (ns_name_uncompress(message, message + length, rdata + 2, host, sizeof host) < 0)
                throw DnsParseError("an MX record with a malformed host name");
            out.push_back(std::to_string(ns_get16(rdata)) + " " + host);
            break;
        }
        }
    }
    return out;
}

struct DnsResolver::State {
    struct __res_state res {};
};

DnsResolver::DnsResolver(const std::optional<std::string>& server) : state_(new State) {
    if (res_ninit(&state_->res) != 0) {
        delete state_;
        throw std::runtime_error("cannot start the resolver");
    }
    // Names are looked up as given (no search list), with EDNS0 so that a 2048-bit DKIM
    // record fits one UDP answer; a truncated one is asked again over TCP by the resolver.
    state_->res.options &= ~static_cast<unsigned long>(RES_DEFNAMES | RES_DNSRCH);
    state_->res.options |= RES_USE_EDNS0;
    state_->res.retrans = 2;
    state_->res.retry = 2;
    if (server) {
        std::string address = *server;
        unsigned port = 53;
        if (const auto colon = address.find(':'); colon != std::string::npos) {
            const std::string digits = address.substr(colon + 1);
            address.resize(colon);
            if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos ||
                std::stoul(digits) == 0 || std::stoul(digits) > 65535) {
                res_nclose(&state_->res);
                delete state_;
                throw std::invalid_argument("--server: \"" + *server + "\" has no valid port");
            }
            port = static_cast<unsigned>(std::stoul(digits));
        }
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET, address.c_str(), &sin.sin_addr) != 1) {
            res_nclose(&state_->res);
            delete state_;
            throw std::invalid_argument("--server: \"" + *server + "\" is not an IPv4 address (ADDR[:PORT])");
        }
        // glibc prefers _u._ext.nsaddrs[n] (set by res_ninit for an IPv6 server of
        // resolv.conf) to nsaddr_list[n]: drop those, as res_nclose would, so --server is used.
        for (auto*& extra : state_->res._u._ext.nsaddrs) {
            std::free(extra);
            extra = nullptr;
        }
        state_->res.nscount = 1;
        state_->res.nsaddr_list[0] = sin;
    }
}

DnsResolver::~DnsResolver() {
    res_nclose(&state_->res);
    delete state_;
}

DnsLookup DnsResolver::lookup(const std::string& name, DnsType type) {
    DnsLookup result;
    std::vector<unsigned char> answer(65535);
    const int n = res_nquery(&state_->res, name.c_str(), ns_c_in, static_cast<int>(type), answer.data(),
                             static_cast<int>(answer.size()));
    if (n < 0) {
        const int code = state_->res.res_h_errno;
        result.status = code == HOST_NOT_FOUND ? DnsLookup::Status::NoSuchName
                        : code == NO_DATA      ? DnsLookup::Status::NoData
                                               : DnsLookup::Status::Failed;
        result.error = rcodeText(code);
        return result;
    }
    try {
        result.records = parseDnsAnswer(answer.data(), static_cast<std::size_t>(std::min(n, 65535)), type);
        result.status = result.records.empty() ? DnsLookup::Status::NoData : DnsLookup::Status::Found;
    } catch (const DnsParseError& e) {
        result.status = DnsLookup::Status::Failed;
        result.error = std::string("a malformed answer: ") + e.what();
    }
    return result;
}

}  // namespace campaignd::ctl

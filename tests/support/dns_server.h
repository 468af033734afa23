// dns_server.h: a private authoritative DNS server (tests/support/dns_server.py, on Debian's
// python3-dnspython) on its own loopback address and port, UDP and TCP, answering from a zone
// the test sets and may change at any time (setZone: zone-file lines with absolute names).
// Stopped by its object.
#pragma once

#include <memory>
#include <string>

#include "support/guarded_server.h"
#include "support/network.h"
#include "support/temp_dir.h"

namespace campaignd::test {

class DnsServer {
public:
    // Starts with an empty zone (every name NXDOMAIN); throws if it does not start.
    DnsServer();
    ~DnsServer();
    DnsServer(const DnsServer&) = delete;
    DnsServer& operator=(const DnsServer&) = delete;

    // Replaces the zone; the next query sees it (the file is renamed into place).
    void setZone(const std::string& zoneText);
    // "127.x.y.z:PORT", as `campaignd-ctl dns check --server` takes it.
    std::string hostPort() const { return endpoint_.hostPort(); }

private:
    TempDir dir_{"campaignd-dns"};
    Endpoint endpoint_;
    std::unique_ptr<GuardedServer> server_;
};

}  // namespace campaignd::test

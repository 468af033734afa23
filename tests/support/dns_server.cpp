// dns_server.cpp: see dns_server.h.
#include "support/dns_server.h"

#include <cstdio>
#include <stdexcept>

namespace campaignd::test {

DnsServer::DnsServer() : endpoint_(freeLoopbackEndpoint()) {
    setZone("");
    GuardedServerSpec spec;
    spec.name = "dns_server.py on " + endpoint_.hostPort();
    spec.argv = {"/usr/bin/python3", "-u", std::string(CAMPAIGND_SOURCE_DIR) + "/tests/support/dns_server.py",
                 endpoint_.address, std::to_string(endpoint_.port), (dir_ / "zone").string()};
    spec.guardRemoves = dir_.path();
    server_ = std::make_unique<GuardedServer>(std::move(spec));
    if (!server_->process().waitForOutput("listening", 20s))
        throw std::runtime_error("dns_server.py did not start on " + endpoint_.hostPort() + ": " +
                                 server_->process().err());
}

DnsServer::~DnsServer() { server_->stop(); }

void DnsServer::setZone(const std::string& zoneText) {
    writeFile(dir_ / "zone.new", zoneText);
    if (std::rename((dir_ / "zone.new").c_str(), (dir_ / "zone").c_str()) != 0)
        throw std::runtime_error("cannot write the zone in " + dir_.str());
}

}  // namespace campaignd::test

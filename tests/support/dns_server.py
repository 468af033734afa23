#!/usr/bin/python3
# dns_server.py: a small authoritative DNS server for tests (Debian's python3-dnspython parses
# and writes the messages), on one address and port, UDP and TCP. It answers from a zone file
# that it reads again for every query, so a test changes the answers by rewriting the file
# (write a new file and rename it over the old one).
#
#   dns_server.py ADDRESS PORT ZONE_FILE
#
# ZONE_FILE: zone-file lines with absolute names ("s._domainkey.example.org. 300 IN TXT
# "v=DKIM1; ..."), any number of domains, no SOA needed. A name with none of the records asked
# for is NOERROR with no answer; a name not in the file is NXDOMAIN. A CNAME is followed within
# the file. Prints "listening" once both sockets are bound; stops on SIGTERM.
import signal
import socketserver
import struct
import sys
import threading

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.zone

address, port, zone_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def load_zone():
    with open(zone_file) as f:
        text = f.read()
    return dns.zone.from_text(text or "", origin=dns.name.root, relativize=False, check_origin=False)


def answer(wire, max_size):
    query = dns.message.from_wire(wire)
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    try:
        zone = load_zone()
    except (OSError, dns.exception.DNSException) as e:
        print("zone file: %s" % e, file=sys.stderr, flush=True)
        response.set_rcode(dns.rcode.SERVFAIL)
        return response.to_wire()
    for question in query.question:
        name = question.name
        for _ in range(8):
            node = zone.get_node(name)
            if node is None:
                if not response.answer:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                break
            rdataset = node.get_rdataset(dns.rdataclass.IN, question.rdtype)
            if rdataset is not None:
                response.answer.append(dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset)))
                break
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None:
                break
            response.answer.append(dns.rrset.from_rdata_list(name, cname.ttl, list(cname)))
            name = cname[0].target
    try:
        return response.to_wire(max_size=max_size)
    except dns.exception.TooBig:
        response.answer = []
        response.flags |= dns.flags.TC
        return response.to_wire()


def udp_size(wire):
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        return 512
    return max(512, query.payload) if query.edns >= 0 else 512


class Udp(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        try:
            sock.sendto(answer(data, udp_size(data)), self.client_address)
        except dns.exception.DNSException:
            pass


class Tcp(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            head = self.request.recv(2)
            if len(head) < 2:
                return
            (length,) = struct.unpack("!H", head)
            data = b""
            while len(data) < length:
                chunk = self.request.recv(length - len(data))
                if not chunk:
                    return
                data += chunk
            try:
                reply = answer(data, 65535)
            except dns.exception.DNSException:
                return
            self.request.sendall(struct.pack("!H", len(reply)) + reply)


class UdpServer(socketserver.ThreadingUDPServer):
    daemon_threads = True


class TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


udp = UdpServer((address, port), Udp)
tcp = TcpServer((address, port), Tcp)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
threading.Thread(target=tcp.serve_forever, daemon=True).start()
print("listening", flush=True)
udp.serve_forever()

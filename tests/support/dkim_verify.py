#!/usr/bin/python3
# dkim_verify.py: the independent DKIM verifier of campaignd's tests: Debian's python3-dkim
# (dkimpy; python3-nacl for ed25519-sha256) checks every DKIM-Signature of a message, with its
# DNS lookups answered from the records given on the command line instead of a DNS server.
#
#   dkim_verify.py [--record NAME=TXT]... [--expect N] MESSAGE_FILE
#
# NAME is "<selector>._domainkey.<domain>", TXT the record's text ("v=DKIM1; k=rsa; p=...").
# Prints one line per signature ("0 rsa-sha256 d=example.org s=mail: pass"). Exit status 0
# when there are N signatures (--expect; default: at least one) and each verifies, 1 when one
# fails or the count differs, 2 for bad usage.
import argparse
import re
import sys

import dkim


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", action="append", default=[])
    parser.add_argument("--expect", type=int)
    parser.add_argument("message")
    args = parser.parse_args()
    records = {}
    for r in args.record:
        name, _, txt = r.partition("=")
        records[name.lower().rstrip(".")] = txt.encode()

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return records.get(name.lower().rstrip("."))

    with open(args.message, "rb") as f:
        message = f.read()
    head = message.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in message else message.split(b"\n\n", 1)[0]
    count = len(re.findall(rb"(?im)^dkim-signature:", head))
    ok = count > 0 if args.expect is None else count == args.expect
    if not ok:
        print(f"{count} signatures, expected {args.expect if args.expect is not None else 'at least 1'}")
    for i in range(count):
        d = dkim.DKIM(message)
        try:
            passed = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            passed = False
            print(f"{i}: {e}")
        sig = d.signature_fields if hasattr(d, "signature_fields") else {}
        algorithm = sig.get(b"a", b"?").decode()
        domain = sig.get(b"d", b"?").decode()
        selector = sig.get(b"s", b"?").decode()
        print(f"{i} {algorithm} d={domain} s={selector}: {'pass' if passed else 'fail'}")
        ok = ok and passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

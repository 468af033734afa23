#!/usr/bin/python3
"""misbehaving_imap.py: an IMAP server that misbehaves on purpose, for the imap-bounce tests.

It speaks just enough IMAP4rev1 for libcurl and the imap-bounce plugin to log in (a greeting,
CAPABILITY without STARTTLS or AUTH=, then LOGIN with any password), then misbehaves as MODE
says:

  drip-greeting  the greeting itself comes one byte a second, for ever (curl never logs in)
  drip-select    logs in, then answers SELECT one byte a second, for ever (a line that never ends)
  huge-literals  an INBOX with one unseen message (UID 1) whose FETCH response carries
                 --literals literals of --literal-mib MiB each, then a tagged OK
  empty          a well-behaved server with an empty INBOX

--misbehave N: only the first N connections misbehave; later ones are served as `empty`, so a
test can show that the next fetch works. Prints "listening" once bound, and "misbehaving N"
when connection N starts misbehaving (after the login for drip-select and huge-literals), on
stdout, flushed. Stops on SIGTERM; a connection the client drops ends its thread quietly.
"""

import argparse
import signal
import socketserver
import sys
import threading
import time

lock = threading.Lock()
connections = 0


def say(text):
    with lock:
        print(text, flush=True)


class Session(socketserver.StreamRequestHandler):
    def send(self, data):
        self.wfile.write(data if isinstance(data, bytes) else data.encode())
        self.wfile.flush()

    def drip(self, data):
        """Sends `data` one byte a second, for ever."""
        while True:
            for byte in data:
                self.send(bytes([byte]))
                time.sleep(1)

    def handle(self):
        global connections
        with lock:
            connections += 1
            number = connections
        mode = self.server.mode if number <= self.server.misbehave else "empty"
        try:
            self.serve(mode, number)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass

    def serve(self, mode, number):
        if mode == "drip-greeting":
            say("misbehaving %d" % number)
            self.drip(b"* OK misbehaving IMAP server ready, very slowly" + b"." * 1000)
        self.send("* OK [CAPABILITY IMAP4rev1] misbehaving IMAP server ready\r\n")
        while True:
            line = self.rfile.readline(65536)
            if not line:
                return
            words = line.decode("latin-1").rstrip("\r\n").split(" ")
            tag, words = words[0], [w.upper() for w in words[1:3]]
            command = " ".join(words) if words[:1] == ["UID"] else (words or [""])[0]
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1\r\n%s OK CAPABILITY done\r\n" % tag)
            elif command == "LOGIN":
                self.send("%s OK LOGIN done\r\n" % tag)
            elif command in ("SELECT", "EXAMINE"):
                if mode == "drip-select":
                    say("misbehaving %d" % number)
                    self.drip(b"* OK [UIDVALIDITY 1] still thinking" + b"." * (1 << 20))
                exists = 1 if mode == "huge-literals" else 0
                self.send("* %d EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n"
                          "%s OK [READ-WRITE] SELECT completed\r\n" % (exists, tag))
            elif command == "UID SEARCH":
                uids = " 1" if mode == "huge-literals" else ""
                self.send("* SEARCH%s\r\n%s OK SEARCH completed\r\n" % (uids, tag))
            elif command == "UID FETCH" and mode == "huge-literals":
                say("misbehaving %d" % number)
                self.huge_literals(tag)
            elif command in ("UID FETCH", "UID STORE", "UID MOVE", "NOOP"):
                self.send("%s OK %s completed\r\n" % (tag, command))
            elif command == "LOGOUT":
                self.send("* BYE logging out\r\n%s OK LOGOUT completed\r\n" % tag)
                return
            else:
                self.send("%s BAD unknown command\r\n" % tag)

    def huge_literals(self, tag):
        size = self.server.literal_mib << 20
        header = b"Subject: filler\r\n\r\n"
        chunk = b"x" * 78 + b"\r\n"
        block = header + chunk * ((1 << 20) // len(chunk))
        self.send("* 1 FETCH (UID 1")
        for i in range(self.server.literals):
            self.send(" BODY[%s] {%d}\r\n" % ("" if i == 0 else str(i), size))
            left = size
            while left > 0:
                piece = block[:left] if left < len(block) else block
                self.send(piece)
                left -= len(piece)
        self.send(")\r\n%s OK FETCH completed\r\n" % tag)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address")
    parser.add_argument("port", type=int)
    parser.add_argument("mode", choices=["drip-greeting", "drip-select", "huge-literals", "empty"])
    parser.add_argument("--misbehave", type=int, default=1 << 30, metavar="N")
    parser.add_argument("--literals", type=int, default=6)
    parser.add_argument("--literal-mib", type=int, default=32)
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = Server((args.address, args.port), Session)
    server.mode = args.mode
    server.misbehave = args.misbehave
    server.literals = args.literals
    server.literal_mib = args.literal_mib
    say("listening")
    server.serve_forever()


if __name__ == "__main__":
    main()

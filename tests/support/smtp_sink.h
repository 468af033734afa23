// smtp_sink.h: Postfix's smtp-sink as a real SMTP server for tests, on its own loopback
// address and port (freeLoopbackEndpoint; smtp-sink binds with SO_REUSEPORT, so a shared port
// would silently split the traffic). Started as `nobody` when the test runs as root, it saves
// each accepted message to a file in a private directory, which messages() reads back as
// envelope + data; fault injection by smtp-sink's own switches (5xx/4xx at chosen commands,
// drop the connection, 421 and disconnect). stop() and start() keep the SAME endpoint and the
// saved messages, for a test where the server goes away and comes back. Nothing outlives the
// test: the destructor stops the server, and a guard process stops it if the test dies.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/guarded_server.h"
#include "support/network.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace campaignd::test {

struct SmtpSinkOptions {
    // Command names as smtp-sink knows them: CONNECT, HELO, EHLO, MAIL, RCPT, DATA, "." (the
    // end of the message data), RSET, NOOP, QUIT, AUTH. Each list may be empty.
    std::vector<std::string> hardReject;  // reply hardReply (5xx) to these (-f)
    std::string hardReply;                // e.g. "550 5.1.1 <x>: User unknown" (-B); "" default
    std::vector<std::string> softReject;  // reply softReply (4xx) to these (-r)
    std::string softReply;                // e.g. "451 4.7.1 Try again later" (-b); "" default
    std::vector<std::string> dropAt;      // close the connection without a reply (-q)
    std::vector<std::string> close421At;  // reply 421 and close the connection (-Q)
    std::vector<std::string> waitAt;      // "COMMAND:SECONDS": reply only after that long (-W)
    bool advertiseAuth = true;            // false: no AUTH in the EHLO reply (-a)
    bool advertisePipelining = true;      // false: no PIPELINING in the EHLO reply (-p)
    bool saveMessages = true;             // false: discard (faster; for benchmarks)
    std::string hostname;                 // greeting and EHLO name (-h); "" is "smtp-sink"
    int maxConnections = 256;             // simultaneous sessions (-m)
};

// One message as smtp-sink saved it: the envelope from its X-* records, then the data.
struct SavedMessage {
    std::filesystem::path file;
    std::string heloArgs;                 // the argument of the last EHLO/HELO
    std::string mailArgs;                 // the MAIL FROM arguments, e.g. "<a@b> BODY=8BITMIME"
    std::string sender;                   // the address inside <...> of mailArgs ("" for <>)
    std::vector<std::string> recipients;  // the addresses inside <...> of each RCPT, in order
    // The message as received: headers and body, dot-stuffing undone. smtp-sink stores lines
    // with LF; they are given back with CRLF, as they travelled (a bare LF the client sent
    // cannot be told apart and comes back as CRLF too).
    std::string data;
};

// smtp-sink's running counters (-c): sessions ended, QUITs, and messages accepted.
struct SmtpSinkCounters {
    std::uint64_t sessions = 0;
    std::uint64_t quits = 0;
    std::uint64_t messages = 0;
};

class SmtpSink {
public:
    // Starts the server and waits until it listens. Throws std::runtime_error with smtp-sink's
    // output if it does not.
    explicit SmtpSink(SmtpSinkOptions options = {});
    ~SmtpSink();
    SmtpSink(const SmtpSink&) = delete;
    SmtpSink& operator=(const SmtpSink&) = delete;

    // Whether /usr/sbin/smtp-sink is installed (Debian package postfix).
    static bool available();

    const Endpoint& endpoint() const { return endpoint_; }
    std::string url() const { return "smtp://" + endpoint_.hostPort(); }  // smtp://ADDR:PORT

    // Stops the server (SIGTERM, then SIGKILL; idempotent). Connections in progress drop.
    void stop();
    // Starts it again on the same endpoint with the same options; waits until it listens.
    void start();
    bool running() const { return server_ && server_->started(); }

    // Every message saved so far (from all runs) that reached DATA, ordered by file time, then
    // name (messages saved within the same clock tick may come in any order). Needs
    // saveMessages. smtp-sink writes the file as the data arrives and removes it when the
    // transaction is aborted, so wait for the client's result before reading; a file of an
    // aborted transaction may still show for a moment (use waitUntil to see it go).
    std::vector<SavedMessage> messages() const;
    // Waits until at least count messages are saved; false on timeout.
    bool waitForMessages(std::size_t count, std::chrono::milliseconds timeout = 30s) const;
    // The counters of the current run (smtp-sink updates them when a session ends, at QUIT
    // and after each message's "."); zero right after start().
    SmtpSinkCounters counters() const;
    // Where smtp-sink writes the messages (inside the fixture's private directory).
    const std::filesystem::path& messagesDirectory() const { return saveDir_; }
    // Everything the current run printed (counters, errors).
    std::string output() const;

    // Parses one saved file's text (exposed for the fixture's own tests).
    static SavedMessage parseSaved(const std::string& text);

private:
    std::vector<std::string> arguments() const;

    SmtpSinkOptions options_;
    TempDir dir_;
    std::filesystem::path saveDir_;
    Endpoint endpoint_;
    std::unique_ptr<GuardedServer> server_;
};

}  // namespace campaignd::test

// smtp_client.h: the smtp plugin's ESMTP client on Boost.Asio (and boost::asio::ssl over
// OpenSSL): one Client is one connection to the relay, opened on first use and kept for the
// messages that follow. With PIPELINING (RFC 2920) a message's body and final "." go in one
// write with the next message's MAIL, RCPT and DATA, so a steady session costs about one round
// trip per message; without it, one command at a time. Replies are matched to commands in
// order: a refused MAIL, RCPT or DATA fails (5xx) or defers (4xx) that message only, and the
// next transaction begins with RSET.
// Promises: a message gets SENT/DEFERRED/FAILED from the server's own reply, or UNKNOWN when
// its final "." was written and no reply to it came (never resent), or no result when it was
// not handed over (send() then fails CONNECTION, TLS, AUTH or FAILED). Certificates are always
// verified, chain and host name. The password is never logged nor put in a message.
// Refuses: to send a byte of a message unauthenticated when Username= is set, or in clear text
// when StartTLS=required and the server offers no STARTTLS.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "smtp_settings.h"

namespace campaignd::smtp {

struct Message {
    std::uint64_t token = 0;
    std::string_view envelopeFrom;  // "" is the null sender <>
    std::string_view recipient;
    std::string_view data;  // RFC 5322 with CRLF, not dot-stuffed, without the final "."
};

enum class Outcome { Sent, Deferred, Failed, Unknown };

struct Result {
    std::uint64_t token = 0;
    Outcome outcome = Outcome::Unknown;
    int code = 0;               // the server's reply code; 0 if none
    std::string_view enhanced;  // "5.1.1" or ""
    std::string_view text;      // "550 5.1.1 ... (in reply to RCPT TO)", or what went wrong
};

// A session-level failure: every message without a result was not handed over.
enum class Failure { None, Connection, Tls, Auth, Failed };

struct SendStatus {
    Failure failure = Failure::None;
    std::string message;  // for a person; never holds the password
};

class Client {
public:
    // settings: as parseSettings made them; the client keeps its own copy of the password and
    // wipes it when destroyed.
    explicit Client(Settings settings);
    ~Client();  // QUIT (bounded wait), then closes
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Sends messages in order, reporting each message's result through onResult (at most once
    // per message, on this thread, during the call). Connects first if there is no connection
    // (or the server closed the old one while idle). Blocks until every message has a result
    // or the session failed.
    SendStatus send(const Message* messages, std::size_t count, const std::function<void(const Result&)>& onResult);

    // Connects, greets, (TLS, logs in) as send() would, hands no message over, and quits:
    // whether this session could send now. On success `found` says what it reached
    // ("smtp://relay:587 (Postfix ...): STARTTLS, logged in as news"); never the password.
    SendStatus probe(std::string& found);

    // "smtp://HOST:PORT" or "smtps://HOST:PORT", for messages.
    std::string serverName() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace campaignd::smtp

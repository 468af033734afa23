// smtp_client.h: the smtp plugin's ESMTP client on Boost.Asio (and boost::asio::ssl over
// OpenSSL). One EventLoop per plugin instance: an io_context and ONE thread, on which every
// session of the instance runs as an object (a coroutine per session, no thread per session).
// One Client is one session: a connection to the relay, opened when the first message comes
// and kept (reopened when the server closed it while idle) for the messages that follow.
// submit() queues messages and returns at once; the session keeps its pipeline full: with
// PIPELINING (RFC 2920) a message's body and final "." go in one write with the next queued
// message's MAIL, RCPT and DATA as soon as that message is there, whichever submit() brought
// it, so a steady session costs about one round trip per message; with CHUNKING too (RFC
// 3030, unless Chunking=no) messages go as BDAT, several per write and round trip; without
// PIPELINING, one command at a time. Replies are matched to commands in order: a refused MAIL, RCPT or DATA fails (5xx)
// or defers (4xx) that message only, and the next transaction begins with RSET.
// Promises: each message gets SENT/DEFERRED/FAILED from the server's own reply, or UNKNOWN when
// its final "." (or BDAT LAST) was written and no reply to it came (never resent), or no result when it was
// not handed over, which ClientEvents::ended says (once; nothing follows it). Certificates are
// always verified, chain and host name. The password is never logged nor put in a message.
// Refuses: to send a byte of a message unauthenticated when Username= is set, or in clear text
// when StartTLS=required and the server offers no STARTTLS.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "smtp_settings.h"

namespace campaignd::smtp {

// A message the client owns from submit() until its result.
struct OwnedMessage {
    std::uint64_t token = 0;
    std::string envelopeFrom;  // "" is the null sender <>
    std::string recipient;
    std::string data;  // RFC 5322 with CRLF, not dot-stuffed, without the final "."
};

enum class Outcome { Sent, Deferred, Failed, Unknown };

struct Result {
    std::uint64_t token = 0;
    Outcome outcome = Outcome::Unknown;
    int code = 0;               // the server's reply code; 0 if none
    std::string_view enhanced;  // "5.1.1" or ""
    std::string_view text;      // "550 5.1.1 ... (in reply to RCPT TO)", or what went wrong
};

// A session-level failure: every message without a result was not handed over. Cancelled:
// close() came before those messages were written.
enum class Failure { None, Connection, Tls, Auth, Failed, Cancelled };

struct SendStatus {
    Failure failure = Failure::None;
    std::string message;  // for a person; never holds the password
};

// The plugin instance's event thread. Destroy it only after every Client on it.
class EventLoop {
public:
    EventLoop();
    ~EventLoop();  // stops and joins the thread
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    struct Impl;
    Impl& impl() { return *impl_; }

private:
    std::unique_ptr<Impl> impl_;
};

// Called on the event thread, never two at once for one client, never after close() returned.
// They must be quick and must not call into the client.
struct ClientEvents {
    std::function<void(const Result&)> result;
    std::function<void(const SendStatus&)> ended;  // once; failure != None
};

class Client {
public:
    // settings: as parseSettings made them; the client keeps its own copy of the password and
    // wipes it when destroyed. Connects when the first message is submitted.
    Client(EventLoop& loop, Settings settings, ClientEvents events);
    ~Client();  // close()
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Queues the messages (taken by move) and returns at once. Thread-safe. When the session
    // has ended, takes nothing and returns why (the failure ended() reported).
    SendStatus submit(std::vector<OwnedMessage> messages);

    // Waits (within the reply time-outs) for the messages already written to get their
    // results, reports the ones not written yet through ended(Cancelled), QUITs and closes.
    // No event after it returns. Idempotent. Never call it on the event thread.
    void close();

    // Connects, greets, (TLS, logs in) as a session would, hands no message over, and quits:
    // whether this session could send now. On success `found` says what it reached
    // ("smtp://relay:587 (Postfix ...): STARTTLS, logged in as news"); never the password.
    // Blocks; only on a client nothing was submitted to.
    SendStatus probe(std::string& found);

    // "smtp://HOST:PORT" or "smtps://HOST:PORT", for messages.
    std::string serverName() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace campaignd::smtp

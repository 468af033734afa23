// smtp_client.cpp: see smtp_client.h. Each session is a C++20 coroutine on the instance's
// io_context: it waits for work, connects (greeting, EHLO, STARTTLS, AUTH), then moves
// messages with two coroutines sharing its state on the one thread: the writer composes and
// writes whatever may go now (a body whose 354 came, the next queued message's commands), the
// reader matches replies to the commands in order. Every read and write has a deadline timer
// that closes the socket when it passes, which ends the operation: every wait is bounded
// without a thread of its own.
// Why our own client: libcurl cannot pipeline SMTP, Poco's SMTPClientSession is synchronous
// and does not pipeline, libESMTP blocks a thread per session (issue 14); Asio is already the
// project's event library, and the reply reader (smtp_reply.h) is fuzzed.
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without including it

#include "smtp_client.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <deque>
#include <map>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "smtp_reply.h"

namespace campaignd::smtp {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
template <class T>
using awaitable = asio::awaitable<T>;
constexpr auto kAwait = asio::use_awaitable;

std::string hostOnly(const std::string& host) {  // "[::1]" -> "::1"
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
    return host;
}

bool isAddressLiteral(const std::string& host) {
    error_code ec;
    asio::ip::make_address(hostOnly(host), ec);
    return !ec;
}

std::string base64(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

void wipe(std::string& s) {
    ::explicit_bzero(s.data(), s.size());
    s.clear();
}

// The message as it goes on the wire after DATA: dot-stuffed, ending in CRLF "." CRLF.
void appendBody(std::string& out, std::string_view d) {
    if (!d.empty() && d.front() == '.') out += '.';
    std::size_t from = 0;
    for (std::size_t at = d.find("\n.", from); at != std::string_view::npos; at = d.find("\n.", from)) {
        out.append(d.data() + from, at + 1 - from);
        out += '.';
        from = at + 1;
    }
    out.append(d.data() + from, d.size() - from);
    if (!d.empty() && d.back() != '\n') out += d.back() == '\r' ? "\n" : "\r\n";
    out += ".\r\n";
}

bool hasEightBit(std::string_view d) {
    for (const char c : d)
        if (static_cast<unsigned char>(c) >= 0x80) return true;
    return false;
}


// What an awaited reply answers. Dot: the final "." of a message whose body went out.
// EmptyDot: a lone "." after a 354 to a transaction whose recipient was refused (a server
// should not say 354 then, but some do): its reply says nothing about any message.
// Bdat: "BDAT n LAST" with the whole message (RFC 3030): its reply is the message's verdict.
enum class Awaits : std::uint8_t { Rset, Mail, Rcpt, Data, Dot, EmptyDot, Bdat };

const char* inReplyTo(Awaits what) {
    switch (what) {
    case Awaits::Mail: return "MAIL FROM";
    case Awaits::Rcpt: return "RCPT TO";
    case Awaits::Data: return "DATA";
    case Awaits::Rset: return "RSET";
    case Awaits::Bdat: return "BDAT";
    default: return "end of DATA";
    }
}

using MessagePtr = std::shared_ptr<OwnedMessage>;

struct Expect {
    Awaits what;
    MessagePtr message;
};

// A wake-up between the coroutines of one session (all on the event thread): notify() ends
// the current or the next wait().
class Signal {
public:
    explicit Signal(asio::io_context& io) : timer_(io) {}
    awaitable<void> wait() {
        if (!fired_) {
            timer_.expires_at(asio::steady_timer::time_point::max());
            error_code ec;
            co_await timer_.async_wait(asio::redirect_error(kAwait, ec));
        }
        fired_ = false;
    }
    void notify() {
        fired_ = true;
        timer_.cancel();
    }

private:
    asio::steady_timer timer_;
    bool fired_ = false;
};

}  // namespace

// A TLS client context (an OpenSSL SSL_CTX: the CA store alone is hundreds of KiB once
// loaded), shared by the sessions of an instance that verify with the same CAFile= (all of a
// transport's): a session then costs its SSL object, not a context of its own. Configured on
// the event thread, at the first handshake that needs it.
struct SharedTlsContext {
    ssl::context context{ssl::context::tls_client};
    bool ready = false;
};

struct EventLoop::Impl {
    asio::io_context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
    std::thread thread;
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<SharedTlsContext>> tlsContexts;  // by CAFile=

    std::shared_ptr<SharedTlsContext> tlsContext(const std::string& caFile) {
        std::lock_guard lock(mutex);
        auto& slot = tlsContexts[caFile];
        if (!slot) slot = std::make_shared<SharedTlsContext>();
        return slot;
    }
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {
    impl_->thread = std::thread([io = &impl_->io] {
        pthread_setname_np(pthread_self(), "smtp-events");  // as top -H and perf show it
        io->run();
    });
}

EventLoop::~EventLoop() {
    impl_->work.reset();
    impl_->io.stop();
    impl_->thread.join();
}

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
    Impl(asio::io_context& context, Settings s, ClientEvents e, std::shared_ptr<SharedTlsContext> tlsShared)
        : io(context), settings(std::move(s)), events(std::move(e)), tlsContext(std::move(tlsShared)),
          readTimer(context), writeTimer(context), work(context), readerDone(context) {}
    ~Impl() { wipe(settings.password); }

    asio::io_context& io;
    Settings settings;
    ClientEvents events;
    std::shared_ptr<SharedTlsContext> tlsContext;
    // The connection: a plain socket, moved into a TLS stream when TLS starts (Asio's TLS
    // stream keeps two 17 KiB record buffers: a plain session does without them).
    std::unique_ptr<tcp::socket> socket;
    std::unique_ptr<ssl::stream<tcp::socket>> stream;  // set once TLS started; then socket is null
    bool tls = false;        // the stream speaks TLS now
    bool connected = false;  // greeted, EHLO'd, (TLS'd, logged in): ready for MAIL
    Extensions ext;
    ReplyStream replies;
    char in[4096];  // replies are short: this holds a pipelined group's dozens of them
    std::string ioWhat;        // what went wrong with the last I/O, for messages
    std::string greetingText;  // the server's 220 line, for probe()
    std::string text;          // a result's text, reused

    // Deadlines: a generation number tells a timer that fired from one that was re-armed.
    asio::steady_timer readTimer, writeTimer;
    std::uint64_t readGeneration = 0, writeGeneration = 0;
    bool readTimedOut = false, writeTimedOut = false;

    // Shared with other threads, under mutex.
    std::mutex mutex;
    std::vector<OwnedMessage> inbox;  // submitted, not yet taken by the event thread
    bool ended = false;               // ended() was (or is being) reported
    SendStatus endStatus;
    bool closing = false;
    bool running = false;  // the session's coroutine runs
    std::promise<void> finished;

    // Event thread only.
    Signal work;        // something to do: a submit, close, a reply that unblocks the writer
    Signal readerDone;  // the reader stopped
    std::deque<MessagePtr> queue;  // taken, not started
    std::deque<Expect> expects;    // written, awaiting their reply, in order
    MessagePtr current;            // its commands went out, its 354 did not come yet
    std::vector<Awaits> steps;     // without PIPELINING: current's commands still to write
    MessagePtr body;               // its 354 came: the body goes next
    bool bodyEmpty = false;        // ... as a lone "." (the transaction was refused)
    bool refused = false;          // current's transaction was refused (its result is given)
    bool needRset = false;         // the next transaction starts with RSET
    bool readerRunning = false;
    bool stopTaking = false;  // close() was asked: no new transaction starts
    std::size_t bdatInFlight = 0;  // BDAT LAST written, no reply yet
    tcp::resolver* resolving = nullptr;  // connect()'s, while it resolves the host
    bool wakePosted = false;  // under mutex: a wake-up for submit() is on its way
    std::optional<SendStatus> failure;  // the transfer failed: the session ends
    std::string out;                    // the write buffer, reused

    std::string serverName() const {
        return (settings.implicitTls ? "smtps://" : "smtp://") + settings.host + ":" + std::to_string(settings.port);
    }

    // ---- Bounded I/O --------------------------------------------------------------------

    bool open() const { return stream || socket; }

    void closeSocket() {
        if (resolving != nullptr) resolving->cancel();
        error_code ignored;
        if (stream) stream->next_layer().close(ignored);
        else if (socket) socket->close(ignored);
    }

    void drop() {
        closeSocket();
        stream.reset();
        socket.reset();
        connected = false;
        needRset = false;
        bdatInFlight = 0;
        tls = false;
        replies.clear();
    }

    std::string describe(const error_code& ec, std::chrono::seconds timeout, bool timedOut) const {
        if (timedOut) return "no reply within " + std::to_string(timeout.count()) + " s";
        if (ec == asio::error::eof || ec == ssl::error::stream_truncated) return "the server closed the connection";
        return ec.message();
    }

    void arm(asio::steady_timer& timer, std::uint64_t& generation, bool& timedOut, std::chrono::seconds timeout) {
        const std::uint64_t g = ++generation;
        timedOut = false;
        timer.expires_after(timeout);
        timer.async_wait([self = shared_from_this(), &generation, &timedOut, g](const error_code& ec) {
            if (ec || generation != g) return;
            timedOut = true;
            self->closeSocket();
        });
    }

    void disarm(asio::steady_timer& timer, std::uint64_t& generation) {
        ++generation;
        timer.cancel();
    }

    awaitable<bool> write(std::string_view bytes, std::chrono::seconds timeout) {
        if (!open()) co_return false;
        arm(writeTimer, writeGeneration, writeTimedOut, timeout);
        error_code ec;
        if (tls) co_await asio::async_write(*stream, asio::buffer(bytes.data(), bytes.size()), asio::redirect_error(kAwait, ec));
        else co_await asio::async_write(*socket, asio::buffer(bytes.data(), bytes.size()), asio::redirect_error(kAwait, ec));
        disarm(writeTimer, writeGeneration);
        if (!ec) co_return true;
        ioWhat = writeTimedOut ? "could not write within " + std::to_string(timeout.count()) + " s"
                               : describe(ec, timeout, false);
        co_return false;
    }

    // The next complete reply, reading as much as needed.
    awaitable<std::optional<Reply>> read(std::chrono::seconds timeout) {
        while (!replies.ready()) {
            if (replies.overflowed()) {
                ioWhat = "the server sent replies to commands it was not given";
                co_return std::nullopt;
            }
            if (!open()) {
                ioWhat = "the connection is closed";
                co_return std::nullopt;
            }
            arm(readTimer, readGeneration, readTimedOut, timeout);
            error_code ec;
            std::size_t n = 0;
            if (tls) n = co_await stream->async_read_some(asio::buffer(in), asio::redirect_error(kAwait, ec));
            else n = co_await socket->async_read_some(asio::buffer(in), asio::redirect_error(kAwait, ec));
            disarm(readTimer, readGeneration);
            if (ec) {
                ioWhat = describe(ec, timeout, readTimedOut);
                co_return std::nullopt;
            }
            replies.feed(std::string_view(in, n));
        }
        co_return replies.pop();
    }

    // ---- The session's start --------------------------------------------------------------

    SendStatus fail(Failure f, std::string message) {
        drop();
        return {f, std::move(message)};
    }

    SendStatus lost(const char* when) {
        return fail(Failure::Connection, serverName() + ": " + ioWhat + " (" + when + ")");
    }

    static std::string said(const Reply& r) { return std::to_string(r.code) + " " + r.text; }

    bool prepareTls(std::string& why) {
        if (tlsContext->ready) return true;
        ssl::context& c = tlsContext->context;
        try {
            c.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                          ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
            c.set_verify_mode(ssl::verify_peer);
            if (!settings.caFile.empty()) c.load_verify_file(settings.caFile);
            else c.set_default_verify_paths();
        } catch (const boost::system::system_error& e) {
            why = settings.caFile.empty() ? std::string("cannot load the system's CA certificates: ") + e.what()
                                          : "CAFile=" + settings.caFile + " cannot be used: " + e.what();
            return false;
        }
        tlsContext->ready = true;
        return true;
    }

    awaitable<std::optional<SendStatus>> handshake() {
        std::string why;
        if (!prepareTls(why)) co_return fail(Failure::Tls, serverName() + ": " + why);
        const std::string host = hostOnly(settings.host);
        stream = std::make_unique<ssl::stream<tcp::socket>>(std::move(*socket), tlsContext->context);
        socket.reset();
        stream->set_verify_mode(ssl::verify_peer);  // an SSL takes its mode when made, not later
        stream->set_verify_callback(ssl::host_name_verification(host));
        if (!isAddressLiteral(settings.host)) SSL_set_tlsext_host_name(stream->native_handle(), host.c_str());
        arm(readTimer, readGeneration, readTimedOut, settings.timeouts.greeting);
        error_code ec;
        co_await stream->async_handshake(ssl::stream_base::client, asio::redirect_error(kAwait, ec));
        disarm(readTimer, readGeneration);
        if (ec)
            co_return fail(Failure::Tls,
                           serverName() + ": TLS failed: " + describe(ec, settings.timeouts.greeting, readTimedOut));
        tls = true;
        co_return std::nullopt;
    }

    std::string heloName() const {
        if (!settings.heloName.empty()) return settings.heloName;
        char name[256] = {};
        if (::gethostname(name, sizeof name - 1) == 0 && validHost(name)) return name;
        return "localhost";
    }

    // EHLO (HELO when the server does not know EHLO); ext is what it announced.
    awaitable<std::optional<SendStatus>> hello() {
        ext = {};
        ExtensionReader reader;
        const std::string name = heloName();
        if (!co_await write("EHLO " + name + "\r\n", settings.timeouts.greeting)) co_return lost("at EHLO");
        replies.collectExtensions(&reader);
        auto reply = co_await read(settings.timeouts.greeting);
        replies.collectExtensions(nullptr);
        if (!reply) co_return lost("at EHLO");
        if (reply->code == 250) {
            ext = reader.extensions();
            co_return std::nullopt;
        }
        if (reply->code == 421)
            co_return fail(Failure::Connection, serverName() + " is closing the connection: " + said(*reply));
        if (!co_await write("HELO " + name + "\r\n", settings.timeouts.greeting)) co_return lost("at HELO");
        reply = co_await read(settings.timeouts.greeting);
        if (!reply) co_return lost("at HELO");
        if (reply->code == 250) co_return std::nullopt;
        co_return fail(reply->code >= 500 ? Failure::Failed : Failure::Connection,
                       serverName() + " refuses the session: " + said(*reply) + " (in reply to HELO)");
    }

    awaitable<std::optional<SendStatus>> startTls() {
        if (settings.implicitTls || settings.startTls == StartTls::No) co_return std::nullopt;
        if (!ext.startTls) {
            if (settings.startTls == StartTls::Required)
                co_return fail(Failure::Tls,
                               serverName() + " does not offer STARTTLS, and StartTLS=required; nothing was sent");
            co_return std::nullopt;
        }
        if (!co_await write("STARTTLS\r\n", settings.timeouts.greeting)) co_return lost("at STARTTLS");
        const auto reply = co_await read(settings.timeouts.greeting);
        if (!reply) co_return lost("at STARTTLS");
        if (reply->code != 220) {
            if (settings.startTls == StartTls::Required || reply->code == 421)
                co_return fail(reply->code == 421 ? Failure::Connection : Failure::Tls,
                               serverName() + " refused STARTTLS: " + said(*reply));
            co_return std::nullopt;  // opportunistic: carry on in plain text
        }
        if (!replies.idle())  // plain text after the 220 would be read as if it came over TLS
            co_return fail(Failure::Tls, serverName() + " sent more after its reply to STARTTLS (command injection?)");
        if (auto failed = co_await handshake()) co_return failed;
        co_return co_await hello();  // RFC 3207: forget what was announced before TLS
    }

    // The exchange carries the password: the command is wiped after the write, never shown.
    awaitable<std::optional<Reply>> exchangeSecret(std::string command) {
        const bool ok = co_await write(command, settings.timeouts.greeting);
        wipe(command);
        if (!ok) co_return std::nullopt;
        co_return co_await read(settings.timeouts.greeting);
    }

    awaitable<std::optional<SendStatus>> authenticate() {
        if (settings.username.empty()) co_return std::nullopt;
        const std::string who = "Username=" + settings.username;
        if (!ext.auth)
            co_return fail(Failure::Auth, serverName() + " offers no AUTH" + (tls ? "" : " (without TLS)") + ", so " +
                                              who + " cannot log in; nothing was sent");
        std::optional<Reply> reply;
        if (ext.authPlain) {
            std::string secret;
            secret.reserve(settings.username.size() + settings.password.size() + 2);
            secret += '\0';
            secret += settings.username;
            secret += '\0';
            secret += settings.password;
            std::string encoded = base64(secret);
            wipe(secret);
            std::string command = "AUTH PLAIN " + encoded + "\r\n";
            wipe(encoded);
            reply = co_await exchangeSecret(std::move(command));
        } else if (ext.authLogin) {
            reply = co_await exchangeSecret("AUTH LOGIN\r\n");
            if (reply && reply->code == 334) reply = co_await exchangeSecret(base64(settings.username) + "\r\n");
            if (reply && reply->code == 334) {
                std::string encoded = base64(settings.password);
                std::string command = encoded + "\r\n";
                wipe(encoded);
                reply = co_await exchangeSecret(std::move(command));
            }
        } else {
            co_return fail(Failure::Auth, serverName() + " offers AUTH, but neither PLAIN nor LOGIN, so " + who +
                                              " cannot log in; nothing was sent");
        }
        if (!reply) co_return lost("at AUTH");
        if (reply->code == 235) co_return std::nullopt;
        if (reply->code >= 400 && reply->code < 500)  // 421, 454: try again later
            co_return fail(Failure::Connection, serverName() + " could not log in " + who + " now: " + said(*reply));
        co_return fail(Failure::Auth, serverName() + " refused the login of " + who + ": " + said(*reply));
    }

    awaitable<std::optional<SendStatus>> connect() {
        drop();
        socket = std::make_unique<tcp::socket>(io);
        // An address literal needs no resolver (Asio's runs getaddrinfo on a thread of its own
        // that lives as long as the io_context: one more thread per plugin instance).
        std::vector<tcp::endpoint> endpoints;
        error_code ec;
        const auto literal = asio::ip::make_address(hostOnly(settings.host), ec);
        if (!ec) {
            endpoints.emplace_back(literal, static_cast<unsigned short>(settings.port));
        } else {
            tcp::resolver resolver(io);
            resolving = &resolver;  // the deadline's closeSocket() cancels it
            arm(readTimer, readGeneration, readTimedOut, settings.timeouts.connect);
            ec = {};
            auto results = co_await resolver.async_resolve(hostOnly(settings.host), std::to_string(settings.port),
                                                           asio::redirect_error(kAwait, ec));
            disarm(readTimer, readGeneration);
            resolving = nullptr;
            if (readTimedOut) ec = asio::error::timed_out;
            if (ec)
                co_return fail(Failure::Connection, serverName() + ": cannot resolve the host: " +
                                                        describe(ec, settings.timeouts.connect, readTimedOut));
            for (const auto& entry : results) endpoints.push_back(entry.endpoint());
        }
        arm(readTimer, readGeneration, readTimedOut, settings.timeouts.connect);
        ec = {};
        co_await asio::async_connect(*socket, endpoints, asio::redirect_error(kAwait, ec));
        disarm(readTimer, readGeneration);
        if (ec)
            co_return fail(Failure::Connection, serverName() + ": cannot connect: " +
                                                    describe(ec, settings.timeouts.connect, readTimedOut));
        error_code ignored;
        socket->set_option(tcp::no_delay(true), ignored);
        socket->set_option(asio::socket_base::keep_alive(true), ignored);
        if (settings.implicitTls)
            if (auto failed = co_await handshake()) co_return failed;

        const auto greeting = co_await read(settings.timeouts.greeting);
        if (!greeting) {
            if (settings.implicitTls) co_return fail(Failure::Tls, serverName() + ": TLS failed: " + ioWhat);
            co_return lost("waiting for the greeting");
        }
        if (greeting->code != 220)
            co_return fail(greeting->code >= 500 ? Failure::Failed : Failure::Connection,
                           serverName() + " refuses the session: " + said(*greeting));
        greetingText = said(*greeting).substr(0, 120);
        if (auto failed = co_await hello()) co_return failed;
        if (auto failed = co_await startTls()) co_return failed;
        if (auto failed = co_await authenticate()) co_return failed;
        connected = true;
        co_return std::nullopt;
    }

    // An idle connection the server closed (or sent a 421 on) reads as ready: start afresh.
    bool stale() {
        if (!open()) return true;
        pollfd p{stream ? stream->next_layer().native_handle() : socket->native_handle(), POLLIN, 0};
        return ::poll(&p, 1, 0) != 0;
    }

    awaitable<void> quit() {
        if (!connected || !open()) co_return;
        const std::chrono::seconds t = std::min(settings.timeouts.greeting, std::chrono::seconds(10));
        if (co_await write("QUIT\r\n", t)) (void)co_await read(t);
        drop();
    }

    awaitable<void> probe(std::string& found, SendStatus& status) {
        auto self = shared_from_this();
        if (auto failed = co_await connect()) {
            status = *failed;
            co_return;
        }
        found = serverName();
        if (!greetingText.empty()) found += " (" + greetingText + ")";
        found += tls ? (settings.implicitTls ? ": TLS" : ": STARTTLS") : ": no TLS";
        found += settings.username.empty() ? ", no login" : ", logged in as " + settings.username;
        if (ext.pipelining) found += ", PIPELINING";
        co_await quit();
    }

    // ---- Results ----------------------------------------------------------------------------

    void report(const OwnedMessage& m, Outcome outcome, int code, std::string_view enhanced) {
        if (events.result) events.result({m.token, outcome, code, enhanced, text});
    }

    void reportReply(const OwnedMessage& m, const Reply& r, Awaits what) {
        text.clear();
        text += std::to_string(r.code);
        text += ' ';
        text += r.text;
        text += " (in reply to ";
        text += inReplyTo(what);
        text += ')';
        // Only the reply to the final "." can make a message SENT; an odd 2xx/3xx where a
        // refusal was read (a 250 to DATA: the body never went) is a temporary failure.
        const bool verdict = what == Awaits::Dot || what == Awaits::Bdat;
        const Outcome outcome = r.code >= 500              ? Outcome::Failed
                                : r.code < 300 && verdict ? Outcome::Sent
                                                          : Outcome::Deferred;
        report(m, outcome, r.code, r.enhanced);
    }

    // The session ends: ended() once, after which nothing is reported and submit() refuses.
    void end(SendStatus status) {
        {
            std::lock_guard lock(mutex);
            if (ended) return;
            ended = true;
            endStatus = status;
            inbox.clear();
        }
        queue.clear();
        if (events.ended) events.ended(status);
    }

    // The transfer failed with expects still unanswered: a message whose final "." was (or
    // may have been) written is UNKNOWN; the others were not handed over.
    void lose(SendStatus status) {
        if (failure) return;
        for (const Expect& e : expects) {
            if (e.what != Awaits::Dot && e.what != Awaits::Bdat) continue;
            text = "the connection to " + serverName() +
                   " was lost after the message was sent, before the server's reply: " + ioWhat;
            report(*e.message, Outcome::Unknown, 0, "");
        }
        expects.clear();
        bdatInFlight = 0;
        current.reset();
        body.reset();
        steps.clear();
        // Not drop(): the other coroutine may still have an operation on the stream; run()
        // drops it once both are done.
        closeSocket();
        connected = false;
        failure = std::move(status);
        work.notify();
    }

    // Moves what submit() left in the inbox to the queue. Returns whether close() was asked.
    bool takeInbox() {
        std::lock_guard lock(mutex);
        for (OwnedMessage& m : inbox) queue.push_back(std::make_shared<OwnedMessage>(std::move(m)));
        inbox.clear();
        return closing;
    }

    bool inFlight() const { return current || body || !expects.empty(); }

    // ---- The transfer: the writer -----------------------------------------------------------

    // Appends the commands of the next transaction (or, without PIPELINING, its next command).
    void appendCommand(Awaits what, const OwnedMessage& m) {
        switch (what) {
        case Awaits::Rset: out += "RSET\r\n"; break;
        case Awaits::Mail:
            out += "MAIL FROM:<";
            out += m.envelopeFrom;
            out += '>';
            if (ext.size != 0) out += " SIZE=" + std::to_string(m.data.size());
            if (ext.eightBitMime && hasEightBit(m.data)) out += " BODY=8BITMIME";
            out += "\r\n";
            break;
        case Awaits::Rcpt:
            out += "RCPT TO:<";
            out += m.recipient;
            out += ">\r\n";
            break;
        case Awaits::Data: out += "DATA\r\n"; break;
        default: break;
        }
    }

    // The next message that may start, failing at once the ones over the server's SIZE.
    MessagePtr nextMessage() {
        while (!stopTaking && !queue.empty()) {
            MessagePtr m = std::move(queue.front());
            queue.pop_front();
            if (ext.size != 0 && m->data.size() > ext.size) {
                text = "the message is " + std::to_string(m->data.size()) + " bytes, more than " + serverName() +
                       " takes (SIZE " + std::to_string(ext.size) + "); not sent";
                report(*m, Outcome::Failed, 0, "5.3.4");
                continue;
            }
            return m;
        }
        return nullptr;
    }

    // BDAT (RFC 3030) when the server announces CHUNKING and PIPELINING: a transaction needs
    // no 354, so several travel in one write and one round trip. Every transaction after the
    // first on a connection starts with RSET: whether the one before it was refused (and left
    // open) is not known when it is written.
    bool chunking() const { return settings.chunking && ext.chunking && ext.pipelining; }
    static constexpr std::size_t kMaxBdatInFlight = 32;

    void composeChunks() {
        while (bdatInFlight < kMaxBdatInFlight) {
            MessagePtr m = nextMessage();
            if (!m) break;
            if (needRset) expects.push_back({Awaits::Rset, m});
            if (needRset) appendCommand(Awaits::Rset, *m);
            needRset = true;
            for (Awaits what : {Awaits::Mail, Awaits::Rcpt}) {
                appendCommand(what, *m);
                expects.push_back({what, m});
            }
            // As appendBody ends a body for DATA (not dot-stuffed: BDAT counts bytes).
            const std::string& d = m->data;
            const char* fix = d.empty() || d.back() == '\n' ? "" : d.back() == '\r' ? "\n" : "\r\n";
            out += "BDAT " + std::to_string(m->data.size() + std::strlen(fix)) + " LAST\r\n";
            out += m->data;
            out += fix;
            expects.push_back({Awaits::Bdat, m});
            ++bdatInFlight;
        }
    }

    // What may be written now. Returns false when nothing.
    bool compose() {
        out.clear();
        if (chunking()) {
            composeChunks();
            return !out.empty();
        }
        if (body) {
            if (bodyEmpty) out += ".\r\n";
            else appendBody(out, body->data);
            expects.push_back({bodyEmpty ? Awaits::EmptyDot : Awaits::Dot, body});
            body.reset();
        }
        if (ext.pipelining) {
            // RFC 2920: DATA ends a group; the next message's commands go once its 354 came.
            if (!current) {
                if ((current = nextMessage())) {
                    refused = false;
                    if (needRset) {
                        appendCommand(Awaits::Rset, *current);
                        expects.push_back({Awaits::Rset, current});
                        needRset = false;
                    }
                    for (Awaits what : {Awaits::Mail, Awaits::Rcpt, Awaits::Data}) {
                        appendCommand(what, *current);
                        expects.push_back({what, current});
                    }
                }
            }
        } else if (expects.empty()) {
            if (!current && (current = nextMessage())) {
                refused = false;
                steps.clear();
                if (needRset) steps.push_back(Awaits::Rset);
                needRset = false;
                steps.insert(steps.end(), {Awaits::Mail, Awaits::Rcpt, Awaits::Data});
            }
            if (current && !steps.empty()) {
                const Awaits what = steps.front();
                steps.erase(steps.begin());
                appendCommand(what, *current);
                expects.push_back({what, current});
            }
        }
        return !out.empty();
    }

    // ---- The transfer: the reader -----------------------------------------------------------

    std::chrono::seconds timeoutFor(Awaits what) const {
        switch (what) {
        case Awaits::Dot:
        case Awaits::Bdat:
        case Awaits::EmptyDot: return settings.timeouts.dataTerm;
        case Awaits::Data: return settings.timeouts.dataInit;
        case Awaits::Rcpt: return settings.timeouts.rcpt;
        default: return settings.timeouts.mail;
        }
    }

    // Reads replies while commands await them; stops when none does (the writer restarts it)
    // or the connection failed.
    awaitable<void> reader() {
        auto self = shared_from_this();
        try {
            co_await readReplies();
        } catch (const std::exception& e) {
            lose({Failure::Failed, serverName() + ": the smtp client failed: " + e.what()});
        } catch (...) {
            lose({Failure::Failed, serverName() + ": the smtp client failed"});
        }
        readerRunning = false;
        readerDone.notify();
        work.notify();
    }

    awaitable<void> readReplies() {
        while (!failure && !expects.empty()) {
            const auto reply = co_await read(timeoutFor(expects.front().what));
            if (failure) break;
            if (!reply) {
                lose({Failure::Connection, serverName() + ": " + ioWhat});
                break;
            }
            const Expect e = std::move(expects.front());
            expects.pop_front();
            if (reply->code == 421) {
                // The server is closing: whatever it did not accept was not handed over.
                lose({Failure::Connection, serverName() + " is closing the connection: " + said(*reply) +
                                               " (in reply to " + inReplyTo(e.what) + ")"});
                break;
            }
            switch (e.what) {
            case Awaits::Dot: reportReply(*e.message, *reply, e.what); break;
            case Awaits::Bdat:
                --bdatInFlight;
                if (!refused) reportReply(*e.message, *reply, e.what);
                break;
            case Awaits::EmptyDot:
            case Awaits::Rset: break;
            case Awaits::Mail:
            case Awaits::Rcpt:
                if (e.what == Awaits::Mail && chunking()) refused = false;  // its transaction's first reply
                if (!refused && reply->code >= 300) {
                    reportReply(*e.message, *reply, e.what);
                    refused = true;
                    needRset = true;
                    if (!ext.pipelining) {  // the rest of the transaction is not written
                        steps.clear();
                        current.reset();
                    }
                }
                break;
            case Awaits::Data:
                if (reply->code == 354) {
                    body = e.message;
                    bodyEmpty = refused;
                    if (refused) needRset = true;
                } else {
                    if (!refused) reportReply(*e.message, *reply, e.what);
                    needRset = true;
                }
                current.reset();
                break;
            }
            work.notify();
        }
    }

    // ---- The session ------------------------------------------------------------------------

    awaitable<void> run() {
        auto self = shared_from_this();
        std::optional<std::string> broken;
        try {
            co_await transfer();
        } catch (const std::exception& e) {
            broken = e.what();
        } catch (...) {
            broken = "unexpected failure";
        }
        if (readerRunning) {  // stopped first: nothing is reported after end()
            closeSocket();
            while (readerRunning) co_await readerDone.wait();
        }
        if (broken) {
            for (const Expect& e : expects) {
                if (e.what != Awaits::Dot && e.what != Awaits::Bdat) continue;
                text = "the smtp client failed after the message was sent: " + *broken;
                report(*e.message, Outcome::Unknown, 0, "");
            }
            end({Failure::Failed, serverName() + ": the smtp client failed: " + *broken});
        }
        // No event after this; close() waits for it.
        drop();
        disarm(readTimer, readGeneration);
        disarm(writeTimer, writeGeneration);
        finished.set_value();
    }

    awaitable<void> transfer() {
        for (;;) {
            const bool closeAsked = takeInbox();
            if (failure) {
                end(*failure);
                break;
            }
            if (queue.empty() && !inFlight()) {
                if (closeAsked) {
                    co_await quit();
                    break;
                }
                co_await work.wait();
                continue;
            }
            stopTaking = closeAsked;
            if (closeAsked && !inFlight() && !queue.empty()) {
                // close(): what was not written is not handed over.
                end({Failure::Cancelled, "the session was closed before these messages were written"});
                co_await quit();
                break;
            }
            if (!connected || (!inFlight() && stale())) {
                if (auto failed = co_await connect()) {
                    failure = std::move(failed);
                    continue;
                }
            }
            bool wrote = false;
            if (compose()) {
                wrote = true;
                if (!co_await write(out, settings.timeouts.dataBlock)) {
                    lose({Failure::Connection, serverName() + ": " + ioWhat});  // closes: the reader stops
                    while (readerRunning) co_await readerDone.wait();
                    continue;
                }
                if (!readerRunning && !expects.empty()) {
                    readerRunning = true;
                    asio::co_spawn(io, reader(), asio::detached);
                }
            }
            if (!wrote) co_await work.wait();
        }
    }
};

Client::Client(EventLoop& loop, Settings settings, ClientEvents events)
    : impl_(std::make_shared<Impl>(loop.impl().io, settings, std::move(events), loop.impl().tlsContext(settings.caFile))) {
    wipe(settings.password);
    {
        std::lock_guard lock(impl_->mutex);
        impl_->running = true;
    }
    asio::co_spawn(impl_->io, impl_->run(), asio::detached);
}

Client::~Client() { close(); }

SendStatus Client::submit(std::vector<OwnedMessage> messages) {
    Impl& c = *impl_;
    bool post = false;
    {
        std::lock_guard lock(c.mutex);
        if (c.ended) return c.endStatus.failure == Failure::None ? SendStatus{Failure::Failed, "the session has ended"} : c.endStatus;
        if (c.closing) return {Failure::Cancelled, "the session is closing"};
        if (c.inbox.empty()) c.inbox = std::move(messages);
        else for (OwnedMessage& m : messages) c.inbox.push_back(std::move(m));
        post = !c.wakePosted;
        c.wakePosted = true;
    }
    if (post)
        asio::post(c.io, [self = impl_] {
            {
                std::lock_guard lock(self->mutex);
                self->wakePosted = false;
            }
            self->work.notify();
        });
    return {};
}

void Client::close() {
    Impl& c = *impl_;
    {
        std::lock_guard lock(c.mutex);
        if (!c.running) return;
        c.running = false;
        c.closing = true;
    }
    asio::post(c.io, [self = impl_] { self->work.notify(); });
    c.finished.get_future().wait();
}

SendStatus Client::probe(std::string& found) {
    SendStatus status;
    std::promise<void> done;
    asio::co_spawn(impl_->io, impl_->probe(found, status), [&done, &status](std::exception_ptr e) {
        if (e) status = {Failure::Failed, "the smtp client failed while probing"};
        done.set_value();
    });
    done.get_future().wait();
    return status;
}

std::string Client::serverName() const { return impl_->serverName(); }

}  // namespace campaignd::smtp

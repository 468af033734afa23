// smtp_client.cpp: see smtp_client.h. Each I/O step is an asynchronous Asio operation run on the
// client's own io_context until it completes or its reply timeout passes (then the socket is
// closed, which ends the operation): so every wait is bounded without a thread of its own.
// Why our own client: libcurl cannot pipeline SMTP, Poco's SMTPClientSession is synchronous
// and does not pipeline, libESMTP blocks a thread per session (issue 14); Asio is already the
// project's event library, and the reply reader (smtp_reply.h) is fuzzed.
#include "smtp_client.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <vector>

#include "smtp_reply.h"

namespace campaignd::smtp {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

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

// What an awaited reply answers. Dot: the final "." of a message whose body went out.
// EmptyDot: a lone "." after a 354 to a transaction whose recipient was refused (a server
// should not say 354 then, but some do): its reply says nothing about any message.
enum class Awaits : std::uint8_t { Rset, Mail, Rcpt, Data, Dot, EmptyDot };

struct Expect {
    Awaits what;
    std::size_t index;       // the message
    std::size_t begin, end;  // its bytes in the write buffer
};

const char* inReplyTo(Awaits what) {
    switch (what) {
    case Awaits::Mail: return "MAIL FROM";
    case Awaits::Rcpt: return "RCPT TO";
    case Awaits::Data: return "DATA";
    case Awaits::Rset: return "RSET";
    default: return "end of DATA";
    }
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

}  // namespace

struct Client::Impl {
    explicit Impl(Settings s) : settings(std::move(s)), tlsContext(ssl::context::tls_client) {}
    ~Impl() {
        quit();
        wipe(settings.password);
    }

    Settings settings;
    asio::io_context io{1};
    ssl::context tlsContext;
    bool tlsContextReady = false;
    std::unique_ptr<ssl::stream<tcp::socket>> stream;
    bool tls = false;        // the stream speaks TLS now
    bool connected = false;  // greeted, EHLO'd, (TLS'd, logged in): ready for MAIL
    bool needRset = false;   // a transaction was refused: the next one starts with RSET
                             // (also across send() calls: the refusal may end one)
    Extensions ext;
    ReplyStream replies;
    std::string out;  // the write buffer, reused
    char in[16384];
    std::string text;  // a result's text, reused
    std::string ioWhat;  // what went wrong with the last I/O, for messages
    std::string greetingText;  // the server's 220 line, for probe()

    std::string serverName() const {
        return (settings.implicitTls ? "smtps://" : "smtp://") + settings.host + ":" + std::to_string(settings.port);
    }

    // ---- Bounded I/O --------------------------------------------------------------------

    // Runs the operation start() begins until it completes or timeout passes; then cancel()
    // ends it. The completion handler takes (error_code, std::size_t).
    template <class Start, class Cancel>
    error_code run(std::chrono::seconds timeout, std::size_t& bytes, Start&& start, Cancel&& cancel) {
        error_code result;
        bool done = false;
        start([&](const error_code& ec, std::size_t n) {
            result = ec;
            bytes = n;
            done = true;
        });
        io.restart();
        io.run_for(timeout);
        if (done) return result;
        cancel();
        io.restart();
        io.run();  // the cancelled operation completes
        return asio::error::timed_out;
    }

    void closeSocket() {
        if (!stream) return;
        error_code ignored;
        stream->next_layer().close(ignored);
    }

    void drop() {
        closeSocket();
        stream.reset();
        connected = false;
        needRset = false;
        tls = false;
        replies.clear();
    }

    std::string describe(const error_code& ec, std::chrono::seconds timeout) const {
        if (ec == asio::error::timed_out) return "no reply within " + std::to_string(timeout.count()) + " s";
        if (ec == asio::error::eof || ec == ssl::error::stream_truncated) return "the server closed the connection";
        return ec.message();
    }

    bool write(std::string_view bytes, std::chrono::seconds timeout) {
        std::size_t n = 0;
        const error_code ec = run(
            timeout, n,
            [&](auto handler) {
                if (tls) asio::async_write(*stream, asio::buffer(bytes.data(), bytes.size()), handler);
                else asio::async_write(stream->next_layer(), asio::buffer(bytes.data(), bytes.size()), handler);
            },
            [&] { closeSocket(); });
        if (!ec) return true;
        ioWhat = describe(ec, timeout);
        return false;
    }

    // The next complete reply, reading as much as needed.
    std::optional<Reply> read(std::chrono::seconds timeout) {
        while (!replies.ready()) {
            if (replies.overflowed()) {
                ioWhat = "the server sent replies to commands it was not given";
                return std::nullopt;
            }
            std::size_t n = 0;
            const error_code ec = run(
                timeout, n,
                [&](auto handler) {
                    if (tls) stream->async_read_some(asio::buffer(in), handler);
                    else stream->next_layer().async_read_some(asio::buffer(in), handler);
                },
                [&] { closeSocket(); });
            if (ec) {
                ioWhat = describe(ec, timeout);
                return std::nullopt;
            }
            replies.feed(std::string_view(in, n));
        }
        return replies.pop();
    }

    // ---- The session --------------------------------------------------------------------

    SendStatus fail(Failure f, std::string message) {
        drop();
        return {f, std::move(message)};
    }

    SendStatus lost(const char* when) {
        return fail(Failure::Connection, serverName() + ": " + ioWhat + " (" + when + ")");
    }

    static std::string said(const Reply& r) { return std::to_string(r.code) + " " + r.text; }

    bool prepareTls(std::string& why) {
        if (tlsContextReady) return true;
        try {
            tlsContext.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
            tlsContext.set_verify_mode(ssl::verify_peer);
            if (!settings.caFile.empty()) tlsContext.load_verify_file(settings.caFile);
            else tlsContext.set_default_verify_paths();
        } catch (const boost::system::system_error& e) {
            why = settings.caFile.empty() ? std::string("cannot load the system's CA certificates: ") + e.what()
                                          : "CAFile=" + settings.caFile + " cannot be used: " + e.what();
            return false;
        }
        tlsContextReady = true;
        return true;
    }

    std::optional<SendStatus> handshake() {
        std::string why;
        if (!prepareTls(why)) return fail(Failure::Tls, serverName() + ": " + why);
        const std::string host = hostOnly(settings.host);
        stream->set_verify_mode(ssl::verify_peer);  // an SSL takes its mode when made, not later
        stream->set_verify_callback(ssl::host_name_verification(host));
        if (!isAddressLiteral(settings.host)) SSL_set_tlsext_host_name(stream->native_handle(), host.c_str());
        std::size_t n = 0;
        const error_code ec = run(
            settings.timeouts.greeting, n,
            [&](auto handler) {
                stream->async_handshake(ssl::stream_base::client, [handler](const error_code& e) mutable { handler(e, 0); });
            },
            [&] { closeSocket(); });
        if (ec) return fail(Failure::Tls, serverName() + ": TLS failed: " + describe(ec, settings.timeouts.greeting));
        tls = true;
        return std::nullopt;
    }

    std::string heloName() const {
        if (!settings.heloName.empty()) return settings.heloName;
        char name[256] = {};
        if (::gethostname(name, sizeof name - 1) == 0 && validHost(name)) return name;
        return "localhost";
    }

    // EHLO (HELO when the server does not know EHLO); ext is what it announced.
    std::optional<SendStatus> hello() {
        ext = {};
        ExtensionReader reader;
        const std::string name = heloName();
        if (!write("EHLO " + name + "\r\n", settings.timeouts.greeting)) return lost("at EHLO");
        replies.collectExtensions(&reader);
        auto reply = read(settings.timeouts.greeting);
        replies.collectExtensions(nullptr);
        if (!reply) return lost("at EHLO");
        if (reply->code == 250) {
            ext = reader.extensions();
            return std::nullopt;
        }
        if (reply->code == 421) return fail(Failure::Connection, serverName() + " is closing the connection: " + said(*reply));
        if (!write("HELO " + name + "\r\n", settings.timeouts.greeting)) return lost("at HELO");
        reply = read(settings.timeouts.greeting);
        if (!reply) return lost("at HELO");
        if (reply->code == 250) return std::nullopt;
        return fail(reply->code >= 500 ? Failure::Failed : Failure::Connection,
                    serverName() + " refuses the session: " + said(*reply) + " (in reply to HELO)");
    }

    std::optional<SendStatus> startTls() {
        if (settings.implicitTls || settings.startTls == StartTls::No) return std::nullopt;
        if (!ext.startTls) {
            if (settings.startTls == StartTls::Required)
                return fail(Failure::Tls, serverName() + " does not offer STARTTLS, and StartTLS=required; nothing was sent");
            return std::nullopt;
        }
        if (!write("STARTTLS\r\n", settings.timeouts.greeting)) return lost("at STARTTLS");
        const auto reply = read(settings.timeouts.greeting);
        if (!reply) return lost("at STARTTLS");
        if (reply->code != 220) {
            if (settings.startTls == StartTls::Required || reply->code == 421)
                return fail(reply->code == 421 ? Failure::Connection : Failure::Tls,
                            serverName() + " refused STARTTLS: " + said(*reply));
            return std::nullopt;  // opportunistic: carry on in plain text
        }
        if (!replies.idle())  // plain text after the 220 would be read as if it came over TLS
            return fail(Failure::Tls, serverName() + " sent more after its reply to STARTTLS (command injection?)");
        if (auto failed = handshake()) return failed;
        return hello();  // RFC 3207: forget what was announced before TLS
    }

    std::optional<SendStatus> authenticate() {
        if (settings.username.empty()) return std::nullopt;
        const std::string who = "Username=" + settings.username;
        if (!ext.auth)
            return fail(Failure::Auth, serverName() + " offers no AUTH" + (tls ? "" : " (without TLS)") + ", so " + who +
                                           " cannot log in; nothing was sent");
        // The exchange carries the password: these buffers are wiped, and never shown.
        std::string secret;
        auto exchange = [&](std::string command) -> std::optional<Reply> {
            const bool ok = write(command, settings.timeouts.greeting);
            wipe(command);
            if (!ok) return std::nullopt;
            return read(settings.timeouts.greeting);
        };
        std::optional<Reply> reply;
        if (ext.authPlain) {
            secret.reserve(settings.username.size() + settings.password.size() + 2);
            secret += '\0';
            secret += settings.username;
            secret += '\0';
            secret += settings.password;
            std::string encoded = base64(secret);
            wipe(secret);
            reply = exchange("AUTH PLAIN " + encoded + "\r\n");
            wipe(encoded);
        } else if (ext.authLogin) {
            reply = exchange("AUTH LOGIN\r\n");
            if (reply && reply->code == 334) reply = exchange(base64(settings.username) + "\r\n");
            if (reply && reply->code == 334) {
                std::string encoded = base64(settings.password);
                reply = exchange(encoded + "\r\n");
                wipe(encoded);
            }
        } else {
            return fail(Failure::Auth, serverName() + " offers AUTH, but neither PLAIN nor LOGIN, so " + who +
                                           " cannot log in; nothing was sent");
        }
        if (!reply) return lost("at AUTH");
        if (reply->code == 235) return std::nullopt;
        if (reply->code >= 400 && reply->code < 500)  // 421, 454: try again later
            return fail(Failure::Connection, serverName() + " could not log in " + who + " now: " + said(*reply));
        return fail(Failure::Auth, serverName() + " refused the login of " + who + ": " + said(*reply));
    }

    std::optional<SendStatus> connect() {
        drop();
        stream = std::make_unique<ssl::stream<tcp::socket>>(io, tlsContext);
        // An address literal needs no resolver (Asio's runs getaddrinfo on a thread of its own
        // that lives as long as the io_context: one more thread per session).
        std::vector<tcp::endpoint> endpoints;
        std::size_t n = 0;
        error_code ec;
        const auto literal = asio::ip::make_address(hostOnly(settings.host), ec);
        if (!ec) {
            endpoints.emplace_back(literal, static_cast<unsigned short>(settings.port));
        } else {
            tcp::resolver resolver(io);
            ec = run(
                settings.timeouts.connect, n,
                [&](auto handler) {
                    resolver.async_resolve(hostOnly(settings.host), std::to_string(settings.port),
                                           [&endpoints, handler](const error_code& e, tcp::resolver::results_type r) mutable {
                                               for (const auto& entry : r) endpoints.push_back(entry.endpoint());
                                               handler(e, 0);
                                           });
                },
                [&] { resolver.cancel(); });
            if (ec)
                return fail(Failure::Connection,
                            serverName() + ": cannot resolve the host: " + describe(ec, settings.timeouts.connect));
        }
        ec = run(
            settings.timeouts.connect, n,
            [&](auto handler) {
                asio::async_connect(stream->next_layer(), endpoints,
                                    [handler](const error_code& e, const tcp::endpoint&) mutable { handler(e, 0); });
            },
            [&] { closeSocket(); });
        if (ec) return fail(Failure::Connection, serverName() + ": cannot connect: " + describe(ec, settings.timeouts.connect));
        error_code ignored;
        stream->next_layer().set_option(tcp::no_delay(true), ignored);
        stream->next_layer().set_option(asio::socket_base::keep_alive(true), ignored);
        if (settings.implicitTls)
            if (auto failed = handshake()) return failed;

        const auto greeting = read(settings.timeouts.greeting);
        if (!greeting) {
            if (settings.implicitTls) return fail(Failure::Tls, serverName() + ": TLS failed: " + ioWhat);
            return lost("waiting for the greeting");
        }
        if (greeting->code != 220)
            return fail(greeting->code >= 500 ? Failure::Failed : Failure::Connection,
                        serverName() + " refuses the session: " + said(*greeting));
        greetingText = said(*greeting).substr(0, 120);
        if (auto failed = hello()) return failed;
        if (auto failed = startTls()) return failed;
        if (auto failed = authenticate()) return failed;
        connected = true;
        return std::nullopt;
    }

    // An idle connection the server closed (or sent a 421 on) reads as ready: start afresh.
    bool stale() {
        if (!stream) return true;
        pollfd p{stream->next_layer().native_handle(), POLLIN, 0};
        return ::poll(&p, 1, 0) != 0;
    }

    void quit() {
        if (!connected || !stream) return;
        const std::chrono::seconds t = std::min(settings.timeouts.greeting, std::chrono::seconds(10));
        if (write("QUIT\r\n", t)) (void)read(t);
        drop();
    }

    SendStatus probe(std::string& found) {
        if (auto failed = connect()) return *failed;
        found = serverName();
        if (!greetingText.empty()) found += " (" + greetingText + ")";
        found += tls ? (settings.implicitTls ? ": TLS" : ": STARTTLS") : ": no TLS";
        found += settings.username.empty() ? ", no login" : ", logged in as " + settings.username;
        if (ext.pipelining) found += ", PIPELINING";
        quit();
        return {};
    }

    // ---- Messages ----------------------------------------------------------------------

    SendStatus send(const Message* messages, std::size_t count, const std::function<void(const Result&)>& onResult) {
        if (count == 0) return {};
        if (connected && stale()) drop();
        if (!connected)
            if (auto failed = connect()) return *failed;

        auto report = [&](std::size_t i, Outcome outcome, int code, std::string_view enhanced) {
            onResult({messages[i].token, outcome, code, enhanced, text});
        };
        auto reportReply = [&](std::size_t i, const Reply& r, Awaits what) {
            text.clear();
            text += std::to_string(r.code);
            text += ' ';
            text += r.text;
            text += " (in reply to ";
            text += inReplyTo(what);
            text += ')';
            // Only the reply to the final "." can make a message SENT; an odd 2xx/3xx where a
            // refusal was read (a 250 to DATA: the body never went) is a temporary failure.
            const Outcome outcome = r.code >= 500                            ? Outcome::Failed
                                    : r.code < 300 && what == Awaits::Dot ? Outcome::Sent
                                                                          : Outcome::Deferred;
            report(i, outcome, r.code, r.enhanced);
        };

        std::vector<Expect> expects;
        std::size_t next = 0;
        constexpr std::size_t kNone = static_cast<std::size_t>(-1);
        std::size_t body = kNone;  // the message whose 354 came: its data goes next
        bool bodyEmpty = false;
        bool refused = false;  // the current transaction was refused (its result is given)

        while (next < count || body != kNone) {
            out.clear();
            expects.clear();
            if (body != kNone) {
                const std::size_t b = out.size();
                if (bodyEmpty) out += ".\r\n";
                else appendBody(out, messages[body].data);
                expects.push_back({bodyEmpty ? Awaits::EmptyDot : Awaits::Dot, body, b, out.size()});
                body = kNone;
            }
            // Without PIPELINING the next transaction waits for the reply to this "." .
            if (next < count && (ext.pipelining || expects.empty())) {
                const std::size_t i = next++;
                const Message& m = messages[i];
                if (ext.size != 0 && m.data.size() > ext.size) {
                    text = "the message is " + std::to_string(m.data.size()) + " bytes, more than " + serverName() +
                           " takes (SIZE " + std::to_string(ext.size) + "); not sent";
                    report(i, Outcome::Failed, 0, "");
                    if (expects.empty()) continue;
                } else {
                    std::size_t b = out.size();
                    if (needRset) {
                        out += "RSET\r\n";
                        expects.push_back({Awaits::Rset, i, b, out.size()});
                        needRset = false;
                        b = out.size();
                    }
                    out += "MAIL FROM:<";
                    out += m.envelopeFrom;
                    out += '>';
                    if (ext.size != 0) out += " SIZE=" + std::to_string(m.data.size());
                    if (ext.eightBitMime && hasEightBit(m.data)) out += " BODY=8BITMIME";
                    out += "\r\n";
                    expects.push_back({Awaits::Mail, i, b, out.size()});
                    b = out.size();
                    out += "RCPT TO:<";
                    out += m.recipient;
                    out += ">\r\n";
                    expects.push_back({Awaits::Rcpt, i, b, out.size()});
                    b = out.size();
                    out += "DATA\r\n";
                    expects.push_back({Awaits::Data, i, b, out.size()});
                    refused = false;
                }
            }

            // One write for the whole group with PIPELINING; otherwise command by command,
            // skipping what a refused transaction no longer needs.
            if (ext.pipelining && !write(out, settings.timeouts.dataBlock)) return lostIn(expects, 0, messages, onResult);
            for (std::size_t k = 0; k < expects.size(); ++k) {
                const Expect& e = expects[k];
                const auto timeout = e.what == Awaits::Dot || e.what == Awaits::EmptyDot ? settings.timeouts.dataTerm
                                     : e.what == Awaits::Data                             ? settings.timeouts.dataInit
                                     : e.what == Awaits::Rcpt                             ? settings.timeouts.rcpt
                                                                                          : settings.timeouts.mail;
                if (!ext.pipelining) {
                    if (refused && (e.what == Awaits::Rcpt || e.what == Awaits::Data)) continue;
                    const std::size_t len = e.end - e.begin;
                    if (!write(std::string_view(out).substr(e.begin, len),
                               e.what == Awaits::Dot ? settings.timeouts.dataBlock : timeout))
                        return lostIn(expects, k, messages, onResult);
                }
                const auto reply = read(timeout);
                if (!reply) return lostIn(expects, k, messages, onResult);
                if (reply->code == 421) {
                    // The server is closing: whatever it did not accept was not handed over.
                    const std::string closing = serverName() + " is closing the connection: " + said(*reply) +
                                                " (in reply to " + inReplyTo(e.what) + ")";
                    return fail(Failure::Connection, closing);
                }
                switch (e.what) {
                case Awaits::Dot:
                    reportReply(e.index, *reply, e.what);
                    break;
                case Awaits::EmptyDot:
                case Awaits::Rset:
                    break;
                case Awaits::Mail:
                case Awaits::Rcpt:
                    if (!refused && reply->code >= 300) {
                        reportReply(e.index, *reply, e.what);
                        refused = true;
                        needRset = true;
                    }
                    break;
                case Awaits::Data:
                    if (reply->code == 354) {
                        body = e.index;
                        bodyEmpty = refused;
                        if (refused) needRset = true;
                    } else {
                        if (!refused) reportReply(e.index, *reply, e.what);
                        needRset = true;
                    }
                    break;
                }
            }
        }
        return {};
    }

    // The connection failed while expects[k..] had no reply: a message whose final "." was
    // (or may have been) written is UNKNOWN; the others were not handed over.
    SendStatus lostIn(const std::vector<Expect>& expects, std::size_t k, const Message* messages,
                      const std::function<void(const Result&)>& onResult) {
        const std::string why = ioWhat;
        for (std::size_t j = k; j < expects.size(); ++j) {
            if (expects[j].what != Awaits::Dot) continue;
            text = "the connection to " + serverName() + " was lost after the message was sent, before the server's reply: " + why;
            onResult({messages[expects[j].index].token, Outcome::Unknown, 0, "", text});
        }
        return fail(Failure::Connection, serverName() + ": " + why);
    }
};

Client::Client(Settings settings) : impl_(std::make_unique<Impl>(std::move(settings))) {}
Client::~Client() = default;

SendStatus Client::send(const Message* messages, std::size_t count, const std::function<void(const Result&)>& onResult) {
    return impl_->send(messages, count, onResult);
}

SendStatus Client::probe(std::string& found) { return impl_->probe(found); }

std::string Client::serverName() const { return impl_->serverName(); }

}  // namespace campaignd::smtp

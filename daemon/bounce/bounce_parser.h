// bounce_parser.h: one raw message (RFC 5322 bytes as fetched over IMAP or piped in by an MTA)
// in, what it says about deliveries out: RFC 3464 DSNs, RFC 5965 ARF complaints, the plain-text
// notices of qmail, Exim, Sendmail, Exchange, Gmail, Yahoo and Postfix, and auto-replies, each
// result classified into the bounce-reason vocabulary with the data to match it to a campaign.
// Promises: never throws, never crashes, bounded work (only the first kMaxParseBytes are read);
// malformed input gives what could be found plus `error`. Refuses nothing; matches nothing to
// the database and verifies no VERP token (the daemon does both).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace campaignd::bounce {

inline constexpr std::size_t kMaxParseBytes = std::size_t{1} << 20;  // the rest is not read

enum class Reason {
    userUnknown, hostUnknown, mailboxFull, filtered, blocked, spamDetected, rejected,
    policyViolation, expired, suspend, securityError, systemError, networkError, tooManyConn,
    mesgTooBig, exceedLimit, noRelaying, notAccept, hasMoved, syntaxError, contentError,
    virusDetected, onHold, vacation, feedback, delivered, undefined,
};

enum class Action { failed, delayed, delivered, relayed, expanded, complaint, autoreply };

// The vocabulary's own spelling: "userunknown", "mailboxfull", ..., "undefined".
std::string_view toString(Reason reason);
std::string_view toString(Action action);
// The inverse of toString(Reason); nullopt for an unknown word.
std::optional<Reason> reasonFromString(std::string_view word);
// userunknown, hostunknown, hasmoved and notaccept (a domain that takes no mail): the address
// will never work, suppress at once (for a failure whose code is not temporary).
bool isHard(Reason reason);

// What is known of one delivery outcome, for classify().
struct Outcome {
    std::string_view status;      // enhanced status "5.1.1", or ""
    std::string_view diagnostic;  // the server's words
    std::string_view command;     // the SMTP command it answered ("RCPT", "DATA", ...) or ""
    int smtpCode = 0;             // the reply code, or 0
    bool delayed = false;         // the notice reports a delay, not a failure
    std::string_view diagnosticType;  // a DSN's Diagnostic-Code type in lower case ("smtp",
                                      // "x-postfix", ...), or "" when not given
    std::string_view remoteHost;      // the server that answered ("mx.example.net"), or ""
};
// The reason for one outcome, decided as Sisimai decides (see classify.cpp and the README).
Reason classify(const Outcome& outcome);
// The SMTP command the text says a reply answered ("in reply to RCPT TO command", Exim's "after
// RCPT TO:", qmail's "does not like recipient", a Sendmail transcript's ">>> DATA"): "CONN",
// "HELO", "EHLO", "MAIL", "RCPT", "DATA", or "" when it does not say.
std::string_view smtpCommandIn(std::string_view text);
// Sisimai's pseudo status for a reason when the server gave no enhanced status ("5.0.911" for
// userunknown, "4.0.947" for a temporary expired); "" for delivered, feedback, vacation.
std::string pseudoStatus(Reason reason, bool temporary);

// classify() of an outcome whose command is not known. Also used for a 5xx during sending.
Reason classify(std::string_view status, std::string_view diagnostic);

struct BounceResult {
    std::string recipient;   // lower-cased domain, as the report names it; may be empty (ARF)
    std::string status;      // enhanced status "5.1.1"; when the notice gives none, Sisimai's
                             // pseudo status for the reason ("5.0.911", statusDerived), or ""
    int smtpCode = 0;        // the SMTP reply code (550) found in the diagnostic, or 0
    Reason reason = Reason::undefined;
    bool hard = false;       // isHard(reason), a failure, and not a 4.x.x/4xx (temporary) code
    Action action = Action::failed;
    std::string diagnostic;  // the server's words, white space collapsed, valid UTF-8
    std::string remoteMta;   // "mx.example.net", without the "dns;" type
    std::string smtpCommand; // the command the reply answered ("RCPT", "DATA"), or ""
    bool statusDerived = false;  // `status` is a pseudo status (x.0.9NN) for a reason, not given
    // Campaign matching, most trusted first: verpAddress (the original envelope sender, for
    // parseVerpAddress), originalMessageId (for the send ledger), campaignId (X-Campaign-Id of
    // the returned message, else a [CID:N] tag in its subject or the notice's).
    std::optional<std::int64_t> campaignId;
    std::string verpAddress;
    std::string originalMessageId;  // with the angle brackets, as in the header
};

struct ParsedMessage {
    bool isBounce = false;     // a delivery report or notice (failures, delays, successes)
    bool isAutoReply = false;  // vacation / out of office: no results
    bool isComplaint = false;  // ARF feedback report: one complaint result
    // A challenge-response system's request to prove the sender is a person (TMDA, ASK,
    // Boxbe, "please confirm you are human"): no results.
    bool isChallenge = false;
    // A delivery receipt, not a failure: an RFC 8098 MDN (no results), or a DSN whose every
    // result is delivered, relayed or expanded (results kept: a success resets soft bounces).
    bool isReceipt = false;
    std::string format;        // "rfc3464", "arf", "qmail", "exim", "sendmail", "exchange",
                               // "gmail", "yahoo", "postfix", "autoreply", "challenge", "mdn",
                               // "unknown"
    std::vector<BounceResult> results;
    std::string error;  // why it could not be (fully) parsed; "" if it was read cleanly
};

ParsedMessage parseMessage(std::string_view raw);

}  // namespace campaignd::bounce

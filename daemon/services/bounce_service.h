// bounce_service.h: the business rules for delivery notices, whoever brings them (the IMAP
// bounce reader, `bounces ingest` / a Postfix pipe(8) transport, the sender's 5xx at RCPT).
// One raw message in: parsed (campaignd-bounce), each result matched to its campaign and
// recipient in order of trust (the VERP envelope address, the returned Message-ID in the send
// ledger, the X-Campaign-Id header, the [CID:N] subject tag; unmatched: stored with no
// campaign), recorded once per (notice, address), and acted on in the same transaction only
// when the notice proves itself (issue 13 item 5): a valid VERP token or a Message-ID in the
// send ledger names the recipient; anything else (a forged token, a header claim, an address
// alone) is recorded with no effect unless [Bounces] ActOnUnmatched=yes. Acting: a hard bounce marks the recipient bounced, SoftBounceLimit consecutive soft bounces do too,
// a complaint unsubscribes, a delay is only recorded, a success notice resets the soft count,
// an auto-reply records nothing. A mail to the unsubscribe address (UnsubscribeMailto=) that
// carries a valid recipient token (List-Unsubscribe's mailto:, see mail/unsubscribe_request.h)
// unsubscribes that recipient and is no bounce; one without a valid token changes nothing.
// Refuses input that is not a mail message or is too large.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "mail/verp.h"
#include "plugin-host/plugin_host.h"
#include "core/clock.h"
#include "storage/bounce_store.h"
#include "storage/campaign_store.h"
#include "services/unsubscribe_service.h"
#include "storage/recipient_store.h"
#include "storage/suppression_store.h"

namespace campaignd::services {

// The largest notice ingested: a DSN carries the returned message, which may be as large as a
// campaign's message; the parser itself reads only the first MiB of it.
inline constexpr std::size_t kMaxBounceMessageBytes = std::size_t{32} << 20;
inline constexpr std::int64_t kDefaultSoftBounceLimit = 3;
// The most results taken from one notice; the rest are dropped, logged and counted. A real
// notice names a handful of recipients (a DSN per message; an MTA batching one domain's
// recipients rarely exceeds a hundred); 1 MiB of DSN text names ~3,600.
inline constexpr std::size_t kMaxResultsPerNotice = 100;

struct BounceOutcome;

struct BounceSettings {
    std::int64_t softBounceLimit = kDefaultSoftBounceLimit;  // >= 1
    // The [Bounces] keys for the bounce source (URL=, Username=, PasswordFile=, ...): handed to
    // the bounce-source plugin as they are; empty: no mailbox to fetch from.
    std::vector<std::pair<std::string, std::string>> source;
    std::optional<mail::VerpSettings> verp;  // as checkVerpSettings returns them; none: no VERP matching
    // [Sending] UnsubscribeMailto=, normalised; empty: no mailto unsubscribe (needs verp too).
    std::string unsubscribeMailto;
    // [Bounces] ActOnUnmatched=yes: results that neither a valid VERP token nor the send ledger
    // matched change their recipient too (found by address). Default: recorded, no effect.
    bool actOnUnmatched = false;
    // Told about each result newly recorded (not a duplicate, not a dry run), after its
    // transaction committed, on the caller's thread (the sending guard counts hard bounces and
    // complaints here). Must not throw. Empty: nobody.
    std::function<void(const BounceOutcome&)> recorded;
};

enum class BounceSource { Imap, Ingest, Smtp };
std::string_view toString(BounceSource source);

// One result of a notice, as matched and (unless a dry run) recorded.
struct BounceOutcome {
    std::string recipient;
    std::string status;  // "5.1.1" or ""
    std::string reason;  // "userunknown", ...
    bool hard = false;
    std::string action;  // "failed", "delayed", "complaint", "delivered", ...
    std::optional<Id> campaignId;
    std::optional<Id> recipientId;
    std::string matchedBy;  // "verp", "message-id", "header" (X-Campaign-Id or [CID:N]), ""
    // The recipient was named by a valid VERP token or the send ledger (not found by address).
    bool proven = false;
    // It was allowed to change its recipient: proven, or ActOnUnmatched=yes. False: recorded
    // with no effect ("no effect: not matched"), for an administrator to judge.
    bool acted = false;
    bool recorded = false;   // a new record was committed
    bool duplicate = false;  // recorded before (the same notice for the same address)
    // What it did to the recipient: "bounced", "unsubscribed", "soft-bounce", "reset", "".
    std::string effect;
    // The sender's own record of this failure (refused at RCPT for the same campaign and
    // recipient): this notice repeats it, is recorded linked to it and acts on nobody again.
    std::optional<Id> sameAs;
};

struct BounceReport {
    bool isBounce = false;
    bool isAutoReply = false;
    bool isComplaint = false;
    bool isChallenge = false;  // a challenge-response request: no bounce, nothing recorded
    bool isReceipt = false;    // a delivery or read receipt: nobody suppressed or counted bounced
    // A request to the unsubscribe address with a valid token: results holds one outcome,
    // action "unsubscribe", matchedBy "mailto", effect "unsubscribed" (or "" if they were not
    // subscribed any more). No bounce record is made.
    bool isUnsubscribeRequest = false;
    std::string format;  // the parser's: "rfc3464", "arf", "qmail", ...
    std::string error;   // the parser's note on damaged input, or ""
    std::string noticeKey;
    std::vector<BounceOutcome> results;
    std::int64_t recorded = 0;
    std::int64_t duplicates = 0;
    // Results beyond kMaxResultsPerNotice, not looked at (logged).
    std::int64_t dropped = 0;
};

// What one fetch from the bounce mailbox did (Manager.ProcessBounces, `bounces fetch`).
// Polled by long work (a fetch, reading or writing a caller's descriptor) between steps: true
// stops it with an Error. Empty: never.
using StopRequested = std::function<bool()>;

struct FetchSummary {
    std::int64_t fetched = 0;     // messages handed over by the source
    std::int64_t recorded = 0;    // new bounce records (a report may hold several)
    std::int64_t duplicates = 0;  // results recorded before (a message seen again)
    std::int64_t notBounces = 0;  // messages without any result (auto-replies, other mail)
    std::int64_t unsubscribed = 0;  // requests by mail (UnsubscribeMailto=) that unsubscribed someone
    std::int64_t unparsable = 0;  // messages refused as no mail (counted, marked processed)
    std::int64_t unmatched = 0;   // new records with no effect (not proven, see BounceOutcome::acted)
    std::int64_t dropped = 0;     // results beyond kMaxResultsPerNotice in a notice, not looked at
    std::string sourceStatus = "ok";  // "ok", "auth", "tls", "connection", "failed"
    std::vector<std::string> errors;  // what went wrong, for a person (bounded)
};

class BounceService {
public:
    // Error(InvalidArgument) for a soft bounce limit below 1. The roles must be views of one
    // store (a storage::Store is every role): a notice's records and suppression are one
    // transaction.
    // A complaint unsubscribes through UnsubscribeService (source "complaint", the matched
    // campaign), on `suppression`.
    BounceService(storage::BounceStore& bounces, storage::CampaignStore& campaigns,
                  storage::RecipientStore& recipients, storage::SuppressionStore& suppression, Clock clock,
                  BounceSettings settings);

    // Checks that `raw` looks like a mail message (non-empty, within kMaxBounceMessageBytes,
    // starting with a header field or an mbox "From " line, after any blank lines):
    // Error(InvalidArgument) otherwise.
    static void checkMessage(std::string_view raw);

    // Parses, matches and (unless dryRun) records and acts, all in one transaction that has
    // committed when this returns: a caller may then mark the notice processed. A message that
    // is no delivery notice (an auto-reply, a newsletter) gives no results and records nothing.
    // Error(InvalidArgument) from checkMessage; Error(Failed) from the database.
    BounceReport process(std::string_view raw, BounceSource source, bool dryRun);

    // The sender's 5xx at RCPT (or after DATA) for one ledger row: classified like a notice's
    // result, recorded with source smtp (once per Message-ID and address) and acted on.
    // `smtpCode`: the reply's code as the sender read it (0 if none).
    BounceOutcome recordRejection(Id campaign, std::optional<Id> recipient, std::string_view email,
                                  int smtpCode, std::string_view enhancedStatus, std::string_view replyText,
                                  std::string_view messageId);

    // Which sending outcomes are rejections for recordRejection (issue 5 item 4): a recipient
    // the ledger marked failed with a 5xx reply code (or, when the code is missing, a 5.x.x
    // enhanced status). A 4xx, a deferral or a failure without a reply (a render error) is not.
    static bool isRejection(bool failed, int smtpCode, std::string_view enhancedStatus);

    // One run of the bounce source: every message it hands over goes through process() (source
    // imap) and is committed before the source marks it processed. Source failures (connection
    // refused, login failure) end up in the summary and the log, never as an exception; a
    // database failure stops the run and throws. Error(Failed) if no URL= is configured
    // (checkSourceConfigured). `stop` is asked before each message: once it says so the run
    // ends with Error(Failed), the message left unprocessed for the next run (a source waiting
    // on its server is not interrupted: it has its own time-outs). How the run ended (its
    // source status and errors, or the failure that stopped it) is kept: lastFetch().
    FetchSummary fetch(const plugins::BounceSourceHandle& source, const StopRequested& stop = {});
    // Error(Failed) unless [Bounces] URL= is set.
    void checkSourceConfigured() const;

    std::vector<BounceRecord> list(const storage::BounceFilter& filter);
    // How the last run of fetch() ended (kept in the database, whoever ran it), if any ran.
    std::optional<storage::BounceFetchRecord> lastFetch();
    // Error(InvalidArgument) for an unknown reason, Error(NotFound) for an unknown campaign: what
    // list() and exportCsv() refuse before they read anything.
    void checkFilter(const storage::BounceFilter& filter);
    // The Bounce Report CSV (the original's columns first), formula-safe, written to fd
    // (not closed); returns the number of records. A pipe or socket is waited on with poll()
    // in short steps, asking `stop` in between (Error(Failed) once it says so), so a reader
    // that never reads holds only the caller, never for ever. Error(Failed) when writing fails.
    std::int64_t exportCsv(int fd, const storage::BounceFilter& filter, const StopRequested& stop = {});

    const BounceSettings& settings() const { return settings_; }

private:
    void match(BounceOutcome& out, std::string_view verpAddress, std::string_view originalMessageId,
               std::optional<Id> claimedCampaign);
    void act(BounceOutcome& out);
    FetchSummary fetchFrom(const plugins::BounceSourceHandle& source, const StopRequested& stop);
    void keepFetch(std::int64_t fetched, std::int64_t recorded, std::string_view status, std::string_view error);
    BounceReport unsubscribeByMail(const mail::VerpAddress& asked, std::string_view raw, BounceSource source,
                                   bool dryRun);

    storage::BounceStore& bounces_;
    storage::CampaignStore& campaigns_;
    storage::RecipientStore& recipients_;
    Clock clock_;
    BounceSettings settings_;
    UnsubscribeService unsubscribes_;
};

// Reads one notice from fd (from its current position to its end; not closed): at most
// kMaxBounceMessageBytes (Error(InvalidArgument) beyond), waiting at most `timeout` in all for
// a writer that stalls (Error(Failed)), so a stuck pipe cannot hold the caller; `stop` is asked
// at least four times a second (Error(Failed) once it says so).
std::string readBounceMessage(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                              const StopRequested& stop = {});

// The identity of a notice: "mid:" and its own Message-ID when it has one, else "sha256:" and
// the hex SHA-256 of its bytes.
std::string noticeKey(std::string_view raw);

}  // namespace campaignd::services

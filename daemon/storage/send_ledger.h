// send_ledger.h: the send ledger role of storage (campaign_recipients): attaching people to a
// campaign, and the sending side's moves of each row from pending to a final state. It
// promises that nobody is sent twice, by the compare-and-set transitions and the durable
// hand-over below; it refuses to run its sending-side moves inside a caller's transaction.
// Errors as in store.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "storage/transactional.h"

namespace campaignd::storage {

// ---- the send ledger's sending side ---------------------------------------------------------
// The sender's loop per campaign, and why it sends each recipient at most once:
//   claimBatch        pending -> sending (claimed_by = worker). Nothing has left the daemon.
//   render            the message gets its Message-ID.
//   markHandedOver    sending -> handed_over with the Message-ID, COMMITTED before the next step.
//   the transport     hands the message to the server.
//   recordOutcomes    handed_over -> sent / failed / back to pending (deferred, a 4xx).
// A crash before markHandedOver commits leaves `sending`: nothing was given to a transport,
// so recoverInterrupted makes it pending again. A crash after it leaves `handed_over`: the
// server may have the message, so recoverInterrupted makes it `unknown`, final, never resent.
// Every transition is a compare-and-set on the row's current state (and claim owner), so a
// stale or slow worker can never move a row another worker or the recovery has moved since.
// Every ledger row is in exactly one state at every moment: attached == sent + failed +
// unknown + skipped + pending + sending + handed_over. The store keeps these counts per
// campaign, changed in the same transaction as the rows they count (so they equal a recount at
// every committed moment); reading them does not recount the ledger. Every move to pending
// clears the claim and every claim names its worker: a pending row has no claimed_by, a
// sending row has one (cancelPending relies on it).
//
// outcome_at: every move to sent, failed, unknown or skipped, and every deferral, sets it to the
// move's `now` (the campaign recipients list shows it as the time of the outcome); recovery's
// handed_over -> unknown takes the row's claimed_at, the time just before its hand-over.
//
// Durability: only markHandedOver's commit waits for the disk. claimBatch and recordOutcomes
// commit without waiting (SqlConnection::beginRelaxed): a crash of the process loses nothing
// committed, and the database's log is written in order, so the next hand-over's commit makes
// them durable too. A power failure can lose only those made since the last hand-over: lost
// claims are rows that go back to pending (never handed over, or their hand-over would have
// flushed them); lost outcomes leave rows handed_over, which recovery makes unknown, never
// pending. Nobody is sent twice either way; one fsync per batch instead of three.
//
// `worker` names one claiming sender: unique per daemon instance (several daemons may share
// one PostgreSQL), and per claiming loop inside it. A worker must not call releaseClaims for
// itself while it still holds a batch it may hand over, and then claim again under the same
// name: the claims would be indistinguishable. (cancelPending is safe at any time.)

// A recipient claimed for sending: the ledger row and what rendering needs.
struct ClaimedRecipient {
    Id ledgerId = 0;
    Id recipientId = 0;
    std::string email;  // the address the ledger row was attached with
    std::string name;
    std::int64_t attempts = 0;  // transport attempts so far (deferrals included)
};

// A rendered message about to be given to the transport.
struct HandOver {
    Id ledgerId = 0;
    std::string messageId;  // the Message-ID header value, without angle brackets
};

// What the transport (or the renderer) said about one ledger row.
struct LedgerOutcome {
    enum class Kind { Sent, Failed, Deferred, Unknown };
    Id ledgerId = 0;
    Kind kind = Kind::Sent;
    // Failed: becomes fail_reason (the server's code and text, or the render error).
    // Deferred, Unknown: becomes last_error.
    std::string reason;
    std::optional<Usec> nextAttemptAt;  // Deferred only: not claimed again before this time
};

// What recoverInterrupted changed.
struct RecoveredClaims {
    std::int64_t unknown = 0;   // handed_over -> unknown
    std::int64_t released = 0;  // sending -> pending
};

class SendLedger : public virtual Transactional {
public:
    // The send ledger (CampaignRecipient). Attaching adds pending rows for subscribed
    // recipients not already attached; returns how many rows were added.
    virtual std::int64_t attachGroup(Id campaign, Id group) = 0;
    virtual bool attachRecipient(Id campaign, Id recipient) = 0;

    // Sending (see "the send ledger's sending side" above). None of these may run inside
    // transaction(): each commits on its own, and markHandedOver's commit is the point of it.
    // All take Error(Failed) from the database, after which nothing of the call is committed.

    // Claims up to `limit` rows of the campaign in status pending whose next_attempt_at is
    // NULL or <= now, lowest ledger id first: they become sending, claimed_by = worker,
    // claimed_at = now, and are returned (by ledger id). In the same transaction, rows of the
    // window whose recipient is now unsubscribed, bounced or deleted become skipped (last_error says
    // why) and are not returned; the claim goes on past them until `limit` rows are claimed or
    // no due pending row is left, so an empty result means "nothing due now" (see
    // campaignHasWorkLeft for "done"). PostgreSQL: UPDATE ... WHERE id IN (SELECT ... ORDER BY
    // id LIMIT n FOR UPDATE SKIP LOCKED) RETURNING, so concurrent claimers on other
    // connections (other daemons) get disjoint rows and never wait for each other. SQLite: one
    // BEGIN IMMEDIATE transaction (claimers take turns). limit 0 claims nothing.
    virtual std::vector<ClaimedRecipient> claimBatch(Id campaign, std::string_view worker,
                                                     std::size_t limit, Usec now) = 0;

    // THE EXACTLY-ONCE LINE. Moves each item's row from sending (claimed by `worker`) to
    // handed_over with its Message-ID, in one transaction that is durably committed (SQLite
    // synchronous=FULL; PostgreSQL synchronous_commit forced on) before this returns. Returns
    // the ledger ids that were moved, in the items' order: the sender gives the transport
    // those and only those. A row that is no longer sending by this worker (released, cancelled,
    // recovered by another daemon, claimed by another worker) is not moved and not returned,
    // and its message must not be sent.
    virtual std::vector<Id> markHandedOver(std::string_view worker, std::span<const HandOver> items) = 0;

    // Records a batch of outcomes in one transaction; returns how many were applied. Applied
    // only to rows claimed by `worker` that are handed_over, or sending for Failed (a failure
    // before hand-over, e.g. rendering). Anything else is left alone: a stale worker never
    // overwrites a newer state. Sent: sent_at = now. Failed: fail_reason = reason. Both count a
    // transport attempt when the row was handed_over. Deferred: back to pending, attempts + 1,
    // next_attempt_at, last_error = reason, message_id cleared (the server refused it, so it
    // will be sent again under a new Message-ID) and the claim cleared. Unknown (handed_over
    // only): the transport cannot tell whether the server has it; final, never resent, counted
    // as an attempt, last_error = reason. Sent, Failed and Unknown keep claimed_by/claimed_at as
    // history (which daemon sent it).
    virtual std::int64_t recordOutcomes(std::string_view worker,
                                        std::span<const LedgerOutcome> outcomes, Usec now) = 0;

    // markHandedOver and recordOutcomes in ONE transaction, durably committed as
    // markHandedOver's: the outcomes first, then the hand-over; all of it or none. Returns what
    // markHandedOver returns. The sender's steady step: outcomes of the messages in flight
    // arrive while it hands the next ones over, and one commit records both (with no items, it
    // is recordOutcomes).
    virtual std::vector<Id> handOverAndRecord(std::string_view worker, std::span<const HandOver> items,
                                              std::span<const LedgerOutcome> outcomes, Usec now) = 0;

    // At start-up, before claiming: handed_over -> unknown (the server may have the message:
    // never resend; counted in the report) and sending -> pending (never handed over: safe to
    // send). With a worker, only that worker's rows (one daemon of several sharing a
    // database, each recovering its own); without, every row of every campaign (only when no
    // other daemon is sending from the database).
    virtual RecoveredClaims recoverInterrupted(std::optional<std::string_view> worker) = 0;
    // The same for every worker of one daemon: the rows whose claimed_by begins with
    // "<instanceId>:" (a daemon's restart, whatever its Connections=; or, in a cluster, what the
    // others do for a daemon whose claims' lease ran out). Throws Error(InvalidArgument) for an
    // empty instance id or one holding ':'.
    virtual RecoveredClaims recoverInstance(std::string_view instanceId) = 0;

    // Pause: the worker's sending rows of the campaign go back to pending (claim cleared);
    // handed_over rows are left to their outcome. Returns how many.
    virtual std::int64_t releaseClaims(Id campaign, std::string_view worker) = 0;

    // Cancel: every pending and sending row of the campaign becomes skipped with last_error
    // "campaign cancelled", so every attached recipient stays accounted for. Sending rows are
    // included: a worker's later markHandedOver then refuses them, so nothing more is sent.
    // handed_over rows are left to their outcome. Their outcome_at is `now` (the cancel's
    // time). Returns how many.
    virtual std::int64_t cancelPending(Id campaign, Usec now) = 0;

    // Whether the campaign has rows in pending (deferred ones too, even if due only later),
    // sending or handed_over: it is complete when this is false.
    virtual bool campaignHasWorkLeft(Id campaign) = 0;
};

}  // namespace campaignd::storage

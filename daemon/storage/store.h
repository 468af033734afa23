// store.h: the storage interface campaignd's services use, and the factory that opens a
// backend from a Database= URL. Two backends implement it with the same behaviour: SQLite
// (Poco::Data::SQLite) and PostgreSQL (libpqxx). Opening a store applies the versioned schema
// migrations. Every query is parameterised; no value is ever spliced into SQL text.
//
// Errors: a unique address or name that is taken throws Error(AlreadyExists); a lost or
// failing database throws Error(Failed) with the backend's message. Finders return nullopt
// rather than throwing. A store is used from one thread at a time; several stores (one per
// thread) may share one database: SQLite runs in WAL mode with a busy timeout (readers never
// wait, a writer waits up to the timeout for another's transaction), PostgreSQL as usual.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace campaignd::storage {

struct RecipientFilter {
    std::optional<std::string> group;  // only members of this group (by name)
    std::optional<SubscriptionStatus> status;
    std::optional<std::int64_t> limit;
    std::int64_t offset = 0;
};

// ---- bulk recipient import ----------------------------------------------------------------
// One validated row of an import file. The views need only live for the add() call.
struct ImportRow {
    std::uint64_t line = 0;  // 1-based line in the file; the lowest line of an address wins
    std::string_view email;  // normalised, as insertRecipient expects
    std::string_view name;
    std::optional<SubscriptionStatus> status;  // unspecified: subscribed when new, else kept
    std::span<const std::string_view> groups;  // group names (case-sensitive); "" is ignored
};

struct ImportOptions {
    bool updateNames = false;  // a non-empty name in a row replaces a different stored name
    bool dryRun = false;       // finish() computes the counts, then rolls everything back
    std::vector<Id> groupIds;  // every row's recipient joins these (Error(NotFound) if one is gone)
    Usec now = 0;              // created_at of new recipients and groups
};

// What happened, per distinct address (the first row of it in the file):
//   rows == imported + updated + alreadyStored + duplicatesInFile.
struct ImportCounts {
    std::int64_t rows = 0;              // rows added
    std::int64_t imported = 0;          // new recipients
    std::int64_t updated = 0;           // existing ones whose name or status the import changed
    std::int64_t duplicatesInFile = 0;  // later rows of an address already seen in the file
    std::int64_t alreadyStored = 0;     // existing ones left as they were
    // Of the existing ones (updated or alreadyStored): unsubscribed, kept so although the row
    // said subscribed or said nothing. An import never re-subscribes anyone.
    std::int64_t unsubscribedKept = 0;
    std::vector<std::string> groupsCreated;  // names of groups that did not exist, sorted
};

// A bulk import session, from Store::beginImport. Rules, the same on both backends:
// - One person per address, compared case-insensitively (emailKey). In the file the first
//   row (lowest line) of an address wins; later rows count as duplicatesInFile and have no
//   effect at all (their groups are not joined either).
// - A new address is inserted with its name, status (default subscribed) and groups.
// - An existing recipient is never re-subscribed. A row saying unsubscribed unsubscribes a
//   subscribed one (an explicit opt-out is honoured) and counts as updated. With updateNames,
//   a different non-empty name replaces the stored one (updated); else names are kept.
// - The rows' groups and options.groupIds become memberships (never twice, also for existing
//   recipients); row group names that do not exist are created.
// - All or nothing: nothing is visible to other connections before finish() commits; a
//   session destroyed unfinished, or a process killed before the commit, leaves nothing.
// Memory does not grow with the number of rows: rows are staged in the database (PostgreSQL:
// COPY into a temporary table; SQLite: a temporary table, in the connection's temp file) and
// merged there by set-based SQL in finish().
// Concurrency: PostgreSQL takes no lock that blocks others until finish(); the merge then
// holds SHARE ROW EXCLUSIVE on recipients (other connections read freely, their recipient
// writes wait for the commit). SQLite stages without holding the write lock and takes it
// (BEGIN IMMEDIATE, waiting the busy timeout) only for the merge in finish(); in WAL mode
// readers never wait. Errors: Error(Failed) from the database, after which the session is
// rolled back and can only be destroyed.
class RecipientImport {
public:
    virtual ~RecipientImport() = default;  // unfinished: rolls back
    virtual void add(const ImportRow& row) = 0;
    // Merges and commits (dry run: rolls back), once; then the session is spent.
    virtual ImportCounts finish() = 0;
};

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

// A failed or unknown ledger row, for the report's list of failures.
struct LedgerProblem {
    Id ledgerId = 0;
    std::string email;   // the address the row was attached with
    std::string name;    // the recipient's name now; "" if none, or the recipient was deleted
    DeliveryStatus status = DeliveryStatus::Failed;  // Failed or Unknown
    std::string reason;  // fail_reason (failed), or what is known (unknown: last_error)
    std::int64_t attempts = 0;
};

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
struct DeliveryOutcome {
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

// ---- bounces ---------------------------------------------------------------------------------

struct BounceFilter {
    std::optional<Id> campaign;
    std::optional<std::string> reason;  // a reason word ("userunknown")
    std::optional<std::int64_t> limit;
    std::int64_t offset = 0;
};

// A send-ledger row found by the Message-ID it was sent with.
struct LedgerMatch {
    Id ledgerId = 0;
    Id campaignId = 0;
    std::optional<Id> recipientId;  // empty if the recipient was deleted since
    std::string email;              // the address it was sent to
};

// What a bounce did to its recipient (applyBounceAction).
struct SuppressionChange {
    std::optional<SubscriptionStatus> before;  // empty: no such recipient
    std::optional<SubscriptionStatus> after;
    std::int64_t softBounceCount = 0;  // after the change
};

class Store {
public:
    virtual ~Store() = default;

    // "sqlite" or "postgresql"; the location without any password.
    virtual std::string backendName() const = 0;
    virtual std::string location() const = 0;
    virtual int schemaVersion() = 0;

    // Runs fn in one transaction: committed when fn returns, rolled back when it throws (the
    // exception propagates). A call inside fn joins the outer transaction.
    virtual void transaction(const std::function<void()>& fn) = 0;

    // Campaigns. The counts (recipient, sent, failed, pending, unknown, skipped, in flight)
    // are the store's kept counters of the ledger, read without recounting it (the cost of a
    // read does not grow with the ledger); writes of a campaign ignore them.
    virtual Id insertCampaign(const Campaign& c) = 0;
    virtual void updateCampaign(const Campaign& c) = 0;  // name, subject, contents, from, transport, subject tag, schedule, status, reason, updated_at
    virtual std::optional<Campaign> findCampaign(Id id) = 0;
    virtual std::vector<Campaign> listCampaigns(std::optional<CampaignStatus> status) = 0;  // by id
    virtual bool deleteCampaign(Id id) = 0;  // with its ledger; false if there was none
    // Compare-and-set on the status: true if the campaign was in `from` and is now in `to`.
    virtual bool changeCampaignStatus(Id id, CampaignStatus from, CampaignStatus to,
                                      std::string_view reason, Usec now) = 0;
    // Scheduled campaigns whose time is at or before `now`, oldest first.
    virtual std::vector<Id> dueCampaigns(Usec now) = 0;

    // Recipients. Addresses are unique case-insensitively (the store keys them by their
    // lower-case form); `email` is expected already normalised by the services.
    virtual Id insertRecipient(const Recipient& r) = 0;
    virtual std::optional<Recipient> findRecipient(std::string_view email) = 0;
    virtual std::vector<Recipient> listRecipients(const RecipientFilter& filter) = 0;  // by address
    virtual void updateRecipient(const Recipient& r) = 0;  // name and status, by id
    virtual bool deleteRecipient(Id id) = 0;
    // Whether the recipient is attached to a campaign that is in progress.
    virtual bool recipientInActiveCampaign(Id id) = 0;

    // Groups. Names are unique as given (case-sensitive).
    virtual Id insertGroup(std::string_view name, Usec createdAt) = 0;
    virtual std::optional<Group> findGroup(std::string_view name) = 0;
    virtual std::vector<Group> listGroups() = 0;  // by name
    virtual bool deleteGroup(Id id) = 0;
    virtual bool addGroupMember(Id group, Id recipient) = 0;     // false if already a member
    virtual bool removeGroupMember(Id group, Id recipient) = 0;  // false if not a member

    // The send ledger (CampaignRecipient). Attaching adds pending rows for subscribed
    // recipients not already attached; returns how many rows were added.
    virtual std::int64_t attachGroup(Id campaign, Id group) = 0;
    // The distinct recipients who are members of any of `groups` or are one of `recipients`,
    // counted by whether they are subscribed, without reading them out (a group may have
    // millions of members). Ids that do not exist count nothing.
    struct PeopleCount {
        std::int64_t subscribed = 0;
        std::int64_t notSubscribed = 0;  // unsubscribed or bounced
    };
    virtual PeopleCount countPeople(std::span<const Id> groups, std::span<const Id> recipients) = 0;
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
                                        std::span<const DeliveryOutcome> outcomes, Usec now) = 0;

    // At start-up, before claiming: handed_over -> unknown (the server may have the message:
    // never resend; counted in the report) and sending -> pending (never handed over: safe to
    // send). With a worker, only that worker's rows (one daemon of several sharing a
    // database, each recovering its own); without, every row of every campaign (only when no
    // other daemon is sending from the database).
    virtual RecoveredClaims recoverInterrupted(std::optional<std::string_view> worker) = 0;

    // Pause: the worker's sending rows of the campaign go back to pending (claim cleared);
    // handed_over rows are left to their outcome. Returns how many.
    virtual std::int64_t releaseClaims(Id campaign, std::string_view worker) = 0;

    // Cancel: every pending and sending row of the campaign becomes skipped with last_error
    // "campaign cancelled", so every attached recipient stays accounted for. Sending rows are
    // included: a worker's later markHandedOver then refuses them, so nothing more is sent.
    // handed_over rows are left to their outcome. Returns how many.
    virtual std::int64_t cancelPending(Id campaign) = 0;

    // Whether the campaign has rows in pending (deferred ones too, even if due only later),
    // sending or handed_over: it is complete when this is false.
    virtual bool campaignHasWorkLeft(Id campaign) = 0;

    // Bounces. insertBounce stores one record and returns its id, or nullopt when a record of
    // the same notice for the same address exists (noticeKey, recipientEmail): nothing is
    // changed then. Records without a noticeKey never collide.
    virtual std::optional<Id> insertBounce(const BounceRecord& b) = 0;
    virtual std::vector<BounceRecord> listBounces(const BounceFilter& filter) = 0;  // newest first
    // The ledger row whose message_id is messageId (without angle brackets), if any.
    virtual std::optional<LedgerMatch> findLedgerByMessageId(std::string_view messageId) = 0;
    virtual std::optional<Recipient> findRecipientById(Id id) = 0;
    // Suppression, each one compare-and-set statement (safe against concurrent bounces):
    //   markRecipientBounced    subscribed -> bounced
    //   countSoftBounce         soft_bounce_count + 1; subscribed -> bounced when it reaches
    //                           limit (limit >= 1)
    //   resetSoftBounces        soft_bounce_count = 0 (evidence of a delivery)
    //   unsubscribeRecipient    subscribed or bounced -> unsubscribed (a complaint)
    virtual SuppressionChange markRecipientBounced(Id recipient) = 0;
    virtual SuppressionChange countSoftBounce(Id recipient, std::int64_t limit) = 0;
    virtual void resetSoftBounces(Id recipient) = 0;
    virtual SuppressionChange unsubscribeRecipient(Id recipient) = 0;

    // Reports.
    virtual Dashboard dashboard() = 0;
    virtual CampaignSummary campaignSummary(Id campaign) = 0;
    // The campaign's failed and unknown ledger rows with a ledger id above afterLedgerId, by
    // ledger id, at most limit of them: page through with the last one's ledgerId.
    virtual std::vector<LedgerProblem> campaignProblems(Id campaign, Id afterLedgerId, std::size_t limit) = 0;

    // Starts a bulk recipient import (see RecipientImport) on this store's connection. While
    // the session lives, the store must not be used for anything else, and must outlive it:
    // give an import a Store of its own (openStore), on the thread that runs it. Not inside
    // transaction(). Error(NotFound) if one of options.groupIds does not exist.
    virtual std::unique_ptr<RecipientImport> beginImport(const ImportOptions& options) = 0;
};

// Opens "sqlite:PATH" (the file and its directory are created as needed) or a
// "postgresql://..." / "postgres://..." URL (libpq syntax; a password is better given
// through PGPASSFILE or a credential than in the URL). Applies pending migrations.
// Throws Error(InvalidArgument) for an unknown scheme, Error(Failed) if it cannot connect.
std::unique_ptr<Store> openStore(const std::string& url);

}  // namespace campaignd::storage

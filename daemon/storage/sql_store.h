// sql_store.h: the one implementation of Store (every role), over a SqlConnection. The business
// SQL is written once, parameterised ($1..$N), and runs unchanged on SQLite and PostgreSQL;
// dialects differ only in the migrations' DDL and in the drivers. The member functions are
// defined by role: sql_campaigns.cpp, sql_recipients.cpp, sql_ledger.cpp, sql_bounces.cpp,
// sql_reports.cpp, sql_suppression.cpp, sql_cluster.cpp, sql_activity.cpp; the transactions, the kept counters and the import in sql_store.cpp.
//
// Transactions nest with savepoints: an inner transaction() that throws undoes only its own
// work, and the outer one decides. After a statement fails inside a transaction, every
// further statement of that transaction (savepoint level) is refused and the transaction
// cannot commit: PostgreSQL behaves that way, and the store makes SQLite behave the same.
#pragma once

#include <map>
#include <memory>

#include "storage/sql_connection.h"
#include "storage/store.h"

namespace campaignd::storage {

class SqlStore final : public Store {
public:
    // Applies the pending migrations (see migrations.h).
    explicit SqlStore(std::unique_ptr<SqlConnection> db);

    std::string backendName() const override;
    std::string location() const override;
    int schemaVersion() override;
    void transaction(const std::function<void()>& fn) override;

    Id insertCampaign(const Campaign& c) override;
    void updateCampaign(const Campaign& c) override;
    std::optional<Campaign> findCampaign(Id id) override;
    std::vector<Campaign> listCampaigns(std::optional<CampaignStatus> status) override;
    bool deleteCampaign(Id id) override;
    bool changeCampaignStatus(Id id, CampaignStatus from, CampaignStatus to,
                              std::string_view reason, Usec now) override;
    std::vector<Id> dueCampaigns(Usec now) override;
    void setCampaignGuard(Id id, BounceGuard guard) override;
    std::vector<Group> campaignGroups(Id campaign) override;

    Id insertRecipient(const Recipient& r) override;
    std::optional<Recipient> findRecipient(std::string_view email) override;
    std::optional<Recipient> findRecipientById(Id id) override;
    std::vector<Recipient> listRecipients(const RecipientFilter& filter) override;
    std::int64_t countRecipients(const RecipientFilter& filter) override;
    void updateRecipient(const Recipient& r) override;
    bool deleteRecipient(Id id) override;
    bool recipientInActiveCampaign(Id id) override;

    Id insertGroup(std::string_view name, Usec createdAt) override;
    std::optional<Group> findGroup(std::string_view name) override;
    std::vector<Group> listGroups() override;
    bool deleteGroup(Id id) override;
    bool addGroupMember(Id group, Id recipient) override;
    bool removeGroupMember(Id group, Id recipient) override;
    PeopleCount countPeople(std::span<const Id> groups, std::span<const Id> recipients) override;

    std::int64_t attachGroup(Id campaign, Id group) override;
    bool attachRecipient(Id campaign, Id recipient) override;

    std::vector<ClaimedRecipient> claimBatch(Id campaign, std::string_view worker, std::size_t limit,
                                             Usec now) override;
    std::vector<Id> markHandedOver(std::string_view worker, std::span<const HandOver> items) override;
    std::int64_t recordOutcomes(std::string_view worker, std::span<const LedgerOutcome> outcomes,
                                Usec now) override;
    std::vector<Id> handOverAndRecord(std::string_view worker, std::span<const HandOver> items,
                                      std::span<const LedgerOutcome> outcomes, Usec now) override;
    RecoveredClaims recoverInterrupted(std::optional<std::string_view> worker) override;
    RecoveredClaims recoverInstance(std::string_view instanceId) override;
    std::int64_t releaseClaims(Id campaign, std::string_view worker) override;
    std::int64_t cancelPending(Id campaign, Usec now) override;
    bool campaignHasWorkLeft(Id campaign) override;

    std::optional<Id> insertBounce(const BounceRecord& b) override;
    std::vector<BounceRecord> listBounces(const BounceFilter& filter) override;
    std::optional<Id> findSendingRejection(Id campaign, Id recipient) override;
    void recordBounceFetch(const BounceFetchRecord& fetch) override;
    std::optional<BounceFetchRecord> lastBounceFetch() override;
    std::optional<LedgerMatch> findLedgerByMessageId(std::string_view messageId) override;
    SuppressionChange markRecipientBounced(Id recipient) override;
    SuppressionChange countSoftBounce(Id recipient, std::int64_t limit) override;
    void resetSoftBounces(Id recipient) override;
    CampaignBounceCounts campaignBounceCounts(Id campaign) override;

    Dashboard dashboard() override;
    RecipientHistory recipientHistory(Id recipient, std::int64_t limit) override;
    // Bounce records by reason (failures and complaints, repeats left out), most frequent
    // first: of one campaign, or of all.
    std::vector<std::pair<std::string, std::int64_t>> bouncesByReason(std::optional<Id> campaign);
    std::int64_t unsubscribesSince(Usec since) override;
    std::vector<MinuteActivity> activitySince(Usec since) override;
    CampaignSummary campaignSummary(Id campaign) override;
    std::vector<LedgerProblem> campaignProblems(Id campaign, Id afterLedgerId, std::size_t limit) override;
    CampaignRecipientPage campaignRecipients(Id campaign, const CampaignRecipientFilter& filter) override;

    std::unique_ptr<RecipientImport> beginImport(const BulkImportOptions& options) override;

    UnsubscribeChange recordUnsubscribe(Id recipient, std::optional<Id> campaign, UnsubscribeSource source,
                                        Usec at) override;
    std::optional<UnsubscribeRecord> lastUnsubscribe(Id recipient) override;
    // The recipient's recorded unsubscribes, newest first (recipientHistory).
    std::vector<UnsubscribeRecord> unsubscribeRecords(Id recipient, std::int64_t limit);
    bool insertSuppression(const SuppressionEntry& entry, std::optional<Id> recipient) override;
    std::optional<SuppressionEntry> findSuppression(std::string_view addressHash) override;
    bool deleteSuppression(std::string_view addressHash) override;
    std::vector<SuppressionEntry> listSuppressions(std::int64_t limit, std::int64_t offset) override;
    ErasedRows eraseAddress(std::optional<Id> recipient, std::string_view email, std::string_view name) override;

    void heartbeat(const DaemonRecord& self) override;
    std::vector<DaemonRecord> listDaemons() override;
    std::vector<std::string> takeOverSilent(std::string_view taker, Usec silentSince, Usec now) override;

    // The connection underneath, for tests that look at the schema.
    SqlConnection& connection() { return *db_; }

private:
    // A change of a campaign's kept counters (see "kept counters" in sql_store.cpp).
    struct CountDelta {
        std::int64_t total = 0, pending = 0, inFlight = 0, sent = 0, failed = 0, unknown = 0, skipped = 0;
        bool empty() const;
    };
    using CountDeltas = std::map<Id, CountDelta>;  // by campaign, in id order
    struct ChangedRows {
        Id campaign = 0;
        std::int64_t kind = 0;  // the value of the caller's kind expression
        std::int64_t rows = 0;
    };

    void addCounts(int slot, const CountDeltas& deltas);
    // recordOutcomes' statements and counters, inside the caller's ledger transaction.
    std::int64_t applyOutcomes(std::string_view worker, std::span<const LedgerOutcome> outcomes, Usec now);
    // recordOutcomes' outcomes of minute `now` into outcome_minutes (sql_activity.cpp), in the
    // caller's transaction; prunes rows older than two days once a minute.
    void addActivity(int slot, Usec now, const CountDeltas& deltas);
    // recoverInterrupted's work on the in-flight rows `only` (an SQL condition on claimed_by,
    // with its parameters) selects, counted in counterSlot.
    RecoveredClaims recoverClaims(const std::string& only, const SqlParams& params, int counterSlot);
    std::vector<ChangedRows> changedRows(const std::string& statement, const SqlParams& params,
                                         std::string_view kind = "0");
    SqlRows query(std::string_view sql, const SqlParams& params = {});
    std::int64_t exec(std::string_view sql, const SqlParams& params = {});
    template <typename F>
    auto statement(F&& run) -> decltype(run());
    void rollbackToSavepoint(const std::string& name) noexcept;
    // A top-level transaction of the send ledger's sending side, run again when the database
    // aborts it over a conflict (TransientError): every one of them is a compare-and-set from
    // the rows' current states, so running it again is safe. fn must start from nothing each
    // time (reset what it collects).
    void ledgerTransaction(bool relaxed, const std::function<void()>& fn);
    // transaction(); relaxed: a top-level one commits without waiting for the disk
    // (SqlConnection::beginRelaxed).
    void transactionWith(bool relaxed, const std::function<void()>& fn);
    std::vector<std::string> groupsOf(Id recipient);
    CampaignRates campaignRates(const Campaign& c);
    void requireOwnTransaction(const char* what) const;
    SuppressionChange changeSubscription(Id recipient, const std::function<void()>& change);

    std::unique_ptr<SqlConnection> db_;
    std::string backend_;  // db_->backendName(): the transaction metric's label
    int depth_ = 0;          // 0: no transaction; 1: top level; >1: savepoints
    bool aborted_ = false;   // a statement failed at the current level
    Usec activityPrunedAt_ = -1;  // the minute addActivity last pruned in (-1: never)
};

// The campaign_counts slot a sending worker adds its deltas to: 1..kWorkerCounterSlots, a
// stable hash of its name; operations of no worker (attach, cancel, recovery of every worker,
// recipient deletion) use slot 0. Declared here for the tests, which pick workers of
// different slots.
inline constexpr int kWorkerCounterSlots = 16;
int ledgerCounterSlot(std::string_view worker);

// A recipient's address is unique by rules::emailKey (ASCII lower case: the same on both
// backends, whatever their locale).

}  // namespace campaignd::storage

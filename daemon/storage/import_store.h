// import_store.h: the imports role of storage: a bulk recipient import session that stages
// any number of validated rows and merges them all or nothing (the rules below). Promises
// memory that does not grow with the rows and nothing visible before finish() commits;
// refuses to start inside a caller's transaction. Errors as in store.h.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/model.h"

namespace campaignd::storage {

// One validated row of an import file. The views need only live for the add() call.
struct StagedRecipient {
    std::uint64_t line = 0;  // 1-based line in the file; the lowest line of an address wins
    std::string_view email;  // normalised, as insertRecipient expects
    std::string_view name;
    std::optional<SubscriptionStatus> status;  // unspecified: subscribed when new, else kept
    std::span<const std::string_view> groups;  // group names (case-sensitive); "" is ignored
    // The address's suppression hash (mail/address_hash.h), computed by the service; a new
    // address whose hash is on the suppression list is not imported. "": none.
    std::string_view addressHash;
};

struct BulkImportOptions {
    bool updateNames = false;  // a non-empty name in a row replaces a different stored name
    bool dryRun = false;       // finish() computes the counts, then rolls everything back
    bool createGroups = false; // rows may name groups that do not exist yet: they are created
    std::vector<Id> groupIds;  // every row's recipient joins these (Error(NotFound) if one is gone)
    Usec now = 0;              // created_at of new recipients and groups
};

// What happened, per distinct address (the first row of it in the file):
//   rows == imported + updated + alreadyStored + duplicatesInFile + suppressed.
struct ImportCounts {
    std::int64_t rows = 0;              // rows added
    std::int64_t imported = 0;          // new recipients
    std::int64_t updated = 0;           // existing ones whose name or status the import changed
    std::int64_t duplicatesInFile = 0;  // later rows of an address already seen in the file
    std::int64_t alreadyStored = 0;     // existing ones left as they were
    // Of the existing ones (updated or alreadyStored): unsubscribed, kept so although the row
    // said subscribed or said nothing. An import never re-subscribes anyone.
    std::int64_t unsubscribedKept = 0;
    // New addresses on the suppression list (deleted after they unsubscribed, bounced or
    // complained, or listed by an administrator): skipped, never imported.
    std::int64_t suppressed = 0;
    std::vector<std::string> groupsCreated;  // names of groups that did not exist, sorted
    // Without createGroups, in a dry run: the groups the rows name that do not exist, each
    // with the first line naming it, sorted by name (a real import refuses them instead).
    std::vector<std::pair<std::string, std::uint64_t>> groupsUnknown;
};

// A bulk import session, from ImportStore::beginImport. Rules, the same on both backends:
// - One person per address, compared case-insensitively (emailKey). In the file the first
//   row (lowest line) of an address wins; later rows count as duplicatesInFile and have no
//   effect at all (their groups are not joined either).
// - A new address is inserted with its name, status (default subscribed) and groups, unless
//   its hash (StagedRecipient::addressHash) is on the suppression list: then it is skipped
//   (suppressed) and none of its row has any effect.
// - An existing recipient is never re-subscribed. A row saying unsubscribed unsubscribes a
//   subscribed one (an explicit opt-out is honoured), is recorded as an unsubscribe with source
//   "import", and counts as updated. With updateNames,
//   a different non-empty name replaces the stored one (updated); else names are kept.
// - The rows' groups and options.groupIds become memberships (never twice, also for existing
//   recipients). Row group names that do not exist are created with createGroups; without
//   it finish() refuses them (Error(InvalidArgument) naming each and its first line, before
//   anything is merged), except in a dry run, which lists them in groupsUnknown.
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
    virtual void add(const StagedRecipient& row) = 0;
    // Merges and commits (dry run: rolls back), once; then the session is spent.
    virtual ImportCounts finish() = 0;
};

class ImportStore {
public:
    virtual ~ImportStore() = default;

    // Starts a bulk recipient import (see RecipientImport) on this store's connection. While
    // the session lives, the store must not be used for anything else, and must outlive it:
    // give an import a store of its own (openStore), on the thread that runs it. Not inside
    // transaction(). Error(NotFound) if one of options.groupIds does not exist.
    virtual std::unique_ptr<RecipientImport> beginImport(const BulkImportOptions& options) = 0;
};

}  // namespace campaignd::storage

// bulk_import.cpp: RecipientImport over SQL (see bulk_import.h and the rules in
// import_store.h). Two phases:
//   staging  add() appends (line, email_key, email, name, status, groups, address_hash) to the temporary
//            table campaignd_import_rows: COPY on PostgreSQL; a reused prepared INSERT on
//            SQLite, in a deferred transaction that touches only the connection's temp
//            database, so the shared database's write lock is not held while a file is parsed.
//   merge    finish(), in one transaction on the shared tables: the first row of each address
//            (DISTINCT ON / GROUP BY with min(line)) into campaignd_import_firsts, less the new
//            addresses whose staged hash is on the suppression list, the counts,
//            then UPDATE existing, INSERT new, INSERT missing groups, INSERT memberships.
// Nothing reaches the shared tables before the merge commits: a killed process leaves only a
// temporary table, which its server or SQLite's temp file drops with the connection.
#include "storage/bulk_import.h"

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "core/log.h"
#include "rules/validation.h"
#include "storage/sql_store.h"

namespace campaignd::storage {
namespace {

// The staging status column: the row's subscription status, if it gave one.
constexpr std::int64_t kStatusUnspecified = 0, kStatusSubscribed = 1, kStatusUnsubscribed = 2;

std::int64_t statusCode(const std::optional<SubscriptionStatus>& s) {
    if (!s) return kStatusUnspecified;
    return *s == SubscriptionStatus::Unsubscribed ? kStatusUnsubscribed : kStatusSubscribed;
}

// SQLite page caches (the default is 2 MB each), restored afterwards: for the shared database
// during the merge (it also bounds the GROUP BY sorter's memory) and for the temp database
// the staging table lives in. Measured with 1,000,000 rows: the import's CPU time is the
// same with 24 or 48 MiB; peak RSS is ~60 / ~75 / ~90 MiB with 24 / 32 / 48 MiB, and the
// daemon's budget for the whole process is 100 MB. KiB.
constexpr std::int64_t kSqliteMergeCacheKib = 32 * 1024;
constexpr std::int64_t kSqliteTempCacheKib = 16 * 1024;
constexpr const char* kPostgresMergeWorkMem = "64MB";

struct Dialect {
    const char* createRows;
    const char* createFirsts;
    const char* insertNew;
    const char* unknownGroups;
    const char* insertGroups;
    const char* insertRowMemberships;
    const char* lockGroup;
};

const Dialect kSqlite{
    "CREATE TEMP TABLE campaignd_import_rows (line INTEGER NOT NULL, email_key TEXT NOT NULL,"
    " email TEXT NOT NULL, name TEXT NOT NULL, status INTEGER NOT NULL, groups TEXT NOT NULL,"
    " address_hash TEXT NOT NULL)",
    // With min() as the only aggregate, SQLite takes the bare columns from the row holding the
    // minimum: the first line of each address.
    "CREATE TEMP TABLE campaignd_import_firsts AS"
    " SELECT email_key, min(line) AS line, email, name, status, groups, address_hash"
    " FROM campaignd_import_rows GROUP BY email_key ORDER BY email_key",
    // Holding the write lock, the unique index alone tells new from stored (one lookup).
    "INSERT INTO recipients (email, email_key, name, status, created_at)"
    " SELECT f.email, f.email_key, f.name,"
    " CASE WHEN f.status = 2 THEN 'unsubscribed' ELSE 'subscribed' END, $1"
    " FROM campaignd_import_firsts f WHERE 1 = 1"
    " ON CONFLICT (email_key) DO NOTHING",
    "SELECT j.value, min(f.line) FROM campaignd_import_firsts f, json_each(f.groups) j"
    " WHERE f.groups <> '[]'"
    " AND NOT EXISTS (SELECT 1 FROM recipient_groups g WHERE g.name = j.value)"
    " GROUP BY j.value ORDER BY j.value",
    "INSERT INTO recipient_groups (name, created_at)"
    " SELECT DISTINCT j.value, $1 FROM campaignd_import_firsts f, json_each(f.groups) j"
    " WHERE f.groups <> '[]'"
    " ON CONFLICT (name) DO NOTHING RETURNING name",
    "INSERT INTO group_members (group_id, recipient_id)"
    " SELECT g.id, r.id FROM campaignd_import_firsts f, json_each(f.groups) j"
    " JOIN recipient_groups g ON g.name = j.value"
    " JOIN recipients r ON r.email_key = f.email_key"
    " WHERE f.groups <> '[]'"
    " ON CONFLICT (group_id, recipient_id) DO NOTHING",
    // The merge holds SQLite's write lock: nobody can delete the group meanwhile.
    "SELECT id FROM recipient_groups WHERE id = $1",
};

const Dialect kPostgres{
    // COLLATE "C": the sort for DISTINCT ON is a byte compare, and the join with
    // recipients.email_key (also "C") can use its index.
    "CREATE TEMP TABLE campaignd_import_rows (line BIGINT NOT NULL,"
    " email_key TEXT COLLATE \"C\" NOT NULL, email TEXT NOT NULL, name TEXT NOT NULL,"
    " status SMALLINT NOT NULL, groups TEXT NOT NULL, address_hash TEXT COLLATE \"C\" NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE campaignd_import_firsts ON COMMIT DROP AS"
    " SELECT DISTINCT ON (email_key) email_key, line, email, name, status, groups, address_hash"
    " FROM campaignd_import_rows ORDER BY email_key, line",
    // The anti-join is one hash join; ON CONFLICT alone would probe the index row by row.
    "INSERT INTO recipients (email, email_key, name, status, created_at)"
    " SELECT f.email, f.email_key, f.name,"
    " CASE WHEN f.status = 2 THEN 'unsubscribed' ELSE 'subscribed' END, CAST($1 AS BIGINT)"
    " FROM campaignd_import_firsts f"
    " WHERE NOT EXISTS (SELECT 1 FROM recipients r WHERE r.email_key = f.email_key)"
    " ON CONFLICT (email_key) DO NOTHING",
    "SELECT j.name, min(f.line) FROM campaignd_import_firsts f"
    " CROSS JOIN LATERAL json_array_elements_text(CAST(f.groups AS json)) AS j(name)"
    " WHERE f.groups <> '[]'"
    " AND NOT EXISTS (SELECT 1 FROM recipient_groups g WHERE g.name = j.name)"
    " GROUP BY j.name ORDER BY j.name COLLATE \"C\"",
    "INSERT INTO recipient_groups (name, created_at)"
    " SELECT DISTINCT j.name, CAST($1 AS BIGINT) FROM campaignd_import_firsts f"
    " CROSS JOIN LATERAL json_array_elements_text(CAST(f.groups AS json)) AS j(name)"
    " WHERE f.groups <> '[]'"
    " ON CONFLICT (name) DO NOTHING RETURNING name",
    "INSERT INTO group_members (group_id, recipient_id)"
    " SELECT g.id, r.id FROM campaignd_import_firsts f"
    " CROSS JOIN LATERAL json_array_elements_text(CAST(f.groups AS json)) AS j(name)"
    " JOIN recipient_groups g ON g.name = j.name"
    " JOIN recipients r ON r.email_key = f.email_key"
    " WHERE f.groups <> '[]'"
    " ON CONFLICT (group_id, recipient_id) DO NOTHING",
    // Keeps the group from being deleted until the import commits.
    "SELECT id FROM recipient_groups WHERE id = $1 FOR KEY SHARE",
};

// Shared by both dialects. $1 = 1 when names are updated.
constexpr const char* kCountExisting =
    "SELECT COUNT(*), COUNT(r.id),"
    " COALESCE(SUM(CASE WHEN r.status = 'unsubscribed' AND f.status <> 2 THEN 1 ELSE 0 END), 0)"
    " FROM campaignd_import_firsts f LEFT JOIN recipients r ON r.email_key = f.email_key";

// New addresses on the suppression list leave the import before anything is counted or merged.
constexpr const char* kDropSuppressed =
    "DELETE FROM campaignd_import_firsts"
    " WHERE address_hash <> ''"
    " AND address_hash IN (SELECT address_hash FROM suppressions)"
    " AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.email_key = campaignd_import_firsts.email_key)";

// The opt-outs kUpdateExisting is about to apply, recorded first (it changes what they match).
constexpr const char* kRecordImportUnsubscribes =
    "INSERT INTO unsubscribe_events (recipient_id, source, unsubscribed_at)"
    " SELECT r.id, 'import', CAST($1 AS BIGINT) FROM campaignd_import_firsts f"
    " JOIN recipients r ON r.email_key = f.email_key"
    " WHERE f.status = 2 AND r.status <> 'unsubscribed'";

constexpr const char* kUpdateExisting =
    "UPDATE recipients AS r SET"
    " name = CASE WHEN $1 = 1 AND f.name <> '' THEN f.name ELSE r.name END,"
    " status = CASE WHEN f.status = 2 THEN 'unsubscribed' ELSE r.status END"
    " FROM campaignd_import_firsts AS f"
    " WHERE r.email_key = f.email_key"
    " AND ((f.status = 2 AND r.status <> 'unsubscribed')"
    " OR ($1 = 1 AND f.name <> '' AND f.name <> r.name))";

constexpr const char* kInsertOptionMemberships =
    "INSERT INTO group_members (group_id, recipient_id)"
    " SELECT CAST($1 AS BIGINT), r.id FROM campaignd_import_firsts f"
    " JOIN recipients r ON r.email_key = f.email_key"
    " WHERE 1 = 1"
    " ON CONFLICT (group_id, recipient_id) DO NOTHING";

void checkGroupsExist(SqlConnection& db, const std::vector<Id>& groupIds, const char* sql) {
    for (const Id id : groupIds)
        if (db.query(sql, {id}).empty())
            throw Error(ErrorCode::NotFound, "group " + std::to_string(id) + " does not exist");
}

class SqlRecipientImport final : public RecipientImport {
public:
    SqlRecipientImport(SqlConnection& db, const BulkImportOptions& options)
        : db_(db),
          options_(options),
          sqlite_(db.dialect() == SqlDialect::SQLite),
          dialect_(sqlite_ ? kSqlite : kPostgres) {
        if (db_.inTransaction())
            throw Error(ErrorCode::Failed, "database: an import cannot start inside a transaction");
        try {
            if (sqlite_) {
                // Read in autocommit mode, before the staging transaction: that transaction
                // must not hold a read snapshot of the shared database (see finish()).
                checkGroupsExist(db_, options_.groupIds, dialect_.lockGroup);
                dropTemporaryTables();
                // The staging data is ours alone and short-lived: freeing its pages need not
                // overwrite them (Debian builds SQLite with secure_delete on), which makes
                // dropping a million-row table cheap. The shared database keeps its setting.
                db_.exec("PRAGMA temp.secure_delete = 0");
                savedCacheSizes_ = {db_.query("PRAGMA main.cache_size").at(0).int64(0),
                                    db_.query("PRAGMA temp.cache_size").at(0).int64(0)};
                db_.exec("PRAGMA temp.cache_size = " + std::to_string(-kSqliteTempCacheKib));
                db_.beginDeferred();
            } else {
                db_.begin();
                checkGroupsExist(db_, options_.groupIds, dialect_.lockGroup);
            }
            db_.exec(dialect_.createRows);
            writer_ = db_.bulkWriter("campaignd_import_rows",
                                     {"line", "email_key", "email", "name", "status", "groups", "address_hash"});
        } catch (...) {
            abandon();
            throw;
        }
    }

    ~SqlRecipientImport() override {
        if (!spent_) abandon();
    }

    void add(const StagedRecipient& row) override {
        if (spent_) throw Error(ErrorCode::Failed, "database: the import is finished or failed");
        key_ = rules::emailKey(row.email);
        groups_ = importGroupsJson(row.groups);
        const SqlBulkValue fields[] = {std::int64_t(row.line), std::string_view(key_), row.email,
                                       row.name, statusCode(row.status), std::string_view(groups_),
                                       // A default view has no data, which SQLite would bind as NULL.
                                       row.addressHash.empty() ? std::string_view("") : row.addressHash};
        try {
            writer_->write(fields);
        } catch (...) {
            abandon();
            throw;
        }
        ++counts_.rows;
    }

    ImportCounts finish() override {
        if (spent_) throw Error(ErrorCode::Failed, "database: the import is finished or failed");
        try {
            writer_->finish();
            writer_.reset();
            if (sqlite_) {
                // The staging transaction wrote only the temp database; now take the write
                // lock for the merge alone (BEGIN IMMEDIATE waits up to the busy timeout).
                db_.commit();
                db_.begin();
            }
            merge();
            if (options_.dryRun)
                db_.rollback();
            else
                db_.commit();
        } catch (...) {
            abandon();
            throw;
        }
        spent_ = true;
        if (sqlite_) restoreSqliteCache();
        dropTemporaryTables();
        return counts_;
    }

private:
    void merge() {
        if (sqlite_) {
            db_.exec("PRAGMA main.cache_size = " + std::to_string(-kSqliteMergeCacheKib));
        } else {
            db_.query("SELECT set_config('work_mem', $1, true)", {std::string(kPostgresMergeWorkMem)});
            // Other connections keep reading; their recipient writes wait for our commit, so
            // the counts below stay exact.
            db_.exec("LOCK TABLE recipients IN SHARE ROW EXCLUSIVE MODE");
            checkGroupsExist(db_, options_.groupIds, dialect_.lockGroup);
        }
        if (sqlite_) checkGroupsExist(db_, options_.groupIds, dialect_.lockGroup);

        db_.exec(dialect_.createFirsts);
        if (!sqlite_) db_.exec("ANALYZE campaignd_import_firsts");
        const std::int64_t firsts = db_.query("SELECT COUNT(*) FROM campaignd_import_firsts").at(0).int64(0);
        counts_.duplicatesInFile = counts_.rows - firsts;
        counts_.suppressed = db_.exec(kDropSuppressed);
        if (!options_.createGroups) refuseUnknownGroups();

        const SqlRows existing = db_.query(kCountExisting);
        const std::int64_t distinct = existing.at(0).int64(0);
        const std::int64_t stored = existing.at(0).int64(1);
        counts_.unsubscribedKept = existing.at(0).int64(2);

        const std::int64_t updateNames = options_.updateNames ? 1 : 0;
        db_.exec(kRecordImportUnsubscribes, {options_.now});
        counts_.updated = db_.exec(kUpdateExisting, {updateNames});
        counts_.alreadyStored = stored - counts_.updated;
        counts_.imported = db_.exec(dialect_.insertNew, {options_.now});
        if (counts_.imported != distinct - stored)
            throw Error(ErrorCode::Failed, "database: the recipients changed during the import");

        if (options_.createGroups) {
            for (const SqlRow& row : db_.query(dialect_.insertGroups, {options_.now}))
                counts_.groupsCreated.push_back(row.text(0));
        }
        std::sort(counts_.groupsCreated.begin(), counts_.groupsCreated.end());
        db_.exec(dialect_.insertRowMemberships);
        for (const Id group : options_.groupIds) db_.exec(kInsertOptionMemberships, {group});
    }

    // Without createGroups a row may only name groups that exist: a typo in a groups column
    // must not become a group. A dry run lists them instead, for the user to decide.
    void refuseUnknownGroups() {
        for (const SqlRow& row : db_.query(dialect_.unknownGroups))
            counts_.groupsUnknown.emplace_back(row.text(0), static_cast<std::uint64_t>(row.int64(1)));
        if (counts_.groupsUnknown.empty() || options_.dryRun) return;
        constexpr std::size_t kNamed = 10;
        const std::size_t n = counts_.groupsUnknown.size();
        std::string message = "the file names " + std::to_string(n) +
                              (n == 1 ? " group that does not exist: " : " groups that do not exist: ");
        for (std::size_t i = 0; i < std::min(n, kNamed); ++i)
            message += (i ? ", " : "") + rules::quoteForMessage(counts_.groupsUnknown[i].first) + " (line " +
                       std::to_string(counts_.groupsUnknown[i].second) + ")";
        if (n > kNamed) message += " and " + std::to_string(n - kNamed) + " more";
        message += "; create them first, or let the import create them (create_groups; campaignd-ctl: "
                   "--create-groups)";
        throw Error(ErrorCode::InvalidArgument, message);
    }

    // Rolls back whatever is open and forgets the staged rows; never throws.
    void abandon() noexcept {
        spent_ = true;
        writer_.reset();
        db_.rollback();
        if (sqlite_) restoreSqliteCache();
        dropTemporaryTables();
    }

    void restoreSqliteCache() noexcept {
        if (!savedCacheSizes_) return;
        try {
            db_.exec("PRAGMA main.cache_size = " + std::to_string(savedCacheSizes_->first));
            db_.exec("PRAGMA temp.cache_size = " + std::to_string(savedCacheSizes_->second));
        } catch (const Error& e) {
            log::warning("restoring the SQLite cache size failed", {{"ERROR", e.what()}});
        }
        savedCacheSizes_.reset();
    }

    // PostgreSQL drops them at the end of the transaction (ON COMMIT DROP); SQLite keeps
    // temporary tables for the connection's lifetime.
    void dropTemporaryTables() noexcept {
        if (!sqlite_ || db_.inTransaction()) return;
        try {
            db_.exec("DROP TABLE IF EXISTS temp.campaignd_import_firsts");
            db_.exec("DROP TABLE IF EXISTS temp.campaignd_import_rows");
        } catch (const Error& e) {
            log::warning("dropping the import's temporary tables failed", {{"ERROR", e.what()}});
        }
    }

    SqlConnection& db_;
    BulkImportOptions options_;
    bool sqlite_;
    const Dialect& dialect_;
    std::unique_ptr<SqlBulkWriter> writer_;
    ImportCounts counts_;
    bool spent_ = false;
    std::optional<std::pair<std::int64_t, std::int64_t>> savedCacheSizes_;  // main, temp
    std::string key_;     // reused row to row
    std::string groups_;  // reused row to row
};

void appendJsonString(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    for (const char ch : s) {
        const auto byte = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out.push_back('\\');
            out.push_back(ch);
        } else if (byte < 0x20) {
            out += "\\u00";
            out.push_back(kHex[byte >> 4]);
            out.push_back(kHex[byte & 0xf]);
        } else {
            out.push_back(ch);
        }
    }
    out.push_back('"');
}

}  // namespace

std::string importGroupsJson(std::span<const std::string_view> groups) {
    std::string out = "[";
    for (std::size_t i = 0; i < groups.size(); ++i) {
        if (groups[i].empty()) continue;
        if (std::find(groups.begin(), groups.begin() + std::ptrdiff_t(i), groups[i]) !=
            groups.begin() + std::ptrdiff_t(i))
            continue;  // named twice in the row
        if (out.size() > 1) out.push_back(',');
        appendJsonString(out, groups[i]);
    }
    out.push_back(']');
    return out;
}

std::unique_ptr<RecipientImport> beginRecipientImport(SqlConnection& db, const BulkImportOptions& options) {
    return std::make_unique<SqlRecipientImport>(db, options);
}

}  // namespace campaignd::storage

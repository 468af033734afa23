// migrations.cpp: the schema history. Never edit an applied migration; append a new one.
//
// Version 1, the original design's data model, completed:
//   campaigns            the campaign and its status token (core/model.h tokens), times in
//                        microseconds since the epoch (BIGINT on both backends).
//   recipients           one person per address; email_key = the address in ASCII lower case
//                        is UNIQUE, so addresses are unique case-insensitively.
//   recipient_groups     named groups (UNIQUE name, case-sensitive). Not called "groups":
//                        GROUPS is a keyword in both SQL dialects' window syntax.
//   group_members        many-to-many; deleting a group or a recipient removes its rows.
//   campaign_recipients  the send ledger: one row per (campaign, recipient), status
//                        pending/sent/failed, fail_reason, sent_at, attempts, and the address
//                        it was (or will be) sent to. Deleting a campaign deletes its ledger.
//                        Deleting a recipient deletes its *pending* rows (SqlStore does that)
//                        and keeps sent/failed rows as history with recipient_id NULL, so a
//                        finished campaign's report does not change when a person is removed.
//   bounce_records       bounces read back from the mailbox; campaign_id NULL when unknown or
//                        when the campaign was deleted.
// Status columns carry no CHECK constraint on purpose: later versions add ledger statuses
// (unknown, skipped) and SQLite cannot alter a CHECK without rebuilding the table. The store
// rejects a token it does not know when it reads one.
//
// Version 2, the send ledger's exactly-once columns (send_ledger.h has the rules):
//   campaign_recipients  message_id (the Message-ID, NULL until handed over), claimed_by
//                        (the sender instance holding the row), claimed_at, next_attempt_at
//                        (retry backoff, NULL = due now), last_error (the latest deferral,
//                        skip or recovery reason; fail_reason stays the final failure). New
//                        status tokens: sending, handed_over, unknown, skipped.
//                        The claim index (campaign_id, status, next_attempt_at) replaces
//                        (campaign_id, status), which is its prefix; a partial index on the
//                        few in-flight rows serves start-up recovery across all campaigns.
//   campaigns            transport (a [Transport NAME]; '' = the default), subject_tag
//                        (boolean as 0/1, default 1).
// Version 3, bounces and suppression:
//   bounce_records       one row per result of a delivery notice: recipient_id (NULL when the
//                        address is not stored; ON DELETE SET NULL), hard (0/1), action
//                        (failed, delayed, complaint, delivered, ...), diagnostic, remote_mta,
//                        message_id (the returned message's), source (imap, ingest, smtp) and
//                        notice_key (the notice's own identity). UNIQUE (notice_key,
//                        recipient_email): the same notice processed twice records once (NULL
//                        keys, rows of version 1, never collide).
//   recipients           soft_bounce_count: consecutive soft bounces; status token "bounced".
//   campaign_recipients  an index on message_id, to match a returned message to its ledger row.
// Version 4, claiming in ledger order without sorting:
//   campaign_recipients  the claim index becomes (campaign_id, status, id) with next_attempt_at
//                        carried along (an index column on SQLite, INCLUDE on PostgreSQL).
//                        The claim takes a campaign's due pending rows lowest id first; with
//                        next_attempt_at before id in the index, both backends read and sorted
//                        every pending row of the campaign for each batch (SQLite: "USE TEMP
//                        B-TREE FOR ORDER BY"), so claiming a 1,000,000-recipient campaign cost
//                        time quadratic in its size. Now a claim reads one batch's worth of
//                        index entries. Counting by (campaign_id, status) uses its prefix.
// Version 5, kept ledger counters (issue 3: reads no longer recount a million-row ledger):
//   campaign_counts      per (campaign, slot): total, pending, in_flight (sending and
//                        handed_over together), sent, failed, unknown, skipped. A campaign's
//                        counts are the SUM over its slots; a single slot is a running sum of
//                        deltas and may be negative. SqlStore adds each ledger change's deltas
//                        in the same transaction (sql_store.cpp, "kept counters"); sending
//                        workers write their own slot (1..16) so that concurrent commits on
//                        PostgreSQL do not queue on one row lock; everything else writes slot
//                        0. The migration fills slot 0 from the existing ledger, so an upgraded
//                        database is right at once. Deleting a campaign deletes its counters.
// Version 6, who got what and when (issue 10: `campaign recipients`):
//   campaign_recipients  outcome_at: when the row reached its state (sent, failed, unknown,
//                        skipped) or was last deferred; NULL when never tried. Rows already
//                        sent take their sent_at; the other rows of an older database have no
//                        time. No new index: the list pages through the claim index
//                        (campaign_id, status, id) in its own order (sql_reports.cpp).
// Version 7, every unsubscribe recorded and a suppression list that outlives deletion (issue 11):
//   unsubscribe_events   one row per unsubscribe that changed a recipient's status: recipient_id
//                        (SET NULL when the recipient is deleted, so a campaign's count stays),
//                        campaign_id (the campaign it came from, if any; SET NULL when deleted),
//                        source (core/model.h UnsubscribeSource tokens), unsubscribed_at. No
//                        address: counts survive an erasure.
//   suppressions         address_hash (HMAC-SHA256 of the normalised address, hex; the primary
//                        key), reason, since, and recipient_id linking a current recipient who
//                        has the address (SET NULL on delete). Never a readable address.
// Version 8, only a notice that proves itself changes a subscription (issue 13 item 5):
//   bounce_records       matched_by: what tied the result to its recipient ("verp",
//                        "message-id", "ledger", "header" or ""); acted (0/1): whether the
//                        result was allowed to change the recipient (matched by a valid VERP
//                        token or the send ledger, or [Bounces] ActOnUnmatched=yes). Rows of
//                        older versions were acted on under the old rule: acted 1, matched_by ''.
// Version 9, the sending guard and List-Id (issue 12 items 5 and 3):
//   campaigns            bounce_guard: "armed" (the guard watches it while it sends), "tripped"
//                        (the guard paused it: a plain resume is refused), "off" (resumed with
//                        --force: not watched again). Existing campaigns are armed.
//   campaign_groups      which groups were attached to a campaign (campaign_id, group_id),
//                        written by attachGroup in the same transaction as the ledger rows;
//                        deleting either side deletes the link. Campaigns attached before this
//                        version have no rows (nothing recorded which groups they had): their
//                        messages carry no List-Id until a group is attached again.
// Version 10, one bounce per failure and the bounce fetches' outcome (issue 13 item 6):
//   bounce_records       same_as: the earlier record this one repeats (a DSN for a failure
//                        the sender recorded at RCPT, same campaign and recipient), counted and
//                        acted on once; NULL for the others (SET NULL if that one is deleted).
//   bounce_fetches       one row per run of the bounce source, the newest 100 kept:
//                        finished_at, source_status ("ok", "auth", "tls", "connection",
//                        "failed"), error ('' when it went well), fetched, recorded.
// Version 12, messages per minute over the last day (issue 16 item 1: the dashboard's chart):
//   outcome_minutes      per (minute_start, campaign_id, slot): how many ledger outcomes were
//                        recorded in that minute: sent, failed, unknown, deferred (given back
//                        to pending with a retry time). minute_start is the minute's first
//                        microsecond. Written by recordOutcomes in the same transaction as the
//                        outcomes (sql_activity.cpp), one upsert per campaign per call, in the
//                        worker's counter slot like campaign_counts; rows older than two days are
//                        deleted there once a minute. No foreign key: a deleted campaign's
//                        messages were still sent in that minute. The primary key's prefix
//                        serves the dashboard's read of the last 24 hours and the pruning.
//                        Recovery's unknowns are counted in the minute of their claim (the
//                        time their outcome_at takes).
// Sort keys that reach the user (email_key, group name) use the "C" collation on PostgreSQL so
// that both backends order them byte-wise, whatever the database's locale.
#include "storage/migrations.h"

#include <chrono>
#include <string>
#include <vector>

#include "core/error.h"

namespace campaignd::storage {
namespace {

struct Migration {
    int version;
    const char* description;
    std::vector<const char*> sqlite;
    std::vector<const char*> postgresql;
};

// Version 5's fill: every campaign with ledger rows gets slot 0 = the recount, in the
// migration's transaction. A campaignd of this version writes the ledger only after its own
// migrate() returned, so none writes between the count and the commit. An older campaignd
// still running on the same database would not keep the counters at all: stop every daemon
// sharing a database before upgrading any of them.
constexpr const char* kCountsFill =
    "INSERT INTO campaign_counts (campaign_id, slot, total, pending, in_flight, sent, failed, unknown, skipped)"
    " SELECT campaign_id, 0, COUNT(*),"
    " SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN status IN ('sending', 'handed_over') THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN status = 'unknown' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END)"
    " FROM campaign_recipients GROUP BY campaign_id";

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> list{
        {1,
         "campaigns, recipients, groups, send ledger, bounces",
         {
             R"(CREATE TABLE campaigns (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 name TEXT NOT NULL,
                 subject TEXT NOT NULL,
                 html_content TEXT NOT NULL DEFAULT '',
                 text_content TEXT NOT NULL DEFAULT '',
                 from_address TEXT NOT NULL DEFAULT '',
                 scheduled_time INTEGER,
                 status TEXT NOT NULL DEFAULT 'draft',
                 status_reason TEXT NOT NULL DEFAULT '',
                 created_at INTEGER NOT NULL,
                 updated_at INTEGER NOT NULL))",
             "CREATE INDEX campaigns_status_scheduled_idx ON campaigns (status, scheduled_time)",
             R"(CREATE TABLE recipients (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 email TEXT NOT NULL,
                 email_key TEXT NOT NULL UNIQUE,
                 name TEXT NOT NULL DEFAULT '',
                 status TEXT NOT NULL DEFAULT 'subscribed',
                 created_at INTEGER NOT NULL))",
             "CREATE INDEX recipients_status_idx ON recipients (status)",
             R"(CREATE TABLE recipient_groups (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 name TEXT NOT NULL UNIQUE,
                 created_at INTEGER NOT NULL))",
             R"(CREATE TABLE group_members (
                 group_id INTEGER NOT NULL REFERENCES recipient_groups (id) ON DELETE CASCADE,
                 recipient_id INTEGER NOT NULL REFERENCES recipients (id) ON DELETE CASCADE,
                 PRIMARY KEY (group_id, recipient_id)))",
             "CREATE INDEX group_members_recipient_idx ON group_members (recipient_id)",
             R"(CREATE TABLE campaign_recipients (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
                 recipient_id INTEGER REFERENCES recipients (id) ON DELETE SET NULL,
                 recipient_email TEXT NOT NULL,
                 status TEXT NOT NULL DEFAULT 'pending',
                 fail_reason TEXT NOT NULL DEFAULT '',
                 sent_at INTEGER,
                 attempts INTEGER NOT NULL DEFAULT 0,
                 UNIQUE (campaign_id, recipient_id)))",
             "CREATE INDEX campaign_recipients_campaign_status_idx ON campaign_recipients (campaign_id, status)",
             "CREATE INDEX campaign_recipients_recipient_idx ON campaign_recipients (recipient_id)",
             R"(CREATE TABLE bounce_records (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 campaign_id INTEGER REFERENCES campaigns (id) ON DELETE SET NULL,
                 recipient_email TEXT NOT NULL,
                 reason TEXT NOT NULL DEFAULT '',
                 status_code TEXT NOT NULL DEFAULT '',
                 processed_at INTEGER NOT NULL))",
             "CREATE INDEX bounce_records_campaign_idx ON bounce_records (campaign_id)",
             "CREATE INDEX bounce_records_email_idx ON bounce_records (recipient_email)",
         },
         {
             R"(CREATE TABLE campaigns (
                 id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                 name TEXT NOT NULL,
                 subject TEXT NOT NULL,
                 html_content TEXT NOT NULL DEFAULT '',
                 text_content TEXT NOT NULL DEFAULT '',
                 from_address TEXT NOT NULL DEFAULT '',
                 scheduled_time BIGINT,
                 status TEXT NOT NULL DEFAULT 'draft',
                 status_reason TEXT NOT NULL DEFAULT '',
                 created_at BIGINT NOT NULL,
                 updated_at BIGINT NOT NULL))",
             "CREATE INDEX campaigns_status_scheduled_idx ON campaigns (status, scheduled_time)",
             R"(CREATE TABLE recipients (
                 id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                 email TEXT NOT NULL,
                 email_key TEXT COLLATE "C" NOT NULL UNIQUE,
                 name TEXT NOT NULL DEFAULT '',
                 status TEXT NOT NULL DEFAULT 'subscribed',
                 created_at BIGINT NOT NULL))",
             "CREATE INDEX recipients_status_idx ON recipients (status)",
             R"(CREATE TABLE recipient_groups (
                 id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                 name TEXT COLLATE "C" NOT NULL UNIQUE,
                 created_at BIGINT NOT NULL))",
             R"(CREATE TABLE group_members (
                 group_id BIGINT NOT NULL REFERENCES recipient_groups (id) ON DELETE CASCADE,
                 recipient_id BIGINT NOT NULL REFERENCES recipients (id) ON DELETE CASCADE,
                 PRIMARY KEY (group_id, recipient_id)))",
             "CREATE INDEX group_members_recipient_idx ON group_members (recipient_id)",
             R"(CREATE TABLE campaign_recipients (
                 id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                 campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
                 recipient_id BIGINT REFERENCES recipients (id) ON DELETE SET NULL,
                 recipient_email TEXT NOT NULL,
                 status TEXT NOT NULL DEFAULT 'pending',
                 fail_reason TEXT NOT NULL DEFAULT '',
                 sent_at BIGINT,
                 attempts INTEGER NOT NULL DEFAULT 0,
                 UNIQUE (campaign_id, recipient_id)))",
             "CREATE INDEX campaign_recipients_campaign_status_idx ON campaign_recipients (campaign_id, status)",
             "CREATE INDEX campaign_recipients_recipient_idx ON campaign_recipients (recipient_id)",
             R"(CREATE TABLE bounce_records (
                 id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                 campaign_id BIGINT REFERENCES campaigns (id) ON DELETE SET NULL,
                 recipient_email TEXT NOT NULL,
                 reason TEXT NOT NULL DEFAULT '',
                 status_code TEXT NOT NULL DEFAULT '',
                 processed_at BIGINT NOT NULL))",
             "CREATE INDEX bounce_records_campaign_idx ON bounce_records (campaign_id)",
             "CREATE INDEX bounce_records_email_idx ON bounce_records (recipient_email)",
         }},
        {2,
         "send ledger: claims, hand-over, retry; campaign transport and subject tag",
         {
             "ALTER TABLE campaign_recipients ADD COLUMN message_id TEXT",
             "ALTER TABLE campaign_recipients ADD COLUMN claimed_by TEXT",
             "ALTER TABLE campaign_recipients ADD COLUMN claimed_at INTEGER",
             "ALTER TABLE campaign_recipients ADD COLUMN next_attempt_at INTEGER",
             "ALTER TABLE campaign_recipients ADD COLUMN last_error TEXT NOT NULL DEFAULT ''",
             "DROP INDEX campaign_recipients_campaign_status_idx",
             "CREATE INDEX campaign_recipients_claim_idx ON campaign_recipients (campaign_id, status, next_attempt_at)",
             "CREATE INDEX campaign_recipients_in_flight_idx ON campaign_recipients (claimed_by)"
             " WHERE status IN ('sending', 'handed_over')",
             "ALTER TABLE campaigns ADD COLUMN transport TEXT NOT NULL DEFAULT ''",
             "ALTER TABLE campaigns ADD COLUMN subject_tag INTEGER NOT NULL DEFAULT 1",
         },
         {
             "ALTER TABLE campaign_recipients ADD COLUMN message_id TEXT",
             "ALTER TABLE campaign_recipients ADD COLUMN claimed_by TEXT",
             "ALTER TABLE campaign_recipients ADD COLUMN claimed_at BIGINT",
             "ALTER TABLE campaign_recipients ADD COLUMN next_attempt_at BIGINT",
             "ALTER TABLE campaign_recipients ADD COLUMN last_error TEXT NOT NULL DEFAULT ''",
             "DROP INDEX campaign_recipients_campaign_status_idx",
             "CREATE INDEX campaign_recipients_claim_idx ON campaign_recipients (campaign_id, status, next_attempt_at)",
             "CREATE INDEX campaign_recipients_in_flight_idx ON campaign_recipients (claimed_by)"
             " WHERE status IN ('sending', 'handed_over')",
             "ALTER TABLE campaigns ADD COLUMN transport TEXT NOT NULL DEFAULT ''",
             "ALTER TABLE campaigns ADD COLUMN subject_tag INTEGER NOT NULL DEFAULT 1",
         }},
        {3,
         "bounces: full bounce records, idempotent per notice; soft bounce count; ledger Message-ID index",
         {
             "ALTER TABLE bounce_records ADD COLUMN recipient_id INTEGER REFERENCES recipients (id) ON DELETE SET NULL",
             "ALTER TABLE bounce_records ADD COLUMN hard INTEGER NOT NULL DEFAULT 0",
             "ALTER TABLE bounce_records ADD COLUMN action TEXT NOT NULL DEFAULT 'failed'",
             "ALTER TABLE bounce_records ADD COLUMN diagnostic TEXT NOT NULL DEFAULT ''",
             "ALTER TABLE bounce_records ADD COLUMN remote_mta TEXT NOT NULL DEFAULT ''",
             "ALTER TABLE bounce_records ADD COLUMN message_id TEXT NOT NULL DEFAULT ''",
             "ALTER TABLE bounce_records ADD COLUMN source TEXT NOT NULL DEFAULT 'imap'",
             "ALTER TABLE bounce_records ADD COLUMN notice_key TEXT",
             "CREATE UNIQUE INDEX bounce_records_notice_idx ON bounce_records (notice_key, recipient_email)",
             "CREATE INDEX bounce_records_recipient_idx ON bounce_records (recipient_id)",
             "ALTER TABLE recipients ADD COLUMN soft_bounce_count INTEGER NOT NULL DEFAULT 0",
             "CREATE INDEX campaign_recipients_message_id_idx ON campaign_recipients (message_id)",
         },
         {
             "ALTER TABLE bounce_records ADD COLUMN recipient_id BIGINT REFERENCES recipients (id) ON DELETE SET NULL",
             "ALTER TABLE bounce_records ADD COLUMN hard INTEGER NOT NULL DEFAULT 0",
             "ALTER TABLE bounce_records ADD COLUMN action TEXT NOT NULL DEFAULT 'failed'",
             "ALTER TABLE bounce_records ADD COLUMN diagnostic TEXT NOT NULL DEFAULT ''",
             "ALTER TABLE bounce_records ADD COLUMN remote_mta TEXT NOT NULL DEFAULT ''",
             "ALTER TABLE bounce_records ADD COLUMN message_id TEXT NOT NULL DEFAULT ''",
             "ALTER TABLE bounce_records ADD COLUMN source TEXT NOT NULL DEFAULT 'imap'",
             "ALTER TABLE bounce_records ADD COLUMN notice_key TEXT",
             "CREATE UNIQUE INDEX bounce_records_notice_idx ON bounce_records (notice_key, recipient_email)",
             "CREATE INDEX bounce_records_recipient_idx ON bounce_records (recipient_id)",
             "ALTER TABLE recipients ADD COLUMN soft_bounce_count INTEGER NOT NULL DEFAULT 0",
             "CREATE INDEX campaign_recipients_message_id_idx ON campaign_recipients (message_id)",
         }},
        {4,
         "send ledger: claim index in id order",
         {
             "DROP INDEX campaign_recipients_claim_idx",
             "CREATE INDEX campaign_recipients_claim_idx ON campaign_recipients"
             " (campaign_id, status, id, next_attempt_at)",
         },
         {
             "DROP INDEX campaign_recipients_claim_idx",
             "CREATE INDEX campaign_recipients_claim_idx ON campaign_recipients"
             " (campaign_id, status, id) INCLUDE (next_attempt_at)",
         }},
        {5,
         "kept per-campaign ledger counters, filled from the ledger",
         {
             R"(CREATE TABLE campaign_counts (
                 campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
                 slot INTEGER NOT NULL,
                 total INTEGER NOT NULL DEFAULT 0,
                 pending INTEGER NOT NULL DEFAULT 0,
                 in_flight INTEGER NOT NULL DEFAULT 0,
                 sent INTEGER NOT NULL DEFAULT 0,
                 failed INTEGER NOT NULL DEFAULT 0,
                 unknown INTEGER NOT NULL DEFAULT 0,
                 skipped INTEGER NOT NULL DEFAULT 0,
                 PRIMARY KEY (campaign_id, slot)) WITHOUT ROWID)",
             kCountsFill,
         },
         {
             R"(CREATE TABLE campaign_counts (
                 campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
                 slot INTEGER NOT NULL,
                 total BIGINT NOT NULL DEFAULT 0,
                 pending BIGINT NOT NULL DEFAULT 0,
                 in_flight BIGINT NOT NULL DEFAULT 0,
                 sent BIGINT NOT NULL DEFAULT 0,
                 failed BIGINT NOT NULL DEFAULT 0,
                 unknown BIGINT NOT NULL DEFAULT 0,
                 skipped BIGINT NOT NULL DEFAULT 0,
                 PRIMARY KEY (campaign_id, slot)))",
             kCountsFill,
         }},
        {6,
         "send ledger: outcome times",
         {
             "ALTER TABLE campaign_recipients ADD COLUMN outcome_at INTEGER",
             "UPDATE campaign_recipients SET outcome_at = sent_at WHERE status = 'sent'",
         },
         {
             "ALTER TABLE campaign_recipients ADD COLUMN outcome_at BIGINT",
             "UPDATE campaign_recipients SET outcome_at = sent_at WHERE status = 'sent'",
         }},
        {7,
         "unsubscribe records; the suppression list",
         {
             R"(CREATE TABLE unsubscribe_events (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 recipient_id INTEGER REFERENCES recipients (id) ON DELETE SET NULL,
                 campaign_id INTEGER REFERENCES campaigns (id) ON DELETE SET NULL,
                 source TEXT NOT NULL,
                 unsubscribed_at INTEGER NOT NULL))",
             "CREATE INDEX unsubscribe_events_recipient_idx ON unsubscribe_events (recipient_id)",
             "CREATE INDEX unsubscribe_events_campaign_idx ON unsubscribe_events (campaign_id)",
             "CREATE INDEX unsubscribe_events_time_idx ON unsubscribe_events (unsubscribed_at)",
             R"(CREATE TABLE suppressions (
                 address_hash TEXT NOT NULL PRIMARY KEY,
                 reason TEXT NOT NULL,
                 since INTEGER NOT NULL,
                 recipient_id INTEGER REFERENCES recipients (id) ON DELETE SET NULL))",
             "CREATE INDEX suppressions_recipient_idx ON suppressions (recipient_id)",
         },
         {
             R"(CREATE TABLE unsubscribe_events (
                 id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                 recipient_id BIGINT REFERENCES recipients (id) ON DELETE SET NULL,
                 campaign_id BIGINT REFERENCES campaigns (id) ON DELETE SET NULL,
                 source TEXT NOT NULL,
                 unsubscribed_at BIGINT NOT NULL))",
             "CREATE INDEX unsubscribe_events_recipient_idx ON unsubscribe_events (recipient_id)",
             "CREATE INDEX unsubscribe_events_campaign_idx ON unsubscribe_events (campaign_id)",
             "CREATE INDEX unsubscribe_events_time_idx ON unsubscribe_events (unsubscribed_at)",
             R"(CREATE TABLE suppressions (
                 address_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                 reason TEXT NOT NULL,
                 since BIGINT NOT NULL,
                 recipient_id BIGINT REFERENCES recipients (id) ON DELETE SET NULL))",
             "CREATE INDEX suppressions_recipient_idx ON suppressions (recipient_id)",
         }},
        {8,
         "bounce records: what matched them and whether they acted",
         {
             "ALTER TABLE bounce_records ADD COLUMN matched_by TEXT NOT NULL DEFAULT ''",
             "ALTER TABLE bounce_records ADD COLUMN acted INTEGER NOT NULL DEFAULT 1",
         },
         {
             "ALTER TABLE bounce_records ADD COLUMN matched_by TEXT NOT NULL DEFAULT ''",
             "ALTER TABLE bounce_records ADD COLUMN acted INTEGER NOT NULL DEFAULT 1",
         }},
        {9,
         "the sending guard's state; the groups attached to each campaign",
         {
             "ALTER TABLE campaigns ADD COLUMN bounce_guard TEXT NOT NULL DEFAULT 'armed'",
             R"(CREATE TABLE campaign_groups (
                 campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
                 group_id INTEGER NOT NULL REFERENCES recipient_groups (id) ON DELETE CASCADE,
                 PRIMARY KEY (campaign_id, group_id)))",
             "CREATE INDEX campaign_groups_group_idx ON campaign_groups (group_id)",
         },
         {
             "ALTER TABLE campaigns ADD COLUMN bounce_guard TEXT NOT NULL DEFAULT 'armed'",
             R"(CREATE TABLE campaign_groups (
                 campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
                 group_id BIGINT NOT NULL REFERENCES recipient_groups (id) ON DELETE CASCADE,
                 PRIMARY KEY (campaign_id, group_id)))",
             "CREATE INDEX campaign_groups_group_idx ON campaign_groups (group_id)",
         }},
        {10,
         "bounce records repeating a sending rejection; bounce fetch outcomes",
         {
             "ALTER TABLE bounce_records ADD COLUMN same_as INTEGER REFERENCES bounce_records (id) ON DELETE SET NULL",
             R"(CREATE TABLE bounce_fetches (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 finished_at INTEGER NOT NULL,
                 source_status TEXT NOT NULL,
                 error TEXT NOT NULL DEFAULT '',
                 fetched INTEGER NOT NULL DEFAULT 0,
                 recorded INTEGER NOT NULL DEFAULT 0))",
         },
         {
             "ALTER TABLE bounce_records ADD COLUMN same_as BIGINT REFERENCES bounce_records (id) ON DELETE SET NULL",
             R"(CREATE TABLE bounce_fetches (
                 id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                 finished_at BIGINT NOT NULL,
                 source_status TEXT NOT NULL,
                 error TEXT NOT NULL DEFAULT '',
                 fetched BIGINT NOT NULL DEFAULT 0,
                 recorded BIGINT NOT NULL DEFAULT 0))",
         }},
        {11,
         "the daemons sharing the database: heartbeats and take-overs",
         {
             R"(CREATE TABLE daemons (
                 instance_id TEXT PRIMARY KEY,
                 host TEXT NOT NULL DEFAULT '',
                 pid INTEGER NOT NULL DEFAULT 0,
                 started_at INTEGER NOT NULL,
                 last_seen INTEGER NOT NULL,
                 taken_over_by TEXT,
                 taken_over_at INTEGER))",
         },
         {
             R"(CREATE TABLE daemons (
                 instance_id TEXT PRIMARY KEY,
                 host TEXT NOT NULL DEFAULT '',
                 pid BIGINT NOT NULL DEFAULT 0,
                 started_at BIGINT NOT NULL,
                 last_seen BIGINT NOT NULL,
                 taken_over_by TEXT,
                 taken_over_at BIGINT))",
             // Every daemon sharing the database LISTENs (storage/campaign_notices.h): a
             // campaign created, changed or deleted through one is followed by the others at once.
             R"(CREATE FUNCTION campaignd_campaign_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
                 BEGIN
                     IF TG_OP = 'DELETE' THEN
                         PERFORM pg_notify('campaignd_campaigns', OLD.id::text);
                     ELSE
                         PERFORM pg_notify('campaignd_campaigns', NEW.id::text);
                     END IF;
                     RETURN NULL;
                 END
                 $fn$)",
             R"(CREATE TRIGGER campaigns_changed AFTER INSERT OR UPDATE OR DELETE ON campaigns
                 FOR EACH ROW EXECUTE FUNCTION campaignd_campaign_changed())",
         }},
        {12,
         "outcomes per minute (the dashboard's messages per minute)",
         {
             R"(CREATE TABLE outcome_minutes (
                 minute_start INTEGER NOT NULL,
                 campaign_id INTEGER NOT NULL,
                 slot INTEGER NOT NULL,
                 sent INTEGER NOT NULL DEFAULT 0,
                 failed INTEGER NOT NULL DEFAULT 0,
                 unknown INTEGER NOT NULL DEFAULT 0,
                 deferred INTEGER NOT NULL DEFAULT 0,
                 PRIMARY KEY (minute_start, campaign_id, slot)))",
         },
         {
             R"(CREATE TABLE outcome_minutes (
                 minute_start BIGINT NOT NULL,
                 campaign_id BIGINT NOT NULL,
                 slot INTEGER NOT NULL,
                 sent BIGINT NOT NULL DEFAULT 0,
                 failed BIGINT NOT NULL DEFAULT 0,
                 unknown BIGINT NOT NULL DEFAULT 0,
                 deferred BIGINT NOT NULL DEFAULT 0,
                 PRIMARY KEY (minute_start, campaign_id, slot)))",
         }},
    };
    return list;
}

// Any constant that is campaignd's own: the advisory lock serialising migrations.
constexpr std::int64_t kMigrationLockKey = 0x63616d70616967;  // "campaig"

std::int64_t nowUsec() {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// Inside a transaction: takes the migration lock, makes sure schema_version exists, and
// returns the current version.
int lockedVersion(SqlConnection& db) {
    if (db.dialect() == SqlDialect::PostgreSQL)
        db.query("SELECT pg_advisory_xact_lock($1)", {kMigrationLockKey});
    db.exec(R"(CREATE TABLE IF NOT EXISTS schema_version (
                   version INTEGER PRIMARY KEY,
                   description TEXT NOT NULL,
                   applied_at BIGINT NOT NULL))");
    return currentSchemaVersion(db);
}

void refuseNewer(const SqlConnection& db, int version) {
    if (version > kLatestSchemaVersion)
        throw Error(ErrorCode::Failed,
                    "database: " + db.location() + " has schema version " +
                        std::to_string(version) + ", newer than this campaignd understands (" +
                        std::to_string(kLatestSchemaVersion) +
                        "); upgrade campaignd or use another database");
}

}  // namespace

int schemaMigrationCount() { return static_cast<int>(migrations().size()); }

int currentSchemaVersion(SqlConnection& db) {
    const SqlRows exists =
        db.dialect() == SqlDialect::SQLite
            ? db.query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
            : db.query("SELECT COUNT(*) FROM information_schema.tables "
                       "WHERE table_schema = current_schema() AND table_name = 'schema_version'");
    if (exists.empty() || exists.front().int64(0) == 0) return 0;
    const SqlRows rows = db.query("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    return rows.empty() ? 0 : int(rows.front().int64(0));
}

int migrate(SqlConnection& db, int target) {
    if (target < 0 || target > kLatestSchemaVersion)
        throw Error(ErrorCode::InvalidArgument, "no schema version " + std::to_string(target));
    // Fast path, no lock: a database that is up to date (or too new) needs no write.
    const int seen = currentSchemaVersion(db);
    refuseNewer(db, seen);
    if (seen >= target) return seen;

    for (const Migration& m : migrations()) {
        if (m.version > target) break;
        db.begin();
        int version = 0;
        try {
            version = lockedVersion(db);
            refuseNewer(db, version);
        } catch (...) {
            db.rollback();
            throw;
        }
        if (version >= m.version) {  // applied before, or by a concurrent opener
            db.rollback();
            continue;
        }
        try {
            const auto& script = db.dialect() == SqlDialect::SQLite ? m.sqlite : m.postgresql;
            for (const char* statement : script) db.exec(statement);
            db.exec("INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, $3)",
                    {std::int64_t(m.version), std::string(m.description), nowUsec()});
            db.commit();
        } catch (const Error& e) {
            db.rollback();
            throw Error(ErrorCode::Failed, std::string(e.what()) + " (applying schema migration " +
                                               std::to_string(m.version) + ")");
        }
    }
    return currentSchemaVersion(db);
}

}  // namespace campaignd::storage

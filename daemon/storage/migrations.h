// migrations.h: campaignd's schema, as a numbered list of migrations with one DDL script per
// dialect. Opening a store applies the ones the database lacks, each in its own transaction
// together with its schema_version row, so a crash leaves either all of a migration or none.
// A database whose version is newer than kLatestSchemaVersion is refused, never touched.
#pragma once

#include "storage/sql_connection.h"

namespace campaignd::storage {

inline constexpr int kLatestSchemaVersion = 12;
// How many migrations there are, each one a schema_version row once applied.
int schemaMigrationCount();

// The highest applied version; 0 for a database without a schema_version table.
int currentSchemaVersion(SqlConnection& db);

// Brings the schema to `target` (the store always asks for kLatestSchemaVersion; tests build
// an older schema to upgrade it); returns the version afterwards, never lowering it. Concurrent
// openers are serialised (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock) and each
// re-reads the version under the lock, so a migration is never applied twice.
// Error(Failed) if the database is newer than this binary or a migration fails;
// Error(InvalidArgument) for a target outside 0..kLatestSchemaVersion.
int migrate(SqlConnection& db, int target = kLatestSchemaVersion);

}  // namespace campaignd::storage

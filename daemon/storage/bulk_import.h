// bulk_import.h: the bulk recipient import (import_store.h, RecipientImport) over a
// SqlConnection. Rows are streamed into a temporary staging table through the driver's bulk
// writer (COPY on PostgreSQL), then finish() merges them with a handful of set-based
// statements; memory stays flat whatever the number of rows. Values travel as COPY data or
// statement parameters only; every identifier is a fixed string of this file.
#pragma once

#include <memory>

#include "storage/import_store.h"
#include "storage/sql_connection.h"

namespace campaignd::storage {

// Starts a session on `db`, which must not be in a transaction and must outlive the session.
// Error(NotFound) if one of options.groupIds does not exist.
std::unique_ptr<RecipientImport> beginRecipientImport(SqlConnection& db, const BulkImportOptions& options);

// The groups column of the staging table: a JSON array of the row's distinct non-empty
// names, in their order ("[]" for none). Exposed for tests.
std::string importGroupsJson(std::span<const std::string_view> groups);

}  // namespace campaignd::storage

// database_probe.h: whether the daemon could open its Database=, asked without changing
// anything (campaignd --check-config): no migration, no file or directory created, no journal
// mode set. SQLite: an existing file is read through a read-only open that creates no -wal or
// -shm file (so a check run as root leaves nothing the daemon's user cannot open); a missing
// one must be creatable. PostgreSQL: a connection, and the schema version read.
#pragma once

#include <optional>
#include <string>

namespace campaignd::storage {

struct DatabaseProbe {
    std::string backend;   // "sqlite", "postgresql"
    std::string location;  // the file, or the URL without its password
    std::optional<int> schemaVersion;  // nothing when the database does not exist yet
};

// Error(InvalidArgument) for a URL of no known scheme; Error(Failed) with the reason when the
// database cannot be reached or read, is not a campaignd database, or has a schema newer than
// this binary understands.
DatabaseProbe probeDatabase(const std::string& url);

}  // namespace campaignd::storage

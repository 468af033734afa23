// backends.h: the two storage backends the parameterised integration tests run on. A test
// binary that uses Backend::Postgres registers PostgresEnvironment (one private PostgreSQL 15
// server for the binary, started by the environment); databaseFor gives each test a database
// of its own on it, or a SQLite file in the test's directory.
#pragma once

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/postgres_environment.h"
#include "support/temp_dir.h"

namespace campaignd::test {

enum class Backend { Sqlite, Postgres };

// "sqlite:DIR/campaignd.db", or a new database on the environment's server named after `name`.
inline std::string databaseFor(Backend backend, const std::filesystem::path& dir, const std::string& name) {
    if (backend == Backend::Sqlite) return "sqlite:" + (dir / "campaignd.db").string();
    return PostgresEnvironment::server().createDatabase(name);
}
inline std::string databaseFor(Backend backend, const TempDir& dir, const std::string& name) {
    return databaseFor(backend, dir.path(), name);
}

// The test name suffix of a parameter: "sqlite" or "postgresql".
inline std::string backendTestName(const ::testing::TestParamInfo<Backend>& info) {
    return info.param == Backend::Sqlite ? "sqlite" : "postgresql";
}

}  // namespace campaignd::test

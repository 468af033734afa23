// postgres_environment.h: one PostgresServer per test binary run, for GoogleTest. Register it
// once in a test file:
//     static auto* const pg = ::testing::AddGlobalTestEnvironment(new campaignd::test::PostgresEnvironment);
// and call PostgresEnvironment::server() in tests (then server().createDatabase() per test).
// The server starts on first use (a run filtered to non-PostgreSQL tests starts none) and
// stops in the environment's TearDown, or at exit if the run ends some other way.
#pragma once

#include <gtest/gtest.h>

#include "support/postgres_server.h"

namespace campaignd::test {

class PostgresEnvironment : public ::testing::Environment {
public:
    void TearDown() override;
    // The shared server, started on the first call. Throws if it cannot start.
    static PostgresServer& server();
};

}  // namespace campaignd::test

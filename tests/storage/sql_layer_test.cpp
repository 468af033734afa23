// sql_layer_test.cpp: openStore's URL handling (schemes, passwords never shown) and the
// pieces under SqlStore: placeholder translation, URL redaction, value conversion, and the
// errors a missing server or an unusable path produce.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "core/error.h"
#include "storage/sql_connection.h"
#include "storage/sqlite_connection.h"
#include "storage/store.h"
#include "support/network.h"
#include "support/postgres_environment.h"
#include "support/temp_dir.h"

namespace campaignd::storage {
namespace {

using test::PostgresEnvironment;

Error captureError(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "expected an Error";
    return Error(ErrorCode::Failed, "");
}

TEST(OpenStore, UnknownSchemeIsAnInvalidArgument) {
    for (const char* url : {"mysql://u:secret@host/db", "/var/lib/campaignd/db.sqlite", "sqlite3:/x", ""}) {
        const Error e = captureError([&] { openStore(url); });
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument) << url;
        const std::string message = e.what();
        EXPECT_EQ(message.rfind("Database=", 0), 0u) << message;
        EXPECT_NE(message.find("unknown scheme"), std::string::npos) << message;
        EXPECT_EQ(message.find("secret"), std::string::npos) << message;
    }
    EXPECT_EQ(captureError([] { openStore("sqlite:"); }).code(), ErrorCode::InvalidArgument);
}

TEST(OpenStore, SqliteCreatesMissingDirectories) {
    test::TempDir dir;
    const auto path = dir / "a" / "b" / "c" / "campaignd.sqlite";
    auto store = openStore("sqlite:" + path.string());
    EXPECT_TRUE(std::filesystem::is_regular_file(path));
    EXPECT_EQ(store->backendName(), "sqlite");
    EXPECT_EQ(store->location(), path.string());
}

TEST(OpenStore, SqliteUnusablePathIsAFailure) {
    test::TempDir dir;
    test::writeFile(dir / "file", "not a directory");
    const Error e = captureError([&] { openStore("sqlite:" + (dir / "file" / "db.sqlite").string()); });
    EXPECT_EQ(e.code(), ErrorCode::Failed);
    EXPECT_EQ(std::string(e.what()).rfind("database: ", 0), 0u) << e.what();
}

TEST(OpenStore, PostgresLocationNeverShowsThePassword) {
    auto& server = PostgresEnvironment::server();
    const std::string plain = server.createDatabase("location");
    // Trust authentication ignores the password, so the store opens with one in the URL.
    const std::string withPassword =
        "postgresql://postgres:s3cr3t-pw@" + server.endpoint().hostPort() + plain.substr(plain.rfind('/'));
    auto store = openStore(withPassword + "?connect_timeout=5");
    EXPECT_EQ(store->backendName(), "postgresql");
    EXPECT_EQ(store->location().find("s3cr3t"), std::string::npos) << store->location();
    EXPECT_EQ(store->location(), plain + "?connect_timeout=5");
    // postgres:// is accepted as well.
    auto second = openStore("postgres://postgres@" + server.endpoint().hostPort() + plain.substr(plain.rfind('/')));
    EXPECT_EQ(second->backendName(), "postgresql");
}

TEST(OpenStore, PostgresUnreachableIsAFailureWithoutThePassword) {
    const auto endpoint = test::freeLoopbackEndpoint();  // nothing listens there
    const Error e = captureError([&] {
        openStore("postgresql://campaignd:hunter2@" + endpoint.hostPort() + "/campaignd?connect_timeout=2");
    });
    EXPECT_EQ(e.code(), ErrorCode::Failed);
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("database: ", 0), 0u) << message;
    EXPECT_NE(message.find(endpoint.address), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST(RedactDatabaseUrl, RemovesPasswordsOnly) {
    EXPECT_EQ(redactDatabaseUrl("postgresql://u:pw@h:5432/db"), "postgresql://u@h:5432/db");
    EXPECT_EQ(redactDatabaseUrl("postgres://u:p@ss@h/db"), "postgres://u@h/db");
    EXPECT_EQ(redactDatabaseUrl("postgresql://u@h/db"), "postgresql://u@h/db");
    EXPECT_EQ(redactDatabaseUrl("postgresql://h/db?password=x&sslmode=require"),
              "postgresql://h/db?sslmode=require");
    EXPECT_EQ(redactDatabaseUrl("postgresql://h/db?sslmode=require&password=x"),
              "postgresql://h/db?sslmode=require");
    EXPECT_EQ(redactDatabaseUrl("postgresql://h/db?password=x"), "postgresql://h/db");
    EXPECT_EQ(redactDatabaseUrl("postgresql:///db"), "postgresql:///db");
    EXPECT_EQ(redactDatabaseUrl("sqlite:/var/lib/campaignd/campaignd.sqlite"),
              "sqlite:/var/lib/campaignd/campaignd.sqlite");
}

TEST(SqlitePlaceholders, DollarNumbersBecomeQuestionNumbersOutsideQuotes) {
    EXPECT_EQ(toSqlitePlaceholders("SELECT $1, $12 FROM t WHERE a = $2"), "SELECT ?1, ?12 FROM t WHERE a = ?2");
    EXPECT_EQ(toSqlitePlaceholders("SELECT '$1', \"$2\", 'it''s $3', $4"), "SELECT '$1', \"$2\", 'it''s $3', ?4");
    EXPECT_EQ(toSqlitePlaceholders("SELECT $ FROM t"), "SELECT $ FROM t");
}

TEST(SqlConnection, ValuesKeepTheirTypesOnSqlite) {
    test::TempDir dir;
    auto db = openSqlConnection("sqlite:" + (dir / "types.sqlite").string());
    db->exec("CREATE TABLE t (i INTEGER, r REAL, s TEXT, n INTEGER)");
    EXPECT_EQ(db->exec("INSERT INTO t VALUES ($1, $2, $3, $4)",
                       {std::int64_t(9'007'199'254'740'993), 2.5, std::string("x'y\0z", 5), std::monostate{}}),
              1);
    const SqlRows rows = db->query("SELECT i, r, s, n, COUNT(*) FROM t");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].int64(0), 9'007'199'254'740'993);  // beyond a double's precision
    EXPECT_EQ(rows[0].real(1), 2.5);
    EXPECT_EQ(rows[0].text(2), std::string("x'y\0z", 5));
    EXPECT_TRUE(rows[0].isNull(3));
    EXPECT_EQ(rows[0].optionalInt64(3), std::nullopt);
    EXPECT_EQ(rows[0].int64(4), 1);
    const Error e = captureError([&] { db->query("SELECT $1", {}); });
    EXPECT_EQ(e.code(), ErrorCode::Failed);
    EXPECT_EQ(captureError([&] { db->exec("SELEKT 1"); }).code(), ErrorCode::Failed);
}

TEST(SqlConnection, ValuesKeepTheirTypesOnPostgres) {
    auto db = openSqlConnection(PostgresEnvironment::server().createDatabase("types"));
    db->exec("CREATE TABLE t (i BIGINT, r DOUBLE PRECISION, s TEXT, n BIGINT)");
    EXPECT_EQ(db->exec("INSERT INTO t VALUES ($1, $2, $3, $4)",
                       {std::int64_t(9'007'199'254'740'993), 2.5, std::string("x'y"), std::monostate{}}),
              1);
    const SqlRows rows = db->query("SELECT i, r, s, n, COUNT(*) OVER (), SUM(i) OVER () FROM t");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].int64(0), 9'007'199'254'740'993);
    EXPECT_EQ(rows[0].real(1), 2.5);
    EXPECT_EQ(rows[0].text(2), "x'y");
    EXPECT_TRUE(rows[0].isNull(3));
    EXPECT_EQ(rows[0].int64(4), 1);
    EXPECT_EQ(rows[0].int64(5), 9'007'199'254'740'993);  // numeric, kept exact
    const Error e = captureError([&] { db->exec("SELEKT 1"); });
    EXPECT_EQ(e.code(), ErrorCode::Failed);
    EXPECT_EQ(std::string(e.what()).rfind("database: ", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("syntax error"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace campaignd::storage

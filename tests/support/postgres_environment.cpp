// postgres_environment.cpp: the lazily started shared server behind PostgresEnvironment.
#include "support/postgres_environment.h"

#include <memory>
#include <mutex>

namespace campaignd::test {
namespace {

std::mutex mutex;
std::unique_ptr<PostgresServer>& shared() {
    static std::unique_ptr<PostgresServer> instance;  // destroyed at exit at the latest
    return instance;
}

}  // namespace

PostgresServer& PostgresEnvironment::server() {
    std::lock_guard lock(mutex);
    if (!shared()) shared() = std::make_unique<PostgresServer>();
    return *shared();
}

void PostgresEnvironment::TearDown() {
    std::lock_guard lock(mutex);
    shared().reset();
}

}  // namespace campaignd::test

// import_jobs.h: recipient imports as jobs. ImportRecipients returns at once with a job id;
// the import runs on a worker thread of its own with its own database connection (the bus
// keeps serving), and its progress and end reach the bus through the io_context thread:
// ImportProgress at most four times a second, ImportFinished once. A finished job is kept for
// GetImport for an hour. Stopping the daemon cancels running imports, which then write
// nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bus/variant_map.h"
#include "services/import_service.h"
#include "storage/store.h"

namespace campaignd::bus {

class ImportJobs {
public:
    struct Environment {
        // Opens a store for one job (its own connection).
        std::function<std::unique_ptr<storage::Store>()> openStore;
        // The importer to use, or nullopt when no importer plugin runs.
        std::function<std::optional<plugins::ImporterHandle>()> importer;
        std::uint64_t maxBytes = services::kDefaultMaxImportBytes;
        std::function<void(std::uint64_t id, std::uint64_t rows, std::uint64_t bytes, double rate)> emitProgress;
        std::function<void(std::uint64_t id, const std::string& state, const VariantMap& summary)> emitFinished;
    };

    ImportJobs(boost::asio::io_context& io, Environment env);
    ~ImportJobs();  // cancels and joins every running job

    // Checks the request (extension, size, groups, an importer is loaded) on the caller's
    // store, then starts the job. Takes ownership of `fd` and `errorsFd` (-1: none).
    std::uint64_t start(services::ImportRequest request, int fd, int errorsFd, storage::Store& store);
    // The job's state as GetImport returns it; Error(NotFound) for an unknown id.
    VariantMap describe(std::uint64_t id);
    // Error(NotFound) for an unknown id; Error(InvalidState) when it is not running.
    void cancel(std::uint64_t id);
    void cancelAll();

private:
    struct Job;

    void run(const std::shared_ptr<Job>& job);
    void finish(const std::shared_ptr<Job>& job, std::string state, VariantMap summary);
    void tick();
    void forgetOld();

    boost::asio::io_context& io_;
    Environment env_;
    boost::asio::steady_timer timer_;
    std::mutex mutex_;
    std::uint64_t nextId_ = 1;
    std::map<std::uint64_t, std::shared_ptr<Job>> jobs_;
};

// The summary keys of ImportFinished for a report.
VariantMap toVariantMap(const services::ImportReport& report, bool dryRun);

}  // namespace campaignd::bus

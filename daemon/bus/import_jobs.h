// import_jobs.h: recipient imports as jobs of the JobRunner (kind "import"). ImportRecipients
// returns at once with the job's id; the import runs on the job's thread with its own database
// connection (the bus keeps serving), and its progress and end reach the bus through the io
// thread: ImportProgress at most four times a second, ImportFinished once (state "done" for
// the runner's "completed"). At most two imports run at once. Stopping the daemon cancels
// running imports, which then write nothing.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bus/job_runner.h"
#include "bus/variant_map.h"
#include "services/import_service.h"
#include "storage/store.h"

namespace campaignd::bus {

inline constexpr const char* kImportJob = "import";

class ImportJobs {
public:
    struct Environment {
        // Opens a store for one job (its own connection).
        std::function<std::unique_ptr<storage::Store>()> openStore;
        // The importer to use, or nullopt when no importer plugin runs.
        std::function<std::optional<plugins::ImporterHandle>()> importer;
        std::uint64_t maxBytes = services::kDefaultMaxImportBytes;
        // The suppression list's key (the VERP secret): rows are staged with their address hash.
        std::string suppressionSecret;
        std::function<void(std::uint64_t id, std::uint64_t rows, std::uint64_t bytes, double rate)> emitProgress;
        std::function<void(std::uint64_t id, const std::string& state, const VariantMap& summary)> emitFinished;
    };

    ImportJobs(boost::asio::io_context& io, JobRunner& jobs, Environment env);
    ~ImportJobs();

    // Checks the request (extension, size, groups, an importer is loaded) on the caller's
    // store, then starts the job for the user `owner`. Takes ownership of `fd` and `errorsFd`
    // (-1: none).
    std::uint64_t start(services::ImportRequest request, int fd, int errorsFd, storage::Store& store,
                        uid_t owner);
    // The job's state as GetImport returns it; Error(NotFound) for an unknown id.
    VariantMap describe(std::uint64_t id);
    // Error(NotFound) for an unknown id; Error(InvalidState) when it is not running.
    void cancel(std::uint64_t id);

private:
    struct Progress;

    std::shared_ptr<Progress> progressOf(std::uint64_t id) const;
    void tick();

    JobRunner& jobs_;
    Environment env_;
    boost::asio::steady_timer timer_;
    // Per import, on the io thread; the job's thread writes only the atomics inside.
    std::map<std::uint64_t, std::shared_ptr<Progress>> progress_;
};

// The summary keys of ImportFinished for a report.
VariantMap toVariantMap(const services::ImportReport& report, bool dryRun);

}  // namespace campaignd::bus

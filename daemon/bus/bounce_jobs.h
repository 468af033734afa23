// bounce_jobs.h: Manager.ProcessBounces, IngestBounce and ExportBounces as jobs of the
// JobRunner (kinds "bounce-fetch", "bounce-ingest", "bounce-export"), so the bus thread never
// waits on the IMAP server or on a caller's descriptor. Each start checks what it can on the
// calling (bus) thread with the daemon's own BounceService, then returns the job's id; the work
// runs on the job's thread with a store of its own and a BounceService made for it (the same
// rules, the same settings), and its result is what the method returned before it was a job.
// One fetch at a time: asking again while one runs gives that run's id.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "bus/job_runner.h"
#include "bus/variant_map.h"
#include "services/bounce_service.h"
#include "storage/store.h"

namespace campaignd::bus {

inline constexpr const char* kBounceFetchJob = "bounce-fetch";
inline constexpr const char* kBounceIngestJob = "bounce-ingest";
inline constexpr const char* kBounceExportJob = "bounce-export";

class BounceJobs {
public:
    struct Environment {
        // Opens a store for one job (its own connection).
        std::function<std::unique_ptr<storage::Store>()> openStore;
        campaignd::Clock clock;
        // The running bounce-source plugin (imap-bounce), if any.
        std::function<std::optional<plugins::BounceSourceHandle>()> bounceSource;
    };

    // `checks` is the daemon's BounceService on the bus thread's store: used on that thread
    // only, for the checks before a job starts and for its settings.
    BounceJobs(JobRunner& jobs, services::BounceService& checks, Environment env);

    // Error(Failed) when no bounce-source plugin runs or no URL= is set.
    std::uint64_t fetch(uid_t owner);
    // Takes ownership of `fd`.
    std::uint64_t ingest(int fd, bool dryRun, uid_t owner);
    // Takes ownership of `fd`. The filter's errors (checkFilter) come from here.
    std::uint64_t exportCsv(int fd, const storage::BounceFilter& filter, uid_t owner);

private:
    JobRunner& jobs_;
    services::BounceService& checks_;
    Environment env_;
};

// The result keys of the jobs (the maps the methods returned before they were jobs).
VariantMap toVariantMap(const services::BounceReport& report);
VariantMap toVariantMap(const services::FetchSummary& summary);

}  // namespace campaignd::bus

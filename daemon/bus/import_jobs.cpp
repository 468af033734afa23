// import_jobs.cpp: see import_jobs.h. Threading: the work (on the job's thread) touches only
// what it captured: copies of the environment's factories, its descriptors, and the atomics of
// its Progress; the progress map, the timer and the signals belong to the io thread.
#include "bus/import_jobs.h"

#include <malloc.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/clock.h"

namespace campaignd::bus {

using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kProgressInterval = std::chrono::milliseconds(250);

// The import's descriptors, closed when the job's work is done with them (or never ran).
struct Descriptors {
    int fd = -1;
    int errorsFd = -1;
    ~Descriptors() {
        if (fd >= 0) ::close(fd);
        if (errorsFd >= 0) ::close(errorsFd);
    }
};
}  // namespace

struct ImportJobs::Progress {
    Clock::time_point started = Clock::now();
    std::atomic<std::uint64_t> rows{0};
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<bool> ended{false};
    std::atomic<double> finalRate{0.0};
    std::uint64_t reportedRows = ~0ull;  // io thread

    double rate() const {
        if (ended) return finalRate;
        const auto secs = std::chrono::duration<double>(Clock::now() - started).count();
        return secs > 0 ? static_cast<double>(rows.load()) / secs : 0.0;
    }
};

VariantMap toVariantMap(const services::ImportReport& report, bool dryRun) {
    const auto& c = report.counts;
    std::vector<sdbus::Struct<std::uint64_t, std::string>> errors;
    for (const auto& e : report.firstErrors) errors.emplace_back(e.line, e.reason);
    std::vector<sdbus::Struct<std::string, std::uint64_t>> unknownGroups;
    for (const auto& [name, line] : c.groupsUnknown) unknownGroups.emplace_back(name, line);
    auto n = [](std::int64_t v) { return sdbus::Variant(static_cast<std::uint64_t>(v > 0 ? v : 0)); };
    return {
        {"rows", sdbus::Variant(static_cast<std::uint64_t>(c.rows) + report.invalid)},
        {"imported", n(c.imported)},
        {"updated", n(c.updated)},
        {"duplicates_in_file", n(c.duplicatesInFile)},
        {"already_stored", n(c.alreadyStored)},
        {"unsubscribed_kept", n(c.unsubscribedKept)},
        {"suppressed", n(c.suppressed)},
        {"invalid", sdbus::Variant(report.invalid)},
        {"groups_created", sdbus::Variant(c.groupsCreated)},
        {"groups_unknown", sdbus::Variant(unknownGroups)},
        {"errors", sdbus::Variant(errors)},
        {"dry_run", sdbus::Variant(dryRun)},
    };
}

ImportJobs::ImportJobs(boost::asio::io_context& io, JobRunner& jobs, Environment env)
    : jobs_(jobs), env_(std::move(env)), timer_(io) {}

ImportJobs::~ImportJobs() { timer_.cancel(); }

std::uint64_t ImportJobs::start(services::ImportRequest request, int fd, int errorsFd, storage::Store& store,
                                uid_t owner) {
    auto descriptors = std::make_shared<Descriptors>();
    descriptors->fd = fd;
    descriptors->errorsFd = errorsFd;
    services::checkImportRequest(request, fd, env_.maxBytes, store);
    if (!env_.importer || !env_.importer())
        throw Error(ErrorCode::Failed,
                    "no importer plugin is running (see `campaignd-ctl status`): the "
                    "csv-importer plugin is needed to import");
    // Forget the progress of imports the runner no longer keeps.
    for (auto it = progress_.begin(); it != progress_.end();)
        it = jobs_.find(it->first) ? std::next(it) : progress_.erase(it);

    auto progress = std::make_shared<Progress>();
    const std::string fileName = request.fileName;
    request.suppressionSecret = env_.suppressionSecret;
    auto work = [env = env_, request = std::move(request), descriptors, progress](const JobControl& control) {
        auto store = env.openStore();
        const auto importer = env.importer();
        if (!importer) throw Error(ErrorCode::Failed, "the importer plugin stopped");
        const auto report = services::runImport(
            request, descriptors->fd, descriptors->errorsFd, env.maxBytes, *store, *store, *importer,
            [&](std::uint64_t rows, std::uint64_t bytes) {
                progress->rows = rows;
                progress->bytes = bytes;
                return !control.cancelled();
            });
        return toVariantMap(report, request.dryRun);
    };
    auto finished = [this, progress](const JobSnapshot& job) {
        progress->finalRate = progress->rate();
        progress->ended = true;
        // The import's parse buffers, its statements and its SQLite page caches (tens of MiB
        // for a million rows) are freed by now, but glibc keeps freed heap mapped in the import
        // thread's arena: give it back, so a send after a big import does not start from the
        // import's peak.
        malloc_trim(0);
        const auto id = std::to_string(job.id);
        const std::string state = job.state == JobState::Completed ? "done" : std::string(toString(job.state));
        if (job.state == JobState::Completed)
            log::info("import done", {{"IMPORT_ID", id}, {"ROWS", std::to_string(progress->rows.load())}});
        else
            log::warning("import " + state,
                         {{"IMPORT_ID", id},
                          {"ERROR", job.result.count("error") ? job.result.at("error").get<std::string>() : ""}});
        if (env_.emitFinished) env_.emitFinished(job.id, state, job.result);
    };
    const auto id = jobs_.start(kImportJob, {2, 0, "already 2 imports running; wait for one to end"}, owner,
                                std::move(work), std::move(finished));
    progress_[id] = progress;
    log::info("import started", {{"IMPORT_ID", std::to_string(id)}, {"FILE_NAME", fileName}});
    tick();
    return id;
}

void ImportJobs::tick() {
    bool anyRunning = false;
    for (const auto& [id, progress] : progress_) {
        if (progress->ended) continue;
        anyRunning = true;
        const auto rows = progress->rows.load();
        if (rows != progress->reportedRows && env_.emitProgress) {
            progress->reportedRows = rows;
            env_.emitProgress(id, rows, progress->bytes.load(), progress->rate());
        }
    }
    if (!anyRunning) return;
    timer_.expires_after(kProgressInterval);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) tick();
    });
}

std::shared_ptr<ImportJobs::Progress> ImportJobs::progressOf(std::uint64_t id) const {
    const auto it = progress_.find(id);
    return it == progress_.end() ? nullptr : it->second;
}

VariantMap ImportJobs::describe(std::uint64_t id) {
    const auto job = jobs_.find(id);
    const auto progress = progressOf(id);
    if (!job || job->kind != kImportJob || !progress)
        throw Error(ErrorCode::NotFound, "no import with id " + std::to_string(id));
    VariantMap m = job->result;
    m["id"] = sdbus::Variant(job->id);
    m["state"] = sdbus::Variant(job->state == JobState::Completed ? std::string("done") : std::string(toString(job->state)));
    m["bytes"] = sdbus::Variant(progress->bytes.load());
    m["rows_per_second"] = sdbus::Variant(progress->rate());
    if (job->state == JobState::Running) m["rows"] = sdbus::Variant(progress->rows.load());
    if (!m.count("error")) m["error"] = sdbus::Variant(std::string());
    return m;
}

void ImportJobs::cancel(std::uint64_t id) {
    const auto job = jobs_.find(id);
    if (!job || job->kind != kImportJob) throw Error(ErrorCode::NotFound, "no import with id " + std::to_string(id));
    if (job->state != JobState::Running)
        throw Error(ErrorCode::InvalidState, "import " + std::to_string(id) + " is " +
                                                 (job->state == JobState::Completed ? "done" : std::string(toString(job->state))));
    jobs_.cancel(id);
}

}  // namespace campaignd::bus

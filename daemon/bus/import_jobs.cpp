// import_jobs.cpp: see import_jobs.h. Threading: a job's thread touches only the job's own
// atomics, its own store and its own descriptors; everything that reaches the bus is posted to
// the io_context thread, which owns the bus connection.
#include "bus/import_jobs.h"

#include <malloc.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include "core/error.h"
#include "core/log.h"
#include "core/clock.h"

namespace campaignd::bus {

using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kProgressInterval = std::chrono::milliseconds(250);
constexpr auto kKeepFinished = std::chrono::hours(1);
constexpr std::size_t kMaxRunning = 2;

void closeFd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}
}  // namespace

struct ImportJobs::Job {
    std::uint64_t id = 0;
    services::ImportRequest request;
    int fd = -1;
    int errorsFd = -1;
    Clock::time_point started = Clock::now();
    std::atomic<std::uint64_t> rows{0};
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<bool> cancelRequested{false};
    std::uint64_t reportedRows = ~0ull;
    // Set on the io thread when the job ends.
    std::string state = "running";
    VariantMap summary;
    Clock::time_point ended{};
    std::thread thread;

    double rate() const {
        const auto secs = std::chrono::duration<double>(Clock::now() - started).count();
        return secs > 0 ? static_cast<double>(rows.load()) / secs : 0.0;
    }
};

VariantMap toVariantMap(const services::ImportReport& report, bool dryRun) {
    const auto& c = report.counts;
    std::vector<sdbus::Struct<std::uint64_t, std::string>> errors;
    for (const auto& e : report.firstErrors) errors.emplace_back(e.line, e.reason);
    auto n = [](std::int64_t v) { return sdbus::Variant(static_cast<std::uint64_t>(v > 0 ? v : 0)); };
    return {
        {"rows", sdbus::Variant(static_cast<std::uint64_t>(c.rows) + report.invalid)},
        {"imported", n(c.imported)},
        {"updated", n(c.updated)},
        {"duplicates_in_file", n(c.duplicatesInFile)},
        {"already_stored", n(c.alreadyStored)},
        {"unsubscribed_kept", n(c.unsubscribedKept)},
        {"invalid", sdbus::Variant(report.invalid)},
        {"groups_created", sdbus::Variant(c.groupsCreated)},
        {"errors", sdbus::Variant(errors)},
        {"dry_run", sdbus::Variant(dryRun)},
    };
}

ImportJobs::ImportJobs(boost::asio::io_context& io, Environment env)
    : io_(io), env_(std::move(env)), timer_(io) {}

ImportJobs::~ImportJobs() {
    cancelAll();
    std::map<std::uint64_t, std::shared_ptr<Job>> jobs;
    {
        std::lock_guard lock(mutex_);
        jobs = jobs_;
    }
    for (auto& [id, job] : jobs)
        if (job->thread.joinable()) job->thread.join();
    timer_.cancel();
}

std::uint64_t ImportJobs::start(services::ImportRequest request, int fd, int errorsFd,
                                storage::Store& store) {
    auto job = std::make_shared<Job>();
    job->fd = fd;
    job->errorsFd = errorsFd;
    try {
        services::checkImportRequest(request, fd, env_.maxBytes, store);
        if (!env_.importer || !env_.importer())
            throw Error(ErrorCode::Failed,
                        "no importer plugin is running (see `campaignd-ctl status`): the "
                        "csv-importer plugin is needed to import");
        std::lock_guard lock(mutex_);
        std::size_t running = 0;
        for (const auto& [id, j] : jobs_) running += j->state == "running";
        if (running >= kMaxRunning)
            throw Error(ErrorCode::InvalidState,
                        "already " + std::to_string(running) + " imports running; wait for one to end");
        job->id = nextId_++;
        job->request = std::move(request);
        jobs_[job->id] = job;
    } catch (...) {
        closeFd(job->fd);
        closeFd(job->errorsFd);
        throw;
    }
    log::info("import started", {{"IMPORT_ID", std::to_string(job->id)},
                                 {"FILE_NAME", job->request.fileName}});
    job->thread = std::thread([this, job] { run(job); });
    tick();
    return job->id;
}

void ImportJobs::run(const std::shared_ptr<Job>& job) {
    std::string state = "done";
    VariantMap summary;
    try {
        auto store = env_.openStore();
        const auto importer = env_.importer();
        if (!importer) throw Error(ErrorCode::Failed, "the importer plugin stopped");
        const auto report = services::runImport(
            job->request, job->fd, job->errorsFd, env_.maxBytes, *store, *store, *importer,
            [&job](std::uint64_t rows, std::uint64_t bytes) {
                job->rows = rows;
                job->bytes = bytes;
                return !job->cancelRequested.load();
            });
        summary = toVariantMap(report, job->request.dryRun);
    } catch (const services::ImportCancelled& e) {
        state = "cancelled";
        summary["error"] = sdbus::Variant(std::string(e.what()));
    } catch (const std::exception& e) {
        state = "failed";
        summary["error"] = sdbus::Variant(std::string(e.what()));
    }
    closeFd(job->fd);
    closeFd(job->errorsFd);
    boost::asio::post(io_, [this, job, state = std::move(state), summary = std::move(summary)]() mutable {
        finish(job, std::move(state), std::move(summary));
    });
}

void ImportJobs::finish(const std::shared_ptr<Job>& job, std::string state, VariantMap summary) {
    if (job->thread.joinable()) job->thread.join();
    // The import's parse buffers, its statements and its SQLite page caches (tens of MiB for a
    // million rows) are freed by now, but glibc keeps freed heap mapped in the import thread's
    // arena: give it back, so a send after a big import does not start from the import's peak.
    malloc_trim(0);
    {
        std::lock_guard lock(mutex_);
        job->state = state;
        job->summary = summary;
        job->ended = Clock::now();
    }
    const auto id = std::to_string(job->id);
    if (state == "done")
        log::info("import done", {{"IMPORT_ID", id}, {"ROWS", std::to_string(job->rows.load())}});
    else
        log::warning("import " + state, {{"IMPORT_ID", id},
                                          {"ERROR", summary.count("error") ? summary.at("error").get<std::string>() : ""}});
    if (env_.emitFinished) env_.emitFinished(job->id, state, summary);
    forgetOld();
}

void ImportJobs::tick() {
    bool anyRunning = false;
    std::vector<std::shared_ptr<Job>> running;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, job] : jobs_)
            if (job->state == "running") running.push_back(job);
    }
    for (const auto& job : running) {
        anyRunning = true;
        const auto rows = job->rows.load();
        if (rows != job->reportedRows && env_.emitProgress) {
            job->reportedRows = rows;
            env_.emitProgress(job->id, rows, job->bytes.load(), job->rate());
        }
    }
    if (!anyRunning) return;
    timer_.expires_after(kProgressInterval);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) tick();
    });
}

void ImportJobs::forgetOld() {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    for (auto it = jobs_.begin(); it != jobs_.end();) {
        if (it->second->state != "running" && now - it->second->ended > kKeepFinished)
            it = jobs_.erase(it);
        else
            ++it;
    }
}

VariantMap ImportJobs::describe(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) throw Error(ErrorCode::NotFound, "no import with id " + std::to_string(id));
    const auto& job = *it->second;
    VariantMap m = job.summary;
    m["id"] = sdbus::Variant(job.id);
    m["state"] = sdbus::Variant(job.state);
    m["bytes"] = sdbus::Variant(job.bytes.load());
    m["rows_per_second"] = sdbus::Variant(job.rate());
    if (job.state == "running") m["rows"] = sdbus::Variant(job.rows.load());
    if (!m.count("error")) m["error"] = sdbus::Variant(std::string());
    return m;
}

void ImportJobs::cancel(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) throw Error(ErrorCode::NotFound, "no import with id " + std::to_string(id));
    if (it->second->state != "running")
        throw Error(ErrorCode::InvalidState, "import " + std::to_string(id) + " is " + it->second->state);
    it->second->cancelRequested = true;
}

void ImportJobs::cancelAll() {
    std::lock_guard lock(mutex_);
    for (auto& [id, job] : jobs_) job->cancelRequested = true;
}

}  // namespace campaignd::bus

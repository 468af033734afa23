// manager_jobs.cpp: the Manager's methods that start, show and cancel jobs (ImportRecipients,
// IngestBounce, ProcessBounces, ExportBounces; GetImport, CancelImport, GetJob, CancelJob), and
// ListBounces. Each handler's access is checked (api_access.h) and its arguments here, on the
// bus thread, takes what descriptor it needs and returns the job's id: it never waits on the
// network or on a caller's descriptor (the job does, see job_runner.h).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>


#include "bus/bounce_jobs.h"
#include "bus/guard.h"
#include "bus/import_jobs.h"
#include "bus/job_runner.h"
#include "bus/objects.h"
#include "core/error.h"

namespace campaignd::bus {
namespace {

// A bus message is limited in size (128 MiB by default); bounces are listed in pages.
constexpr std::uint64_t kMaxBouncesPerCall = 10000;

// A duplicate of the descriptor in a call (close-on-exec), for a job to own.
int takeDescriptor(const sdbus::UnixFd& fd, const char* method) {
    const int own = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
    if (own < 0) throw Error(ErrorCode::Failed, std::string(method) + ": cannot take the file descriptor");
    return own;
}

storage::BounceFilter readBounceFilter(FieldReader& r, bool paged) {
    storage::BounceFilter f;
    if (const auto c = r.uint64("campaign_id"); c && *c != 0) {
        if (*c > static_cast<std::uint64_t>(INT64_MAX)) throw Error(ErrorCode::InvalidArgument, "campaign_id is out of range");
        f.campaign = static_cast<campaignd::Id>(*c);
    }
    f.reason = r.string("reason");
    if (paged) {
        const auto page = r.page(kMaxBouncesPerCall, "ListBounces");
        f.limit = page.limit;
        f.offset = page.offset;
    }
    r.finish();
    return f;
}

}  // namespace

uid_t ManagerObject::callerUid() {
    try {
        if (const auto* message = getObject().getCurrentlyProcessedMessage()) return message->getCredsUid();
    } catch (const sdbus::Error&) {
    }
    return static_cast<uid_t>(-1);  // nobody's: only an administrator may cancel the job
}

uint64_t ManagerObject::ImportRecipients(const sdbus::UnixFd& file, const std::map<std::string, sdbus::Variant>& options) {
    return guarded("ImportRecipients",
                   [&] { return startImport("ImportRecipients", options, [&] { return takeDescriptor(file, "ImportRecipients"); }); });
}

// The file's bytes in a memfd, read by the import exactly as a file a client handed over: for
// clients that cannot pass a descriptor (a Cockpit page: its bridge's JSON has no fds).
uint64_t ManagerObject::ImportRecipientsData(const std::vector<uint8_t>& data,
                                             const std::map<std::string, sdbus::Variant>& options) {
    return guarded("ImportRecipientsData", [&] {
        return startImport("ImportRecipientsData", options, [&] {
            const int fd = ::memfd_create("campaignd-import", MFD_CLOEXEC);
            if (fd < 0) throw Error(ErrorCode::Failed, std::string("ImportRecipientsData: memfd_create: ") + std::strerror(errno));
            std::size_t done = 0;
            while (done < data.size()) {
                const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) {
                    const int e = errno;
                    ::close(fd);
                    throw Error(ErrorCode::Failed, std::string("ImportRecipientsData: writing the data: ") + std::strerror(e));
                }
                done += static_cast<std::size_t>(n);
            }
            ::lseek(fd, 0, SEEK_SET);
            return fd;
        });
    });
}

uint64_t ManagerObject::startImport(const char* method, const std::map<std::string, sdbus::Variant>& options,
                                    const std::function<int()>& openFile) {
    FieldReader r(options, std::string(method) + " options");
    services::ImportRequest request;
    request.fileName = r.string("file_name").value_or("-");
    if (const auto d = r.string("delimiter")) {
        if (d->size() != 1)
            throw Error(ErrorCode::InvalidArgument, std::string(method) + ": the delimiter must be one of ',', ';', tab");
        request.delimiter = (*d)[0];
    }
    request.map = r.strings("map").value_or(std::vector<std::string>{});
    request.groups = r.strings("groups").value_or(std::vector<std::string>{});
    request.update = r.boolean("update").value_or(false);
    request.dryRun = r.boolean("dry_run").value_or(false);
    request.createGroups = r.boolean("create_groups").value_or(false);
    int errorsFd = -1;
    int fd = -1;
    try {
        errorsFd = r.fd("errors").value_or(-1);
        r.finish();
        fd = openFile();
    } catch (...) {
        if (errorsFd >= 0) ::close(errorsFd);
        throw;
    }
    return services_.imports.start(std::move(request), fd, errorsFd, services_.store, callerUid());
}

std::map<std::string, sdbus::Variant> ManagerObject::GetImport(const uint64_t& id) {
    return guarded("GetImport", [&] {
        return services_.imports.describe(id);
    });
}

void ManagerObject::CancelImport(const uint64_t& id) {
    guarded("CancelImport", [&] {
        services_.imports.cancel(id);
    });
}

std::map<std::string, sdbus::Variant> ManagerObject::GetJob(const uint64_t& id) {
    return guarded("GetJob", [&] {
        const auto job = services_.jobs.find(id);
        if (!job) throw Error(ErrorCode::NotFound, "no job with id " + std::to_string(id));
        return VariantMap{
            {"id", sdbus::Variant(job->id)},
            {"kind", sdbus::Variant(job->kind)},
            {"state", sdbus::Variant(std::string(toString(job->state)))},
            {"started_at", sdbus::Variant(job->startedAt)},
            {"finished_at", sdbus::Variant(job->finishedAt)},
            {"result", sdbus::Variant(job->result)},
        };
    });
}

void ManagerObject::CancelJob(const uint64_t& id) {
    guarded("CancelJob", [&] {
        auto& jobs = services_.jobs;
        // Whoever started a job may cancel it (an export needs no rights); anyone else must be
        // an administrator, also to learn whether the id exists.
        const auto job = jobs.find(id);
        if (!job || job->owner != callerUid()) requireAdmin("CancelJob");
        jobs.cancel(id);
    });
}

uint64_t ManagerObject::IngestBounce(const sdbus::UnixFd& message, const std::map<std::string, sdbus::Variant>& options) {
    return guarded("IngestBounce", [&] {
        auto& bounces = services_.bounceJobs;
        FieldReader r(options, "IngestBounce options");
        const bool dryRun = r.boolean("dry_run").value_or(false);
        r.finish();
        return bounces.ingest(takeDescriptor(message, "IngestBounce"), dryRun, callerUid());
    });
}

std::vector<std::map<std::string, sdbus::Variant>> ManagerObject::ListBounces(const std::map<std::string, sdbus::Variant>& filter) {
    return guarded("ListBounces", [&] {
        FieldReader r(filter, "ListBounces filter");
        const auto f = readBounceFilter(r, true);
        std::vector<VariantMap> out;
        for (const BounceRecord& b : services_.bounces.list(f)) out.push_back(toVariantMap(b));
        return out;
    });
}

uint64_t ManagerObject::ExportBounces(const sdbus::UnixFd& file, const std::map<std::string, sdbus::Variant>& filter) {
    return guarded("ExportBounces", [&] {
        // Every recipient's address and bounce history, to a descriptor the daemon writes:
        // personal data (api_access.h), checked before the job starts.
        FieldReader r(filter, "ExportBounces filter");
        const auto f = readBounceFilter(r, false);
        return services_.bounceJobs.exportCsv(takeDescriptor(file, "ExportBounces"), f, callerUid());
    });
}

uint64_t ManagerObject::ProcessBounces(const std::map<std::string, sdbus::Variant>& options) {
    return guarded("ProcessBounces", [&] {
        FieldReader r(options, "ProcessBounces options");
        r.finish();
        return services_.bounceJobs.fetch(callerUid());
    });
}

}  // namespace campaignd::bus

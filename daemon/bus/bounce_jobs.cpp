// bounce_jobs.cpp: see bounce_jobs.h. A job's work captures copies (the environment's
// factories, the settings) and the descriptor it owns, never the BounceJobs object, so it may
// outlive it; the descriptor is closed on the job's thread when the work is done with it.
#include "bus/bounce_jobs.h"

#include <unistd.h>

#include <chrono>

#include "core/error.h"

namespace campaignd::bus {
namespace {

// A descriptor handed to a job, closed when the job lets go of it.
struct OwnedFd {
    explicit OwnedFd(int f) : fd(f) {}
    ~OwnedFd() {
        if (fd >= 0) ::close(fd);
    }
    OwnedFd(const OwnedFd&) = delete;
    OwnedFd& operator=(const OwnedFd&) = delete;
    int fd;
};

constexpr auto kIngestReadTimeout = std::chrono::seconds(30);

}  // namespace

VariantMap toVariantMap(const services::BounceReport& report) {
    std::vector<VariantMap> results;
    for (const auto& o : report.results)
        results.push_back(VariantMap{
            {"recipient", sdbus::Variant(o.recipient)},
            {"status", sdbus::Variant(o.status)},
            {"reason", sdbus::Variant(o.reason)},
            {"hard", sdbus::Variant(o.hard)},
            {"campaign_id", sdbus::Variant(static_cast<std::uint64_t>(o.campaignId.value_or(0)))},
            {"action", sdbus::Variant(o.action)},
            {"matched_by", sdbus::Variant(o.matchedBy)},
            {"recorded", sdbus::Variant(o.recorded)},
            {"duplicate", sdbus::Variant(o.duplicate)},
            {"effect", sdbus::Variant(o.effect)},
            {"acted", sdbus::Variant(o.acted)},
            {"same_as", sdbus::Variant(static_cast<std::uint64_t>(o.sameAs.value_or(0)))},
        });
    return {
        {"is_bounce", sdbus::Variant(report.isBounce)},
        {"is_auto_reply", sdbus::Variant(report.isAutoReply)},
        {"is_complaint", sdbus::Variant(report.isComplaint)},
        {"is_challenge", sdbus::Variant(report.isChallenge)},
        {"is_receipt", sdbus::Variant(report.isReceipt)},
        {"is_unsubscribe_request", sdbus::Variant(report.isUnsubscribeRequest)},
        {"format", sdbus::Variant(report.format)},
        {"error", sdbus::Variant(report.error)},
        {"recorded", sdbus::Variant(static_cast<std::uint64_t>(report.recorded))},
        {"duplicates", sdbus::Variant(static_cast<std::uint64_t>(report.duplicates))},
        {"dropped", sdbus::Variant(static_cast<std::uint64_t>(report.dropped))},
        {"results", sdbus::Variant(results)},
    };
}

VariantMap toVariantMap(const services::FetchSummary& s) {
    auto n = [](std::int64_t v) { return sdbus::Variant(static_cast<std::uint64_t>(v > 0 ? v : 0)); };
    return {
        {"fetched", n(s.fetched)},
        {"recorded", n(s.recorded)},
        {"duplicates", n(s.duplicates)},
        {"not_bounces", n(s.notBounces)},
        {"unsubscribed", n(s.unsubscribed)},
        {"unparsable", n(s.unparsable)},
        {"unmatched", n(s.unmatched)},
        {"dropped", n(s.dropped)},
        {"source_status", sdbus::Variant(s.sourceStatus)},
        {"errors", sdbus::Variant(s.errors)},
    };
}

BounceJobs::BounceJobs(JobRunner& jobs, services::BounceService& checks, Environment env)
    : jobs_(jobs), checks_(checks), env_(std::move(env)) {}

std::uint64_t BounceJobs::fetch(uid_t owner) {
    if (!env_.bounceSource || !env_.bounceSource())
        throw Error(ErrorCode::Failed,
                    "no bounce-source plugin is running (see `campaignd-ctl status`): the imap-bounce plugin "
                    "is needed to fetch bounces");
    checks_.checkSourceConfigured();
    if (const auto running = jobs_.runningOf(kBounceFetchJob)) return *running;
    auto work = [env = env_, settings = checks_.settings()](const JobControl& control) {
        const auto source = env.bounceSource();
        if (!source) throw Error(ErrorCode::Failed, "the bounce-source plugin stopped");
        auto store = env.openStore();
        services::BounceService service(*store, *store, *store, *store, env.clock, settings);
        return toVariantMap(service.fetch(*source, [&control] { return control.cancelled(); }));
    };
    return jobs_.start(kBounceFetchJob, {1, 0, "a bounce fetch is running"}, owner, std::move(work));
}

std::uint64_t BounceJobs::ingest(int fd, bool dryRun, uid_t owner) {
    auto message = std::make_shared<OwnedFd>(fd);
    auto work = [env = env_, settings = checks_.settings(), message, dryRun](const JobControl& control) {
        const std::string raw =
            services::readBounceMessage(message->fd, kIngestReadTimeout, [&control] { return control.cancelled(); });
        auto store = env.openStore();
        services::BounceService service(*store, *store, *store, *store, env.clock, settings);
        return toVariantMap(service.process(raw, services::BounceSource::Ingest, dryRun));
    };
    return jobs_.start(kBounceIngestJob,
                       {4, 60, "64 bounce notices are being ingested already; try again in a moment"}, owner,
                       std::move(work));
}

std::uint64_t BounceJobs::exportCsv(int fd, const storage::BounceFilter& filter, uid_t owner) {
    auto file = std::make_shared<OwnedFd>(fd);
    checks_.checkFilter(filter);
    auto work = [env = env_, settings = checks_.settings(), file, filter](const JobControl& control) {
        auto store = env.openStore();
        services::BounceService service(*store, *store, *store, *store, env.clock, settings);
        const auto n = service.exportCsv(file->fd, filter, [&control] { return control.cancelled(); });
        return VariantMap{{"count", sdbus::Variant(static_cast<std::uint64_t>(n))}};
    };
    return jobs_.start(kBounceExportJob, {2, 8, "10 bounce exports are running already; wait for one to end"},
                       owner, std::move(work));
}

}  // namespace campaignd::bus

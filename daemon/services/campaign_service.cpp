// campaign_service.cpp: the campaign rules. Every status change goes through one table
// (kTransitions, as org.campaignd.Campaignd1.Campaign.xml states it) and a compare-and-set in
// the store, so two callers racing cannot both win. Every change validates all of its input
// before it touches the store, runs in one store transaction, and tells the observer only
// after that transaction committed. Refuses with Error(InvalidArgument | NotFound |
// InvalidState) and a message naming the campaign, its status and what was refused.
#include "services/campaign_service.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/error.h"
#include "core/log.h"
#include "mail/personalisation.h"
#include "rules/html_sanitizer.h"
#include "rules/validation.h"

namespace campaignd::services {
namespace {

using S = CampaignStatus;

// The legal status changes. Rescheduling a scheduled campaign is not a status change and is
// not in the table; schedule() handles it.
constexpr std::array<std::pair<S, S>, 12> kTransitions{{
    {S::Draft, S::Scheduled},      // Schedule
    {S::Scheduled, S::Draft},      // Unschedule
    {S::Draft, S::InProgress},     // sending starts
    {S::Scheduled, S::InProgress}, // sending starts (the scheduler)
    {S::Scheduled, S::Paused},     // the scheduler could not start it (the reason says why)
    {S::InProgress, S::Paused},
    {S::Paused, S::InProgress},
    {S::InProgress, S::Completed},
    {S::Draft, S::Cancelled},
    {S::Scheduled, S::Cancelled},
    {S::InProgress, S::Cancelled},
    {S::Paused, S::Cancelled},
}};

constexpr std::size_t kMaxName = 200;     // characters
constexpr std::size_t kMaxSubject = 998;  // octets: RFC 5322's line limit

// "campaign 7 is <phrase>".
std::string_view statusPhrase(S s) {
    switch (s) {
    case S::Draft: return "a draft";
    case S::Scheduled: return "scheduled";
    case S::InProgress: return "in progress";
    case S::Paused: return "paused";
    case S::Completed: return "completed";
    case S::Cancelled: return "cancelled";
    }
    return "in an unknown state";
}

// "it cannot be <verb>".
std::string_view transitionVerb(S from, S to) {
    switch (to) {
    case S::Draft: return from == S::Scheduled ? "unscheduled" : "returned to draft";
    case S::Scheduled: return "scheduled";
    case S::InProgress: return from == S::Paused ? "resumed" : "started";
    case S::Paused: return "paused";
    case S::Completed: return "completed";
    case S::Cancelled: return "cancelled";
    }
    return "changed";
}

std::string campaignRef(Id id) { return "campaign " + std::to_string(id); }

[[noreturn]] void invalidArgument(const std::string& message) {
    throw Error(ErrorCode::InvalidArgument, message);
}

[[noreturn]] void refuseState(const Campaign& c, std::string_view what) {
    throw Error(ErrorCode::InvalidState,
                campaignRef(c.id) + " is " + std::string(statusPhrase(c.status)) + "; " + std::string(what));
}

[[noreturn]] void refuseTransition(const Campaign& c, S to) {
    if (c.status == to)
        throw Error(ErrorCode::InvalidState,
                    campaignRef(c.id) + " is already " + std::string(statusPhrase(to)));
    refuseState(c, "it cannot be " + std::string(transitionVerb(c.status, to)));
}

std::size_t codePoints(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string trimmed(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return std::string(s);
}

std::string checkName(const std::string& raw) {
    rules::checkHeaderValue("name", raw);
    std::string name = trimmed(raw);
    if (name.empty()) invalidArgument("name is empty; a campaign needs a name");
    if (codePoints(name) > kMaxName)
        invalidArgument("name is " + std::to_string(codePoints(name)) + " characters long; at most " +
                        std::to_string(kMaxName) + " are allowed");
    return name;
}

std::string checkSubject(const std::string& raw) {
    rules::checkHeaderValue("subject", raw);
    std::string subject = trimmed(raw);
    if (subject.empty()) invalidArgument("subject is empty; a campaign needs a subject");
    if (subject.size() > kMaxSubject)
        invalidArgument("subject is " + std::to_string(subject.size()) + " octets long; at most " +
                        std::to_string(kMaxSubject) + " are allowed");
    return subject;
}

std::string checkHtml(const std::string& raw) {
    rules::SanitizedHtml sanitized = rules::sanitizeHtmlReporting(raw);
    if (!sanitized.removed.empty()) {
        // The author sees it too (SanitizeHtml, as campaignd-ctl shows it); the journal keeps
        // it for whoever created the campaign over the bus without asking.
        std::string removed;
        for (const auto& r : sanitized.removed)
            removed += (removed.empty() ? "" : ", ") + std::to_string(r.count) + " x " + r.what;
        log::notice("unsafe parts of a campaign's HTML were removed", {{"REMOVED", removed}});
    }
    if (trimmed(sanitized.html).empty())
        invalidArgument(raw.empty() || trimmed(raw).empty()
                            ? "HTML content is empty; a campaign needs content"
                            : "HTML content is empty once unsafe content is removed");
    return std::move(sanitized.html);
}

std::string checkText(const std::string& raw) {
    rules::checkUtf8("text content", raw);
    if (raw.find('\0') != std::string::npos) invalidArgument("text content contains a NUL character");
    return raw;
}

std::string checkFrom(const std::string& raw) {
    if (trimmed(raw).empty()) return {};  // the configured default sender
    return rules::normalizeFromAddress(raw);
}

std::string checkTransport(const std::string& raw, const std::function<bool(const std::string&)>& known) {
    const std::string name = trimmed(raw);
    if (name.empty()) return {};  // the default transport
    rules::checkHeaderValue("transport", name);
    if (known && !known(name))
        invalidArgument("transport \"" + rules::quoteForMessage(name) +
                        "\" is not configured; the daemon's config names its transports in [Transport NAME] sections");
    return name;
}

// A subject or body that the renderer would refuse (an unknown or misspelt variable, triple
// mustaches, an unclosed section) is refused now, with the line it is on, rather than when the
// campaign is due to send.
void checkTemplate(std::string_view field, std::string_view text) {
    const std::string problem = mail::validateTemplate(text);
    if (!problem.empty()) invalidArgument(std::string(field) + ": " + problem);
}

void checkTemplates(const Campaign& c) {
    checkTemplate("subject", c.subject);
    if (const std::string problem = mail::validateHtmlTemplate(c.htmlContent); !problem.empty())
        invalidArgument("HTML content: " + problem);
    checkTemplate("text content", c.textContent);
}

void checkFuture(Usec when, Usec now) {
    if (when <= now)
        invalidArgument("schedule " + formatUtc(when) + " is in the past (it is now " + formatUtc(now) +
                        "); a campaign can only be scheduled for the future");
}

}  // namespace

bool isLegalTransition(CampaignStatus from, CampaignStatus to) {
    return std::find(kTransitions.begin(), kTransitions.end(), std::make_pair(from, to)) != kTransitions.end();
}

CampaignService::CampaignService(storage::CampaignStore& campaigns, storage::RecipientStore& recipients,
                                 storage::SendLedger& ledger, storage::ReportStore& reports, Clock clock)
    : campaigns_(campaigns), recipients_(recipients), ledger_(ledger), reports_(reports), clock_(clock ? std::move(clock) : Clock(systemNow)) {}

Campaign CampaignService::create(const CampaignFields& fields) {
    const Usec now = clock_();
    Campaign c;
    if (!fields.name) invalidArgument("name is missing; a campaign needs a name");
    if (!fields.subject) invalidArgument("subject is missing; a campaign needs a subject");
    if (!fields.htmlContent) invalidArgument("HTML content is missing; a campaign needs content");
    c.name = checkName(*fields.name);
    c.subject = checkSubject(*fields.subject);
    c.htmlContent = checkHtml(*fields.htmlContent);
    if (fields.textContent) c.textContent = checkText(*fields.textContent);
    if (fields.fromAddress) c.fromAddress = checkFrom(*fields.fromAddress);
    if (fields.transport) c.transport = checkTransport(*fields.transport, transportKnown_);
    if (fields.subjectTag) c.subjectTag = *fields.subjectTag;
    checkTemplates(c);
    if (fields.scheduledTime) {
        checkFuture(*fields.scheduledTime, now);
        c.scheduledTime = fields.scheduledTime;
        c.status = S::Scheduled;
    }
    c.createdAt = now;
    c.updatedAt = now;

    Campaign stored;
    campaigns_.transaction([&] {
        const Id id = campaigns_.insertCampaign(c);
        stored = get(id);
    });
    if (observer_) observer_->campaignCreated(stored);
    warnAboutAlignment(stored);
    return stored;
}

Campaign CampaignService::update(Id id, const CampaignFields& fields) {
    if (fields.scheduledTime)
        invalidArgument("scheduled time cannot be changed by an edit; schedule or unschedule the campaign");
    // Everything is validated before the campaign is read, so a bad edit changes nothing.
    std::optional<std::string> name, subject, html, text, from, transport;
    if (fields.transport) transport = checkTransport(*fields.transport, transportKnown_);
    if (fields.name) name = checkName(*fields.name);
    if (fields.subject) subject = checkSubject(*fields.subject);
    if (fields.htmlContent) html = checkHtml(*fields.htmlContent);
    if (fields.textContent) text = checkText(*fields.textContent);
    if (fields.fromAddress) from = checkFrom(*fields.fromAddress);
    if (subject) checkTemplate("subject", *subject);
    if (html) {
        if (const std::string problem = mail::validateHtmlTemplate(*html); !problem.empty())
            invalidArgument("HTML content: " + problem);
    }
    if (text) checkTemplate("text content", *text);

    Campaign stored;
    campaigns_.transaction([&] {
        Campaign c = get(id);
        if (c.status != S::Draft && c.status != S::Scheduled)
            refuseState(c, "only a draft or scheduled campaign can be edited");
        if (name) c.name = *name;
        if (subject) c.subject = *subject;
        if (html) c.htmlContent = *html;
        if (text) c.textContent = *text;
        if (from) c.fromAddress = *from;
        if (transport) c.transport = *transport;
        if (fields.subjectTag) c.subjectTag = *fields.subjectTag;
        c.updatedAt = clock_();
        campaigns_.updateCampaign(c);
        stored = get(id);
    });
    if (observer_) observer_->campaignChanged(stored);
    if (from || fields.transport) warnAboutAlignment(stored);
    return stored;
}

std::optional<mail::Alignment> CampaignService::alignment(const Campaign& campaign) const {
    if (!alignmentCheck_) return std::nullopt;
    try {
        return alignmentCheck_(campaign);
    } catch (const std::exception& e) {
        log::warning(std::string("cannot judge the campaign's alignment: ") + e.what(),
                     {{"CAMPAIGN_ID", std::to_string(campaign.id)}});
        return std::nullopt;
    }
}

void CampaignService::warnAboutAlignment(const Campaign& campaign) const {
    if (const auto a = alignment(campaign))
        for (const auto& warning : a->warnings()) log::warning(warning, {{"CAMPAIGN_ID", std::to_string(campaign.id)}});
}

Campaign CampaignService::get(Id id) {
    std::optional<Campaign> c = campaigns_.findCampaign(id);
    if (!c) throw Error(ErrorCode::NotFound, campaignRef(id) + " does not exist");
    return *c;
}

std::vector<Campaign> CampaignService::list(std::optional<CampaignStatus> status) {
    return campaigns_.listCampaigns(status);
}

void CampaignService::remove(Id id) {
    campaigns_.transaction([&] {
        const Campaign c = get(id);
        if (c.status == S::InProgress)
            refuseState(c, "it cannot be deleted while sending (pause or cancel it first)");
        if (!campaigns_.deleteCampaign(id)) throw Error(ErrorCode::NotFound, campaignRef(id) + " does not exist");
    });
    if (observer_) observer_->campaignDeleted(id);
}

AttachResult CampaignService::attach(Id id, const AttachRequest& request) {
    // Validate every name and address first: a malformed one is InvalidArgument, nothing done.
    std::vector<std::string> groups, emails;
    for (const std::string& g : request.groups) groups.push_back(rules::normalizeGroupName(g));
    for (const std::string& e : request.emails) emails.push_back(rules::normalizeEmail(e));

    AttachResult result;
    campaigns_.transaction([&] {
        const Campaign c = get(id);
        if (c.status != S::Draft && c.status != S::Scheduled)
            refuseState(c, "recipients can only be attached before sending starts (draft or scheduled)");

        // Resolve everything before attaching anything.
        std::vector<Group> found;
        for (const std::string& name : groups) {
            std::optional<Group> g = recipients_.findGroup(name);
            if (!g) throw Error(ErrorCode::NotFound, "group \"" + rules::quoteForMessage(name) + "\" does not exist");
            found.push_back(*g);
        }
        std::vector<Recipient> recipients;
        for (const std::string& email : emails) {
            std::optional<Recipient> r = recipients_.findRecipient(email);
            if (!r)
                throw Error(ErrorCode::NotFound, "recipient \"" + rules::quoteForMessage(email) + "\" does not exist");
            recipients.push_back(*r);
        }

        // Each person is counted once, however many groups or addresses name them; counted by
        // the database, since a group may have millions of members. The store attaches only
        // the subscribed ones, so every subscribed person named is attached now or was before.
        std::vector<Id> groupIds, recipientIds;
        for (const Group& g : found) groupIds.push_back(g.id);
        for (const Recipient& r : recipients) recipientIds.push_back(r.id);
        const auto people = recipients_.countPeople(groupIds, recipientIds);
        for (const Id g : groupIds) result.attached += ledger_.attachGroup(id, g);
        for (const Id r : recipientIds)
            if (ledger_.attachRecipient(id, r)) ++result.attached;
        result.skippedUnsubscribed = people.unsubscribed;
        result.skippedBounced = people.bounced;
        result.alreadyAttached = people.subscribed - result.attached;
        result.recipientCount = get(id).recipientCount;
    });
    if (observer_ && result.attached > 0) observer_->campaignChanged(get(id));
    return result;
}

Campaign CampaignService::schedule(Id id, Usec when) {
    const Usec now = clock_();
    Campaign stored;
    campaigns_.transaction([&] {
        Campaign c = get(id);
        if (c.status != S::Draft && c.status != S::Scheduled) refuseTransition(c, S::Scheduled);
        checkFuture(when, now);
        checkTemplates(c);  // stored before templates were checked, it would fail only when due
        if (c.status == S::Draft && !campaigns_.changeCampaignStatus(id, S::Draft, S::Scheduled, "", now))
            refuseTransition(get(id), S::Scheduled);
        c.status = S::Scheduled;
        c.statusReason.clear();
        c.scheduledTime = when;
        c.updatedAt = now;
        campaigns_.updateCampaign(c);
        stored = get(id);
    });
    if (observer_) observer_->campaignChanged(stored);
    return stored;
}

Campaign CampaignService::unschedule(Id id) {
    const Usec now = clock_();
    Campaign stored;
    campaigns_.transaction([&] {
        Campaign c = get(id);
        if (c.status != S::Scheduled) refuseTransition(c, S::Draft);
        if (!campaigns_.changeCampaignStatus(id, S::Scheduled, S::Draft, "", now)) refuseTransition(get(id), S::Draft);
        c.status = S::Draft;
        c.statusReason.clear();
        c.scheduledTime.reset();
        c.updatedAt = now;
        campaigns_.updateCampaign(c);
        stored = get(id);
    });
    if (observer_) observer_->campaignChanged(stored);
    return stored;
}

Campaign CampaignService::transition(Id id, CampaignStatus to, const std::string& reason,
                                     std::optional<BounceGuard> guard) {
    if (to == S::Draft) {
        const Campaign c = get(id);
        if (c.status != S::Scheduled) refuseTransition(c, to);
        return unschedule(id);
    }
    rules::checkHeaderValue("status reason", reason);
    const Usec now = clock_();
    Campaign stored;
    campaigns_.transaction([&] {
        const Campaign c = get(id);
        if (!isLegalTransition(c.status, to)) refuseTransition(c, to);
        if (to == S::Scheduled) {
            // Draft -> Scheduled needs a time; only schedule() has one.
            if (!c.scheduledTime) invalidArgument(campaignRef(id) + " has no schedule; schedule it with a time");
            checkFuture(*c.scheduledTime, now);
        }
        if (!campaigns_.changeCampaignStatus(id, c.status, to, reason, now)) refuseTransition(get(id), to);
        if (guard) campaigns_.setCampaignGuard(id, *guard);
        stored = get(id);
    });
    if (observer_) observer_->campaignChanged(stored);
    return stored;
}

std::vector<Id> CampaignService::dueCampaigns() { return campaigns_.dueCampaigns(clock_()); }

Campaign CampaignService::countsChanged(Id id) {
    const Campaign c = get(id);
    if (observer_) observer_->campaignChanged(c);
    return c;
}

CampaignSummary CampaignService::summary(Id id) {
    get(id);  // NotFound
    return reports_.campaignSummary(id);
}

Dashboard CampaignService::dashboard() {
    constexpr Usec kRecent = Usec{30} * 24 * 3600 * 1'000'000;  // the dashboard's "last 30 days"
    Dashboard d = reports_.dashboard();
    d.unsubscribesRecent = reports_.unsubscribesSince(clock_() - kRecent);
    constexpr Usec kDay = Usec{24} * 3600 * 1'000'000;  // the messages-per-minute chart's day
    d.perMinute = reports_.activitySince(clock_() - kDay);
    return d;
}

RecipientHistory CampaignService::recipientHistory(Id id) { return reports_.recipientHistory(id, kMaxHistoryEntries); }

CampaignRecipientPage CampaignService::recipients(Id id, std::optional<SendState> state, std::int64_t limit,
                                                  std::int64_t offset) {
    if (limit < 0 || limit > kMaxRecipientsPerPage)
        invalidArgument("at most " + std::to_string(kMaxRecipientsPerPage) +
                        " recipients per page (limit " + std::to_string(limit) + "); page with offset");
    if (offset < 0) invalidArgument("the offset cannot be negative");
    get(id);  // NotFound
    return reports_.campaignRecipients(id, {.state = state, .limit = limit, .offset = offset});
}

}  // namespace campaignd::services

// bounce_service.cpp: see bounce_service.h.
#include "services/bounce_service.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bounce/bounce_parser.h"
#include "core/descriptor_io.h"
#include "core/error.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/text.h"
#include "mail/unsubscribe_request.h"
#include "rules/csv_export.h"

namespace campaignd::services {
namespace {

// The metrics of a committed record: a complaint, or a bounce (a notice that a delivery failed;
// a delay or a success notice is neither).
void countRecorded(const BounceOutcome& o) {
    if (o.action == "complaint") metrics::complaintRecorded();
    else if (o.action == "failed") metrics::bounceRecorded(o.reason, o.hard);
}

bool iequalsPrefix(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

// The notice's own Message-ID: the first Message-ID field of the top-level header section
// (unfolded), or "". Bounded: only the first 64 KiB are looked at.
std::string ownMessageId(std::string_view raw) {
    raw = raw.substr(0, 64 * 1024);
    std::size_t pos = 0;
    while (pos < raw.size()) {
        std::size_t end = raw.find('\n', pos);
        if (end == std::string_view::npos) end = raw.size();
        std::string_view line = raw.substr(pos, end - pos);
        if (text::trimWhitespace(line).empty()) break;  // the end of the header section
        if (iequalsPrefix(line, "message-id:")) {
            std::string value(line.substr(11));
            // Continuation lines start with white space.
            std::size_t next = end + 1;
            while (next < raw.size() && (raw[next] == ' ' || raw[next] == '\t')) {
                std::size_t e = raw.find('\n', next);
                if (e == std::string_view::npos) e = raw.size();
                value += raw.substr(next, e - next);
                next = e + 1;
            }
            std::string id(text::trimWhitespace(value));
            // Control characters have no place in a key that reaches logs and CSV.
            std::erase_if(id, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
            return id.size() <= 998 ? id : std::string();
        }
        pos = end + 1;
    }
    return {};
}

std::string withoutAngles(std::string_view id) {
    id = text::trimWhitespace(id);
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
    return std::string(id);
}

constexpr int kStopPollMs = 250;

void stopIfRequested(const StopRequested& stop, const char* what) {
    if (stop && stop()) throw Error(ErrorCode::Failed, std::string(what) + " was cancelled");
}

// Writes all of data without blocking on the caller's descriptor (core/descriptor_io.h).
void writeAll(int fd, std::string_view data, const StopRequested& stop) {
    try {
        if (writeAllTo(fd, data, stop) == WriteEnd::Stopped)
            throw Error(ErrorCode::Failed, "the bounce report was cancelled");
    } catch (const std::system_error& e) {
        throw Error(ErrorCode::Failed, std::string("cannot write the bounce report: ") + e.code().message());
    }
}

}  // namespace

std::string readBounceMessage(int fd, std::chrono::milliseconds timeout, const StopRequested& stop) {
    using SteadyClock = std::chrono::steady_clock;
    const auto deadline = SteadyClock::now() + timeout;
    std::string raw;
    char buffer[65536];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
        if (left.count() <= 0)
            throw Error(ErrorCode::Failed, "the message did not arrive in time (" +
                                               std::to_string(timeout.count() / 1000) + " s); nothing was recorded");
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), kStopPollMs)));
        if (ready < 0) {
            if (errno == EINTR) continue;
            throw Error(ErrorCode::Failed, std::string("cannot read the message: ") + std::strerror(errno));
        }
        stopIfRequested(stop, "reading the message");
        if (ready == 0) continue;  // the deadline check above ends it
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            throw Error(ErrorCode::Failed, std::string("cannot read the message: ") + std::strerror(errno));
        }
        if (n == 0) return raw;
        if (raw.size() + static_cast<std::size_t>(n) > kMaxBounceMessageBytes)
            throw Error(ErrorCode::InvalidArgument,
                        "the message is larger than " + std::to_string(kMaxBounceMessageBytes >> 20) +
                            " MiB; not a delivery notice");
        raw.append(buffer, static_cast<std::size_t>(n));
    }
}

std::string_view toString(BounceSource source) {
    switch (source) {
    case BounceSource::Imap: return "imap";
    case BounceSource::Ingest: return "ingest";
    case BounceSource::Smtp: return "smtp";
    }
    return "imap";
}

std::string noticeKey(std::string_view raw) {
    if (std::string id = ownMessageId(raw); !id.empty()) return "mid:" + id;
    Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
    sha.update(raw.data(), static_cast<unsigned>(raw.size()));
    return "sha256:" + Poco::DigestEngine::digestToHex(sha.digest());
}

BounceService::BounceService(storage::BounceStore& bounces, storage::CampaignStore& campaigns,
                             storage::RecipientStore& recipients, storage::SuppressionStore& suppression,
                             Clock clock, BounceSettings settings)
    : bounces_(bounces),
      campaigns_(campaigns),
      recipients_(recipients),
      clock_(std::move(clock)),
      settings_(std::move(settings)),
      unsubscribes_(suppression, clock_) {
    if (settings_.softBounceLimit < 1)
        throw Error(ErrorCode::InvalidArgument, "the soft bounce limit must be at least 1");
}

void BounceService::checkMessage(std::string_view raw) {
    if (raw.empty()) throw Error(ErrorCode::InvalidArgument, "not a mail message: the input is empty");
    if (raw.size() > kMaxBounceMessageBytes)
        throw Error(ErrorCode::InvalidArgument,
                    "the message is larger than " + std::to_string(kMaxBounceMessageBytes >> 20) +
                        " MiB; not a delivery notice");
    // Blank or white-space lines before the header block (a saved or pasted message) are
    // skipped, as the parser skips them.
    for (int lines = 0; lines < 100; ++lines) {
        const std::size_t nl = raw.find('\n');
        const std::string_view line = raw.substr(0, nl);
        if (line.find_first_not_of(" \t\r") != std::string_view::npos || nl == std::string_view::npos) break;
        raw.remove_prefix(nl + 1);
    }
    // An mbox "From " line (what pipe(8) prepends with flag F) may come first.
    std::string_view first = raw.substr(0, std::min<std::size_t>(raw.find('\n'), 1000));
    if (first.starts_with("From ")) {
        const std::size_t nl = raw.find('\n');
        if (nl == std::string_view::npos) throw Error(ErrorCode::InvalidArgument, "not a mail message: no header fields");
        first = raw.substr(nl + 1, std::min<std::size_t>(raw.find('\n', nl + 1) - nl - 1, 1000));
    }
    // RFC 5322 2.2: a field name is printable US-ASCII except ':', then ':'.
    std::size_t i = 0;
    while (i < first.size() && first[i] > 32 && first[i] < 127 && first[i] != ':') ++i;
    if (i == 0 || i >= first.size() || first[i] != ':')
        throw Error(ErrorCode::InvalidArgument,
                    "not a mail message: it does not start with a header field (\"Name: value\")");
}

void BounceService::match(BounceOutcome& out, std::string_view verpAddress,
                          std::string_view originalMessageId, std::optional<Id> claimedCampaign) {
    // 1. The VERP envelope address: forged only with the secret, names both.
    if (settings_.verp && !verpAddress.empty()) {
        if (const auto v = mail::parseVerpAddress(verpAddress, *settings_.verp)) {
            if (campaigns_.findCampaign(v->campaignId)) {
                out.campaignId = v->campaignId;
                if (recipients_.findRecipientById(v->recipientId)) {
                    out.recipientId = v->recipientId;
                    out.proven = true;
                }
                out.matchedBy = "verp";
            }
        }
    }
    // 2. The returned message's Message-ID, as the ledger recorded it at hand-over.
    if (!out.campaignId && !originalMessageId.empty()) {
        if (const auto m = bounces_.findLedgerByMessageId(withoutAngles(originalMessageId))) {
            out.campaignId = m->campaignId;
            out.recipientId = m->recipientId;
            out.proven = m->recipientId.has_value();
            if (out.recipient.empty()) out.recipient = m->email;
            out.matchedBy = "message-id";
        }
    }
    // 3. and 4. X-Campaign-Id, else the [CID:N] tag (the parser takes them in that order).
    if (!out.campaignId && claimedCampaign && *claimedCampaign > 0 && campaigns_.findCampaign(*claimedCampaign)) {
        out.campaignId = claimedCampaign;
        out.matchedBy = "header";
    }
    // The recipient: the one the match named, else the stored one with this address.
    if (out.recipientId) {
        if (out.recipient.empty())
            if (const auto r = recipients_.findRecipientById(*out.recipientId)) out.recipient = r->email;
    } else if (!out.recipient.empty()) {
        if (const auto r = recipients_.findRecipient(out.recipient)) out.recipientId = r->id;
    }
}

void BounceService::act(BounceOutcome& out) {
    if (!out.recipientId || !out.acted) return;
    const Id id = *out.recipientId;
    if (out.action == "complaint") {
        // An abuse report is the strongest opt-out there is: recorded as such, with the campaign.
        if (unsubscribes_.unsubscribe(id, out.campaignId, UnsubscribeSource::Complaint).changed)
            out.effect = "unsubscribed";
    } else if (out.action == "failed") {
        if (out.hard) {
            const auto ch = bounces_.markRecipientBounced(id);
            if (ch.before != ch.after) out.effect = "bounced";
        } else {
            const auto ch = bounces_.countSoftBounce(id, settings_.softBounceLimit);
            out.effect = ch.before != ch.after ? "bounced" : "soft-bounce";
        }
    } else if (out.action == "delivered" || out.action == "relayed" || out.action == "expanded") {
        bounces_.resetSoftBounces(id);  // evidence of a delivery: the soft bounces were not consecutive
        out.effect = "reset";
    }
    // delayed: recorded as a delay, nothing done to the recipient.
}

// A recipient's own request, by mail, to be unsubscribed (mail/unsubscribe_request.h).
BounceReport BounceService::unsubscribeByMail(const mail::VerpAddress& asked, std::string_view raw,
                                              BounceSource source, bool dryRun) {
    BounceReport report;
    report.isUnsubscribeRequest = true;
    report.noticeKey = noticeKey(raw);
    BounceOutcome out;
    out.action = "unsubscribe";
    out.matchedBy = "mailto";
    out.proven = out.acted = true;  // the token is signed with the VERP secret
    bounces_.transaction([&] {
        const auto recipient = recipients_.findRecipientById(asked.recipientId);
        if (!recipient) return;  // deleted since: nothing to do
        out.recipient = recipient->email;
        out.recipientId = recipient->id;
        if (campaigns_.findCampaign(asked.campaignId)) out.campaignId = asked.campaignId;
        if (dryRun) return;
        if (unsubscribes_.unsubscribe(recipient->id, out.campaignId, UnsubscribeSource::Mailto).changed)
            out.effect = "unsubscribed";
    });
    if (out.recipientId) {
        if (!dryRun)
            log::info("unsubscribed by mail", {{"CAMPAIGN_ID", std::to_string(asked.campaignId)},
                                               {"RECIPIENT_ID", std::to_string(asked.recipientId)},
                                               {"UNSUBSCRIBE_SOURCE", "mailto"},
                                               {"EFFECT", out.effect},
                                               {"SOURCE", std::string(toString(source))}});
        report.results.push_back(std::move(out));
    }
    return report;
}

BounceReport BounceService::process(std::string_view raw, BounceSource source, bool dryRun) {
    checkMessage(raw);
    const bounce::ParsedMessage parsed = bounce::parseMessage(raw);
    // A recipient's request by mail, unless the message is a notice: a DSN to a VERP address
    // has the same form as "<unsubscribe address>+<token>" when both share a mailbox.
    if (!settings_.unsubscribeMailto.empty() && settings_.verp && !parsed.isBounce && !parsed.isAutoReply &&
        !parsed.isComplaint && !parsed.isChallenge && !parsed.isReceipt) {
        if (const auto asked = mail::unsubscribeRequest(raw, settings_.unsubscribeMailto, settings_.verp->secret,
                                                        settings_.verp->delimiter))
            return unsubscribeByMail(*asked, raw, source, dryRun);
    }
    BounceReport report;
    report.isBounce = parsed.isBounce;
    report.isAutoReply = parsed.isAutoReply;
    report.isComplaint = parsed.isComplaint;
    report.isChallenge = parsed.isChallenge;
    report.isReceipt = parsed.isReceipt;
    report.format = parsed.format;
    report.error = parsed.error;
    report.noticeKey = noticeKey(raw);
    // A vacation message or a challenge-response request is no bounce: nothing to record.
    if (parsed.isAutoReply || parsed.isChallenge) return report;

    // Bounded: a notice naming thousands of addresses is no delivery notice of ours.
    const std::size_t taken = std::min(parsed.results.size(), kMaxResultsPerNotice);
    report.dropped = static_cast<std::int64_t>(parsed.results.size() - taken);
    const Usec now = clock_();
    bounces_.transaction([&] {
        report.results.clear();
        report.recorded = report.duplicates = 0;
        for (std::size_t i = 0; i < taken; ++i) {
            const bounce::BounceResult& r = parsed.results[i];
            BounceOutcome out;
            out.recipient = r.recipient;
            out.status = r.status;
            out.reason = std::string(bounce::toString(r.reason));
            out.hard = r.hard;
            out.action = std::string(bounce::toString(r.action));
            match(out, r.verpAddress, r.originalMessageId, r.campaignId);
            out.acted = out.proven || settings_.actOnUnmatched;
            // A DSN for an address the receiving server already refused at RCPT, when the
            // sender recorded it: the same failure, told twice (issue 13 item 6).
            if (out.action == "failed" && out.campaignId && out.recipientId)
                out.sameAs = bounces_.findSendingRejection(*out.campaignId, *out.recipientId);
            if (!dryRun) {
                BounceRecord b;
                b.campaignId = out.campaignId;
                b.recipientId = out.recipientId;
                b.recipientEmail = out.recipient;
                b.statusCode = out.status;
                b.reason = out.reason;
                b.hard = out.hard;
                b.action = out.action;
                b.diagnostic = r.diagnostic;
                b.remoteMta = r.remoteMta;
                b.messageId = withoutAngles(r.originalMessageId);
                b.source = std::string(toString(source));
                b.noticeKey = report.noticeKey;
                b.processedAt = now;
                b.matchedBy = out.matchedBy;
                b.acted = out.acted;
                b.sameAs = out.sameAs;
                if (bounces_.insertBounce(b)) {
                    out.recorded = true;
                    ++report.recorded;
                    if (!out.sameAs) act(out);  // acted on once, when the sender recorded it
                } else {
                    out.duplicate = true;
                    ++report.duplicates;
                }
            }
            report.results.push_back(std::move(out));
        }
    });
    if (dryRun) return report;
    if (report.dropped > 0)
        log::warning("a notice named more addresses than campaignd takes from one; the rest were dropped",
                     {{"NOTICE", report.noticeKey},
                      {"RESULTS", std::to_string(parsed.results.size())},
                      {"TAKEN", std::to_string(taken)},
                      {"DROPPED", std::to_string(report.dropped)},
                      {"SOURCE", std::string(toString(source))}});
    for (const BounceOutcome& o : report.results) {
        if (!o.recorded) continue;
        countRecorded(o);
        if (settings_.recorded) settings_.recorded(o);
        log::info("bounce recorded",
                  {{"CAMPAIGN_ID", o.campaignId ? std::to_string(*o.campaignId) : ""},
                   {"RECIPIENT", o.recipient},
                   {"DSN", o.status},
                   {"REASON", o.reason},
                   {"BOUNCE_ACTION", o.action},
                   {"HARD", o.hard ? "true" : "false"},
                   {"MATCHED_BY", o.matchedBy},
                   {"ACTED", o.acted ? "true" : "false"},
                   {"SUPPRESSION", o.sameAs ? "no effect: recorded at sending"
                                   : o.acted ? o.effect : "no effect: not matched"},
                   {"SAME_AS", o.sameAs ? std::to_string(*o.sameAs) : ""},
                   {"SOURCE", std::string(toString(source))},
                   {"NOTICE", report.noticeKey}});
    }
    return report;
}

bool BounceService::isRejection(bool failed, int smtpCode, std::string_view enhancedStatus) {
    if (!failed) return false;
    if (smtpCode != 0) return smtpCode >= 500 && smtpCode <= 599;
    return enhancedStatus.starts_with("5.");
}

BounceOutcome BounceService::recordRejection(Id campaign, std::optional<Id> recipient, std::string_view email,
                                             int smtpCode, std::string_view enhancedStatus, std::string_view replyText,
                                             std::string_view messageId) {
    BounceOutcome out;
    out.recipient = std::string(email);
    out.status = std::string(enhancedStatus);
    // The command the reply answered matters (a "user unknown" at RCPT is the address; after
    // DATA it is a filter): the sender says which, e.g. "550 ... (in reply to RCPT TO)".
    bounce::Outcome outcome;
    outcome.status = enhancedStatus;
    outcome.diagnostic = replyText;
    outcome.command = bounce::smtpCommandIn(replyText);
    outcome.smtpCode = smtpCode;
    const bounce::Reason reason = bounce::classify(outcome);
    out.reason = std::string(bounce::toString(reason));
    const bool temporary = enhancedStatus.starts_with("4") || replyText.starts_with("4");
    out.hard = bounce::isHard(reason) && !temporary;
    out.action = temporary ? "delayed" : "failed";
    out.campaignId = campaign;
    out.recipientId = recipient;
    out.matchedBy = "ledger";
    out.proven = recipient.has_value();  // the ledger row it was sent for names it
    out.acted = true;                    // the sender's own reply: nothing to forge
    const Usec now = clock_();
    bounces_.transaction([&] {
        BounceRecord b;
        b.campaignId = campaign;
        b.recipientId = recipient;
        b.recipientEmail = out.recipient;
        b.statusCode = out.status;
        b.reason = out.reason;
        b.hard = out.hard;
        b.action = out.action;
        b.diagnostic = std::string(replyText.substr(0, 2000));
        b.messageId = withoutAngles(messageId);
        b.source = std::string(toString(BounceSource::Smtp));
        b.noticeKey = "smtp:" + (b.messageId.empty() ? std::to_string(campaign) : b.messageId);
        b.processedAt = now;
        b.matchedBy = out.matchedBy;
        b.acted = true;
        if (bounces_.insertBounce(b)) {
            out.recorded = true;
            act(out);
        } else {
            out.duplicate = true;
        }
    });
    if (out.recorded) countRecorded(out);
    if (out.recorded && settings_.recorded) settings_.recorded(out);
    if (out.recorded)
        log::info("bounce recorded", {{"CAMPAIGN_ID", std::to_string(campaign)},
                                      {"RECIPIENT", out.recipient},
                                      {"DSN", out.status},
                                      {"REASON", out.reason},
                                      {"BOUNCE_ACTION", out.action},
                                      {"HARD", out.hard ? "true" : "false"},
                                      {"SUPPRESSION", out.effect},
                                      {"SOURCE", "smtp"}});
    return out;
}

void BounceService::checkSourceConfigured() const {
    const bool configured = std::any_of(settings_.source.begin(), settings_.source.end(),
                                        [](const auto& kv) { return kv.first == "URL" && !kv.second.empty(); });
    if (!configured)
        throw Error(ErrorCode::Failed, "no bounce mailbox is configured: set URL=, Username= and PasswordFile= in [Bounces]");
}

FetchSummary BounceService::fetch(const plugins::BounceSourceHandle& source, const StopRequested& stop) {
    checkSourceConfigured();
    FetchSummary summary;
    try {
        summary = fetchFrom(source, stop);
    } catch (const std::exception& e) {
        // A run the database or a cancellation stopped: kept as failed, if the database takes it.
        keepFetch(summary.fetched, summary.recorded, "failed", e.what());
        throw;
    }
    std::string error;
    for (std::size_t i = 0; i < summary.errors.size() && error.size() < 2000; ++i)
        error += (error.empty() ? "" : "; ") + summary.errors[i];
    keepFetch(summary.fetched, summary.recorded, summary.sourceStatus, error);
    return summary;
}

void BounceService::keepFetch(std::int64_t fetched, std::int64_t recorded, std::string_view status,
                              std::string_view error) {
    try {
        bounces_.recordBounceFetch({clock_(), std::string(status), std::string(error.substr(0, 2000)), fetched, recorded});
    } catch (const std::exception& e) {
        log::warning("the bounce fetch's outcome could not be kept", {{"ERROR", e.what()}});
    }
}

std::optional<storage::BounceFetchRecord> BounceService::lastFetch() { return bounces_.lastBounceFetch(); }

FetchSummary BounceService::fetchFrom(const plugins::BounceSourceHandle& source, const StopRequested& stop) {
    FetchSummary summary;
    constexpr std::size_t kMaxErrors = 100;
    auto note = [&](std::string error) {
        if (summary.errors.size() < kMaxErrors) summary.errors.push_back(std::move(error));
    };
    const plugins::BounceFetchStatus status = source.fetch(settings_.source, [&](std::string_view id, std::string_view raw) {
        // Not InvalidArgument: the source stops and leaves the message unseen.
        if (stop && stop())
            throw Error(ErrorCode::Failed, "the bounce fetch was cancelled after " + std::to_string(summary.fetched) +
                                               " messages; the rest are read by the next run");
        ++summary.fetched;
        try {
            const BounceReport report = process(raw, BounceSource::Imap, false);
            summary.recorded += report.recorded;
            summary.duplicates += report.duplicates;
            summary.dropped += report.dropped;
            for (const BounceOutcome& o : report.results)
                if (o.recorded && !o.acted) ++summary.unmatched;
            if (report.isUnsubscribeRequest) {
                if (!report.results.empty() && report.results.front().effect == "unsubscribed") ++summary.unsubscribed;
            } else if (report.results.empty()) {
                ++summary.notBounces;
            }
        } catch (const Error& e) {
            if (e.code() != ErrorCode::InvalidArgument) throw;  // the database: stop, leave it unseen
            ++summary.unparsable;
            note(std::string(id) + ": " + e.what());
            log::warning("unreadable message in the bounce mailbox; marked processed",
                         {{"SOURCE_MESSAGE", std::string(id)}, {"ERROR", e.what()}, {"PLUGIN", source.pluginName()}});
            throw;  // tells the source: no mail, mark it and go on
        }
    });
    summary.sourceStatus = std::string(plugins::toString(status.status));
    if (!status.ok()) {
        note(status.message);
        log::error("bounce fetch failed", {{"PLUGIN", source.pluginName()},
                                           {"BOUNCE_SOURCE_STATUS", summary.sourceStatus},
                                           {"ERROR", status.message}});
    } else {
        log::info("bounce fetch done", {{"PLUGIN", source.pluginName()},
                                        {"FETCHED", std::to_string(summary.fetched)},
                                        {"RECORDED", std::to_string(summary.recorded)},
                                        {"DUPLICATES", std::to_string(summary.duplicates)},
                                        {"UNMATCHED", std::to_string(summary.unmatched)},
                                        {"DROPPED", std::to_string(summary.dropped)},
                                        {"NOT_BOUNCES", std::to_string(summary.notBounces)},
                                        {"UNSUBSCRIBED", std::to_string(summary.unsubscribed)},
                                        {"UNPARSABLE", std::to_string(summary.unparsable)}});
    }
    return summary;
}

void BounceService::checkFilter(const storage::BounceFilter& filter) {
    if (filter.reason && !bounce::reasonFromString(*filter.reason))
        throw Error(ErrorCode::InvalidArgument, "unknown bounce reason \"" + *filter.reason +
                                                    "\" (userunknown, hostunknown, mailboxfull, ...)");
    if (filter.campaign && !campaigns_.findCampaign(*filter.campaign))
        throw Error(ErrorCode::NotFound, "no campaign with id " + std::to_string(*filter.campaign));
}

std::vector<BounceRecord> BounceService::list(const storage::BounceFilter& filter) {
    checkFilter(filter);
    return bounces_.listBounces(filter);
}

std::int64_t BounceService::exportCsv(int fd, const storage::BounceFilter& filter, const StopRequested& stop) {
    const std::vector<BounceRecord> records = list(filter);
    // The original's BounceRecord columns (campaign, recipient_email, reason, processed_at),
    // then what campaignd knows besides.
    std::string out = "campaign,recipient_email,reason,processed_at,status,hard,action,diagnostic,remote_mta,"
                      "message_id,source,matched_by,acted\r\n";
    for (const BounceRecord& b : records) {
        out += (b.campaignId ? std::to_string(*b.campaignId) : std::string()) + ',' + rules::csvCell(b.recipientEmail) +
               ',' + rules::csvCell(b.reason) + ',' + formatUtc(b.processedAt) + ',' + rules::csvCell(b.statusCode) + ',' +
               (b.hard ? "true" : "false") + ',' + rules::csvCell(b.action) + ',' + rules::csvCell(b.diagnostic) + ',' +
               rules::csvCell(b.remoteMta) + ',' + rules::csvCell(b.messageId) + ',' + rules::csvCell(b.source) + ',' +
               rules::csvCell(b.matchedBy) + ',' + (b.acted ? "true" : "false") + "\r\n";
        if (out.size() > (1u << 16)) {
            writeAll(fd, out, stop);
            out.clear();
        }
    }
    writeAll(fd, out, stop);
    return static_cast<std::int64_t>(records.size());
}

}  // namespace campaignd::services

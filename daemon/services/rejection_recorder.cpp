// rejection_recorder.cpp: send-time rejections recorded as bounces (rejection_recorder.h).
#include "services/rejection_recorder.h"

#include <exception>

#include "core/log.h"

namespace campaignd::services {
namespace {

BounceSettings settingsFor(std::int64_t softBounceLimit) {
    BounceSettings settings;
    settings.softBounceLimit = softBounceLimit;
    return settings;  // no VERP and no source: a rejection is matched by its ledger row
}

}  // namespace

RejectionRecorder::RejectionRecorder(std::unique_ptr<storage::Store> store, Clock clock,
                                     std::int64_t softBounceLimit)
    : store_(std::move(store)), bounces_(*store_, *store_, *store_, *store_, std::move(clock), settingsFor(softBounceLimit)) {}

std::string RejectionRecorder::statusOf(const SendingFailure& failure) {
    if (!failure.enhancedStatus.empty()) return failure.enhancedStatus;
    if (failure.smtpCode != 0) return std::to_string(failure.smtpCode / 100) + ".0.0";
    return "5.0.0";
}

std::optional<BounceOutcome> RejectionRecorder::record(const SendingFailure& failure) {
    if (!BounceService::isRejection(true, failure.smtpCode, failure.enhancedStatus)) return std::nullopt;
    try {
        std::lock_guard lock(mutex_);
        return bounces_.recordRejection(failure.campaignId, failure.recipientId, failure.recipient, failure.smtpCode,
                                        statusOf(failure), failure.reply, failure.messageId);
    } catch (const std::exception& e) {
        log::error(std::string("a rejection at sending could not be recorded as a bounce: ") + e.what(),
                   {{"CAMPAIGN_ID", std::to_string(failure.campaignId)}, {"RECIPIENT", failure.recipient}});
        return std::nullopt;
    }
}

}  // namespace campaignd::services

// rejection_recorder.h: a recipient's mail server refusing a message at sending (a 5xx at RCPT
// or after DATA) is a hard bounce too. The delivery engine hands every failed outcome here, from
// its worker threads; the recorder keeps the rule (which failures are rejections, and what DSN
// status one gets when the server gave none) and records each rejection through the bounce
// rules on a store of its own, one call at a time. It never throws into the engine.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/model.h"
#include "services/bounce_service.h"
#include "storage/store.h"

namespace campaignd::services {

// One ledger row the sender marked failed, and what the server said.
struct SendingFailure {
    Id campaignId = 0;
    std::optional<Id> recipientId;  // empty when the recipient was deleted since
    std::string recipient;          // the address it was sent to
    int smtpCode = 0;               // the reply code, or 0 when there was no reply
    std::string enhancedStatus;     // "5.1.1" or ""
    std::string reply;              // the server's reply text (or the error)
    std::string messageId;          // without angle brackets
};

class RejectionRecorder {
public:
    // `store` is the recorder's own (it is used from the engine's threads, never elsewhere).
    RejectionRecorder(std::unique_ptr<storage::Store> store, Clock clock, std::int64_t softBounceLimit);

    // The DSN status a rejection is recorded with: the server's enhanced status, else the
    // class of its reply code ("550" -> "5.0.0").
    static std::string statusOf(const SendingFailure& failure);

    // Records the failure as a bounce (source smtp) when it is a rejection
    // (BounceService::isRejection) and returns what was done; nullopt when it is not one, or
    // when recording failed (logged). Safe to call from several threads; never throws.
    std::optional<BounceOutcome> record(const SendingFailure& failure);

private:
    std::mutex mutex_;
    std::unique_ptr<storage::Store> store_;
    BounceService bounces_;
};

}  // namespace campaignd::services

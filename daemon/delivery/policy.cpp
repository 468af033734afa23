// policy.cpp: see policy.h.
#include "delivery/policy.h"

#include "delivery/throttle.h"

namespace campaignd::delivery {

std::string formatReply(const plugins::DeliveryResult& result) {
    std::string prefix;
    if (result.smtpCode != 0) {
        prefix = std::to_string(result.smtpCode);
        if (!result.enhancedStatus.empty()) prefix += " " + result.enhancedStatus;
    }
    if (result.text.empty()) return prefix.empty() ? std::string(toString(result.outcome)) : prefix;
    if (prefix.empty() || result.text.rfind(std::to_string(result.smtpCode), 0) == 0) return result.text;
    return prefix + " " + result.text;
}

storage::LedgerOutcome decideOutcome(Id ledgerId, std::int64_t attemptsBefore,
                                       const plugins::DeliveryResult& result, const RetryPolicy& policy,
                                       Usec now, const std::string& sessionError,
                                       const std::function<double()>& random01) {
    using Kind = storage::LedgerOutcome::Kind;
    storage::LedgerOutcome o;
    o.ledgerId = ledgerId;
    const std::int64_t attempt = attemptsBefore + 1;  // this one
    const bool lastAttempt = attempt >= static_cast<std::int64_t>(policy.maxAttempts);
    switch (result.outcome) {
    case plugins::DeliveryOutcome::Sent:
        o.kind = Kind::Sent;
        return o;
    case plugins::DeliveryOutcome::Failed:
        o.kind = Kind::Failed;
        o.reason = formatReply(result);
        return o;
    case plugins::DeliveryOutcome::Deferred:
        o.reason = formatReply(result);
        if (lastAttempt) {
            o.kind = Kind::Failed;
            o.reason += " (gave up after " + std::to_string(attempt) + " attempts)";
            return o;
        }
        o.kind = Kind::Deferred;
        o.nextAttemptAt = now + retryDelay(policy.baseDelay, static_cast<unsigned>(attempt),
                                           policy.maxDelay, random01).count();
        return o;
    case plugins::DeliveryOutcome::Unknown:
        o.kind = Kind::Unknown;
        o.reason = "the transport cannot tell whether the server accepted it" +
                   (result.text.empty() ? std::string() : ": " + result.text);
        return o;
    case plugins::DeliveryOutcome::NotHandedOver:
        // Never left: not the recipient's fault, so it does not count against MaxAttempts.
        o.reason = "not handed over: " + (sessionError.empty() ? std::string("the session failed") : sessionError);
        o.kind = Kind::Deferred;
        o.nextAttemptAt = now;  // due at once, through a new session (the engine backs off reconnecting)
        return o;
    }
    o.kind = Kind::Unknown;
    o.reason = "the transport gave an outcome campaignd does not know";
    return o;
}

SessionAction sessionAction(plugins::TransportStatus status) {
    return status == plugins::TransportStatus::Connection ? SessionAction::Reconnect : SessionAction::Pause;
}

std::string pauseReason(const std::string& transport, plugins::TransportStatus status,
                        const std::string& message) {
    std::string what;
    switch (status) {
    case plugins::TransportStatus::Auth: what = "authentication failed"; break;
    case plugins::TransportStatus::Tls: what = "TLS failed"; break;
    case plugins::TransportStatus::Connection: what = "cannot connect"; break;
    default: what = "failed"; break;
    }
    return "transport \"" + transport + "\": " + what + ": " + message;
}

}  // namespace campaignd::delivery

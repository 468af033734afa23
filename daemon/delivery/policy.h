// policy.h: the delivery rules, as pure functions: what the ledger records for each result a
// transport gives (issue 3, "Errors"). Sent is sent. A 5xx (FAILED) is failed with the server's
// code, enhanced status and text as the fail_reason ("550 5.1.1 User unknown"), which the
// bounce processing also reads as a hard bounce. A 4xx (DEFERRED) goes back to pending with
// exponential backoff and jitter, until MaxAttempts transport attempts, then it is failed with
// the last reply. UNKNOWN (the server may have it) is final: never sent again. A message the
// transport never handed over (the connection failed or dropped first) is due again at once,
// through a new session, and is not held against MaxAttempts: a server that is away for a while
// must not fail recipients (the engine backs off reconnecting; pause the campaign to give up).
// Session-level AUTH and TLS failures are not per-message outcomes: the engine pauses the
// campaign (sessionAction).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "core/model.h"
#include "plugin-host/plugin_host.h"
#include "storage/send_ledger.h"

namespace campaignd::delivery {

struct RetryPolicy {
    unsigned maxAttempts = 5;                                   // [Sending] MaxAttempts=
    std::chrono::microseconds baseDelay = std::chrono::minutes(1);  // [Sending] RetryDelay=
    std::chrono::microseconds maxDelay = std::chrono::hours(6);
};

// "550 5.1.1 User unknown": the code and enhanced status (when the plugin gave them and the
// text does not already start with them), then the text. Never empty.
std::string formatReply(const plugins::DeliveryResult& result);

// The ledger outcome for one transport result. `attemptsBefore` is the row's attempts before
// this one; `sessionError` is the session's failure message for NotHandedOver results.
storage::LedgerOutcome decideOutcome(Id ledgerId, std::int64_t attemptsBefore,
                                       const plugins::DeliveryResult& result, const RetryPolicy& policy,
                                       Usec now, const std::string& sessionError,
                                       const std::function<double()>& random01);

// What the engine does when a session cannot be opened or breaks.
enum class SessionAction {
    Reconnect,  // Connection: back off, open a new session, carry on
    Pause,      // Auth, Tls, Failed: pause the campaign with the message as its reason
};
SessionAction sessionAction(plugins::TransportStatus status);

// The campaign's StatusReason for a pause the engine decided: "transport \"x\": <message>".
std::string pauseReason(const std::string& transport, plugins::TransportStatus status,
                        const std::string& message);

}  // namespace campaignd::delivery

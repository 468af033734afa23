// async_session.h: a transport session the daemon drives without a thread of its own (ABI 1.6).
// submit() takes messages and returns at once; results come through AsyncEvents from the
// plugin's event thread. A plugin built before 1.6 (no submit) gets the same interface from a
// thread of the session's that calls its send(), so the engine has one way to drive any
// transport. Promises, whatever the plugin does: every message submit() was given gets exactly
// one result (NotHandedOver only when a plugin that kept the rules said it never left); once
// the session has ended, submit() takes nothing and its messages are reported NotHandedOver.
// Refuses (std::invalid_argument, before the plugin sees anything) what TransportSession::send
// refuses, and a token already outstanding in the session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "plugin-host/transport.h"

namespace campaignd::plugins {

struct AsyncEvents {
    // One message's result. Called from a plugin thread, the session's own thread, or (only for
    // the messages of a submit() that found the session ended) inside submit(); never two at
    // once for one session. Must be quick and must not call back into the session. An exception
    // is logged and dropped.
    std::function<void(const DeliveryResult&)> result;
    // The session can send no more: status (never Ok) and why, once, after the result of every
    // message it had taken. Not called once the session's destruction has begun. Same threads
    // and rules as result.
    std::function<void(const SendStatus&)> ended;
};

class AsyncSession {
public:
    // Closes the session: the messages already written get their result (within the plugin's
    // reply time-outs), the rest are reported NotHandedOver; no event after it returns.
    ~AsyncSession();
    AsyncSession(const AsyncSession&) = delete;
    AsyncSession& operator=(const AsyncSession&) = delete;

    const std::string& pluginName() const;
    const std::string& transportName() const;
    // True when the plugin submits itself (ABI 1.6); false when a thread of this session calls
    // its send().
    bool native() const;

    // Hands the messages to the session (copied: the views need not outlive the call). Returns
    // Ok when it took them; otherwise the session has ended (status and why), and every one of
    // them has been reported NotHandedOver through events.result before this returns.
    // Thread-safe, but one caller at a time is the intended use.
    SendStatus submit(std::span<const OutgoingMessage> messages);

    // Messages taken and without a result yet.
    std::size_t outstanding() const;

    struct Core;  // shared with the plugin's sink and the fallback thread

private:
    friend class TransportHandle;
    explicit AsyncSession(std::shared_ptr<Core> core);
    std::shared_ptr<Core> core_;
};

}  // namespace campaignd::plugins

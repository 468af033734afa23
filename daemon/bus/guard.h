// guard.h: the one place where campaignd's errors become D-Bus errors. Every method handler
// runs its body through guarded(): an Error becomes sdbus::Error with the code's D-Bus name
// and the Error's message; anything else is logged and reported as Error.Failed, so a bug in
// one call never takes the daemon down.
#pragma once

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include <sdbus-c++/Error.h>

#include "core/error.h"
#include "core/log.h"
#include "core/metrics.h"

namespace campaignd::bus {

// The last component of a D-Bus error name ("org.campaignd.Campaignd1.Error.NotFound" ->
// "NotFound"): the bus-call metric's outcome label.
inline std::string errorOutcome(const std::string& name) {
    const auto dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
}

// The error translation alone, uncounted: for a method whose call ends elsewhere (an async
// reply, WebObject::Unsubscribe), which counts where it answers.
template <typename F>
auto translated(const char* method, F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const Error& e) {
        throw sdbus::Error(std::string(dbusErrorName(e.code())), e.what());
    } catch (const sdbus::Error&) {
        throw;
    } catch (const std::exception& e) {
        log::error(std::string(method) + " failed: " + e.what(), {{"METHOD", method}});
        throw sdbus::Error(std::string(dbusErrorName(ErrorCode::Failed)),
                           std::string(method) + " failed: " + e.what());
    }
}

// translated(), and each call counted once, by method and outcome (core/metrics.h:
// campaignd_bus_calls_total): "ok", or the error's last name component.
template <typename F>
auto guarded(const char* method, F&& body) -> decltype(body()) {
    try {
        if constexpr (std::is_void_v<decltype(body())>) {
            translated(method, std::forward<F>(body));
            metrics::busCall(method, "ok");
        } else {
            auto result = translated(method, std::forward<F>(body));
            metrics::busCall(method, "ok");
            return result;
        }
    } catch (const sdbus::Error& e) {
        metrics::busCall(method, errorOutcome(e.getName()));
        throw;
    }
}

}  // namespace campaignd::bus

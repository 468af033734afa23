// guard.h: the one place where campaignd's errors become D-Bus errors. Every method handler
// runs its body through guarded(): an Error becomes sdbus::Error with the code's D-Bus name
// and the Error's message; anything else is logged and reported as Error.Failed, so a bug in
// one call never takes the daemon down.
#pragma once

#include <exception>
#include <string>
#include <utility>

#include <sdbus-c++/Error.h>

#include "core/error.h"
#include "core/log.h"

namespace campaignd::bus {

template <typename F>
auto guarded(const char* method, F&& body) -> decltype(body()) {
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

}  // namespace campaignd::bus

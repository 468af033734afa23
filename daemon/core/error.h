// error.h: the one error type campaignd's services throw for conditions the outside world
// causes (bad input, a missing entity, an illegal transition, a database that went away).
// Each code maps to exactly one D-Bus error name; the bus adaptor does that mapping, nothing
// else does. Broken invariants are not Errors: they are bugs and abort.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace campaignd {

enum class ErrorCode {
    NotFound,          // the named campaign, recipient or group does not exist
    InvalidArgument,   // the input is malformed or breaks a rule
    InvalidState,      // the entity is in a state that does not allow this
    AlreadyExists,     // a unique name or address is taken
    PermissionDenied,  // the caller may not do this
    Failed,            // the environment failed (database, plugin, I/O)
};

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const noexcept { return code_; }

private:
    ErrorCode code_;
};

// "org.campaignd.Campaignd1.Error.NotFound", ...
std::string_view dbusErrorName(ErrorCode code);
// The code for a D-Bus error name; Failed for names that are not campaignd's.
ErrorCode errorCodeFromDbusName(std::string_view name);

}  // namespace campaignd

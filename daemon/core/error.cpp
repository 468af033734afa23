// error.cpp: the one table from campaignd's error codes to D-Bus error names.
#include "core/error.h"

#include <array>
#include <utility>

namespace campaignd {
namespace {

constexpr std::array<std::pair<ErrorCode, std::string_view>, 6> kNames{{
    {ErrorCode::NotFound, "org.campaignd.Campaignd1.Error.NotFound"},
    {ErrorCode::InvalidArgument, "org.campaignd.Campaignd1.Error.InvalidArgument"},
    {ErrorCode::InvalidState, "org.campaignd.Campaignd1.Error.InvalidState"},
    {ErrorCode::AlreadyExists, "org.campaignd.Campaignd1.Error.AlreadyExists"},
    {ErrorCode::PermissionDenied, "org.campaignd.Campaignd1.Error.PermissionDenied"},
    {ErrorCode::Failed, "org.campaignd.Campaignd1.Error.Failed"},
}};

}  // namespace

std::string_view dbusErrorName(ErrorCode code) {
    for (const auto& [c, name] : kNames)
        if (c == code) return name;
    return "org.campaignd.Campaignd1.Error.Failed";
}

ErrorCode errorCodeFromDbusName(std::string_view name) {
    for (const auto& [c, n] : kNames)
        if (n == name) return c;
    return ErrorCode::Failed;
}

}  // namespace campaignd

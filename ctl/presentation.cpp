// presentation.cpp: see presentation.h.
#include "presentation.h"

#include <cstdio>

namespace campaignd::ctl {
namespace {

bool startsWith(std::string_view text, std::string_view prefix)
{
    return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string displayStatus(std::string_view status)
{
    std::string out;
    bool wordStart = true;
    for (char c : status) {
        if (c == '_') {
            out += ' ';
            wordStart = true;
        } else if (wordStart && c >= 'a' && c <= 'z') {
            out += static_cast<char>(c - 'a' + 'A');
            wordStart = false;
        } else {
            out += c;
            wordStart = false;
        }
    }
    return out;
}

std::string normalizeStatus(std::string_view text)
{
    std::string out;
    for (char c : text) {
        if (c == ' ' || c == '-')
            out += '_';
        else if (c >= 'A' && c <= 'Z')
            out += static_cast<char>(c - 'A' + 'a');
        else
            out += c;
    }
    return out;
}

std::optional<std::string> textProblem(std::string_view text)
{
    std::size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c == 0)
            return "it contains a NUL byte at offset " + std::to_string(i);
        std::size_t length;
        std::uint32_t cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            length = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            length = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            length = 4;
            cp = c & 0x07;
        } else {
            return "it is not valid UTF-8 (offset " + std::to_string(i) + ")";
        }
        if (i + length > text.size())
            return "it is not valid UTF-8 (offset " + std::to_string(i) + ")";
        for (std::size_t k = 1; k < length; ++k) {
            auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80)
                return "it is not valid UTF-8 (offset " + std::to_string(i) + ")";
            cp = (cp << 6) | (cc & 0x3F);
        }
        bool overlong = (length == 2 && cp < 0x80) || (length == 3 && cp < 0x800) ||
                        (length == 4 && cp < 0x10000);
        if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return "it is not valid UTF-8 (offset " + std::to_string(i) + ")";
        i += length;
    }
    return std::nullopt;
}

std::string formatByteSize(std::uint64_t bytes)
{
    if (bytes == 1)
        return "1 byte";
    if (bytes < 1024)
        return std::to_string(bytes) + " bytes";
    const char* unit = "KiB";
    double value = static_cast<double>(bytes) / 1024.0;
    if (value >= 1024.0) {
        value /= 1024.0;
        unit = "MiB";
    }
    if (value >= 1024.0) {
        value /= 1024.0;
        unit = "GiB";
    }
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.1f %s", value, unit);
    return std::string(buffer) + " (" + std::to_string(bytes) + " bytes)";
}

std::string countNoun(std::uint64_t count, std::string_view singular, std::string_view plural)
{
    return std::to_string(count) + " " + std::string(count == 1 ? singular : plural);
}

std::string describeBusError(std::string_view name, std::string_view message, BusKind bus,
                             int timeoutSeconds)
{
    const std::string busName = bus == BusKind::User ? "session" : "system";
    if (startsWith(name, "org.campaignd.Campaignd1.Error.")) {
        if (!message.empty())
            return std::string(message);
        return std::string(name.substr(name.rfind('.') + 1));
    }
    if (name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
        name == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
        startsWith(name, "org.freedesktop.DBus.Error.Spawn.")) {
        if (bus == BusKind::User)
            return "campaignd is not running on the session bus (without --user, the system bus is used)";
        return "campaignd is not running on the system bus (try --user?)";
    }
    if (name == "org.freedesktop.DBus.Error.NoReply" || name == "org.freedesktop.DBus.Error.Timeout" ||
        name == "org.freedesktop.DBus.Error.TimedOut")
        return "campaignd did not answer within " + std::to_string(timeoutSeconds) + " seconds";
    if (name == "org.freedesktop.DBus.Error.AccessDenied") {
        // campaignd's system bus policy refuses only the methods that return personal data
        // (org.campaignd.Campaignd1.conf): say which groups may call them.
        std::string hint;
        if (bus == BusKind::System)
            hint = " (addresses, names, bounces and job results are only for root and the members of the "
                   "\"campaignd\" and \"campaignd-readers\" groups; an administrator can add you to "
                   "campaignd-readers: adduser USER campaignd-readers)";
        return "the " + busName + " bus refused the call" + hint + ": " +
               std::string(message.empty() ? "access denied" : message);
    }
    if (name == "org.freedesktop.DBus.Error.UnknownMethod" ||
        name == "org.freedesktop.DBus.Error.UnknownInterface" ||
        name == "org.freedesktop.DBus.Error.UnknownProperty")
        return std::string(message) + " (is campaignd older than campaignd-ctl?)";
    if (name == "org.freedesktop.DBus.Error.Disconnected" ||
        name == "org.freedesktop.DBus.Error.NoServer")
        return "lost the connection to the " + busName + " bus" +
               (message.empty() ? std::string() : ": " + std::string(message));
    if (!message.empty())
        return std::string(message);
    return std::string(name);
}

}  // namespace campaignd::ctl

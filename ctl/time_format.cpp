// time_format.cpp: a strict hand-written parser for the two TIME forms (no strptime, whose
// leniency would accept "2026-13-45"), calendar checks through std::chrono, and mktime for
// local times so TZ and daylight saving are the C library's business.
#include "time_format.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>

namespace campaignd::ctl {
namespace {

// A cursor over the text being parsed.
class Scanner {
public:
    explicit Scanner(std::string_view text) : text_(text) {}

    bool atEnd() const { return pos_ == text_.size(); }
    char peek() const { return atEnd() ? '\0' : text_[pos_]; }
    bool accept(char c)
    {
        if (peek() != c || atEnd())
            return false;
        ++pos_;
        return true;
    }
    // Exactly COUNT decimal digits.
    std::optional<int> digits(int count)
    {
        int value = 0;
        for (int i = 0; i < count; ++i) {
            char c = peek();
            if (atEnd() || c < '0' || c > '9')
                return std::nullopt;
            value = value * 10 + (c - '0');
            ++pos_;
        }
        return value;
    }
    // A time zone abbreviation ("CET", "EDT"): 1 to 10 letters.
    std::optional<std::string> zoneName()
    {
        std::string name;
        while (!atEnd() && ((peek() >= 'A' && peek() <= 'Z') || (peek() >= 'a' && peek() <= 'z')) && name.size() < 10) {
            name += peek();
            ++pos_;
        }
        if (name.empty())
            return std::nullopt;
        return name;
    }
    // One or more digits of a decimal fraction, as microseconds (extra digits are dropped).
    std::optional<int> fractionUsec()
    {
        int value = 0;
        int seen = 0;
        while (!atEnd() && peek() >= '0' && peek() <= '9') {
            if (seen < 6)
                value = value * 10 + (peek() - '0');
            ++seen;
            ++pos_;
        }
        if (seen == 0)
            return std::nullopt;
        for (int i = seen; i < 6; ++i)
            value *= 10;
        return value;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

[[noreturn]] void fail(std::string_view text, std::string_view why)
{
    std::string message = "invalid time \"" + std::string(text) + "\"";
    if (!why.empty())
        message += " (" + std::string(why) + ")";
    message += ": use " + std::string(kTimeFormsHelp);
    throw InvalidTime(message);
}

std::uint64_t toUsec(std::string_view text, std::int64_t seconds, int usec)
{
    if (seconds < 0)
        fail(text, "before 1970");
    return static_cast<std::uint64_t>(seconds) * 1000000u + static_cast<std::uint64_t>(usec);
}

}  // namespace

std::uint64_t parseTime(std::string_view text)
{
    Scanner in(text);
    auto year = in.digits(4);
    if (!year || !in.accept('-'))
        fail(text, "");
    auto month = in.digits(2);
    if (!month || !in.accept('-'))
        fail(text, "");
    auto day = in.digits(2);
    if (!day)
        fail(text, "");

    bool isoSeparator = false;
    if (in.accept('T') || in.accept('t'))
        isoSeparator = true;
    else if (!in.accept(' '))
        fail(text, in.atEnd() ? "a time of day is needed" : "");

    auto hour = in.digits(2);
    if (!hour || !in.accept(':'))
        fail(text, "");
    auto minute = in.digits(2);
    if (!minute)
        fail(text, "");
    int second = 0;
    int usec = 0;
    if (in.accept(':')) {
        auto s = in.digits(2);
        if (!s)
            fail(text, "");
        second = *s;
        if (in.accept('.') || in.accept(',')) {
            auto f = in.fractionUsec();
            if (!f)
                fail(text, "");
            usec = *f;
        }
    }

    // The offset: Z, +HH, +HHMM or +HH:MM; or, after a local time, the local zone's name as
    // formatLocalTime writes it ("2026-12-01 09:00 CET"), so what is shown can be typed back
    // (and it tells the two 01:30s of an autumn night apart).
    std::optional<int> offsetSeconds;
    std::optional<std::string> zone;
    if (!isoSeparator && in.accept(' ') && in.peek() != '+' && in.peek() != '-') {
        zone = in.zoneName();
        if (!zone)
            fail(text, "");
        if (*zone == "UTC" || *zone == "GMT") {
            offsetSeconds = 0;
            zone.reset();
        }
    } else if (in.accept('Z') || in.accept('z')) {
        offsetSeconds = 0;
    } else if (in.peek() == '+' || in.peek() == '-') {
        int sign = in.peek() == '-' ? -1 : 1;
        in.accept(in.peek());
        auto oh = in.digits(2);
        if (!oh)
            fail(text, "bad offset");
        int om = 0;
        if (!in.atEnd()) {
            in.accept(':');
            auto m = in.digits(2);
            if (!m)
                fail(text, "bad offset");
            om = *m;
        }
        if (*oh > 23 || om > 59)
            fail(text, "bad offset");
        offsetSeconds = sign * (*oh * 3600 + om * 60);
    }
    if (!in.atEnd())
        fail(text, "");
    if (isoSeparator && !offsetSeconds)
        fail(text, "an ISO 8601 time needs an offset such as Z or +01:00");

    using namespace std::chrono;
    year_month_day date{std::chrono::year{*year}, std::chrono::month{static_cast<unsigned>(*month)},
                        std::chrono::day{static_cast<unsigned>(*day)}};
    if (!date.ok())
        fail(text, "no such date");
    if (*hour > 23 || *minute > 59 || second > 59)
        fail(text, "no such time of day");

    if (offsetSeconds) {
        std::int64_t days = sys_days{date}.time_since_epoch().count();
        std::int64_t seconds = days * 86400 + *hour * 3600 + *minute * 60 + second - *offsetSeconds;
        return toUsec(text, seconds, usec);
    }

    // Local time, as TZ says. mktime normalises a time skipped by a daylight-saving change into
    // one that exists; the round trip below catches that and refuses it.
    ::tzset();
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = second;
    tm.tm_isdst = -1;
    if (zone) {
        if (*zone == ::tzname[0])
            tm.tm_isdst = 0;
        else if (::daylight && *zone == ::tzname[1])
            tm.tm_isdst = 1;
        else
            fail(text, "\"" + *zone + "\" is not the local time zone (" + std::string(::tzname[0]) +
                           (::daylight ? "/" + std::string(::tzname[1]) : std::string()) + "); give an offset");
    }
    const int askedDst = tm.tm_isdst;
    std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1))
        fail(text, "before 1970 or not representable");
    if (askedDst >= 0 && tm.tm_isdst != askedDst)
        fail(text, *zone + " is not in effect on that date; " + std::string(::tzname[tm.tm_isdst > 0 ? 1 : 0]) + " is");
    if (tm.tm_year != *year - 1900 || tm.tm_mon != *month - 1 || tm.tm_mday != *day ||
        tm.tm_hour != *hour || tm.tm_min != *minute || tm.tm_sec != second)
        fail(text, "that local time does not exist (daylight-saving change); give an offset");
    return toUsec(text, static_cast<std::int64_t>(t), usec);
}

namespace {

// Local time as `clock` ("%H:%M" or "%H:%M:%S") gives it, after the date and before the zone's
// name as TZ gives it ("CET", "EDT", "UTC"), which parseTime reads back; a zone with no name
// ("+0530" style, or none at all) is shown as its offset.
std::string formatLocal(std::uint64_t usecSinceEpoch, const char* clock)
{
    if (usecSinceEpoch == 0)
        return "-";
    ::tzset();
    std::time_t t = static_cast<std::time_t>(usecSinceEpoch / 1000000u);
    std::tm tm{};
    if (!::localtime_r(&t, &tm))
        return "-";
    char zone[32];
    std::size_t z = std::strftime(zone, sizeof zone, "%Z", &tm);
    const bool named = z > 0 && std::all_of(zone, zone + z, [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    });
    if (!named)
        z = std::strftime(zone, sizeof zone, "%z", &tm);
    char buffer[64];
    const std::string format = std::string("%Y-%m-%d ") + clock;
    const std::size_t n = std::strftime(buffer, sizeof buffer, format.c_str(), &tm);
    return std::string(buffer, n) + " " + std::string(zone, z);
}

}  // namespace

std::string formatLocalTime(std::uint64_t usecSinceEpoch)
{
    return formatLocal(usecSinceEpoch, "%H:%M");
}

std::string formatLocalTimeSeconds(std::uint64_t usecSinceEpoch)
{
    return formatLocal(usecSinceEpoch, "%H:%M:%S");
}

std::string formatIsoUtc(std::uint64_t usecSinceEpoch)
{
    if (usecSinceEpoch == 0)
        return "";
    std::time_t t = static_cast<std::time_t>(usecSinceEpoch / 1000000u);
    std::tm tm{};
    if (!::gmtime_r(&t, &tm))
        return "";
    char buffer[64];
    std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buffer, n);
}

}  // namespace campaignd::ctl

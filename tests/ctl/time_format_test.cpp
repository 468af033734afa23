// time_format_test.cpp: the two accepted TIME forms, offsets, local time under different TZ
// values (set by the test, restored after), daylight-saving gaps, and the inputs that must be
// refused with a message naming the accepted forms.
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "time_format.h"

using campaignd::ctl::formatIsoUtc;
using campaignd::ctl::formatLocalTime;
using campaignd::ctl::formatLocalTimeSeconds;
using campaignd::ctl::InvalidTime;
using campaignd::ctl::parseTime;

namespace {

constexpr std::uint64_t kSecond = 1000000;
// 2026-11-27T21:00:00Z
constexpr std::uint64_t kNov27 = 1795813200 * kSecond;
// 2026-12-01T08:00:00Z
constexpr std::uint64_t kDec1_08Z = 1796112000 * kSecond;
// 2026-07-01T07:00:00Z
constexpr std::uint64_t kJul1_07Z = 1782889200 * kSecond;

// Central European time as a POSIX rule, so the test does not depend on tzdata.
constexpr const char* kBerlin = "CET-1CEST,M3.5.0,M10.5.0/3";
constexpr const char* kNewYork = "EST5EDT,M3.2.0,M11.1.0";

class TimeTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (const char* tz = std::getenv("TZ"))
            savedTz_ = tz;
    }
    void TearDown() override
    {
        if (savedTz_)
            ::setenv("TZ", savedTz_->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
    static void useTz(const char* tz)
    {
        ::setenv("TZ", tz, 1);
        ::tzset();
    }

private:
    std::optional<std::string> savedTz_;
};

std::string errorFor(const std::string& text)
{
    try {
        parseTime(text);
    } catch (const InvalidTime& e) {
        return e.what();
    }
    return "";
}

TEST_F(TimeTest, IsoWithZuluIsUtc)
{
    EXPECT_EQ(parseTime("2026-11-27T21:00:00Z"), kNov27);
    EXPECT_EQ(parseTime("2026-11-27t21:00:00z"), kNov27);
}

TEST_F(TimeTest, IsoOffsetsShiftToUtc)
{
    EXPECT_EQ(parseTime("2026-12-01T09:00:00+01:00"), kDec1_08Z);
    EXPECT_EQ(parseTime("2026-12-01T09:00:00+0100"), kDec1_08Z);
    EXPECT_EQ(parseTime("2026-12-01T09:00:00+01"), kDec1_08Z);
    EXPECT_EQ(parseTime("2026-12-01T03:00:00-05:00"), kDec1_08Z);
    EXPECT_EQ(parseTime("2026-12-01T13:30:00+05:30"), kDec1_08Z);
    EXPECT_EQ(parseTime("2026-12-01T08:00:00+00:00"), kDec1_08Z);
}

TEST_F(TimeTest, IsoOffsetDoesNotDependOnTz)
{
    useTz(kNewYork);
    EXPECT_EQ(parseTime("2026-12-01T09:00:00+01:00"), kDec1_08Z);
    useTz(kBerlin);
    EXPECT_EQ(parseTime("2026-12-01T09:00:00+01:00"), kDec1_08Z);
}

TEST_F(TimeTest, IsoMinutesOnlyAndFractions)
{
    EXPECT_EQ(parseTime("2026-12-01T08:00Z"), kDec1_08Z);
    EXPECT_EQ(parseTime("2026-12-01T08:00:00.250Z"), kDec1_08Z + 250000);
    EXPECT_EQ(parseTime("2026-12-01T08:00:00.0000019Z"), kDec1_08Z + 1);
}

TEST_F(TimeTest, LocalFormUsesTzUtc)
{
    useTz("UTC");
    EXPECT_EQ(parseTime("2026-12-01 08:00"), kDec1_08Z);
    EXPECT_EQ(parseTime("2026-12-01 08:00:00"), kDec1_08Z);
    EXPECT_EQ(parseTime("2026-12-01 08:00:30"), kDec1_08Z + 30 * kSecond);
}

TEST_F(TimeTest, LocalFormUsesTzWithDaylightSaving)
{
    useTz(kBerlin);
    EXPECT_EQ(parseTime("2026-12-01 09:00"), kDec1_08Z);   // CET, +01:00
    EXPECT_EQ(parseTime("2026-07-01 09:00"), kJul1_07Z);   // CEST, +02:00
    useTz(kNewYork);
    EXPECT_EQ(parseTime("2026-12-01 03:00"), kDec1_08Z);   // EST, -05:00
}

TEST_F(TimeTest, LocalTimeSkippedByDaylightSavingIsRefused)
{
    useTz(kBerlin);  // 2026-03-29 02:00 jumps to 03:00
    std::string message = errorFor("2026-03-29 02:30");
    EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
    EXPECT_NO_THROW(parseTime("2026-03-29 03:30"));
}

TEST_F(TimeTest, CalendarIsChecked)
{
    useTz("UTC");
    EXPECT_NO_THROW(parseTime("2028-02-29 12:00"));
    EXPECT_THROW(parseTime("2026-02-29 12:00"), InvalidTime);
    EXPECT_THROW(parseTime("2026-13-01 12:00"), InvalidTime);
    EXPECT_THROW(parseTime("2026-04-31 12:00"), InvalidTime);
    EXPECT_THROW(parseTime("2026-00-10 12:00"), InvalidTime);
    EXPECT_THROW(parseTime("2026-12-01 24:00"), InvalidTime);
    EXPECT_THROW(parseTime("2026-12-01 09:60"), InvalidTime);
    EXPECT_THROW(parseTime("2026-12-01 09:00:60"), InvalidTime);
    EXPECT_THROW(parseTime("2026-12-01T09:00:00+24:00"), InvalidTime);
    EXPECT_THROW(parseTime("2026-12-01T09:00:00+01:60"), InvalidTime);
}

TEST_F(TimeTest, OtherFormsAreRefusedNamingTheAcceptedOnes)
{
    useTz("UTC");
    for (const char* bad : {"", "tomorrow", "now", "2026-12-01", "2026-12-01T09:00:00",
                            "2026-12-01T09:00", "2026-12-01 9:00", "26-12-01 09:00", "2026/12/01 09:00",
                            "2026-12-01 09:00 ", " 2026-12-01 09:00", "2026-12-01  09:00",
                            "2026-12-01 09", "2026-12-01T09:00:00+1", "2026-12-01T09:00:00+01:",
                            "2026-12-01T09:00:00.Z", "2026-12-01T09:00:00ZZ", "1796112000",
                            "1969-12-31T23:59:59Z"}) {
        std::string message = errorFor(bad);
        EXPECT_FALSE(message.empty()) << "accepted: \"" << bad << "\"";
        EXPECT_NE(message.find("ISO 8601"), std::string::npos) << message;
        EXPECT_NE(message.find("YYYY-MM-DD HH:MM"), std::string::npos) << message;
    }
}

TEST_F(TimeTest, IsoWithoutOffsetSaysAnOffsetIsNeeded)
{
    EXPECT_NE(errorFor("2026-12-01T09:00:00").find("offset"), std::string::npos);
}

TEST_F(TimeTest, FormatLocalTimeFollowsTzAndNamesTheZone)
{
    useTz("UTC");
    EXPECT_EQ(formatLocalTime(kDec1_08Z), "2026-12-01 08:00 UTC");
    useTz(kBerlin);
    EXPECT_EQ(formatLocalTime(kDec1_08Z), "2026-12-01 09:00 CET");
    EXPECT_EQ(formatLocalTime(kJul1_07Z), "2026-07-01 09:00 CEST");
    useTz(kNewYork);
    EXPECT_EQ(formatLocalTime(kDec1_08Z), "2026-12-01 03:00 EST");
    // A zone without a name is shown by its offset.
    useTz("<+0530>-5:30");
    EXPECT_EQ(formatLocalTime(kDec1_08Z), "2026-12-01 13:30 +0530");
}

TEST_F(TimeTest, FormatLocalTimeSecondsSaysWhichZone)
{
    useTz("UTC");
    EXPECT_EQ(formatLocalTimeSeconds(kDec1_08Z + 7 * kSecond), "2026-12-01 08:00:07 UTC");
    useTz(kBerlin);
    EXPECT_EQ(formatLocalTimeSeconds(kDec1_08Z), "2026-12-01 09:00:00 CET");
    EXPECT_EQ(formatLocalTimeSeconds(kJul1_07Z), "2026-07-01 09:00:00 CEST");
    useTz(kNewYork);
    EXPECT_EQ(formatLocalTimeSeconds(kDec1_08Z), "2026-12-01 03:00:00 EST");
    EXPECT_EQ(formatLocalTimeSeconds(0), "-");
}

TEST_F(TimeTest, ZeroMeansNoTime)
{
    EXPECT_EQ(formatLocalTime(0), "-");
    EXPECT_EQ(formatIsoUtc(0), "");
}

TEST_F(TimeTest, FormatIsoUtcIgnoresTzAndSubSeconds)
{
    useTz(kBerlin);
    EXPECT_EQ(formatIsoUtc(kNov27), "2026-11-27T21:00:00Z");
    EXPECT_EQ(formatIsoUtc(kNov27 + 999999), "2026-11-27T21:00:00Z");
}

TEST_F(TimeTest, LocalRoundTrip)
{
    useTz(kNewYork);
    // What is shown can be typed back, and the zone tells the two 01:30s of the autumn night apart.
    const std::uint64_t firstHalfPast = parseTime("2026-11-01 01:30 EDT");
    const std::uint64_t secondHalfPast = parseTime("2026-11-01 01:30 EST");
    EXPECT_EQ(secondHalfPast - firstHalfPast, 3600 * kSecond);
    EXPECT_EQ(formatLocalTime(firstHalfPast), "2026-11-01 01:30 EDT");
    EXPECT_EQ(formatLocalTime(secondHalfPast), "2026-11-01 01:30 EST");
    EXPECT_EQ(formatLocalTime(parseTime("2027-01-15 23:59")), "2027-01-15 23:59 EST");
    EXPECT_EQ(parseTime(formatLocalTime(kDec1_08Z)), kDec1_08Z);
    useTz("<+0530>-5:30");
    EXPECT_EQ(parseTime(formatLocalTime(kDec1_08Z)), kDec1_08Z);
}

TEST_F(TimeTest, AZoneNameMustBeTheLocalOneAndInEffect)
{
    useTz(kBerlin);
    EXPECT_EQ(parseTime("2026-12-01 08:00 UTC"), kDec1_08Z);
    EXPECT_NE(errorFor("2026-12-01 09:00 EST").find("\"EST\" is not the local time zone (CET/CEST)"),
              std::string::npos)
        << errorFor("2026-12-01 09:00 EST");
    EXPECT_NE(errorFor("2026-12-01 09:00 CEST").find("CEST is not in effect on that date; CET is"),
              std::string::npos)
        << errorFor("2026-12-01 09:00 CEST");
    EXPECT_NE(errorFor("2026-12-01 09:00 ").find("invalid time"), std::string::npos);
}

}  // namespace

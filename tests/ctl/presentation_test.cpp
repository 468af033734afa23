// presentation_test.cpp: status words, the UTF-8 check that keeps unusable text off the bus,
// byte sizes, and the sentences a user reads when a bus call fails.
#include <string>

#include <gtest/gtest.h>

#include "presentation.h"

using namespace campaignd::ctl;

namespace {

TEST(Status, DisplayForm)
{
    EXPECT_EQ(displayStatus("in_progress"), "In Progress");
    EXPECT_EQ(displayStatus("draft"), "Draft");
    EXPECT_EQ(displayStatus("cancelled"), "Cancelled");
    EXPECT_EQ(displayStatus(""), "");
}

TEST(Status, WhatUsersTypeIsNormalised)
{
    EXPECT_EQ(normalizeStatus("In Progress"), "in_progress");
    EXPECT_EQ(normalizeStatus("in-progress"), "in_progress");
    EXPECT_EQ(normalizeStatus("IN_PROGRESS"), "in_progress");
    EXPECT_EQ(normalizeStatus("draft"), "draft");
    for (const auto& status : kCampaignStatuses)
        EXPECT_EQ(normalizeStatus(displayStatus(status)), status);
}

TEST(TextCheck, ValidUtf8Passes)
{
    EXPECT_FALSE(textProblem(""));
    EXPECT_FALSE(textProblem("plain <p>html</p>\n"));
    EXPECT_FALSE(textProblem("Zoë 日本 😀"));
}

TEST(TextCheck, InvalidUtf8AndNulAreNamed)
{
    using namespace std::string_literals;
    EXPECT_NE(textProblem("a\0b"s).value_or("").find("NUL"), std::string::npos);
    for (const std::string& bad : {"\xff"s, "caf\xe9"s, "\xc3"s, "\xc0\xaf"s /* overlong */,
                                   "\xed\xa0\x80"s /* surrogate */, "\xf4\x90\x80\x80"s /* > U+10FFFF */,
                                   "\xe6\x97"s /* truncated */})
        EXPECT_NE(textProblem(bad).value_or("").find("UTF-8"), std::string::npos) << bad;
}

TEST(Sizes, BytesAndBinaryUnits)
{
    EXPECT_EQ(formatByteSize(0), "0 bytes");
    EXPECT_EQ(formatByteSize(1), "1 byte");
    EXPECT_EQ(formatByteSize(1023), "1023 bytes");
    EXPECT_EQ(formatByteSize(1536), "1.5 KiB (1536 bytes)");
    EXPECT_EQ(formatByteSize(2 * 1024 * 1024), "2.0 MiB (2097152 bytes)");
}

TEST(Counts, SingularAndPlural)
{
    EXPECT_EQ(countNoun(1, "recipient", "recipients"), "1 recipient");
    EXPECT_EQ(countNoun(0, "recipient", "recipients"), "0 recipients");
}

TEST(BusErrors, CampaigndErrorsShowTheDaemonsMessage)
{
    EXPECT_EQ(describeBusError("org.campaignd.Campaignd1.Error.NotFound", "no campaign with id 9",
                               BusKind::System, 30),
              "no campaign with id 9");
    EXPECT_EQ(describeBusError("org.campaignd.Campaignd1.Error.InvalidState", "", BusKind::System, 30),
              "InvalidState");
}

TEST(BusErrors, DaemonNotOnTheBus)
{
    for (const char* name : {"org.freedesktop.DBus.Error.ServiceUnknown",
                             "org.freedesktop.DBus.Error.NameHasNoOwner",
                             "org.freedesktop.DBus.Error.Spawn.ChildExited"}) {
        EXPECT_EQ(describeBusError(name, "The name is not activatable", BusKind::System, 30),
                  "campaignd is not running on the system bus (try --user?)");
        EXPECT_NE(describeBusError(name, "x", BusKind::User, 30).find("not running on the session bus"),
                  std::string::npos);
    }
}

TEST(BusErrors, TimeoutsSayHowLongWeWaited)
{
    EXPECT_EQ(describeBusError("org.freedesktop.DBus.Error.NoReply", "Did not receive a reply", BusKind::User, 30),
              "campaignd did not answer within 30 seconds");
    EXPECT_EQ(describeBusError("org.freedesktop.DBus.Error.Timeout", "", BusKind::System, 5),
              "campaignd did not answer within 5 seconds");
}

TEST(BusErrors, BusRefusalsAndOthers)
{
    EXPECT_NE(describeBusError("org.freedesktop.DBus.Error.AccessDenied", "Rejected send message", BusKind::System, 30)
                  .find("system bus refused"),
              std::string::npos);
    // The bus refuses only personal data: the user learns which group to ask for.
    EXPECT_NE(describeBusError("org.freedesktop.DBus.Error.AccessDenied", "Rejected send message", BusKind::System, 30)
                  .find("campaignd-readers"),
              std::string::npos);
    EXPECT_EQ(describeBusError("org.example.Other", "something broke", BusKind::System, 30), "something broke");
    EXPECT_EQ(describeBusError("org.example.Other", "", BusKind::System, 30), "org.example.Other");
}

}  // namespace

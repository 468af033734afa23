// service_fixture.h: the services against a real SQLite store in a private temporary
// directory, with a clock the test sets and an observer that records what it was told.
// Shared by the campaign and recipient service tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "services/campaign_service.h"
#include "services/recipient_service.h"
#include "storage/store.h"
#include "support/temp_dir.h"

namespace campaignd::services::test {

// 2023-11-14T22:13:20Z
constexpr Usec kStart = 1'700'000'000'000'000;
constexpr Usec kHour = 3'600'000'000;

class RecordingObserver : public CampaignObserver {
public:
    void campaignCreated(const Campaign& c) override {
        events.push_back("created " + std::to_string(c.id) + " " + std::string(toString(c.status)));
    }
    void campaignChanged(const Campaign& c) override {
        events.push_back("changed " + std::to_string(c.id) + " " + std::string(toString(c.status)));
    }
    void campaignDeleted(Id id) override { events.push_back("deleted " + std::to_string(id)); }

    std::vector<std::string> events;
};

class ServiceTest : public testing::Test {
protected:
    ServiceTest() { campaigns.setObserver(&observer); }

    // A campaign with valid fields, optionally scheduled.
    Campaign draft(const std::string& name = "Spring sale") {
        CampaignFields f;
        f.name = name;
        f.subject = "20% off everything";
        f.htmlContent = "<p>Hello</p>";
        return campaigns.create(f);
    }

    Recipient person(const std::string& email, SubscriptionStatus status = SubscriptionStatus::Subscribed,
                     const std::vector<std::string>& groups = {}) {
        RecipientFields f;
        f.status = status;
        return recipients.add(email, f, groups);
    }

    campaignd::test::TempDir dir{"campaignd-services-test"};
    std::unique_ptr<storage::Store> store = storage::openStore("sqlite:" + (dir / "campaignd.db").string());
    Usec now = kStart;
    Clock clock = [this] { return now; };
    CampaignService campaigns{*store, *store, *store, *store, clock};
    RecipientService recipients{*store, *store, clock, "a test secret of 32 octets......"};
    RecordingObserver observer;
};

// Runs fn, expects an Error with `code` whose message contains `part`; returns the message.
template <typename Fn>
std::string expectError(ErrorCode code, std::string_view part, Fn fn) {
    try {
        fn();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), code) << e.what();
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
            << "message: " << e.what() << "\nexpected to contain: " << part;
        return e.what();
    }
    ADD_FAILURE() << "no error; expected one containing: " << part;
    return {};
}

}  // namespace campaignd::services::test

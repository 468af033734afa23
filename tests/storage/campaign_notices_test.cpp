// campaign_notices_test.cpp: PostgreSQL tells every listener when a campaign is created,
// changed or deleted through any connection (schema 11's trigger; storage/campaign_notices.h);
// SQLite has no notices (listen() gives nothing, and the daemon polls).
#include <poll.h>

#include "storage/campaign_notices.h"

#include "store_fixture.h"

namespace campaignd::storage {
namespace {

class CampaignNoticesTest : public StoreTest {
protected:
    // Waits up to 10 s for the socket to become readable, then drains; the notices read.
    static int received(CampaignNotices& notices) {
        int total = 0;
        for (int round = 0; round < 100 && total == 0; ++round) {
            pollfd p{notices.socket(), POLLIN, 0};
            if (::poll(&p, 1, 100) < 0) break;
            total += notices.drain();
        }
        return total;
    }
};

TEST_P(CampaignNoticesTest, EveryCreateChangeAndDeleteThroughAnotherConnectionIsNoticed) {
    auto notices = CampaignNotices::listen(url_);
    if (GetParam() == "sqlite") {
        EXPECT_EQ(notices, nullptr);
        return;
    }
    ASSERT_NE(notices, nullptr);
    EXPECT_EQ(notices->drain(), 0);
    const Id id = addCampaign("c");  // through the fixture's own connection
    EXPECT_GE(received(*notices), 1) << "create";
    auto other = openStore(url_);
    ASSERT_TRUE(other->changeCampaignStatus(id, CampaignStatus::Draft, CampaignStatus::Cancelled, "", kNow));
    EXPECT_GE(received(*notices), 1) << "status change";
    ASSERT_TRUE(other->deleteCampaign(id));
    EXPECT_GE(received(*notices), 1) << "delete";
    EXPECT_EQ(notices->drain(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, CampaignNoticesTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace campaignd::storage

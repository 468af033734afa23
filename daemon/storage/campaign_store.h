// campaign_store.h: the campaigns role of storage: a campaign's fields and its status, written
// and read. Promises compare-and-set status changes (one statement) and counts read from the
// ledger's kept counters, never recounted; refuses nothing of the ledger itself (send_ledger.h
// attaches and moves rows). Errors as in store.h.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "storage/transactional.h"

namespace campaignd::storage {

class CampaignStore : public virtual Transactional {
public:
    // The counts (recipient, sent, failed, pending, unknown, skipped, in flight) are the
    // store's kept counters of the ledger, read without recounting it (the cost of a read does
    // not grow with the ledger); writes of a campaign ignore them.
    virtual Id insertCampaign(const Campaign& c) = 0;
    virtual void updateCampaign(const Campaign& c) = 0;  // name, subject, contents, from, transport, subject tag, schedule, status, reason, updated_at
    virtual std::optional<Campaign> findCampaign(Id id) = 0;
    virtual std::vector<Campaign> listCampaigns(std::optional<CampaignStatus> status) = 0;  // by id
    virtual bool deleteCampaign(Id id) = 0;  // with its ledger; false if there was none
    // Compare-and-set on the status: true if the campaign was in `from` and is now in `to`.
    virtual bool changeCampaignStatus(Id id, CampaignStatus from, CampaignStatus to,
                                      std::string_view reason, Usec now) = 0;
    // Scheduled campaigns whose time is at or before `now`, oldest first.
    virtual std::vector<Id> dueCampaigns(Usec now) = 0;
    // The sending guard's state of the campaign (bounce_guard); nothing else changes.
    virtual void setCampaignGuard(Id id, BounceGuard guard) = 0;
    // The groups attached to the campaign (SendLedger::attachGroup records them), lowest
    // group id first, without member counts; none for an unknown campaign.
    virtual std::vector<Group> campaignGroups(Id campaign) = 0;
};

}  // namespace campaignd::storage

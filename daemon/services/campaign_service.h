// campaign_service.h: the business rules for campaigns (the original design's
// campaigns.services): validation of new and edited campaigns, the table of legal status
// transitions, attaching groups and recipients, scheduling, the scheduled-campaign query,
// the campaign summary, its recipients' outcomes and the dashboard. The bus adaptors, the scheduler and the plugins all
// call these functions; none of them changes a campaign any other way.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/clock.h"
#include "mail/alignment.h"
#include "storage/campaign_store.h"
#include "storage/recipient_store.h"
#include "storage/report_store.h"
#include "storage/send_ledger.h"

namespace campaignd::services {

// Told about every change to a campaign, after it is committed. The bus layer uses it to add
// and remove campaign objects and to emit PropertiesChanged.
class CampaignObserver {
public:
    virtual ~CampaignObserver() = default;
    virtual void campaignCreated(const Campaign& c) = 0;
    virtual void campaignChanged(const Campaign& c) = 0;
    virtual void campaignDeleted(Id id) = 0;
};

// Fields given for a new campaign or an edit; absent fields are unchanged (edit) or default
// (create).
struct CampaignFields {
    std::optional<std::string> name;
    std::optional<std::string> subject;
    std::optional<std::string> htmlContent;
    std::optional<std::string> textContent;
    std::optional<std::string> fromAddress;
    std::optional<Usec> scheduledTime;  // create only; use schedule() afterwards
    std::optional<std::string> transport;  // a configured [Transport NAME]; "" the default
    std::optional<bool> subjectTag;        // "[CID:N]" in the subject (default on)
};

struct AttachRequest {
    std::vector<std::string> groups;
    std::vector<std::string> emails;
};

struct AttachResult {
    std::int64_t attached = 0;             // newly attached
    std::int64_t alreadyAttached = 0;      // subscribed, but attached before
    std::int64_t skippedUnsubscribed = 0;  // not attached because unsubscribed
    std::int64_t skippedBounced = 0;       // not attached because their address bounced
    std::int64_t recipientCount = 0;       // attached in all, afterwards
};

// Whether a campaign may go from one status to another.
bool isLegalTransition(CampaignStatus from, CampaignStatus to);

class CampaignService {
public:
    // The roles must be views of one store (a storage::Store is every role): a campaign's
    // transaction spans its campaign, its recipients and its ledger.
    CampaignService(storage::CampaignStore& campaigns, storage::RecipientStore& recipients,
                    storage::SendLedger& ledger, storage::ReportStore& reports, Clock clock);

    void setObserver(CampaignObserver* observer) { observer_ = observer; }
    // Which transport names create/update accept (the daemon's [Transport NAME] sections).
    // Unset: any name is accepted (the sender refuses an unknown one when it starts).
    void setTransportCheck(std::function<bool(const std::string& name)> known) { transportKnown_ = std::move(known); }
    // How a campaign's messages would go out (the sender's view: envelope domain, DKIM key):
    // create and update log its warnings (unsigned; DMARC cannot pass), and alignment()
    // answers campaign show. Unset: no judgement, no warnings.
    void setAlignmentCheck(std::function<mail::Alignment(const Campaign&)> check) { alignmentCheck_ = std::move(check); }
    std::optional<mail::Alignment> alignment(const Campaign& campaign) const;

    // Name, subject and HTML content are required; the subject and from address must be
    // header-safe; the HTML is sanitised; a schedule must be in the future (the campaign
    // then starts Scheduled, otherwise Draft).
    Campaign create(const CampaignFields& fields);
    // Only Draft and Scheduled campaigns can be edited.
    Campaign update(Id id, const CampaignFields& fields);
    Campaign get(Id id);  // NotFound
    std::vector<Campaign> list(std::optional<CampaignStatus> status);
    // Refused (InvalidState) while in progress.
    void remove(Id id);

    // Only Draft and Scheduled campaigns take recipients. Every group and address must exist;
    // on NotFound nothing is attached.
    AttachResult attach(Id id, const AttachRequest& request);

    // Draft or Scheduled -> Scheduled at `when`, which must be in the future.
    Campaign schedule(Id id, Usec when);
    // Scheduled -> Draft.
    Campaign unschedule(Id id);
    // Any legal transition (InvalidState otherwise), recording `reason`; with `guard`, the
    // sending guard's state changes in the same transaction.
    Campaign transition(Id id, CampaignStatus to, const std::string& reason = {},
                        std::optional<BounceGuard> guard = std::nullopt);

    // Scheduled campaigns whose time has come (the original get_scheduled_campaigns).
    std::vector<Id> dueCampaigns();

    // Reads the campaign and tells the observer: for changes made outside these rules (the
    // send ledger's counts as the sender moves them).
    Campaign countsChanged(Id id);

    CampaignSummary summary(Id id);
    Dashboard dashboard();
    // What became of recipient `id` in every campaign, their bounces and unsubscribes (at most
    // kMaxHistoryEntries of each, newest first).
    RecipientHistory recipientHistory(Id id);
    static constexpr std::int64_t kMaxHistoryEntries = 1000;

    // The campaign's recipients with their outcomes, in the order they were attached: one page
    // of at most kMaxRecipientsPerPage (`limit`; more is InvalidArgument), and how many are in
    // `state` in all. NotFound for an unknown campaign.
    static constexpr std::int64_t kMaxRecipientsPerPage = 10000;
    CampaignRecipientPage recipients(Id id, std::optional<SendState> state, std::int64_t limit,
                                     std::int64_t offset);

private:
    storage::CampaignStore& campaigns_;
    storage::RecipientStore& recipients_;
    storage::SendLedger& ledger_;
    storage::ReportStore& reports_;
    Clock clock_;
    CampaignObserver* observer_ = nullptr;
    std::function<bool(const std::string&)> transportKnown_;
    std::function<mail::Alignment(const Campaign&)> alignmentCheck_;

    void warnAboutAlignment(const Campaign& campaign) const;
};

}  // namespace campaignd::services

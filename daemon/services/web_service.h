// web_service.h: what campaignd-web (web/) may ask about a recipient, by the public token in a
// link of a message ("<campaign id>-<token>", mail/verp.h): who sent which campaign to a masked
// address, unsubscribe them (saying how: "one-click", "page"), and the campaign as they received
// it, personalised and sanitised. The token is checked here, where the secret is; any token
// that does not verify, or names a campaign or recipient that no longer exists, is one
// Error(NotFound) with one message, so a caller learns nothing about why. Unsubscribing twice
// is not an error: it answers as the first time did.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/model.h"
#include "mail/message.h"
#include "services/recipient_service.h"
#include "storage/campaign_store.h"
#include "storage/recipient_store.h"

namespace campaignd::services {

struct TokenDescription {
    Id campaignId = 0;
    Id recipientId = 0;
    std::string sender;         // the From's display name, else its address (public: it is in the From)
    std::string campaignName;
    std::string maskedAddress;  // maskAddress()
    bool unsubscribed = false;  // no longer receives campaigns (unsubscribed or bounced)
};

struct WebUnsubscribe {
    TokenDescription description;
    bool changed = false;  // this call unsubscribed them (and recorded how); false: already off the list
};

// "one-click" and "page", the two ways campaignd-web unsubscribes; anything else is
// InvalidArgument.
UnsubscribeSource parseWebUnsubscribeSource(std::string_view how);
// The journal's line for an unsubscribe that changed something; call it once its commit is done.
void logWebUnsubscribe(const WebUnsubscribe& done, UnsubscribeSource how);

// "a•••@example.org": the first character of the local part (a whole UTF-8 sequence), three
// bullets, and the domain. An address without '@' gives "•••".
std::string maskAddress(std::string_view email);

class WebService {
public:
    // The [Sending] settings a campaign's messages are composed with (the delivery engine's),
    // and the VERP settings, whose secret signs the tokens.
    using MessageSettingsFor = std::function<mail::MessageSettings(const Campaign&)>;
    using VerpSecret = std::function<std::string()>;

    WebService(storage::CampaignStore& campaigns, storage::RecipientStore& recipients,
               RecipientService& recipientService, MessageSettingsFor settings, VerpSecret secret);

    // Whether `token` is one campaignd made (its HMAC verifies): no database. A token that does
    // not is NotFound in every call below; this lets a caller refuse it before queueing it.
    bool verifies(std::string_view token) const;
    TokenDescription describe(std::string_view token);
    // `how`: OneClick (RFC 8058) or Page (parseWebUnsubscribeSource). Joins the caller's
    // transaction (UnsubscribeRecorder commits many in one); logs nothing: the caller logs
    // (logWebUnsubscribe) once the change is committed.
    WebUnsubscribe unsubscribe(std::string_view token, UnsubscribeSource how);
    // The campaign as the recipient received it, its HTML sanitised (rules/html_sanitizer.h).
    mail::BrowserView view(std::string_view token);

private:
    struct Found {
        Campaign campaign;
        Recipient recipient;
    };
    std::optional<mail::VerpAddress> named(std::string_view token) const;
    Found find(std::string_view token);
    TokenDescription describe(const Found& f);
    bool recordUnsubscribe(const Recipient& recipient, Id campaignId, UnsubscribeSource source);

    storage::CampaignStore& campaigns_;
    storage::RecipientStore& recipients_;
    RecipientService& recipientService_;
    MessageSettingsFor settings_;
    VerpSecret secret_;
};

}  // namespace campaignd::services

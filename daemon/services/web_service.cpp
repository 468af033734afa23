// web_service.cpp: see web_service.h.
#include "services/web_service.h"

#include "core/error.h"
#include "core/log.h"
#include "mail/verp.h"
#include "rules/html_sanitizer.h"
#include "rules/validation.h"

namespace campaignd::services {
namespace {

[[noreturn]] void notFound() { throw Error(ErrorCode::NotFound, "no such page"); }

// The longest public token mail::publicToken makes is 20 digits, '-', 26 characters.
constexpr std::size_t kMaxToken = 64;

std::string senderOf(const std::string& from) {
    if (from.empty() || from.back() != '>') return from;
    const std::size_t open = from.rfind('<');
    std::string_view display = std::string_view(from).substr(0, open);
    while (!display.empty() && display.back() == ' ') display.remove_suffix(1);
    if (display.size() >= 2 && display.front() == '"' && display.back() == '"') {
        std::string name;
        display = display.substr(1, display.size() - 2);
        for (std::size_t i = 0; i < display.size(); ++i) {
            if (display[i] == '\\' && i + 1 < display.size()) ++i;
            name += display[i];
        }
        return name;
    }
    if (display.empty()) return from.substr(open + 1, from.size() - open - 2);
    return std::string(display);
}

}  // namespace

std::string maskAddress(std::string_view email) {
    const std::size_t at = email.rfind('@');
    if (at == std::string_view::npos || at == 0) return "\u2022\u2022\u2022";
    std::size_t first = 1;
    const auto lead = static_cast<unsigned char>(email[0]);
    if (lead >= 0xF0) first = 4;
    else if (lead >= 0xE0) first = 3;
    else if (lead >= 0xC0) first = 2;
    if (first > at) first = at;
    return std::string(email.substr(0, first)) + "\u2022\u2022\u2022" + std::string(email.substr(at));
}

WebService::WebService(storage::CampaignStore& campaigns, storage::RecipientStore& recipients,
                       RecipientService& recipientService, MessageSettingsFor settings, VerpSecret secret)
    : campaigns_(campaigns),
      recipients_(recipients),
      recipientService_(recipientService),
      settings_(std::move(settings)),
      secret_(std::move(secret)) {}

// The campaign and recipient a token names, if its HMAC verifies.
std::optional<mail::VerpAddress> WebService::named(std::string_view token) const {
    if (token.empty() || token.size() > kMaxToken) return std::nullopt;
    return mail::parsePublicToken(secret_(), token);
}

bool WebService::verifies(std::string_view token) const { return named(token).has_value(); }

WebService::Found WebService::find(std::string_view token) {
    const auto named = this->named(token);
    if (!named) notFound();
    auto campaign = campaigns_.findCampaign(named->campaignId);
    if (!campaign) notFound();
    auto recipient = recipients_.findRecipientById(named->recipientId);
    if (!recipient) notFound();
    return {std::move(*campaign), std::move(*recipient)};
}

TokenDescription WebService::describe(const Found& f) {
    TokenDescription d;
    d.campaignId = f.campaign.id;
    d.recipientId = f.recipient.id;
    const std::string from =
        f.campaign.fromAddress.empty() ? settings_(f.campaign).defaultFrom : f.campaign.fromAddress;
    try {
        d.sender = senderOf(rules::normalizeFromAddress(from));
    } catch (const Error&) {
        d.sender = from;
    }
    d.campaignName = f.campaign.name;
    d.maskedAddress = maskAddress(f.recipient.email);
    d.unsubscribed = f.recipient.status != SubscriptionStatus::Subscribed;
    return d;
}

TokenDescription WebService::describe(std::string_view token) { return describe(find(token)); }

UnsubscribeSource parseWebUnsubscribeSource(std::string_view how) {
    const auto source = parseUnsubscribeSource(how);
    if (!source || (*source != UnsubscribeSource::OneClick && *source != UnsubscribeSource::Page))
        throw Error(ErrorCode::InvalidArgument, "unsubscribe: how must be \"one-click\" or \"page\"");
    return *source;
}

void logWebUnsubscribe(const WebUnsubscribe& done, UnsubscribeSource how) {
    if (!done.changed) return;
    log::info("recipient unsubscribed", {{"CAMPAIGN_ID", std::to_string(done.description.campaignId)},
                                         {"RECIPIENT_ID", std::to_string(done.description.recipientId)},
                                         {"UNSUBSCRIBE_SOURCE", std::string(toString(how))}});
}

WebUnsubscribe WebService::unsubscribe(std::string_view token, UnsubscribeSource how) {
    if (how != UnsubscribeSource::OneClick && how != UnsubscribeSource::Page)
        throw Error(ErrorCode::InvalidArgument, "unsubscribe: how must be \"one-click\" or \"page\"");
    Found f = find(token);
    WebUnsubscribe done;
    done.changed = recordUnsubscribe(f.recipient, f.campaign.id, how);
    done.description = describe(f);
    done.description.unsubscribed = true;
    return done;
}

// The one place campaignd-web's unsubscribes are stored: recorded with how and from which
// campaign (RecipientService::unsubscribe, once: an old link or a second press changes nothing).
// A recipient who bounced is left as they are.
bool WebService::recordUnsubscribe(const Recipient& recipient, Id campaignId, UnsubscribeSource source) {
    if (recipient.status != SubscriptionStatus::Subscribed) return false;
    return recipientService_.unsubscribe(recipient.id, campaignId, source).changed;
}

mail::BrowserView WebService::view(std::string_view token) {
    Found f = find(token);
    const mail::CampaignTemplate compiled(f.campaign, settings_(f.campaign));
    mail::BrowserView view = compiled.renderForBrowser(f.recipient);
    view.html = rules::sanitizeHtml(view.html);
    return view;
}

}  // namespace campaignd::services

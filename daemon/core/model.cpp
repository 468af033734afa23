// model.cpp: the string forms of campaignd's states, one table per enum.
#include "core/model.h"

#include <array>

namespace campaignd {
namespace {

template <typename E, std::size_t N>
using Table = std::array<std::pair<E, std::string_view>, N>;

constexpr Table<CampaignStatus, 6> kCampaignTokens{{
    {CampaignStatus::Draft, "draft"},
    {CampaignStatus::Scheduled, "scheduled"},
    {CampaignStatus::InProgress, "in_progress"},
    {CampaignStatus::Paused, "paused"},
    {CampaignStatus::Completed, "completed"},
    {CampaignStatus::Cancelled, "cancelled"},
}};
constexpr Table<CampaignStatus, 6> kCampaignNames{{
    {CampaignStatus::Draft, "Draft"},
    {CampaignStatus::Scheduled, "Scheduled"},
    {CampaignStatus::InProgress, "In Progress"},
    {CampaignStatus::Paused, "Paused"},
    {CampaignStatus::Completed, "Completed"},
    {CampaignStatus::Cancelled, "Cancelled"},
}};
constexpr Table<SubscriptionStatus, 3> kSubscriptionTokens{{
    {SubscriptionStatus::Subscribed, "subscribed"},
    {SubscriptionStatus::Unsubscribed, "unsubscribed"},
    {SubscriptionStatus::Bounced, "bounced"},
}};
constexpr Table<DeliveryStatus, 7> kDeliveryTokens{{
    {DeliveryStatus::Pending, "pending"},
    {DeliveryStatus::Sending, "sending"},
    {DeliveryStatus::HandedOver, "handed_over"},
    {DeliveryStatus::Sent, "sent"},
    {DeliveryStatus::Failed, "failed"},
    {DeliveryStatus::Unknown, "unknown"},
    {DeliveryStatus::Skipped, "skipped"},
}};
constexpr Table<SendState, 6> kSendStateTokens{{
    {SendState::Pending, "pending"},
    {SendState::InFlight, "in_flight"},
    {SendState::Sent, "sent"},
    {SendState::Failed, "failed"},
    {SendState::Unknown, "unknown"},
    {SendState::Skipped, "skipped"},
}};

constexpr Table<UnsubscribeSource, 6> kUnsubscribeTokens{{
    {UnsubscribeSource::OneClick, "one-click"},
    {UnsubscribeSource::Page, "page"},
    {UnsubscribeSource::Mailto, "mailto"},
    {UnsubscribeSource::Complaint, "complaint"},
    {UnsubscribeSource::Administrator, "administrator"},
    {UnsubscribeSource::Import, "import"},
}};

template <typename E, std::size_t N>
std::string_view lookup(const Table<E, N>& table, E value) {
    for (const auto& [e, s] : table)
        if (e == value) return s;
    return "unknown";
}

template <typename E, std::size_t N>
std::optional<E> reverse(const Table<E, N>& table, std::string_view token) {
    for (const auto& [e, s] : table)
        if (s == token) return e;
    return std::nullopt;
}

constexpr Table<BounceGuard, 3> kGuardTokens{{
    {BounceGuard::Armed, "armed"},
    {BounceGuard::Tripped, "tripped"},
    {BounceGuard::Off, "off"},
}};

}  // namespace

std::string_view toString(BounceGuard g) { return lookup(kGuardTokens, g); }
std::optional<BounceGuard> parseBounceGuard(std::string_view t) { return reverse(kGuardTokens, t); }
std::string_view toString(CampaignStatus s) { return lookup(kCampaignTokens, s); }
std::string_view toString(SubscriptionStatus s) { return lookup(kSubscriptionTokens, s); }
std::string_view toString(DeliveryStatus s) { return lookup(kDeliveryTokens, s); }
std::string_view displayName(CampaignStatus s) { return lookup(kCampaignNames, s); }
std::optional<CampaignStatus> parseCampaignStatus(std::string_view t) {
    return reverse(kCampaignTokens, t);
}
std::optional<SubscriptionStatus> parseSubscriptionStatus(std::string_view t) {
    return reverse(kSubscriptionTokens, t);
}
std::optional<DeliveryStatus> parseDeliveryStatus(std::string_view t) {
    return reverse(kDeliveryTokens, t);
}
std::string_view toString(SendState s) { return lookup(kSendStateTokens, s); }
std::optional<SendState> parseSendState(std::string_view t) { return reverse(kSendStateTokens, t); }
SendState sendStateOf(DeliveryStatus s) {
    switch (s) {
    case DeliveryStatus::Pending: return SendState::Pending;
    case DeliveryStatus::Sending:
    case DeliveryStatus::HandedOver: return SendState::InFlight;
    case DeliveryStatus::Sent: return SendState::Sent;
    case DeliveryStatus::Failed: return SendState::Failed;
    case DeliveryStatus::Unknown: return SendState::Unknown;
    case DeliveryStatus::Skipped: return SendState::Skipped;
    }
    return SendState::Unknown;
}
std::string_view toString(UnsubscribeSource s) { return lookup(kUnsubscribeTokens, s); }
std::optional<UnsubscribeSource> parseUnsubscribeSource(std::string_view t) {
    return reverse(kUnsubscribeTokens, t);
}

}  // namespace campaignd

// web_object.cpp: see web_object.h.
#include "bus/web_object.h"

#include "bus/guard.h"

namespace campaignd::bus {
namespace {

std::map<std::string, sdbus::Variant> toVariantMap(const services::TokenDescription& d) {
    return {
        {"campaign_id", sdbus::Variant(static_cast<std::uint64_t>(d.campaignId))},
        {"sender", sdbus::Variant(d.sender)},
        {"campaign_name", sdbus::Variant(d.campaignName)},
        {"masked_address", sdbus::Variant(d.maskedAddress)},
        {"unsubscribed", sdbus::Variant(d.unsubscribed)},
    };
}

}  // namespace

WebObject::WebObject(sdbus::IConnection& connection, services::WebService& web, const AccessPolicy& access)
    : AdaptorInterfaces(connection, kWebPath), web_(web), access_(access) {
    registerAdaptor();
}

WebObject::~WebObject() { unregisterAdaptor(); }

void WebObject::requireWebCaller(const char* action) {
    access_.requireWebCaller(getObject().getCurrentlyProcessedMessage(), action);
}

std::map<std::string, sdbus::Variant> WebObject::DescribeToken(const std::string& token) {
    return guarded("DescribeToken", [&] {
        requireWebCaller("DescribeToken");
        return toVariantMap(web_.describe(token));
    });
}

std::map<std::string, sdbus::Variant> WebObject::Unsubscribe(const std::string& token, const std::string& how) {
    return guarded("Unsubscribe", [&] {
        requireWebCaller("Unsubscribe");
        return toVariantMap(web_.unsubscribe(token, how));
    });
}

std::tuple<std::string, std::string> WebObject::ViewMessage(const std::string& token) {
    return guarded("ViewMessage", [&] {
        requireWebCaller("ViewMessage");
        auto view = web_.view(token);
        return std::tuple<std::string, std::string>(std::move(view.subject), std::move(view.html));
    });
}

}  // namespace campaignd::bus

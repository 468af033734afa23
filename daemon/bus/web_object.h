// web_object.h: /org/campaignd/Campaignd1/web, org.campaignd.Campaignd1.Web (see the XML):
// the methods campaignd-web calls. Each checks its caller (AccessPolicy::requireWebCaller) and
// calls services::WebService; a bad token is NotFound with no detail.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include "bus/access.h"
#include "campaignd/dbus/Web_adaptor.h"
#include "services/web_service.h"

namespace campaignd::bus {

inline constexpr const char* kWebPath = "/org/campaignd/Campaignd1/web";

class WebObject final : public sdbus::AdaptorInterfaces<org::campaignd::Campaignd1::Web_adaptor> {
public:
    WebObject(sdbus::IConnection& connection, services::WebService& web, const AccessPolicy& access);
    ~WebObject();

private:
    std::map<std::string, sdbus::Variant> DescribeToken(const std::string& token) override;
    std::map<std::string, sdbus::Variant> Unsubscribe(const std::string& token, const std::string& how) override;
    std::tuple<std::string, std::string> ViewMessage(const std::string& token) override;

    void requireWebCaller(const char* action);

    services::WebService& web_;
    const AccessPolicy& access_;
};

}  // namespace campaignd::bus

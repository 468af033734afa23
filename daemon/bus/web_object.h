// web_object.h: /org/campaignd/Campaignd1/web, org.campaignd.Campaignd1.Web (see the XML):
// the methods campaignd-web calls. Each checks its caller (AccessPolicy::requireWebCaller) and
// calls services::WebService; a bad token is NotFound with no detail. Unsubscribe answers
// asynchronously: the call goes to the UnsubscribeRecorder, which commits the unsubscribes that
// arrive together in one transaction, and its reply is sent from the io thread (which owns the
// connection) once that commit is done.
#pragma once

#include <functional>

#include <boost/asio/io_context.hpp>
#include <sdbus-c++/sdbus-c++.h>

#include "bus/access.h"
#include "campaignd/dbus/Web_adaptor.h"
#include "services/unsubscribe_recorder.h"
#include "services/web_service.h"

namespace campaignd::bus {

inline constexpr const char* kWebPath = "/org/campaignd/Campaignd1/web";

class WebObject final : public sdbus::AdaptorInterfaces<org::campaignd::Campaignd1::Web_adaptor> {
public:
    // `sent` is called on the io thread after a reply was queued outside a bus callback, so the
    // loop flushes it (BusLoop::kick).
    WebObject(sdbus::IConnection& connection, boost::asio::io_context& io, services::WebService& web,
              services::UnsubscribeRecorder& recorder, const AccessPolicy& access, std::function<void()> sent);
    ~WebObject();

private:
    std::map<std::string, sdbus::Variant> DescribeToken(const std::string& token) override;
    void Unsubscribe(sdbus::Result<std::map<std::string, sdbus::Variant>>&& result, std::string token,
                     std::string how) override;
    std::tuple<std::string, std::string> ViewMessage(const std::string& token) override;

    void requireWebCaller(const char* action);

    boost::asio::io_context& io_;
    services::WebService& web_;
    services::UnsubscribeRecorder& recorder_;
    const AccessPolicy& access_;
    std::function<void()> sent_;
};

}  // namespace campaignd::bus

// web_object.cpp: see web_object.h.
#include "bus/web_object.h"

#include <memory>
#include <utility>

#include <boost/asio/post.hpp>

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

WebObject::WebObject(sdbus::IConnection& connection, boost::asio::io_context& io, services::WebService& web,
                     services::UnsubscribeRecorder& recorder, const AccessPolicy& access,
                     std::function<void()> sent)
    : AdaptorInterfaces(connection, kWebPath),
      io_(io),
      web_(web),
      recorder_(recorder),
      access_(access),
      sent_(std::move(sent)) {
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

// The caller and `how` are checked here, on the bus thread; the rest (the token, the database)
// on the recorder's thread. Its answer comes back to the io thread, where the reply is sent.
void WebObject::Unsubscribe(sdbus::Result<std::map<std::string, sdbus::Variant>>&& result, std::string token,
                            std::string how) {
    auto reply = std::make_shared<sdbus::Result<std::map<std::string, sdbus::Variant>>>(std::move(result));
    UnsubscribeSource source{};
    try {
        translated("Unsubscribe", [&] {  // counted below, or where the answer is sent
            requireWebCaller("Unsubscribe");
            source = services::parseWebUnsubscribeSource(how);
            // A forged or altered link is answered here, without queueing behind the commits
            // of real unsubscribes (and without holding them up).
            if (!web_.verifies(token)) throw Error(ErrorCode::NotFound, "no such page");
        });
    } catch (const sdbus::Error& e) {
        metrics::busCall("Unsubscribe", errorOutcome(e.getName()));
        reply->returnError(e);
        return;
    }
    recorder_.submit(std::move(token), source,
                     [reply, &io = io_, sent = sent_](std::optional<services::TokenDescription> description,
                                                      std::exception_ptr error) {
                         boost::asio::post(io, [reply, sent, description = std::move(description), error] {
                             try {
                                 const auto answer = guarded("Unsubscribe", [&] {
                                     if (error) std::rethrow_exception(error);
                                     return toVariantMap(*description);
                                 });
                                 reply->returnResults(answer);
                             } catch (const sdbus::Error& e) {
                                 try {
                                     reply->returnError(e);
                                 } catch (const sdbus::Error&) {
                                     // The caller or the connection is gone: nobody to answer.
                                 }
                             }
                             sent();
                         });
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

// daemon_client.cpp: see daemon_client.h.
#include "web/daemon_client.h"

#include <chrono>
#include <memory>

#include <sdbus-c++/sdbus-c++.h>

#include "campaignd/dbus/Web_proxy.h"
#include "core/log.h"

namespace campaignd::web {
namespace {

constexpr const char* kService = "org.campaignd.Campaignd1";
constexpr const char* kWebPath = "/org/campaignd/Campaignd1/web";
constexpr const char* kNotFound = "org.campaignd.Campaignd1.Error.NotFound";

ClientSettings gSettings;

class WebProxy final : public sdbus::ProxyInterfaces<org::campaignd::Campaignd1::Web_proxy> {
public:
    explicit WebProxy(sdbus::IConnection& connection) : ProxyInterfaces(connection, kService, kWebPath) {
        registerProxy();
    }
    ~WebProxy() { unregisterProxy(); }
};

struct ThreadClient {
    std::unique_ptr<sdbus::IConnection> connection;
    std::unique_ptr<WebProxy> proxy;
    // The Manager object, for GetMetrics alone: a plain proxy, since the generated one would
    // have to handle every Manager signal.
    std::unique_ptr<sdbus::IProxy> manager;
};

constexpr const char* kManagerPath = "/org/campaignd/Campaignd1";
constexpr const char* kManagerInterface = "org.campaignd.Campaignd1.Manager";

// The calling thread's proxies; nullptr when the bus cannot be reached.
ThreadClient* threadClient() {
    thread_local ThreadClient client;
    if (!client.proxy) {
        try {
            client.connection = gSettings.user ? sdbus::createSessionBusConnection() : sdbus::createSystemBusConnection();
            client.connection->setMethodCallTimeout(std::chrono::milliseconds(gSettings.timeoutMs));
            client.proxy = std::make_unique<WebProxy>(*client.connection);
            client.manager = sdbus::createProxy(*client.connection, kService, kManagerPath);
            client.manager->finishRegistration();
        } catch (const sdbus::Error& e) {
            log::error("cannot connect to the bus", {{"ERROR", e.getMessage()}});
            client.manager.reset();
            client.proxy.reset();
            client.connection.reset();
            return nullptr;
        }
    }
    return &client;
}

WebProxy* proxy() {
    ThreadClient* c = threadClient();
    return c ? c->proxy.get() : nullptr;
}

template <typename T>
T value(const std::map<std::string, sdbus::Variant>& m, const char* key, T fallback) {
    const auto it = m.find(key);
    if (it == m.end()) return fallback;
    try {
        return it->second.get<T>();
    } catch (const sdbus::Error&) {
        return fallback;
    }
}

Description toDescription(const std::map<std::string, sdbus::Variant>& m) {
    Description d;
    d.sender = value<std::string>(m, "sender", {});
    d.campaignName = value<std::string>(m, "campaign_name", {});
    d.maskedAddress = value<std::string>(m, "masked_address", {});
    d.unsubscribed = value<bool>(m, "unsubscribed", false);
    return d;
}

template <typename R, typename F>
R call(const char* method, F&& f) {
    R result;
    WebProxy* p = proxy();
    if (!p) return result;
    try {
        f(*p, result);
        result.outcome = Outcome::Ok;
    } catch (const sdbus::Error& e) {
        if (e.getName() == kNotFound) {
            result.outcome = Outcome::NotFound;
        } else {
            log::warning("the daemon did not answer", {{"METHOD", method}, {"ERROR", e.getName()}});
            result.outcome = Outcome::Unavailable;
        }
    }
    return result;
}

}  // namespace

void configureClient(const ClientSettings& settings) { gSettings = settings; }

DescribeResult describeToken(const std::string& token) {
    return call<DescribeResult>("DescribeToken", [&](WebProxy& p, DescribeResult& r) {
        r.description = toDescription(p.DescribeToken(token));
    });
}

DescribeResult unsubscribe(const std::string& token, const std::string& how) {
    return call<DescribeResult>("Unsubscribe", [&](WebProxy& p, DescribeResult& r) {
        r.description = toDescription(p.Unsubscribe(token, how));
    });
}

ViewResult viewMessage(const std::string& token) {
    return call<ViewResult>("ViewMessage", [&](WebProxy& p, ViewResult& r) {
        std::tie(r.subject, r.html) = p.ViewMessage(token);
    });
}

MetricsResult metrics() {
    MetricsResult result;
    ThreadClient* c = threadClient();
    if (!c) return result;
    try {
        c->manager->callMethod("GetMetrics").onInterface(kManagerInterface).storeResultsTo(result.text);
        result.outcome = Outcome::Ok;
    } catch (const sdbus::Error& e) {
        log::warning("the daemon did not answer", {{"METHOD", "GetMetrics"}, {"ERROR", e.getName()}});
    }
    return result;
}

}  // namespace campaignd::web

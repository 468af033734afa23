// daemon_client.h: campaignd-web's side of org.campaignd.Campaignd1.Web. One bus connection per
// HTTP worker thread (made at its first request), each call
// with a timeout. Outcomes are values: the daemon's NotFound is Found::No, anything else
// (no daemon, a timeout, a refusal) is Unavailable, which the server answers with 503.
#pragma once

#include <optional>
#include <string>

#include "web/pages.h"

namespace campaignd::web {

enum class Outcome { Ok, NotFound, Unavailable };

struct DescribeResult {
    Outcome outcome = Outcome::Unavailable;
    Description description;
};

struct ViewResult {
    Outcome outcome = Outcome::Unavailable;
    std::string subject;
    std::string html;
};

struct ClientSettings {
    bool user = false;         // the session bus (--user), else the system bus
    unsigned timeoutMs = 5000; // per call
};

void configureClient(const ClientSettings& settings);

DescribeResult describeToken(const std::string& token);
DescribeResult unsubscribe(const std::string& token, const std::string& how);
ViewResult viewMessage(const std::string& token);

struct MetricsResult {
    Outcome outcome = Outcome::Unavailable;
    std::string text;  // the Prometheus text exposition format, as the daemon wrote it
};

// org.campaignd.Campaignd1.Manager.GetMetrics (campaignd-web --metrics).
MetricsResult metrics();

}  // namespace campaignd::web

// transport.cpp: see transport.h. The delivery sink's trampoline (sinkResult) matches each
// result to a token of the batch, bounds and checks its fields, and keeps the caller's
// exception to rethrow once the plugin returned; send() then reports every message the plugin
// gave no result for, as NotHandedOver only when a plugin that kept the rules said it failed.
#include "plugin-host/transport.h"

#include <array>
#include <algorithm>
#include <exception>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/log.h"
#include "plugin-host/boundary.h"
#include "plugin-host/text.h"

namespace campaignd::plugins {

TransportStatus transportStatusOf(campaignd_status status) {
    switch (status) {
        case CAMPAIGND_OK: return TransportStatus::Ok;
        case CAMPAIGND_ERR_AUTH: return TransportStatus::Auth;
        case CAMPAIGND_ERR_TLS: return TransportStatus::Tls;
        case CAMPAIGND_ERR_CONNECTION: return TransportStatus::Connection;
        default: return TransportStatus::Failed;
    }
}

namespace {

constexpr std::size_t kMaxResultTextBytes = 4096;
constexpr std::size_t kMaxEnhancedStatusBytes = 16;
constexpr std::size_t kDeliveryResultMinSize = CAMPAIGND_FIELD_END(campaignd_delivery_result, text);

// RFC 3463: class "." subject "." detail, class 2, 4 or 5, subject and detail 1-3 digits.
bool validEnhancedStatus(std::string_view s) {
    if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
    std::size_t i = 2;
    for (int part = 0; part < 2; ++part) {
        std::size_t digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
        if (digits == 0 || digits > 3) return false;
        if (part == 0) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
    }
    return i == s.size();
}

// The C sink's context for one TransportSession::send() call.
struct SendCall {
    const std::function<void(const DeliveryResult&)>* onResult = nullptr;
    const std::string* pluginName = nullptr;
    std::unordered_map<std::uint64_t, bool> reported;  // token -> has a result
    std::exception_ptr thrown;  // from onResult; rethrown after the plugin returned
    std::string contractBreach; // the first rule the plugin broke in this call
    std::size_t breaches = 0;
};

void noteBreach(SendCall& call, std::string what) {
    ++call.breaches;
    log::warning("transport plugin broke the ABI: " + what, {{"PLUGIN", *call.pluginName}});
    if (call.contractBreach.empty()) call.contractBreach = std::move(what);
}

void deliver(SendCall& call, const DeliveryResult& result) {
    if (call.thrown || !*call.onResult) return;
    try {
        (*call.onResult)(result);
    } catch (...) {
        call.thrown = std::current_exception();
    }
}

void sinkResult(void* sinkCtx, const campaignd_delivery_result* r) noexcept {
    auto& call = *static_cast<SendCall*>(sinkCtx);
    try {
        std::string breach;
        if (!detail::checkDeliveryResult(r, breach)) {
            noteBreach(call, breach);
            return;
        }
        auto it = call.reported.find(r->token);
        if (it == call.reported.end()) {
            noteBreach(call, "a result for token " + std::to_string(r->token) + ", which it was not given");
            return;
        }
        if (it->second) {
            noteBreach(call, "a second result for token " + std::to_string(r->token));
            return;
        }
        it->second = true;
        DeliveryResult out = detail::readDeliveryResult(*r, breach);
        if (!breach.empty()) noteBreach(call, breach);
        deliver(call, out);
    } catch (...) {
        if (!call.thrown) call.thrown = std::current_exception();
    }
}

}  // namespace

bool detail::checkDeliveryResult(const campaignd_delivery_result* r, std::string& breach) {
    if (r != nullptr && r->struct_size >= kDeliveryResultMinSize) return true;
    breach = "a delivery result is NULL or its struct_size is too small";
    return false;
}

DeliveryResult detail::readDeliveryResult(const campaignd_delivery_result& r, std::string& breach) {
    DeliveryResult out;
    out.token = r.token;
    switch (r.outcome) {
        case CAMPAIGND_DELIVERY_SENT: out.outcome = DeliveryOutcome::Sent; break;
        case CAMPAIGND_DELIVERY_DEFERRED: out.outcome = DeliveryOutcome::Deferred; break;
        case CAMPAIGND_DELIVERY_FAILED: out.outcome = DeliveryOutcome::Failed; break;
        case CAMPAIGND_DELIVERY_UNKNOWN: out.outcome = DeliveryOutcome::Unknown; break;
        default:
            // It may have gone out: never resend what the plugin could not describe.
            out.outcome = DeliveryOutcome::Unknown;
            breach = "outcome " + std::to_string(r.outcome) + " for token " + std::to_string(r.token) +
                     " is not a CAMPAIGND_DELIVERY_* value";
            break;
    }
    out.smtpCode = (r.smtp_code >= 200 && r.smtp_code <= 599) ? r.smtp_code : 0;
    const std::string enhanced = copyBounded(r.enhanced_status, kMaxEnhancedStatusBytes);
    if (validEnhancedStatus(enhanced)) out.enhancedStatus = enhanced;
    out.text = copyBounded(r.text, kMaxResultTextBytes);
    return out;
}

void detail::checkOutgoing(std::span<const OutgoingMessage> messages, const char* call) {
    std::unordered_map<std::uint64_t, bool> seen;
    seen.reserve(messages.size());
    for (const auto& m : messages) {
        if (!seen.emplace(m.token, false).second)
            throw std::invalid_argument(std::string(call) + ": token " + std::to_string(m.token) +
                                        " appears twice in the batch");
        const std::string what = std::string(call) + ": the envelope sender, recipient or Message-ID of token " +
                                 std::to_string(m.token);
        for (const std::string* field : {&m.envelopeFrom, &m.recipient, &m.messageId}) requireNoControl(*field, what);
        if (m.recipient.empty())
            throw std::invalid_argument(std::string(call) + ": token " + std::to_string(m.token) + " has no recipient");
    }
}

detail::OutgoingStructs::OutgoingStructs(std::span<const OutgoingMessage> messages)
    : structs(messages.size()), pointers(messages.size()) {
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const OutgoingMessage& m = messages[i];
        campaignd_outgoing_message& c = structs[i];
        c.struct_size = sizeof c;
        c.token = m.token;
        c.envelope_from = m.envelopeFrom.c_str();
        c.recipient = m.recipient.c_str();
        c.message_id = m.messageId.c_str();
        c.data = m.data.data();
        c.data_len = m.data.size();
        pointers[i] = &c;
    }
}

std::string_view toString(TransportStatus status) {
    switch (status) {
        case TransportStatus::Ok: return "ok";
        case TransportStatus::Auth: return "auth";
        case TransportStatus::Tls: return "tls";
        case TransportStatus::Connection: return "connection";
        case TransportStatus::Failed: return "failed";
    }
    return "failed";
}

std::string_view toString(DeliveryOutcome outcome) {
    switch (outcome) {
        case DeliveryOutcome::Sent: return "sent";
        case DeliveryOutcome::Deferred: return "deferred";
        case DeliveryOutcome::Failed: return "failed";
        case DeliveryOutcome::Unknown: return "unknown";
        case DeliveryOutcome::NotHandedOver: return "not-handed-over";
    }
    return "unknown";
}

std::unique_ptr<TransportSession> TransportHandle::openSession(
    const std::string& transportName, const std::map<std::string, std::string>& settings) const {
    const campaignd_transport* table = plugin_->transportTable();
    const std::string who = "transport " + transportName + " (plugin " + plugin_->name() + "): ";
    if (table == nullptr) throw TransportError(TransportStatus::Failed, who + "the plugin is not a transport");
    CStrings name;
    std::optional<CSettings> args;
    try {
        name.add(transportName, "the transport name");
        args.emplace(settings);
    } catch (const InputRefused& e) {
        throw TransportError(TransportStatus::Failed, who + e.what());
    }

    void* session = nullptr;
    const PluginCallResult r = callPlugin(who, "open", [&](campaignd_error* err) {
        return table->open(plugin_->instance(), transportName.c_str(), args->keys(), args->values(), args->size(),
                           &session, err);
    });
    if (!r.ok()) {
        const TransportStatus kind = r.threw ? TransportStatus::Failed : transportStatusOf(r.status);
        if (!r.threw)
            log::warning("transport session not opened (" + std::string(toString(kind)) + "): " +
                             (r.message.empty() ? std::string("no message") : r.message),
                         {{"PLUGIN", plugin_->name()}, {"TRANSPORT", transportName}});
        throw TransportError(kind, r.failure());
    }
    // A private constructor: make_unique cannot reach it.
    return std::unique_ptr<TransportSession>(new TransportSession(plugin_, transportName, session));
}

SettingsCheck TransportHandle::validate(const std::string& transportName,
                                       const std::map<std::string, std::string>& settings) const {
    const campaignd_transport* table = plugin_->transportTable();
    if (table == nullptr || table->validate == nullptr) return {};
    const std::string section = "Transport " + transportName;
    if (!fitsCString(section)) return {SettingsCheck::Verdict::CheckFailed, "", "the transport name is too long"};
    return checkSettings("plugin " + plugin_->name() + ": ", {settings.begin(), settings.end()},
                         [&](const char* const* keys, const char* const* values, std::size_t count, std::size_t* badKey,
                             campaignd_error* err) {
                             return table->validate(plugin_->instance(), section.c_str(), keys, values, count, badKey,
                                                    err);
                         });
}

TransportProbe TransportHandle::probe(const std::string& transportName,
                                     const std::map<std::string, std::string>& settings) const {
    const campaignd_transport* table = plugin_->transportTable();
    TransportProbe out;
    if (table == nullptr || table->probe == nullptr) return out;
    out.verdict = TransportProbe::Verdict::Failed;
    const std::string who;  // the caller names the transport and the plugin
    CStrings name;
    std::optional<CSettings> args;
    try {
        name.add(transportName, "the transport name");
        args.emplace(settings);
    } catch (const InputRefused& e) {
        out.badSetting = true;
        out.message = e.what();
        return out;
    }
    std::array<char, kErrorBufferBytes> found{};
    campaignd_error foundBuffer{found.data(), found.size()};
    const PluginCallResult r = callPlugin(who, "probe", [&](campaignd_error* err) {
        return table->probe(plugin_->instance(), transportName.c_str(), args->keys(), args->values(), args->size(),
                            &foundBuffer, err);
    });
    if (r.ok()) {
        found.back() = '\0';
        out.verdict = TransportProbe::Verdict::Reached;
        out.message = copyBounded(found.data(), found.size() - 1);
        return out;
    }
    out.status = r.threw ? TransportStatus::Failed : transportStatusOf(r.status);
    out.badSetting = !r.threw && r.status == CAMPAIGND_ERR_INVALID_ARGUMENT;
    out.message = r.failure();
    return out;
}

bool TransportHandle::submits() const {
    const campaignd_transport* table = plugin_->transportTable();
    return table != nullptr && table->submit != nullptr;
}

const std::string& TransportSession::pluginName() const { return plugin_->name(); }

TransportSession::~TransportSession() {
    if (released_) return;
    try {
        const PluginCallResult r = callPlugin("", "close", [&](campaignd_error*) {
            plugin_->transportTable()->close(session_);
            return CAMPAIGND_OK;
        });
        if (r.threw) log::error("transport close threw an exception (not allowed by the ABI)", {{"PLUGIN", plugin_->name()}});
    } catch (...) {
        // Out of memory while wording the result: nothing more to do in a destructor.
    }
}

SendStatus TransportSession::send(std::span<const OutgoingMessage> messages,
                                  const std::function<void(const DeliveryResult&)>& onResult) {
    // Check the whole batch before anything of it reaches the plugin.
    detail::checkOutgoing(messages, "transport send");
    SendCall call;
    call.onResult = &onResult;
    call.pluginName = &plugin_->name();
    call.reported.reserve(messages.size());
    for (const auto& m : messages) call.reported.emplace(m.token, false);

    auto finish = [&](DeliveryOutcome missing) {
        for (const auto& m : messages) {
            auto& done = call.reported[m.token];
            if (done) continue;
            done = true;
            DeliveryResult r;
            r.token = m.token;
            r.outcome = missing;
            r.text = missing == DeliveryOutcome::NotHandedOver ? "not handed over: the session failed before it"
                                                               : "no result from the transport plugin";
            deliver(call, r);
        }
    };

    if (broken_) {
        finish(DeliveryOutcome::NotHandedOver);
        if (call.thrown) std::rethrow_exception(call.thrown);
        return {TransportStatus::Failed, "transport " + transportName_ + ": the session failed earlier; open a new one"};
    }
    if (messages.empty()) return {};

    const detail::OutgoingStructs c(messages);
    campaignd_delivery_sink sink{};
    sink.struct_size = sizeof sink;
    sink.sink_ctx = &call;
    sink.result = &sinkResult;

    const std::string who = "transport " + transportName_ + " (plugin " + plugin_->name() + "): ";
    const PluginCallResult r = callPlugin(who, "send", [&](campaignd_error* err) {
        return plugin_->transportTable()->send(session_, c.pointers.data(), c.pointers.size(), &sink, err);
    });

    SendStatus result;
    result.status = r.threw ? TransportStatus::Failed : transportStatusOf(r.status);
    // Safe side: only a plugin that kept the rules is believed when it says the rest never left.
    const bool trusted = !r.threw && call.breaches == 0;
    finish(result.status != TransportStatus::Ok && trusted ? DeliveryOutcome::NotHandedOver : DeliveryOutcome::Unknown);

    if (!result.ok()) {
        result.message = r.failure();
    } else if (!call.contractBreach.empty()) {
        // The messages are accounted for (as unknown); the session still works.
        log::warning(who + "results did not follow the ABI: " + call.contractBreach, {{"PLUGIN", plugin_->name()}});
    }
    if (!result.ok()) {
        broken_ = true;
        log::warning("transport session failed (" + std::string(toString(result.status)) + "): " + result.message,
                     {{"PLUGIN", plugin_->name()}, {"TRANSPORT", transportName_}});
    }
    if (call.thrown) std::rethrow_exception(call.thrown);
    return result;
}

}  // namespace campaignd::plugins

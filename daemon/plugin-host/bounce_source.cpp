// bounce_source.cpp: see bounce_source.h. The sink's trampoline (sinkBounceMessage) is
// noexcept: "not a mail message" (Error InvalidArgument) goes back to the plugin as
// INVALID_ARGUMENT so it marks the message processed; any other failure stops the run and is
// rethrown once the plugin returned.
#include "plugin-host/bounce_source.h"

#include <exception>
#include <optional>

#include "core/error.h"
#include "plugin-host/boundary.h"
#include "plugin-host/text.h"

namespace campaignd::plugins {

namespace {

struct BounceCall {
    const BounceMessageSink* sink = nullptr;
    std::exception_ptr thrown;  // a failure other than "not a mail message": rethrown after
};

campaignd_status sinkBounceMessage(void* ctx, const char* id, const char* data, std::size_t len,
                                   campaignd_error* err) noexcept {
    auto* call = static_cast<BounceCall*>(ctx);
    if (call == nullptr || call->thrown) return CAMPAIGND_ERR_FAILED;
    if (data == nullptr && len != 0) {
        campaignd_error_set(err, "no message data");
        return CAMPAIGND_ERR_INVALID_ARGUMENT;
    }
    try {
        (*call->sink)(id ? copyBounded(id, 256) : std::string(), std::string_view(data ? data : "", len));
        return CAMPAIGND_OK;
    } catch (const Error& e) {
        if (e.code() == ErrorCode::InvalidArgument) {
            campaignd_error_set(err, e.what());
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        call->thrown = std::current_exception();
    } catch (...) {
        call->thrown = std::current_exception();
    }
    campaignd_error_set(err, "the host could not record the message");
    return CAMPAIGND_ERR_FAILED;
}

}  // namespace

BounceFetchStatus BounceSourceHandle::fetch(const std::vector<std::pair<std::string, std::string>>& settings,
                                            const BounceMessageSink& sink) const {
    const campaignd_bounce_source* table = plugin_->bounceSourceTable();
    const std::string who = "plugin " + plugin_->name() + ": ";
    if (table == nullptr) return {TransportStatus::Failed, who + "not a bounce source"};
    std::optional<CSettings> args;
    try {
        args.emplace(settings);
    } catch (const InputRefused& e) {
        return {TransportStatus::Failed, who + e.what()};
    }
    BounceCall call;
    call.sink = &sink;
    campaignd_bounce_sink cSink{};
    cSink.struct_size = sizeof cSink;
    cSink.sink_ctx = &call;
    cSink.message = &sinkBounceMessage;
    const PluginCallResult r = callPlugin(who, "fetch", [&](campaignd_error* err) {
        return table->fetch(plugin_->instance(), args->keys(), args->values(), args->size(), &cSink, err);
    });
    if (call.thrown) std::rethrow_exception(call.thrown);
    if (r.ok()) return {};
    return {r.threw ? TransportStatus::Failed : transportStatusOf(r.status), r.failure()};
}

SettingsCheck BounceSourceHandle::validate(const std::vector<std::pair<std::string, std::string>>& settings) const {
    const campaignd_bounce_source* table = plugin_->bounceSourceTable();
    if (table == nullptr || table->validate == nullptr) return {};
    return checkSettings("plugin " + plugin_->name() + ": ", settings,
                         [&](const char* const* keys, const char* const* values, std::size_t count, std::size_t* badKey,
                             campaignd_error* err) {
                             return table->validate(plugin_->instance(), "Bounces", keys, values, count, badKey, err);
                         });
}

}  // namespace campaignd::plugins

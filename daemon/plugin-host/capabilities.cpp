// capabilities.cpp: see capabilities.h. Adding a capability: a CapabilityInfo line, a TableSpec
// (descriptor field, minimum table size, required functions), and a slot in RunningPlugin
// that the loader fills with adoptTable(); daemon/plugin-host/README.md has the whole list.
#include "plugin-host/capabilities.h"

#include <array>

#include "core/log.h"
#include "plugin-host/running_plugin.h"

namespace campaignd::plugins {
namespace {

constexpr std::array<CapabilityInfo, 4> kKnown{{
    {CAMPAIGND_CAP_TRANSPORT, "transport", "a transport"},
    {CAMPAIGND_CAP_IMPORTER, "importer", "an importer"},
    {CAMPAIGND_CAP_BOUNCE_SOURCE, "bounce-source", "a bounce source"},
    {CAMPAIGND_CAP_REPORTER, "reporter", "a reporter"},
}};

}  // namespace

const TableSpec<campaignd_importer> kImporterTable{
    CAMPAIGND_CAP_IMPORTER, &campaignd_plugin_descriptor::importer, CAMPAIGND_PLUGIN_DESCRIPTOR_1_1_SIZE,
    CAMPAIGND_FIELD_END(campaignd_importer, import),
    [](const campaignd_importer& t) { return t.import != nullptr; }, "importer", "used for imports"};

const TableSpec<campaignd_transport> kTransportTable{
    CAMPAIGND_CAP_TRANSPORT, &campaignd_plugin_descriptor::transport, CAMPAIGND_PLUGIN_DESCRIPTOR_1_2_SIZE,
    CAMPAIGND_FIELD_END(campaignd_transport, close),
    [](const campaignd_transport& t) { return t.open != nullptr && t.send != nullptr && t.close != nullptr; },
    "transport", "used for sending"};

const TableSpec<campaignd_reporter> kReporterTable{
    CAMPAIGND_CAP_REPORTER, &campaignd_plugin_descriptor::reporter,
    CAMPAIGND_FIELD_END(campaignd_plugin_descriptor, reporter), CAMPAIGND_FIELD_END(campaignd_reporter, compose),
    [](const campaignd_reporter& t) { return t.compose != nullptr; }, "reporter", "used for reports"};

const TableSpec<campaignd_bounce_source> kBounceSourceTable{
    CAMPAIGND_CAP_BOUNCE_SOURCE, &campaignd_plugin_descriptor::bounce_source,
    CAMPAIGND_FIELD_END(campaignd_plugin_descriptor, bounce_source),
    CAMPAIGND_FIELD_END(campaignd_bounce_source, fetch),
    [](const campaignd_bounce_source& t) { return t.fetch != nullptr; }, "bounce source", "used to fetch bounces"};

std::span<const CapabilityInfo> knownCapabilities() { return kKnown; }

const CapabilityInfo* capabilityInfo(std::uint64_t bit) {
    for (const auto& c : kKnown)
        if (c.bit == bit) return &c;
    return nullptr;
}

void warnUnusableTable(const std::string& plugin, std::uint64_t bit, std::string_view tableName,
                       std::string_view unusedAs) {
    const CapabilityInfo* info = capabilityInfo(bit);
    log::warning("plugin says it is " + std::string(info ? info->noun : "capable") + " but has no usable " +
                     std::string(tableName) + " table; it is not " + std::string(unusedAs),
                 {{"PLUGIN", plugin}});
}

std::vector<std::string> capabilityNames(std::uint64_t capabilities) {
    std::vector<std::string> names;
    for (unsigned bit = 0; bit < 64; ++bit) {
        const std::uint64_t mask = std::uint64_t{1} << bit;
        if ((capabilities & mask) == 0) continue;
        const CapabilityInfo* info = capabilityInfo(mask);
        names.push_back(info ? std::string(info->name) : "unknown-bit-" + std::to_string(bit));
    }
    return names;
}

bool RunningPlugin::serves(std::uint64_t bits) const {
    if (bits == 0 || !hasCapability(bits)) return false;
    const std::pair<std::uint64_t, bool> adopted[] = {
        {CAMPAIGND_CAP_IMPORTER, importer_.has_value()},
        {CAMPAIGND_CAP_TRANSPORT, transport_.has_value()},
        {CAMPAIGND_CAP_REPORTER, reporter_.has_value()},
        {CAMPAIGND_CAP_BOUNCE_SOURCE, bounceSource_.has_value()},
    };
    std::uint64_t usable = 0;
    for (const auto& [bit, has] : adopted)
        if (has) usable |= bit;
    return (bits & usable) == bits;
}

}  // namespace campaignd::plugins

// capabilities.h: the capabilities this host knows, as data. For each: its bit, the name shown
// on the bus, the noun used in sentences, and (TableSpec) where its table sits in the
// descriptor, the smallest table struct_size the host accepts and which functions must be
// there. adoptTable() is the one place a capability table is taken from a plugin: it reads
// nothing past the descriptor's or the table's struct_size and copies what it uses.
#pragma once

#include <campaignd/plugin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace campaignd::plugins {

struct CapabilityInfo {
    std::uint64_t bit;
    std::string_view name;  // "bounce-source": on the bus and in capabilityNames()
    std::string_view noun;  // "a bounce source": in sentences ("the plugin X is not ...")
};

// Every capability the host knows, in bit order.
std::span<const CapabilityInfo> knownCapabilities();
// The entry for exactly one bit; nullptr for an unknown one.
const CapabilityInfo* capabilityInfo(std::uint64_t bit);

// Where a capability's table is and what makes it usable.
template <class Table>
struct TableSpec {
    std::uint64_t bit;
    const Table* campaignd_plugin_descriptor::*field;  // the descriptor's pointer to the table
    std::size_t descriptorSize;   // a descriptor at least this large has `field`
    std::size_t minTableSize;     // the table's struct_size must cover the last required function
    bool (*complete)(const Table&);  // the required functions are non-NULL
    std::string_view tableName;   // "importer": in "has no usable importer table"
    std::string_view unusedAs;    // "used for imports": in "it is not used for imports"
};

extern const TableSpec<campaignd_importer> kImporterTable;
extern const TableSpec<campaignd_transport> kTransportTable;
extern const TableSpec<campaignd_reporter> kReporterTable;
extern const TableSpec<campaignd_bounce_source> kBounceSourceTable;

// Logs that a plugin claiming `bit` has no usable table and is not used for it.
void warnUnusableTable(const std::string& plugin, std::uint64_t bit, std::string_view tableName,
                       std::string_view unusedAs);

// The plugin's table for `spec`, copied (at most sizeof(Table) bytes, struct_size set to what
// was copied), when the descriptor claims the capability and the table is usable; nullopt
// otherwise (with a warning when the bit was claimed). descriptor: the host's zero-padded copy;
// declaredSize: the plugin's own struct_size.
template <class Table>
std::optional<Table> adoptTable(const campaignd_plugin_descriptor& descriptor, std::size_t declaredSize,
                                const TableSpec<Table>& spec, const std::string& plugin) {
    if ((descriptor.capabilities & spec.bit) == 0) return std::nullopt;
    const Table* table = declaredSize >= spec.descriptorSize ? descriptor.*spec.field : nullptr;
    if (table == nullptr || table->struct_size < spec.minTableSize || !spec.complete(*table)) {
        warnUnusableTable(plugin, spec.bit, spec.tableName, spec.unusedAs);
        return std::nullopt;
    }
    Table copy{};
    const std::size_t size = std::min(table->struct_size, sizeof copy);
    std::memcpy(&copy, table, size);
    copy.struct_size = size;
    return copy;
}

}  // namespace campaignd::plugins

// loader.cpp: PluginHost's life cycle. dlopen(RTLD_NOW | RTLD_LOCAL), dlsym the v1 entry,
// check the descriptor's ABI major and struct_size before anything else of the plugin runs,
// copy and bound whatever the plugin hands over, start() it through the boundary, then adopt
// its capability tables by the one rule in capabilities.h. Every step that can go wrong becomes
// a recorded state and a log line, never an exception out of here.
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <system_error>
#include <utility>

#include "core/log.h"
#include "plugin-host/boundary.h"
#include "plugin-host/capabilities.h"
#include "plugin-host/host_table.h"
#include "plugin-host/plugin_host.h"
#include "plugin-host/text.h"

namespace campaignd::plugins {

struct PluginHost::Slot {
    PluginInfo info;
    void* handle = nullptr;                   // dlopen handle while loaded
    bool keepLoaded = false;                  // start/stop threw: never dlclose it
    bool nameClaimed = false;                 // took part in the duplicate-name check
    std::unique_ptr<PluginHostContext> context;     // while running (or kept loaded)
    std::unique_ptr<RunningPlugin> running;   // while running
};

namespace {

// Bounds on the descriptor's strings (bytes, terminator excluded).
constexpr std::size_t kMaxNameBytes = 64;
constexpr std::size_t kMaxVersionBytes = 64;
constexpr std::size_t kMaxDescriptionBytes = 512;

bool validPluginName(std::string_view name) {
    if (name.empty() || name.size() > kMaxNameBytes) return false;
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    if (!alnum(name.front())) return false;
    return std::all_of(name.begin(), name.end(),
                       [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

}  // namespace

std::string_view toString(PluginState state) {
    switch (state) {
        case PluginState::Running: return "running";
        case PluginState::Failed: return "failed";
        case PluginState::Rejected: return "rejected";
        case PluginState::Stopped: return "stopped";
    }
    return "failed";
}

PluginHost::PluginHost(std::filesystem::path directory, ConfigLookup config)
    : directory_(std::move(directory)), config_(std::move(config)) {}

PluginHost::PluginHost(std::filesystem::path directory, ConfigLookup config, HostServices services)
    : directory_(std::move(directory)), config_(std::move(config)), services_(std::move(services)) {}

void PluginHost::setHostServices(HostServices services) {
    if (started_) {
        log::warning("plugin host services set after start(); ignored");
        return;
    }
    services_ = std::move(services);
}

PluginHost::~PluginHost() { stop(); }

void PluginHost::start() {
    if (started_) {
        log::warning("plugin host already started; not scanning again");
        return;
    }
    started_ = true;
    std::vector<std::filesystem::path> files;
    try {
        std::error_code ec;
        const auto status = std::filesystem::status(directory_, ec);
        if (!std::filesystem::exists(status)) {
            log::info("plugin directory does not exist; no plugins loaded",
                      {{"PLUGIN_DIR", directory_.string()}});
            return;
        }
        if (!std::filesystem::is_directory(status)) {
            log::warning("plugin directory is not a directory; no plugins loaded",
                         {{"PLUGIN_DIR", directory_.string()}});
            return;
        }
        std::filesystem::directory_iterator it(directory_, ec), end;
        if (ec) {
            log::warning("cannot read the plugin directory; no plugins loaded: " + ec.message(),
                         {{"PLUGIN_DIR", directory_.string()}});
            return;
        }
        for (; it != end; it.increment(ec)) {
            if (ec) break;
            const std::string file = it->path().filename().string();
            if (file.size() <= 3 || file.front() == '.' || !file.ends_with(".so")) continue;
            std::error_code typeError;
            if (!it->is_regular_file(typeError)) continue;  // follows symlinks
            files.push_back(it->path());
        }
        if (ec) {
            log::warning("error while reading the plugin directory: " + ec.message(),
                         {{"PLUGIN_DIR", directory_.string()}});
        }
    } catch (const std::exception& e) {
        log::error(std::string("cannot scan the plugin directory: ") + e.what(),
                   {{"PLUGIN_DIR", directory_.string()}});
        return;
    }
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
        return a.filename().string() < b.filename().string();
    });
    for (const auto& file : files) loadOne(file);
    std::size_t running = 0;
    for (const auto& slot : slots_) running += slot->info.state == PluginState::Running;
    log::info("plugins loaded: " + std::to_string(running) + " running of " +
                  std::to_string(slots_.size()),
              {{"PLUGIN_DIR", directory_.string()}});
}

void PluginHost::loadOne(const std::filesystem::path& path) {
    slots_.push_back(std::make_unique<Slot>());
    Slot& slot = *slots_.back();
    PluginInfo& info = slot.info;
    info.path = path;

    auto refuse = [&](PluginState state, std::string reason) {
        info.state = state;
        info.error = std::move(reason);
        log::warning("plugin " + std::string(toString(state)) + ": " + info.error,
                     {{"PLUGIN", info.name.empty() ? path.filename().string() : info.name},
                      {"PLUGIN_FILE", path.string()},
                      {"PLUGIN_STATE", std::string(toString(state))}});
        if (slot.handle != nullptr && !slot.keepLoaded) {
            dlclose(slot.handle);
            slot.handle = nullptr;
        }
    };

    try {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IWOTH) != 0) {
            return refuse(PluginState::Rejected, "the file is writable by anyone; not loading it");
        }

        dlerror();
        slot.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (slot.handle == nullptr) {
            return refuse(PluginState::Failed,
                          "cannot load: " + copyBounded(dlerror(), kErrorBufferBytes));
        }
        void* symbol = dlsym(slot.handle, CAMPAIGND_PLUGIN_ENTRY_SYMBOL);
        if (symbol == nullptr) {
            return refuse(PluginState::Rejected,
                          "no entry point " CAMPAIGND_PLUGIN_ENTRY_SYMBOL
                          " (not a campaignd plugin, or built for another ABI major)");
        }
        auto entry = reinterpret_cast<campaignd_plugin_entry_fn>(symbol);
        const campaignd_plugin_descriptor* raw = entry();
        if (raw == nullptr) {
            return refuse(PluginState::Rejected, "the entry point returned no descriptor");
        }

        // Only the three fixed fields may be read before these checks pass.
        info.abiMajor = raw->abi_major;
        info.abiMinor = raw->abi_minor;
        const std::size_t declaredSize = raw->struct_size;
        if (raw->abi_major != CAMPAIGND_PLUGIN_ABI_MAJOR) {
            return refuse(PluginState::Rejected,
                          "built for plugin ABI " + std::to_string(raw->abi_major) + "." +
                              std::to_string(raw->abi_minor) + ", this host speaks ABI " +
                              std::to_string(CAMPAIGND_PLUGIN_ABI_MAJOR) + "." +
                              std::to_string(CAMPAIGND_PLUGIN_ABI_MINOR));
        }
        if (declaredSize < CAMPAIGND_PLUGIN_DESCRIPTOR_MIN_SIZE) {
            return refuse(PluginState::Rejected,
                          "descriptor struct_size " + std::to_string(declaredSize) +
                              " is smaller than an ABI 1.0 descriptor (" +
                              std::to_string(CAMPAIGND_PLUGIN_DESCRIPTOR_MIN_SIZE) + " bytes)");
        }

        // Copy what this host knows and the plugin has; the rest stays zero.
        campaignd_plugin_descriptor descriptor{};
        std::memcpy(&descriptor, raw, std::min(declaredSize, sizeof descriptor));

        if (descriptor.name == nullptr) {
            return refuse(PluginState::Rejected, "the descriptor has no name");
        }
        const std::size_t nameLength = strnlen(descriptor.name, kMaxNameBytes + 1);
        const std::string name = copyBounded(descriptor.name, kMaxNameBytes);
        if (nameLength > kMaxNameBytes || !validPluginName(name)) {
            return refuse(PluginState::Rejected,
                          "invalid plugin name '" + name +
                              "' (1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit)");
        }
        info.name = name;
        info.version = copyBounded(descriptor.version, kMaxVersionBytes);
        info.description = copyBounded(descriptor.description, kMaxDescriptionBytes);
        info.capabilityBits = descriptor.capabilities;
        info.capabilities = capabilityNames(descriptor.capabilities);
        if (descriptor.start == nullptr || descriptor.stop == nullptr) {
            return refuse(PluginState::Rejected, "the descriptor has no start or stop function");
        }
        for (const auto& other : slots_) {
            if (other.get() != &slot && other->nameClaimed && other->info.name == name) {
                return refuse(PluginState::Rejected, "duplicate plugin name '" + name +
                                                         "': already loaded from " +
                                                         other->info.path.string());
            }
        }
        slot.nameClaimed = true;

        auto context = makeHostContext(name, &config_, &services_);
        void* instance = nullptr;
        const PluginCallResult started = callPlugin("", "start", [&](campaignd_error* err) {
            return descriptor.start(&context->table, &instance, err);
        });
        if (started.threw) {
            // The plugin broke the contract; what it started may still run, so its code is never
            // unloaded and its host table lives as long as this PluginHost.
            slot.keepLoaded = true;
            slot.context = std::move(context);
            return refuse(PluginState::Failed, started.failure());
        }
        if (!started.ok()) return refuse(PluginState::Failed, started.failureWithStatus());

        auto running = std::make_unique<RunningPlugin>();
        running->name_ = name;
        running->capabilities_ = descriptor.capabilities;
        running->descriptor_ = descriptor;
        running->descriptorSize_ = declaredSize;
        running->instance_ = instance;
        // Each capability's table, by the one rule in capabilities.h.
        running->importer_ = adoptTable(descriptor, declaredSize, kImporterTable, name);
        running->transport_ = adoptTable(descriptor, declaredSize, kTransportTable, name);
        running->reporter_ = adoptTable(descriptor, declaredSize, kReporterTable, name);
        running->bounceSource_ = adoptTable(descriptor, declaredSize, kBounceSourceTable, name);
        slot.running = std::move(running);
        slot.context = std::move(context);
        info.state = PluginState::Running;
        info.error.clear();
        log::info("plugin started",
                  {{"PLUGIN", name}, {"PLUGIN_VERSION", info.version}, {"PLUGIN_FILE", path.string()}});
    } catch (const std::exception& e) {
        refuse(PluginState::Failed, std::string("the host could not load it: ") + e.what());
    } catch (...) {
        refuse(PluginState::Failed, "the host could not load it");
    }
}

void PluginHost::stop() {
    for (auto it = slots_.rbegin(); it != slots_.rend(); ++it) {
        Slot& slot = **it;
        if (!slot.running) continue;
        const RunningPlugin& plugin = *slot.running;
        const PluginCallResult stopped = callPlugin("", "stop", [&](campaignd_error*) {
            plugin.descriptor_.stop(plugin.instance_);
            return CAMPAIGND_OK;
        });
        if (stopped.threw) {
            // Against the ABI; the plugin may still be running something, so keep it mapped.
            slot.keepLoaded = true;
            log::error("plugin stop threw an exception (not allowed by the ABI)",
                       {{"PLUGIN", slot.info.name}});
        }
        slot.running.reset();
        slot.info.state = PluginState::Stopped;
        log::info("plugin stopped", {{"PLUGIN", slot.info.name}});
    }
    for (auto it = slots_.rbegin(); it != slots_.rend(); ++it) {
        Slot& slot = **it;
        if (slot.handle == nullptr || slot.keepLoaded) continue;
        slot.context.reset();
        dlclose(slot.handle);
        slot.handle = nullptr;
    }
}

std::vector<PluginInfo> PluginHost::plugins() const {
    std::vector<PluginInfo> out;
    out.reserve(slots_.size());
    for (const auto& slot : slots_) out.push_back(slot->info);
    return out;
}

const RunningPlugin* PluginHost::findPlugin(std::string_view name) const {
    for (const auto& slot : slots_) {
        if (slot->running && slot->running->name() == name) return slot->running.get();
    }
    return nullptr;
}

std::vector<const RunningPlugin*> PluginHost::pluginsWithCapability(std::uint64_t capability) const {
    std::vector<const RunningPlugin*> out;
    for (const auto& slot : slots_) {
        if (slot->running && capability != 0 && slot->running->hasCapability(capability))
            out.push_back(slot->running.get());
    }
    return out;
}

std::vector<const RunningPlugin*> PluginHost::serving(std::uint64_t capability) const {
    std::vector<const RunningPlugin*> out;
    for (const auto& slot : slots_)
        if (slot->running && slot->running->serves(capability)) out.push_back(slot->running.get());
    return out;
}

}  // namespace campaignd::plugins

/* simple_plugin.c: the smallest valid plugin, built several times with different
 * SIMPLE_NAME / SIMPLE_VERSION / SIMPLE_CAPS: two "twin"s (a duplicate name) and one with a name
 * the host must refuse. start() and stop() do nothing. */
#include <campaignd/plugin.h>

#ifndef SIMPLE_NAME
#define SIMPLE_NAME "simple"
#endif
#ifndef SIMPLE_VERSION
#define SIMPLE_VERSION "0"
#endif
#ifndef SIMPLE_CAPS
#define SIMPLE_CAPS 0
#endif

static campaignd_status simpleStart(const campaignd_host *host, void **instance, campaignd_error *err) {
    (void)host;
    (void)err;
    *instance = NULL;
    return CAMPAIGND_OK;
}

static void simpleStop(void *instance) { (void)instance; }

static const campaignd_plugin_descriptor descriptor = {
    .abi_major = CAMPAIGND_PLUGIN_ABI_MAJOR,
    .abi_minor = CAMPAIGND_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(campaignd_plugin_descriptor),
    .name = SIMPLE_NAME,
    .version = SIMPLE_VERSION,
    .description = "A plugin that does nothing",
    .capabilities = SIMPLE_CAPS,
    .start = simpleStart,
    .stop = simpleStop,
};

CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor *campaignd_plugin_entry_v1(void) { return &descriptor; }

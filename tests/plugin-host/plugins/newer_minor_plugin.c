/* newer_minor_plugin.c: built against a future minor 1.7 whose descriptor has two more fields
 * appended. A 1.0 host reads the fields it knows and ignores the rest. */
#include <campaignd/plugin.h>

typedef struct newer_descriptor {
    campaignd_plugin_descriptor base;
    const void *future_vtable;
    uint64_t future_flags;
} newer_descriptor;

static const int futureTable = 7;

static campaignd_status newerStart(const campaignd_host *host, void **instance, campaignd_error *err) {
    (void)err;
    *instance = (void *)host;
    return CAMPAIGND_OK;
}

static void newerStop(void *instance) { (void)instance; }

static const newer_descriptor descriptor = {
    .base = {
        .abi_major = CAMPAIGND_PLUGIN_ABI_MAJOR,
        .abi_minor = 7,
        .struct_size = sizeof(newer_descriptor),
        .name = "newer",
        .version = "1.7.0",
        .description = "built against ABI 1.7",
        .capabilities = CAMPAIGND_CAP_BOUNCE_SOURCE,
        .start = newerStart,
        .stop = newerStop,
    },
    .future_vtable = &futureTable,
    .future_flags = 1,
};

CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor *campaignd_plugin_entry_v1(void) {
    return &descriptor.base;
}

/* small_struct_plugin.c: ABI 1 but a struct_size that covers only up to the name, as a broken
 * or truncated descriptor would. The memory behind it does hold start/stop functions, and they
 * abort: the host must refuse the descriptor without reading past struct_size. */
#include <campaignd/plugin.h>

#include <stdlib.h>

static campaignd_status abortStart(const campaignd_host *host, void **instance, campaignd_error *err) {
    (void)host;
    (void)instance;
    (void)err;
    abort();
}

static void abortStop(void *instance) {
    (void)instance;
    abort();
}

static const campaignd_plugin_descriptor descriptor = {
    .abi_major = CAMPAIGND_PLUGIN_ABI_MAJOR,
    .abi_minor = CAMPAIGND_PLUGIN_ABI_MINOR,
    .struct_size = CAMPAIGND_FIELD_END(campaignd_plugin_descriptor, name),
    .name = "small",
    .version = "1",
    .description = "descriptor too short",
    .capabilities = CAMPAIGND_CAP_TRANSPORT,
    .start = abortStart,
    .stop = abortStop,
};

CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor *campaignd_plugin_entry_v1(void) { return &descriptor; }

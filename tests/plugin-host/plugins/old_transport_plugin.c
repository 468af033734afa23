/* old_transport_plugin.c: a plugin built against ABI 1.1 that claims CAMPAIGND_CAP_TRANSPORT.
 * Its descriptor is a 1.1 one (struct_size ends at importer); the transport pointer that follows
 * it in memory is bait whose functions abort: a host must not read past struct_size, so it runs
 * the plugin but does not use it as a transport. */
#include <campaignd/plugin.h>

#include <stdlib.h>

static campaignd_status baitOpen(void *instance, const char *name, const char *const *keys,
                                 const char *const *values, size_t count, void **session,
                                 campaignd_error *err) {
    (void)instance; (void)name; (void)keys; (void)values; (void)count; (void)session; (void)err;
    abort();
}

static campaignd_status baitSend(void *session, const campaignd_outgoing_message *const *messages,
                                 size_t count, const campaignd_delivery_sink *sink,
                                 campaignd_error *err) {
    (void)session; (void)messages; (void)count; (void)sink; (void)err;
    abort();
}

static void baitClose(void *session) {
    (void)session;
    abort();
}

static const campaignd_transport baitTable = {
    .struct_size = sizeof(campaignd_transport),
    .open = baitOpen,
    .send = baitSend,
    .close = baitClose,
};

static campaignd_status oldStart(const campaignd_host *host, void **instance, campaignd_error *err) {
    (void)host;
    (void)err;
    *instance = NULL;
    return CAMPAIGND_OK;
}

static void oldStop(void *instance) { (void)instance; }

static const campaignd_plugin_descriptor descriptor = {
    .abi_major = CAMPAIGND_PLUGIN_ABI_MAJOR,
    .abi_minor = 1,
    .struct_size = CAMPAIGND_PLUGIN_DESCRIPTOR_1_1_SIZE,
    .name = "old-transport",
    .version = "1.1",
    .description = "A transport built against ABI 1.1",
    .capabilities = CAMPAIGND_CAP_TRANSPORT,
    .start = oldStart,
    .stop = oldStop,
    .importer = NULL,
    .transport = &baitTable,
};

CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor *campaignd_plugin_entry_v1(void) { return &descriptor; }

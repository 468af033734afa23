/* old_validate_plugin.c: a transport and bounce source built before ABI 1.4: both tables'
 * struct_size ends before validate (at close, at fetch). The validate that follows in memory is
 * bait that aborts: a host must not read past a table's struct_size, so it cannot check this
 * plugin's settings (Unchecked) and says so, and still uses the plugin. */
#include <campaignd/plugin.h>

#include <stdlib.h>

static campaignd_status baitValidate(void *instance, const char *section, const char *const *keys,
                                     const char *const *values, size_t count, size_t *bad_key,
                                     campaignd_error *err) {
    (void)instance; (void)section; (void)keys; (void)values; (void)count; (void)bad_key; (void)err;
    abort();
}

static campaignd_status oldOpen(void *instance, const char *name, const char *const *keys,
                                const char *const *values, size_t count, void **session,
                                campaignd_error *err) {
    (void)instance; (void)name; (void)keys; (void)values; (void)count; (void)session;
    campaignd_error_set(err, "old-validate opens nothing");
    return CAMPAIGND_ERR_FAILED;
}

static campaignd_status oldSend(void *session, const campaignd_outgoing_message *const *messages,
                                size_t count, const campaignd_delivery_sink *sink, campaignd_error *err) {
    (void)session; (void)messages; (void)count; (void)sink; (void)err;
    return CAMPAIGND_ERR_FAILED;
}

static void oldClose(void *session) { (void)session; }

static campaignd_status oldFetch(void *instance, const char *const *keys, const char *const *values,
                                 size_t count, const campaignd_bounce_sink *sink, campaignd_error *err) {
    (void)instance; (void)keys; (void)values; (void)count; (void)sink; (void)err;
    return CAMPAIGND_OK;
}

static const campaignd_transport transportTable = {
    .struct_size = CAMPAIGND_FIELD_END(campaignd_transport, close),
    .open = oldOpen,
    .send = oldSend,
    .close = oldClose,
    .validate = baitValidate,
};

static const campaignd_bounce_source bounceTable = {
    .struct_size = CAMPAIGND_FIELD_END(campaignd_bounce_source, fetch),
    .fetch = oldFetch,
    .validate = baitValidate,
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
    .abi_minor = 3,
    .struct_size = CAMPAIGND_PLUGIN_DESCRIPTOR_1_3_SIZE,
    .name = "old-validate",
    .version = "1.3",
    .description = "A transport and bounce source built against ABI 1.3",
    .capabilities = CAMPAIGND_CAP_TRANSPORT | CAMPAIGND_CAP_BOUNCE_SOURCE,
    .start = oldStart,
    .stop = oldStop,
    .transport = &transportTable,
    .bounce_source = &bounceTable,
};

CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor *campaignd_plugin_entry_v1(void) { return &descriptor; }

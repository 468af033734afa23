/* old_importer_plugin.c: a plugin built against ABI 1.0 that claims CAMPAIGND_CAP_IMPORTER. Its
 * descriptor is a 1.0 one (struct_size ends at stop); the importer pointer that follows it in
 * memory is bait: a host must not read past struct_size, so it must not use it. With
 * OLD_IMPORTER_NULL_TABLE, it is instead a 1.1 descriptor that claims the capability with a
 * NULL table (name "no-table"): it runs, but is not an importer either. */
#include <campaignd/plugin.h>

#ifndef OLD_IMPORTER_NULL_TABLE
static campaignd_status bait(void *instance, int fd, const campaignd_import_options *options,
                             const campaignd_import_sink *sink, campaignd_error *err) {
    (void)instance; (void)fd; (void)options; (void)sink;
    campaignd_error_set(err, "a 1.0 plugin's importer must never be called");
    return CAMPAIGND_ERR_FAILED;
}

static const campaignd_importer baitTable = {sizeof(campaignd_importer), bait};
#endif

static campaignd_status oldStart(const campaignd_host *host, void **instance, campaignd_error *err) {
    (void)host;
    (void)err;
    *instance = NULL;
    return CAMPAIGND_OK;
}

static void oldStop(void *instance) { (void)instance; }

static const campaignd_plugin_descriptor descriptor = {
    .abi_major = CAMPAIGND_PLUGIN_ABI_MAJOR,
#ifdef OLD_IMPORTER_NULL_TABLE
    .abi_minor = 1,
    .struct_size = sizeof(campaignd_plugin_descriptor),
    .name = "no-table",
#else
    .abi_minor = 0,
    .struct_size = CAMPAIGND_PLUGIN_DESCRIPTOR_MIN_SIZE,
    .name = "old-importer",
#endif
    .version = "1.0",
    .description = "An importer built against ABI 1.0",
    .capabilities = CAMPAIGND_CAP_IMPORTER,
    .start = oldStart,
    .stop = oldStop,
#ifdef OLD_IMPORTER_NULL_TABLE
    .importer = NULL,
#else
    .importer = &baitTable,
#endif
};

CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor *campaignd_plugin_entry_v1(void) { return &descriptor; }

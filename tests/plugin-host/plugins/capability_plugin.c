/* capability_plugin.c: a plugin with working bounce-source and reporter tables, built several
 * times with different CAPABILITY_NAME / CAPABILITY_BITS for the selection tests (two bounce
 * sources, one of them also a reporter). Its fetch() hands the host one message, id "settings",
 * whose data is the settings it was given as "KEY=VALUE\n" lines, so a test sees exactly what
 * reached the plugin (and that nothing did when the host refused the settings). compose()
 * writes "Subject: report NAME\r\n\r\nsent N\r\n". Its validate() (ABI 1.4) refuses the first
 * setting whose value is "bad" (bad_key: its index) or "missing" (bad_key: count, as for a
 * required key that is not there), naming the section; "uncheckable" makes it fail otherwise. */
#include <campaignd/plugin.h>

#include <stdio.h>
#include <string.h>

#ifndef CAPABILITY_NAME
#define CAPABILITY_NAME "capability"
#endif
#ifndef CAPABILITY_BITS
#define CAPABILITY_BITS (CAMPAIGND_CAP_BOUNCE_SOURCE | CAMPAIGND_CAP_REPORTER)
#endif

static campaignd_status capabilityFetch(void *instance, const char *const *keys, const char *const *values,
                                        size_t count, const campaignd_bounce_sink *sink, campaignd_error *err) {
    char data[4096];
    size_t used = 0;
    (void)instance;
    data[0] = '\0';
    for (size_t i = 0; i < count; ++i) {
        const int n = snprintf(data + used, sizeof data - used, "%s=%s\n", keys[i], values[i]);
        if (n < 0 || (size_t)n >= sizeof data - used) {
            campaignd_error_set(err, "the settings do not fit the test plugin's buffer");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        used += (size_t)n;
    }
    return sink->message(sink->sink_ctx, "settings", data, used, err);
}

static campaignd_status capabilityValidate(void *instance, const char *section, const char *const *keys,
                                           const char *const *values, size_t count, size_t *bad_key,
                                           campaignd_error *err) {
    char text[512];
    (void)instance;
    for (size_t i = 0; i < count; ++i) {
        if (strcmp(values[i], "uncheckable") == 0) {
            campaignd_error_set(err, "the test plugin cannot check this");
            return CAMPAIGND_ERR_FAILED;
        }
        if (strcmp(values[i], "bad") != 0 && strcmp(values[i], "missing") != 0) continue;
        *bad_key = strcmp(values[i], "bad") == 0 ? i : count;
        snprintf(text, sizeof text, "%s=%s is refused in [%s]", keys[i], values[i], section);
        campaignd_error_set(err, text);
        return CAMPAIGND_ERR_INVALID_ARGUMENT;
    }
    return CAMPAIGND_OK;
}

static campaignd_status capabilityCompose(void *instance, const campaignd_report *report,
                                          const campaignd_report_output *output, campaignd_error *err) {
    char text[256];
    (void)instance;
    const int n = snprintf(text, sizeof text, "Subject: report %s\r\n\r\nsent %llu\r\n", CAPABILITY_NAME,
                           (unsigned long long)report->sent);
    return output->write(output->output_ctx, text, (size_t)n, err);
}

static const campaignd_bounce_source bounceTable = {
    .struct_size = sizeof(campaignd_bounce_source),
    .fetch = capabilityFetch,
    .validate = capabilityValidate,
};

static const campaignd_reporter reporterTable = {
    .struct_size = sizeof(campaignd_reporter),
    .compose = capabilityCompose,
};

static campaignd_status capabilityStart(const campaignd_host *host, void **instance, campaignd_error *err) {
    (void)host;
    (void)err;
    *instance = NULL;
    return CAMPAIGND_OK;
}

static void capabilityStop(void *instance) { (void)instance; }

static const campaignd_plugin_descriptor descriptor = {
    .abi_major = CAMPAIGND_PLUGIN_ABI_MAJOR,
    .abi_minor = CAMPAIGND_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(campaignd_plugin_descriptor),
    .name = CAPABILITY_NAME,
    .version = "1.3",
    .description = "A bounce source and reporter for the host's tests",
    .capabilities = CAPABILITY_BITS,
    .start = capabilityStart,
    .stop = capabilityStop,
    .importer = NULL,
    .transport = NULL,
    .bounce_source = &bounceTable,
    .reporter = &reporterTable,
};

CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor *campaignd_plugin_entry_v1(void) { return &descriptor; }

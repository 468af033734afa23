/* wrong_abi_plugin.c: a plugin for a made-up ABI major 2 that still exports the v1 symbol. Its
 * descriptor keeps the fixed prefix (abi_major, abi_minor, struct_size) and then has a layout of
 * its own in which every slot is a function that aborts, so a host that calls anything after
 * reading abi_major == 2 kills the test process. */
#include <campaignd/plugin.h>

#include <stdlib.h>

typedef struct future_descriptor {
    uint32_t abi_major;
    uint32_t abi_minor;
    size_t struct_size;
    void (*slots[12])(void);
} future_descriptor;

static void abortNow(void) { abort(); }

static const future_descriptor descriptor = {
    2, 0, sizeof(future_descriptor),
    {abortNow, abortNow, abortNow, abortNow, abortNow, abortNow,
     abortNow, abortNow, abortNow, abortNow, abortNow, abortNow},
};

CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor *campaignd_plugin_entry_v1(void) {
    return (const campaignd_plugin_descriptor *)(const void *)&descriptor;
}

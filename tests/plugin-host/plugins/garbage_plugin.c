/* garbage_plugin.c: a valid name, but a version full of control bytes and invalid UTF-8, a
 * description that is 4096 bytes with no terminator, and a capability bit no host knows. The
 * host must copy bounded, sanitised strings and keep running. */
#include <campaignd/plugin.h>

#define A16 "AAAAAAAAAAAAAAAA"
#define A256 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16
#define A4096 A256 A256 A256 A256 A256 A256 A256 A256 A256 A256 A256 A256 A256 A256 A256 A256

/* Exactly 4096 characters: C drops the terminator when the literal fills the array. */
static const char unterminated[4096] = A4096;
static const char trailer[] = "BEYOND-THE-BOUND";

static campaignd_status garbageStart(const campaignd_host *host, void **instance, campaignd_error *err) {
    (void)host;
    (void)err;
    *instance = (void *)trailer;
    return CAMPAIGND_OK;
}

static void garbageStop(void *instance) { (void)instance; }

static const campaignd_plugin_descriptor descriptor = {
    .abi_major = CAMPAIGND_PLUGIN_ABI_MAJOR,
    .abi_minor = CAMPAIGND_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(campaignd_plugin_descriptor),
    .name = "garbage",
    .version = "1.0\x01\n\xff\xfe\xc3(",
    .description = unterminated,
    .capabilities = CAMPAIGND_CAP_IMPORTER | (UINT64_C(1) << 40),
    .start = garbageStart,
    .stop = garbageStop,
};

CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor *campaignd_plugin_entry_v1(void) { return &descriptor; }

/* null_descriptor_plugin.c: exports the entry point, which returns NULL. */
#include <campaignd/plugin.h>

CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor *campaignd_plugin_entry_v1(void) { return NULL; }

/* no_entry_plugin.c: a shared object without campaignd_plugin_entry_v1; it exports the entry of a
 * made-up major 2 instead, as a plugin built for a future ABI would. */
#include <campaignd/plugin.h>

CAMPAIGND_PLUGIN_EXPORT int campaignd_plugin_entry_v2(void) { return 2; }

/*
 * plugin.h - loading plugins (--plugin): shared libraries that export
 * winapi_plugin_v1 (<winapi/plugin.h>), whose operation then runs as a
 * built-in one does.
 */
#ifndef HOSTD_PLUGIN_H
#define HOSTD_PLUGIN_H

#include <stddef.h>

/*
 * Load file and add its operation (ops_add).  0, or -1 with the reason in
 * err, naming the file: it does not load, exports no winapi_plugin_v1,
 * has another ABI version, or its name is taken.  file must live as long
 * as the daemon.
 */
int plugin_load(const char *file, char *err, size_t errlen);
/* Unload every plugin, once no request runs. */
void plugins_unload(void);

#endif /* HOSTD_PLUGIN_H */

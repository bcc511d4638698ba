/*
 * plugin.c - loading plugins (see plugin.h).  They are loaded before the
 * server starts and stay until it has stopped: no lock.
 */
#include "config.h"

#include <stdio.h>
#include <winapi/plugin.h>

#include "conf.h"
#include "ops.h"
#include "plat.h"
#include "plugin.h"

#define PLUGINS_MAX HOSTD_MAX_PLUGINS

static void *libs[PLUGINS_MAX];
static size_t nlibs;

int plugin_load(const char *file, char *err, size_t errlen)
{
    char why[512];
    const struct winapi_plugin *p;
    void *lib;

    if (nlibs == PLUGINS_MAX) {
        snprintf(err, errlen, "plugin %s: at most %d plugins", file, PLUGINS_MAX);
        return -1;
    }
    if (!(lib = plat_lib_open(file, why, sizeof(why)))) {
        snprintf(err, errlen, "plugin %s: %s", file, why);
        return -1;
    }
    p = plat_lib_symbol(lib, "winapi_plugin_v1");
    if (!p) {
        snprintf(err, errlen, "plugin %s: exports no winapi_plugin_v1 (see winapi-plugin(3))",
                 file);
        plat_lib_close(lib);
        return -1;
    }
    if (ops_add(p, file, err, errlen) < 0) {
        plat_lib_close(lib);
        return -1;
    }
    libs[nlibs++] = lib;
    return 0;
}

void plugins_unload(void)
{
    ops_drop_plugins();
    while (nlibs > 0)
        plat_lib_close(libs[--nlibs]);
}

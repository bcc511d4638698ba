/*
 * plugin_bad.c - plugins winapi-hostd must refuse at start, one per build
 * of this file (tests/Makefile.am): another ABI version, a name that is
 * not a name, a built-in's name, no run().  test_hostd_plugin.py loads
 * each and expects the start to fail naming the file.
 */
#include <stddef.h>
#include <winapi/plugin.h>

#ifndef BAD_NO_RUN
static int run(struct winapi_plugin_call *c)
{
    (void)c;
    return 0;
}
#endif

#ifndef BAD_ABI
#define BAD_ABI WINAPI_PLUGIN_ABI
#endif
#ifndef BAD_NAME
#define BAD_NAME "bad"
#endif
#ifdef BAD_NO_RUN
#define BAD_RUN NULL
#else
#define BAD_RUN run
#endif

WINAPI_PLUGIN_EXPORT const struct winapi_plugin winapi_plugin_v1 = {
    .abi = BAD_ABI,
    .name = BAD_NAME,
    .access = WINAPI_PLUGIN_READ,
    .run = BAD_RUN,
};

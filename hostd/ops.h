/*
 * ops.h - the operations a host runs on a buffer: the built-in ones and
 * the plugins' (--plugin), all written against <winapi/plugin.h>, so
 * that request.c runs every one the same way.
 *
 * A built-in operation's name, access and parameter types are also the
 * protocol's (wp_ops.c), which the guest reads: adding one is a row there
 * and a row in ops.c's table.
 */
#ifndef HOSTD_OPS_H
#define HOSTD_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include <winapi/plugin.h>

#include "wp_ops.h"

struct op {
    const struct winapi_plugin *p;
    const wp_op *proto;         /* parameter types; NULL for a plugin */
    const char *file;           /* the plugin's file; NULL if built in */
    /* Its work is not bounded by the range (a plugin's code, a file
     * written besides it): never run on the event loop's thread. */
    bool unbounded;
};

/* NULL for an unknown name, and for encrypt and decrypt without a key. */
const struct op *ops_find(const char *name);
/* The names, for hello, as a new JSON array. */
json_object *ops_names(void);
/* libgcrypt's one-time setup, and each built-in's protocol row; 0 or -1. */
int ops_init(void);

/*
 * Add a plugin's operation, loaded from file.  0, or -1 with the reason
 * in err: another ABI version, a bad name or access, no run(), a name
 * taken.  p must live as long as the daemon.
 */
int ops_add(const struct winapi_plugin *p, const char *file, char *err, size_t errlen);

/* Forget every plugin's operation (they are being unloaded). */
void ops_drop_plugins(void);

/* Whether an operation maps the range and runs over it (not stat's kind). */
static inline bool op_maps(const struct op *op)
{
    return op->p->access != WINAPI_PLUGIN_NONE;
}

static inline unsigned op_passes(const struct op *op)
{
    return op->p->passes ? op->p->passes : 1;
}

/* ops_builtin.c, ops_crypt.c */
extern const struct winapi_plugin op_process, op_checksum, op_fill, op_stat;
extern const struct winapi_plugin op_encrypt, op_decrypt;
extern const struct winapi_plugin op_compress, op_decompress;

/* The params of a call, parsed (an object; NULL only when out of memory,
 * with the error set).  For a built-in, whose types the protocol checked. */
json_object *op_params(struct winapi_plugin_call *c);

#endif /* HOSTD_OPS_H */

/*
 * ops.c - the operations this host runs: the built-in ones, then the
 * plugins' in the order they were loaded.  Set up before the server
 * starts, read-only after: no lock.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gcrypt.h>

#include "conf.h"
#include "ops.h"
#include "ops_crypt.h"

#define NAME_MAX_CHARS 63
#define PASSES_MAX 16
#define BUILTINS 8
#define OPS_MAX (BUILTINS + HOSTD_MAX_PLUGINS)

static struct op table[OPS_MAX] = {
    { .p = &op_process },
    { .p = &op_checksum },
    { .p = &op_fill },
    { .p = &op_stat },
    { .p = &op_encrypt },
    { .p = &op_decrypt },
    { .p = &op_compress, .unbounded = true },
    { .p = &op_decompress, .unbounded = true },
};
static const size_t builtins = BUILTINS;
static size_t count = BUILTINS;

/* encrypt and decrypt exist only with a key. */
static bool available(const struct op *op)
{
    return (op->p != &op_encrypt && op->p != &op_decrypt) || crypt_have_key();
}

/* Every name, available or not: a plugin may not take encrypt's name. */
static const struct op *lookup(const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(table[i].p->name, name) == 0)
            return &table[i];
    return NULL;
}

const struct op *ops_find(const char *name)
{
    const struct op *op = lookup(name);

    return op && available(op) ? op : NULL;
}

json_object *ops_names(void)
{
    json_object *a = json_object_new_array();

    for (size_t i = 0; a && i < count; i++)
        if (available(&table[i]))
            json_object_array_add(a, json_object_new_string(table[i].p->name));
    return a;
}

/* Names go into JSON, logs and token files: keep them plain. */
static bool good_name(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
            return false;
    return n > 0 && n <= NAME_MAX_CHARS;
}

int ops_add(const struct winapi_plugin *p, const char *file, char *err, size_t errlen)
{
    const struct op *other;

    if (p->abi != WINAPI_PLUGIN_ABI) {
        snprintf(err, errlen, "plugin %s: ABI version %u, this host runs version %d",
                 file, (unsigned)p->abi, WINAPI_PLUGIN_ABI);
        return -1;
    }
    if (!p->name || !good_name(p->name)) {
        snprintf(err, errlen, "plugin %s: the operation's name must be 1 to %d of "
                 "a-z, 0-9 and _", file, NAME_MAX_CHARS);
        return -1;
    }
    if (p->access != WINAPI_PLUGIN_NONE && p->access != WINAPI_PLUGIN_READ &&
        p->access != WINAPI_PLUGIN_WRITE) {
        snprintf(err, errlen, "plugin %s: %s: unknown access %d", file, p->name, (int)p->access);
        return -1;
    }
    if (p->passes > PASSES_MAX || (p->flags & ~WINAPI_PLUGIN_CHAIN_LAST)) {
        snprintf(err, errlen, "plugin %s: %s: passes above %d, or unknown flags", file,
                 p->name, PASSES_MAX);
        return -1;
    }
    /* "chain" is what a chain's result calls itself. */
    if (strcmp(p->name, "chain") == 0) {
        snprintf(err, errlen, "plugin %s: the name chain is the protocol's", file);
        return -1;
    }
    if (!p->run && p->access != WINAPI_PLUGIN_NONE) {
        snprintf(err, errlen, "plugin %s: %s has no run function", file, p->name);
        return -1;
    }
    if ((other = lookup(p->name))) {
        snprintf(err, errlen, "plugin %s: operation %s is already %s%s", file, p->name,
                 other->file ? "loaded from " : "built in", other->file ? other->file : "");
        return -1;
    }
    if (count == OPS_MAX) {
        snprintf(err, errlen, "plugin %s: at most %d plugins", file, OPS_MAX - (int)builtins);
        return -1;
    }
    table[count++] = (struct op){ .p = p, .file = file, .unbounded = true };
    return 0;
}

void ops_drop_plugins(void)
{
    count = builtins;
}

int ops_init(void)
{
    for (size_t i = 0; i < builtins; i++)
        if (!(table[i].proto = wp_op_find(table[i].p->name)))
            return -1;      /* a row missing in wp_ops.c: caught by every test */
    if (!gcry_check_version(GCRYPT_VERSION))
        return -1;
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    return 0;
}

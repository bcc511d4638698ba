/*
 * wp_ops.c - the table of the operations every host has (see wp_ops.h).
 * Adding a built-in operation starts with a row here.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "wp_ops.h"

static const wp_op table[] = {
    { "process",  WP_OP_READ,  { { NULL, 0 } } },
    { "checksum", WP_OP_READ,  { { "algorithm", WP_PARAM_STRING } } },
    { "fill",     WP_OP_WRITE, { { "pattern", WP_PARAM_U32 } } },
    { "stat",     WP_OP_NONE,  { { NULL, 0 } } },
    { "encrypt",  WP_OP_WRITE, { { NULL, 0 } } },
    { "decrypt",  WP_OP_WRITE, { { "nonce", WP_PARAM_STRING }, { "tag", WP_PARAM_STRING } } },
    /* Read the buffer, write a file of their own (dest). */
    { "compress", WP_OP_READ,  { { "dest", WP_PARAM_STRING }, { "level", WP_PARAM_U32 } } },
    { "decompress", WP_OP_READ, { { "dest", WP_PARAM_STRING } } },
};

const wp_op *wp_op_find(const char *name)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

size_t wp_op_count(void)
{
    return sizeof(table) / sizeof(table[0]);
}

const wp_op *wp_op_at(size_t i)
{
    return i < wp_op_count() ? &table[i] : NULL;
}

bool wp_op_may_write(const char *name)
{
    const wp_op *op = wp_op_find(name);

    return !op || op->access == WP_OP_WRITE;
}

static bool has_type(json_object *v, wp_param_type type)
{
    int64_t n;

    switch (type) {
    case WP_PARAM_STRING:
        /* A NUL inside would cut the name short in C. */
        return json_object_is_type(v, json_type_string) &&
               strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
    case WP_PARAM_U32:
        if (!json_object_is_type(v, json_type_int))
            return false;
        n = json_object_get_int64(v);
        return n >= 0 && n <= UINT32_MAX;
    }
    return false;
}

int wp_op_check_params(const wp_op *op, json_object *params, char *err, size_t errlen)
{
    static const char *const types[] = {
        [WP_PARAM_STRING] = "a string without NUL bytes",
        [WP_PARAM_U32] = "an integer from 0 to 4294967295",
    };
    json_object *v;

    if (!params)
        return 0;
    for (size_t i = 0; i < WP_OP_MAX_PARAMS && op->params[i].name; i++) {
        const wp_op_param *p = &op->params[i];
        if (json_object_object_get_ex(params, p->name, &v) && !has_type(v, p->type)) {
            snprintf(err, errlen, "params.%s of %s must be %s", p->name, op->name,
                     types[p->type]);
            return -1;
        }
    }
    return 0;
}

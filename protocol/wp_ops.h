/*
 * wp_ops.h - the operations every host has: their names, how they use the
 * buffer, and their parameters.  One table, read by the host (which runs
 * them), the library (which checks a request before sending it) and the
 * mount (which drops its cache after an operation that may write).
 *
 * A host may run more (plugins): a name not here is not wrong, only
 * unknown to the guest, which then assumes the worst (it may write).
 */
#ifndef WP_OPS_H
#define WP_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

typedef enum {
    WP_OP_NONE,         /* maps nothing (stat) */
    WP_OP_READ,         /* maps for reading, unless the request asks for write */
    WP_OP_WRITE,        /* maps for writing; "access":"read" is refused */
} wp_op_access;

typedef enum { WP_PARAM_STRING, WP_PARAM_U32 } wp_param_type;

typedef struct {
    const char *name;
    wp_param_type type;
} wp_op_param;

#define WP_OP_MAX_PARAMS 4

typedef struct {
    const char *name;
    wp_op_access access;
    wp_op_param params[WP_OP_MAX_PARAMS];   /* up to the first without a name */
} wp_op;

/* The operation called name, or NULL if the table has none. */
const wp_op *wp_op_find(const char *name);
/* The table: wp_op_count() entries from wp_op_at(0). */
size_t wp_op_count(void);
const wp_op *wp_op_at(size_t i);

/*
 * Whether a step named name may write the buffer: a writing operation, or
 * one the table does not know.
 */
bool wp_op_may_write(const char *name);

/*
 * Check params (NULL: none) against op's parameters: each one it names
 * must have its type.  Unknown members are left to the host, as are
 * values (an algorithm's name).  0, or -1 with the reason in err.
 */
int wp_op_check_params(const wp_op *op, json_object *params, char *err, size_t errlen);

#endif /* WP_OPS_H */

/*
 * fuzz_xattr.c - the value a user writes to user.winapi.process
 * (fusefs/ctl_parse.c) against any bytes: setfattr passes them as they
 * are, NULs and all.
 *
 * Promises checked: an accepted value has an operation name of 1 to 128
 * printable characters without quotes or backslashes (it goes into a JSON
 * request and the log); params are one JSON object (libwinapi parses them
 * again), for every step of a chain too (1 to WP_MAX_STEPS); access is
 * read or write; and
 * whatever the outcome, ctl_req_free releases everything (LeakSanitizer).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>

#include "ctl_parse.h"
#include "fuzz.h"

/* One accepted step: a clean name and, if any, params that are an object. */
static void check_step(const winapi_request_t *r)
{
    const char *op = r->operation;
    size_t n;

    FUZZ_CHECK(op != NULL, "accepted without an operation");
    n = strlen(op);
    FUZZ_CHECK(n >= 1 && n <= CTL_NAME_MAX, "operation of %zu bytes", n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(isgraph((unsigned char)op[i]) && op[i] != '"' && op[i] != '\\',
                   "operation with byte 0x%02x", (unsigned char)op[i]);
    if (r->params_json) {
        json_object *p = json_tokener_parse(r->params_json);
        FUZZ_CHECK(p && json_object_is_type(p, json_type_object),
                   "params not an object: %s", r->params_json);
        json_object_put(p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctl_req c;
    int err = ctl_parse((const char *)data, size, &c);

    FUZZ_CHECK(err == 0 || err == EINVAL || err == ENOMEM, "errno %d", err);
    if (err == 0) {
        FUZZ_CHECK(c.nsteps >= 1 && c.nsteps <= WP_MAX_STEPS, "%zu steps", c.nsteps);
        for (size_t i = 0; i < c.nsteps; i++)
            check_step(&c.steps[i]);
        if (c.steps[0].access)
            FUZZ_CHECK(strcmp(c.steps[0].access, "read") == 0 ||
                       strcmp(c.steps[0].access, "write") == 0,
                       "access %s", c.steps[0].access);
    }
    ctl_req_free(&c);
    return 0;
}

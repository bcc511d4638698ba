/*
 * fuzz_xattr.c - the value a user writes to user.winapi.process
 * (fusefs/ctl_parse.c) against any bytes: setfattr passes them as they
 * are, NULs and all.
 *
 * Promises checked: an accepted value has an operation name of 1 to 128
 * printable characters without quotes or backslashes (it goes into a JSON
 * request and the log); params are one JSON object, for every step of a
 * chain too (1 to WP_MAX_STEPS); access is read, write or left out; and
 * whatever the outcome, ctl_req_free releases everything (LeakSanitizer).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>

#include "ctl_parse.h"
#include "fuzz.h"

/* One accepted step: a clean name and, if any, params that are an object. */
static void check_step(const char *op, json_object *params)
{
    size_t n;

    FUZZ_CHECK(op != NULL, "accepted without an operation");
    n = strlen(op);
    FUZZ_CHECK(n >= 1 && n <= CTL_NAME_MAX, "operation of %zu bytes", n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(isgraph((unsigned char)op[i]) && op[i] != '"' && op[i] != '\\',
                   "operation with byte 0x%02x", (unsigned char)op[i]);
    if (params)
        FUZZ_CHECK(json_object_is_type(params, json_type_object), "params not an object");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctl_req c;
    int err = ctl_parse((const char *)data, size, &c);

    FUZZ_CHECK(err == 0 || err == EINVAL || err == ENOMEM, "errno %d", err);
    if (err == 0) {
        const wp_request *w = &c.work;
        FUZZ_CHECK(ctl_steps(&c) >= 1 && ctl_steps(&c) <= WP_MAX_STEPS, "%zu steps",
                   ctl_steps(&c));
        for (size_t i = 0; i < ctl_steps(&c); i++)
            check_step(ctl_step_operation(&c, i), w->nsteps ? w->step_params[i] : w->params);
        FUZZ_CHECK(w->access == WP_ACCESS_DEFAULT || w->access == WP_ACCESS_READ ||
                   w->access == WP_ACCESS_WRITE, "access %d", (int)w->access);
    }
    ctl_req_free(&c);
    return 0;
}

/*
 * ctl_parse.h - the value written to user.winapi.process or submit: an
 * operation name ("checksum") or a JSON object
 * ({"operation":"checksum","params":{...},"access":"read","offset":0,"length":4096}),
 * whose "operation" and "params" may instead be a chain:
 * "operations":[{"operation":...,"params":{...}},...] (1 to WP_MAX_STEPS).
 *
 * The object's members are read by protocol/'s wp_work_parse(), as the
 * host reads them in a request, and known operations' parameters are
 * checked against protocol/'s table of operations, so a value is refused
 * here for what the host would refuse it.
 *
 * Apart from ctl.c, which needs FUSE and the namespace, so that the parser
 * of untrusted input can be tested and fuzzed alone (tests/fuzz/fuzz_xattr.c).
 * No I/O, no state: thread-safe.
 */
#ifndef WINAPIFS_CTL_PARSE_H
#define WINAPIFS_CTL_PARSE_H

#include <stddef.h>
#include <json-c/json.h>

#include "wp_msg.h"

/* Longest operation name. */
#define CTL_NAME_MAX 128

/* A parsed user.winapi.process value. */
struct ctl_req {
    char *text;                 /* the value, NUL-terminated and trimmed */
    json_object *obj;           /* when the value was JSON */
    /* The work, as wp_work_parse() leaves it; strings point into text or obj. */
    wp_request work;
};

/*
 * Parse size bytes of value into c.  Blanks around the value mean nothing;
 * a NUL inside it, an empty value, a name with blanks, quotes or
 * backslashes, JSON that is not one object, an unknown key (a typo such as
 * "param"), anything wp_work_parse() refuses (a wrong type, half a range,
 * both "operation" and "operations", a chain of no or too many steps) and
 * a known operation's parameter of the wrong type is EINVAL.  Returns 0 or
 * a positive errno (EINVAL, ENOMEM); whatever it returns, ctl_req_free(c)
 * releases what was parsed.
 */
int ctl_parse(const char *value, size_t size, struct ctl_req *c);
void ctl_req_free(struct ctl_req *c);

/* Step i's operation name (i < ctl_steps(c)). */
const char *ctl_step_operation(const struct ctl_req *c, size_t i);
/* How many steps: 1, or a chain's. */
size_t ctl_steps(const struct ctl_req *c);
/* Step i's params (an object of c's, which may be changed), or NULL. */
json_object *ctl_step_params(const struct ctl_req *c, size_t i);

#endif /* WINAPIFS_CTL_PARSE_H */

/*
 * ctl_parse.h - the value written to user.winapi.process or submit: an
 * operation name ("checksum") or a JSON object
 * ({"operation":"checksum","params":{...},"access":"read","offset":0,"length":4096}),
 * whose "operation" and "params" may instead be a chain:
 * "operations":[{"operation":...,"params":{...}},...] (1 to WP_MAX_STEPS).
 *
 * Apart from ctl.c, which needs FUSE and the namespace, so that the parser
 * of untrusted input can be tested and fuzzed alone (tests/fuzz/fuzz_xattr.c).
 * No I/O, no state: thread-safe.
 */
#ifndef WINAPIFS_CTL_PARSE_H
#define WINAPIFS_CTL_PARSE_H

#include <stddef.h>
#include <json-c/json.h>

#include "winapi.h"
#include "wp_msg.h"

/* Longest operation name. */
#define CTL_NAME_MAX 128

/* A parsed user.winapi.process value. */
struct ctl_req {
    char *text;                 /* the value, NUL-terminated and trimmed */
    json_object *obj;           /* when the value was JSON */
    /*
     * The steps: one, or a chain's.  steps[0] also carries the access and
     * range of the whole request.  Strings point into text or obj.
     */
    winapi_request_t steps[WP_MAX_STEPS];
    size_t nsteps;
};

/*
 * Parse size bytes of value into c.  Blanks around the value mean nothing;
 * a NUL inside it, an empty value, a name with blanks, quotes or
 * backslashes, JSON that is not one object, an unknown key (a typo such as
 * "param"), a wrong type, half a range, both "operation" and "operations"
 * or a chain of no or too many steps is EINVAL.  Returns 0 or a
 * positive errno (EINVAL, ENOMEM); whatever it returns, ctl_req_free(c)
 * releases what was parsed.
 */
int ctl_parse(const char *value, size_t size, struct ctl_req *c);
void ctl_req_free(struct ctl_req *c);

#endif /* WINAPIFS_CTL_PARSE_H */

/*
 * ctl_parse.c - parsing the value of user.winapi.process (see ctl_parse.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl_parse.h"
#include "wp_ops.h"

/*
 * An operation name goes into the request and the daemon's log: printable
 * and without what would need escaping.
 */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > CTL_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!isgraph((unsigned char)*s) || *s == '"' || *s == '\\')
            return false;
    return true;
}

size_t ctl_steps(const struct ctl_req *c)
{
    return c->work.nsteps ? c->work.nsteps : 1;
}

const char *ctl_step_operation(const struct ctl_req *c, size_t i)
{
    return c->work.nsteps ? c->work.step_operation[i] : c->work.operation;
}

json_object *ctl_step_params(const struct ctl_req *c, size_t i)
{
    return c->work.nsteps ? c->work.step_params[i] : c->work.params;
}

/* The members a value may have: the work of a request, nothing of the file's. */
static bool keys_ok(json_object *obj)
{
    static const char *const keys[] = {
        "operation", "params", "operations", "access", "offset", "length",
    };

    json_object_object_foreach(obj, key, v) {
        size_t i;
        (void)v;
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (strcmp(key, keys[i]) == 0)
                break;
        if (i == sizeof(keys) / sizeof(keys[0]))
            return false;   /* a typo ("param") should not pass unnoticed */
    }
    return true;
}

static int parse_json(struct ctl_req *c)
{
    json_tokener *tok = json_tokener_new();
    size_t len = strlen(c->text);
    char err[256];

    if (!tok)
        return ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    c->obj = json_tokener_parse_ex(tok, c->text, (int)len);
    if (c->obj && json_tokener_get_parse_end(tok) != len) {
        json_object_put(c->obj);
        c->obj = NULL;
    }
    json_tokener_free(tok);
    if (!c->obj || !json_object_is_type(c->obj, json_type_object) || !keys_ok(c->obj) ||
        wp_work_parse(c->obj, &c->work, err, sizeof(err)) != WP_OK)
        return EINVAL;
    for (size_t i = 0; i < ctl_steps(c); i++) {
        const wp_op *op = wp_op_find(ctl_step_operation(c, i));
        if (!name_ok(ctl_step_operation(c, i)) ||
            (op && wp_op_check_params(op, ctl_step_params(c, i), err, sizeof(err)) < 0))
            return EINVAL;
    }
    return 0;
}

int ctl_parse(const char *value, size_t size, struct ctl_req *c)
{
    size_t start = 0, end = size;

    memset(c, 0, sizeof(*c));
    c->work.api = WP_API_SHARED_BUFFER;
    /* "setfattr -v $(cat file)" and echo leave blanks; they mean nothing. */
    while (start < end && isspace((unsigned char)value[start]))
        start++;
    while (end > start && isspace((unsigned char)value[end - 1]))
        end--;
    if (start == end || memchr(value + start, '\0', end - start))
        return EINVAL;
    c->text = strndup(value + start, end - start);
    if (!c->text)
        return ENOMEM;
    if (c->text[0] == '{')
        return parse_json(c);
    c->work.operation = c->text;
    return name_ok(c->text) ? 0 : EINVAL;
}

void ctl_req_free(struct ctl_req *c)
{
    json_object_put(c->obj);
    free(c->text);
}

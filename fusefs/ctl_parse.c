/*
 * ctl_parse.c - parsing the value of user.winapi.process (see ctl_parse.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl_parse.h"

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

/* A JSON string without an embedded NUL, which C would cut short. */
static const char *string_field(json_object *v)
{
    const char *s;

    if (!json_object_is_type(v, json_type_string))
        return NULL;
    s = json_object_get_string(v);
    return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

static bool u64_field(json_object *v, uint64_t *out)
{
    int64_t x;

    if (!json_object_is_type(v, json_type_int))
        return false;
    x = json_object_get_int64(v);
    if (x < 0)
        return false;
    *out = (uint64_t)x;
    return true;
}

/* A step's "params": an object, kept as text for the library. */
static bool params_field(json_object *v, const char **out)
{
    if (!json_object_is_type(v, json_type_object))
        return false;
    /* The string lives as long as v. */
    *out = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    return *out != NULL;
}

/* One step of "operations": {"operation":NAME[,"params":{...}]}. */
static bool parse_step(json_object *s, winapi_request_t *step)
{
    if (!json_object_is_type(s, json_type_object))
        return false;
    json_object_object_foreach(s, key, v) {
        if (strcmp(key, "operation") == 0) {
            step->operation = string_field(v);
            if (!step->operation || !name_ok(step->operation))
                return false;
        } else if (strcmp(key, "params") != 0 || !params_field(v, &step->params_json)) {
            return false;
        }
    }
    return step->operation != NULL;
}

static bool parse_steps(struct ctl_req *c, json_object *v)
{
    size_t n;

    if (!json_object_is_type(v, json_type_array))
        return false;
    n = json_object_array_length(v);
    if (n < 1 || n > WP_MAX_STEPS || c->nsteps != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!parse_step(json_object_array_get_idx(v, i), &c->steps[i]))
            return false;
    c->nsteps = n;
    return true;
}

/* One member of the JSON form; false for a wrong type or unknown key. */
static bool parse_member(struct ctl_req *c, const char *key, json_object *v,
                         int *range_fields, bool *single)
{
    winapi_request_t *r = &c->steps[0];

    if (strcmp(key, "operation") == 0) {
        *single = true;
        r->operation = string_field(v);
        return r->operation && name_ok(r->operation);
    }
    if (strcmp(key, "params") == 0) {
        *single = true;
        return params_field(v, &r->params_json);
    }
    if (strcmp(key, "operations") == 0)
        return parse_steps(c, v);
    if (strcmp(key, "access") == 0) {
        r->access = string_field(v);
        return r->access &&
               (strcmp(r->access, "read") == 0 || strcmp(r->access, "write") == 0);
    }
    if (strcmp(key, "offset") == 0 || strcmp(key, "length") == 0) {
        (*range_fields)++;
        r->has_range = 1;
        return u64_field(v, key[0] == 'o' ? &r->offset : &r->length);
    }
    return false;   /* a typo ("param") should not pass unnoticed */
}

static int parse_json(struct ctl_req *c)
{
    json_tokener *tok = json_tokener_new();
    size_t len = strlen(c->text);
    int range_fields = 0;
    bool single = false;

    if (!tok)
        return ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    c->obj = json_tokener_parse_ex(tok, c->text, (int)len);
    if (c->obj && json_tokener_get_parse_end(tok) != len) {
        json_object_put(c->obj);
        c->obj = NULL;
    }
    json_tokener_free(tok);
    if (!c->obj || !json_object_is_type(c->obj, json_type_object))
        return EINVAL;
    json_object_object_foreach(c->obj, key, v)
        if (!parse_member(c, key, v, &range_fields, &single))
            return EINVAL;
    if (range_fields != 0 && range_fields != 2)
        return EINVAL;
    if (c->nsteps == 0) {
        c->nsteps = 1;
        return c->steps[0].operation ? 0 : EINVAL;
    }
    /* A chain's steps carry the operations; the request, no other. */
    return single ? EINVAL : 0;
}

int ctl_parse(const char *value, size_t size, struct ctl_req *c)
{
    size_t start = 0, end = size;

    memset(c, 0, sizeof(*c));
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
    c->steps[0].operation = c->text;
    c->nsteps = 1;
    return name_ok(c->text) ? 0 : EINVAL;
}

void ctl_req_free(struct ctl_req *c)
{
    json_object_put(c->obj);
    free(c->text);
}

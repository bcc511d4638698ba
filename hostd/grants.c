/*
 * grants.c - the token file's grants, and what they let a request do.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "grants.h"
#include "wp_path.h"

int grants_load(const char *path, struct grants *g, char *err, size_t errlen)
{
    char *text = wp_token_read(path, err, errlen), why[300];
    int rc;

    memset(g, 0, sizeof(*g));
    if (!text)
        return -1;
    rc = wp_grants_parse(text, &g->v, &g->n, why, sizeof(why));
    if (rc < 0)
        snprintf(err, errlen, "token file %s: %s", path, why);
    /* The tokens are copies: the text goes now, wiped as a secret should be. */
    memset(text, 0, strlen(text));
    free(text);
    return rc;
}

void grants_free(struct grants *g)
{
    wp_grants_free(g->v, g->n);
    memset(g, 0, sizeof(*g));
}

const wp_grant *grants_find(const struct grants *g, const char *token)
{
    const wp_grant *found = NULL;

    /* No early exit: how long it takes says nothing of which line matched. */
    for (size_t i = 0; i < g->n; i++)
        if (wp_token_equal(token, g->v[i].token) && !found)
            found = &g->v[i];
    return found;
}

bool grant_allows_op(const wp_grant *g, const char *operation)
{
    if (!g->ops)
        return true;
    for (size_t i = 0; i < g->nops; i++)
        if (strcmp(g->ops[i], operation) == 0)
            return true;
    return false;
}

bool grant_allows_path(const wp_grant *g, const char *host)
{
    if (!g->roots)
        return true;
    for (size_t i = 0; i < g->nroots; i++)
        if (wp_path_host_below(g->roots[i], host) > 0)
            return true;
    return false;
}

static json_object *strings(char *const *v, size_t n)
{
    json_object *a = json_object_new_array();

    for (size_t i = 0; a && i < n; i++)
        json_object_array_add(a, json_object_new_string(v[i]));
    return a;
}

json_object *grant_json(const wp_grant *g, const struct hostd_config *cfg, json_object *ops_all)
{
    json_object *o = json_object_new_object(), *roots;

    if (!o) {
        json_object_put(ops_all);
        return NULL;
    }
    if (g->ops) {
        json_object_put(ops_all);
        json_object_object_add(o, "operations", strings(g->ops, g->nops));
    } else {
        json_object_object_add(o, "operations", ops_all);
    }
    if (g->roots) {
        roots = strings(g->roots, g->nroots);
    } else {
        roots = json_object_new_array();
        for (int i = 0; roots && i < cfg->n_allow; i++)
            json_object_array_add(roots, json_object_new_string(cfg->allow[i]));
    }
    json_object_object_add(o, "roots", roots);
    json_object_object_add(o, "access", json_object_new_string(g->read_only ? "read" : "write"));
    return o;
}

/*
 * grants.h - what each token may do (SPEC, "Permissions"): the lines of
 * --token-file, each a token with the operations, roots and access it
 * grants.  A line with a token alone grants everything, so a version 1
 * token file means what it meant.
 */
#ifndef HOSTD_GRANTS_H
#define HOSTD_GRANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "wp_token.h"

struct hostd_config;

struct grants {
    wp_grant *v;
    size_t n;
};

/* Read path (a private file, wp_token_read) into g.  0, or -1 with the reason in err. */
int grants_load(const char *path, struct grants *g, char *err, size_t errlen);
void grants_free(struct grants *g);

/* token's grant, or NULL; every grant is compared, whichever matches. */
const wp_grant *grants_find(const struct grants *g, const char *token);

bool grant_allows_op(const wp_grant *g, const char *operation);
/* Whether the canonical host file path lies below one of g's roots. */
bool grant_allows_path(const wp_grant *g, const char *host);

/* hello's "granted": {"operations":[...],"roots":[...],"access":...}; ops_all is the host's list (taken). */
json_object *grant_json(const wp_grant *g, const struct hostd_config *cfg, json_object *ops_all);

#endif /* HOSTD_GRANTS_H */

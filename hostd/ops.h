/*
 * ops.h - the operations a host runs on a buffer.
 *
 * An operation is looked up by name, checks its parameters before any file
 * is touched, then runs over the mapped range.  Its name, access and
 * parameter types are the protocol's (wp_ops.c), which the guest reads
 * too; adding one is adding a row there and a row to the table in ops.c.
 */
#ifndef HOSTD_OPS_H
#define HOSTD_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gcrypt.h>
#include <json-c/json.h>

#include "wp_msg.h"
#include "wp_ops.h"

/* Everything one run of an operation needs and produces. */
struct op_run {
    void *addr;                 /* this call's part of the range (NULL when length is 0) */
    uint64_t length;
    json_object *params;        /* may be NULL */
    json_object *result;        /* the operation adds its fields here */
    /* where the request is, for finish(): set by request.c */
    void *base;                 /* the whole mapped range */
    uint64_t range_length;
    int passes;                 /* the operation's */
    int pass;                   /* the pass at work, from 0 */
    uint64_t done;              /* bytes of the range this pass has been through */
    bool faulted;               /* the file shrank under the mapping: hands off */
    /* what check() parsed, for run() */
    int algorithm;
    gcry_md_hd_t md;
    bool md_done;
    uint32_t pattern;
    gcry_cipher_hd_t cipher;
    unsigned char nonce[12], tag[16];
};

struct op {
    const char *name;
    const wp_op *proto;         /* access and parameter types; set by ops_init() */
    /* Validate params, whose types the protocol has checked; WP_OK or
     * WP_BAD_REQUEST with the reason. */
    wp_code (*check)(struct op_run *r, char *err, size_t errlen);
    /* Run over the mapping; may fault if the file shrinks (caller guards). */
    void (*run)(struct op_run *r);
    /* If set, called after every successful check(), whatever happened
     * since: adds results and releases what check() took. */
    void (*finish)(struct op_run *r);
    /* Times run() goes over the range (0: once); between(), if set, is
     * called after each pass (pass tells which) and may end the request with
     * an error. */
    int passes;
    wp_code (*between)(struct op_run *r, char *err, size_t errlen);
    /* Only as a chain's last step: what it does is undone only while it runs. */
    bool chain_last;
};

/* NULL for an unknown name, and for encrypt and decrypt without a key. */
const struct op *ops_find(const char *name);
/* The names, for hello, as a new JSON array. */
json_object *ops_names(void);
/* libgcrypt's one-time setup, and each operation's protocol row; 0 or -1. */
int ops_init(void);

#endif /* HOSTD_OPS_H */

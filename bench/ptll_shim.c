/*
 * ptll_shim.c - gives libfuse's example passthrough_ll the standard
 * connection options (-o splice_read,splice_write,splice_move,max_write=N,
 * max_readahead=N...), so that the benchmark can run it at its best.
 *
 * passthrough_ll.c is built unmodified from libfuse's examples, with
 * -Dfuse_session_new=ptll_session_new: this file then parses those options
 * with fuse_parse_conn_info_opts() and applies them after the example's
 * own init(), as a low-level file system that wants them does.
 */
#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <string.h>

struct fuse_session *ptll_session_new(struct fuse_args *args,
                                      const struct fuse_lowlevel_ops *op,
                                      size_t op_size, void *userdata);

static struct fuse_lowlevel_ops ops;
static void (*example_init)(void *userdata, struct fuse_conn_info *conn);
static struct fuse_conn_info_opts *conn_opts;

static void shim_init(void *userdata, struct fuse_conn_info *conn)
{
    if (example_init)
        example_init(userdata, conn);
    fuse_apply_conn_info_opts(conn_opts, conn);
}

struct fuse_session *ptll_session_new(struct fuse_args *args,
                                      const struct fuse_lowlevel_ops *op,
                                      size_t op_size, void *userdata)
{
    conn_opts = fuse_parse_conn_info_opts(args);
    if (!conn_opts)
        return NULL;
    memcpy(&ops, op, op_size < sizeof(ops) ? op_size : sizeof(ops));
    example_init = ops.init;
    ops.init = shim_init;
    return fuse_session_new(args, &ops, sizeof(ops), userdata);
}

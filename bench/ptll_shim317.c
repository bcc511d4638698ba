/*
 * ptll_shim317.c - ptll_shim.c's entry point for libfuse 3.17 and later,
 * where fuse_session_new() is a macro over fuse_session_new_versioned().
 * passthrough_ll.c is then built with
 * -Dfuse_session_new_versioned=ptll_session_new_versioned, which lands
 * here; ptll_shim.c's ptll_session_new() then creates the session with
 * libfuse's own fuse_session_new(), as before 3.17.
 */
#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

struct fuse_session *ptll_session_new(struct fuse_args *args,
                                      const struct fuse_lowlevel_ops *op,
                                      size_t op_size, void *userdata);
struct fuse_session *ptll_session_new_versioned(struct fuse_args *args,
                                                const struct fuse_lowlevel_ops *op,
                                                size_t op_size,
                                                struct libfuse_version *version,
                                                void *userdata);

/* The version passthrough_ll.c was built against is the one here. */
struct fuse_session *ptll_session_new_versioned(struct fuse_args *args,
                                                const struct fuse_lowlevel_ops *op,
                                                size_t op_size,
                                                struct libfuse_version *version,
                                                void *userdata)
{
    (void)version;
    return ptll_session_new(args, op, op_size, userdata);
}

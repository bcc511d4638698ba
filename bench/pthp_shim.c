/*
 * pthp_shim.c - asks, for libfuse's example passthrough_hp, for
 * FUSE_CAP_HANDLE_KILLPRIV_V2, which its init() does not request (libfuse
 * 3.18), and says on stderr what the kernel granted:
 *
 *   pthp_shim: libfuse 3.18.3, passthrough on, handle_killpriv_v2 on
 *
 * passthrough_hp is relinked here from the object file libfuse's own build
 * compiled, unmodified, with -Wl,--wrap=fuse_session_new_versioned (what
 * fuse_session_new() calls since libfuse 3.17): this file then wraps the
 * example's init() as ptll_shim.c does for passthrough_ll.  With kernel
 * passthrough on, reads, writes and mmap bypass the daemon; the flag still
 * spares the FUSE requests that go through it (setattr, and writes should
 * passthrough be refused) the kernel's check for security.capability.
 */
#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 17)
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <string.h>

struct fuse_session *
__real_fuse_session_new_versioned(struct fuse_args *args,
                                  const struct fuse_lowlevel_ops *op, size_t op_size,
                                  struct libfuse_version *version, void *userdata);
struct fuse_session *
__wrap_fuse_session_new_versioned(struct fuse_args *args,
                                  const struct fuse_lowlevel_ops *op, size_t op_size,
                                  struct libfuse_version *version, void *userdata);

static struct fuse_lowlevel_ops ops;
static void (*example_init)(void *userdata, struct fuse_conn_info *conn);

static void shim_init(void *userdata, struct fuse_conn_info *conn)
{
    if (example_init)
        example_init(userdata, conn);
    fuse_set_feature_flag(conn, FUSE_CAP_HANDLE_KILLPRIV_V2);
    fprintf(stderr, "pthp_shim: libfuse %s, passthrough %s, handle_killpriv_v2 %s\n",
            fuse_pkgversion(),
            fuse_get_feature_flag(conn, FUSE_CAP_PASSTHROUGH) ? "on" : "off",
            fuse_get_feature_flag(conn, FUSE_CAP_HANDLE_KILLPRIV_V2) ? "on" : "off");
}

struct fuse_session *
__wrap_fuse_session_new_versioned(struct fuse_args *args,
                                  const struct fuse_lowlevel_ops *op, size_t op_size,
                                  struct libfuse_version *version, void *userdata)
{
    memcpy(&ops, op, op_size < sizeof(ops) ? op_size : sizeof(ops));
    example_init = ops.init;
    ops.init = shim_init;
    return __real_fuse_session_new_versioned(args, &ops, sizeof(ops), version, userdata);
}

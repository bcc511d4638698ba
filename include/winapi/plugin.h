/*
 * <winapi/plugin.h> - operations users add to winapi-hostd (winapi-plugin(3)).
 *
 * A plugin is a shared library (.so, or .dll on Windows) that exports one
 * object, winapi_plugin_v1: the operation's name, how it uses the buffer,
 * and the functions the host calls.  The host's own operations (process,
 * checksum, fill, stat, encrypt, decrypt) are written against this header
 * too: a plugin is run exactly as they are.
 *
 * How a request runs:
 *
 *   start(c)          once, before the file is opened: check c->params,
 *                     set c->state; quick (it may run on the thread that
 *                     serves every connection)
 *   run(c)            for each part of the range, in order, once per pass;
 *                     parts are at most 1 MiB, so the host can answer others
 *                     between them and stop a cancelled request
 *   finish(c, done)   once, whenever start() returned 0: add results,
 *                     release c->state; done is 0 if this operation did
 *                     not get through every pass (an error, a cancel, the
 *                     client gone), which is when to put back what run()
 *                     changed.  In a chain, a step that got through is
 *                     finished at once: a later step failing does not
 *                     undo it (WINAPI_PLUGIN_CHAIN_LAST is for that).
 *
 * A run() that touches the range after the file shrank is left by a jump:
 * take no lock and allocate nothing there that only its end releases.
 * A result, as a line of the protocol, must fit in 64 KiB.
 *
 * One request's calls come one at a time, but not always on the same
 * thread; calls for other requests may run at the same time on others.
 * Keep what a request needs in c->state, not in globals.
 *
 * The ABI is plain C: no structure here changes within one version.  A
 * plugin built for another version is refused when the host starts.
 */
#ifndef WINAPI_PLUGIN_H
#define WINAPI_PLUGIN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WINAPI_PLUGIN_ABI 1

#ifdef _WIN32
#define WINAPI_PLUGIN_EXPORT __declspec(dllexport)
#else
#define WINAPI_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* How an operation uses the buffer (the protocol's "access"). */
enum winapi_plugin_access {
    WINAPI_PLUGIN_NONE,         /* maps nothing: run() is called once, without data */
    WINAPI_PLUGIN_READ,         /* reads the range (mapped for writing if the request asks) */
    WINAPI_PLUGIN_WRITE,        /* changes the range in place */
};

/* The errors an operation may end a request with (the protocol's codes). */
enum winapi_plugin_error {
    WINAPI_PLUGIN_BAD_REQUEST = 1,      /* bad_request: the params are wrong */
    WINAPI_PLUGIN_DATA_ERROR,           /* data_error: the data is not what it must be */
    WINAPI_PLUGIN_IO_ERROR,             /* io_error */
    WINAPI_PLUGIN_INTERNAL,             /* internal: out of memory, a library failed */
};

/* flags */
#define WINAPI_PLUGIN_CHAIN_LAST 1u     /* only as a chain's last step */

/* One request, as an operation sees it.  The host fills it; the plugin
 * writes only state. */
struct winapi_plugin_call {
    /* The part of the range this run() works on. */
    void *data;                 /* NULL when length is 0 */
    uint64_t length;
    uint64_t offset;            /* of data, from the start of the range */
    /* The whole request.  start() runs before the file is opened: range,
     * file_size and host_path are set from run() on. */
    void *range;                /* the mapped range (NULL: none, or empty) */
    uint64_t range_length;
    uint64_t buffer_offset;     /* of the range in the file */
    uint64_t file_size;
    const char *host_path;      /* the file, as the host names it (UTF-8); "" in start() */
    const char *params;         /* the request's params: a JSON object, "{}" if none */
    unsigned pass;              /* from 0 to passes - 1 */
    int faulted;                /* the file shrank under the mapping: do not touch range */
    void *state;                /* the plugin's */

    /* What the host does for the plugin; c is this call. */

    /* Bytes of this part done so far, for progress in a long part (the
     * host counts whole parts itself). */
    void (*progress)(struct winapi_plugin_call *c, uint64_t part_done);
    /* Nonzero once the request is cancelled: stop early and return -1
     * without set_error(); the request ends as cancelled. */
    int (*cancelled)(struct winapi_plugin_call *c);
    /* Merge a JSON object's members into the result (repeatable); 0, or -1
     * if json is not one object of valid UTF-8, is 64 KiB or more, or names
     * operation, buffer_id, bytes_processed or status. */
    int (*set_result)(struct winapi_plugin_call *c, const char *json);
    /* End the request with an error; start() and run() then return -1.
     * message is UTF-8, shown to the client as it is.  Not in finish(),
     * which cannot fail. */
    void (*set_error)(struct winapi_plugin_call *c, enum winapi_plugin_error code,
                      const char *message);
    /* One member of params, for a plugin without a JSON parser: a string's
     * text (UTF-8), or any other value as JSON, NUL-terminated in buf (cut
     * to buflen - 1 bytes).  Returns the whole length, as snprintf does, or
     * -1 if params has no such member. */
    long (*param)(struct winapi_plugin_call *c, const char *name, char *buf,
                  unsigned long buflen);
    /* Call fn(arg), and return -1 instead of crashing if it touches the
     * range after the file shrank (for finish() putting data back; run()
     * is guarded already). */
    int (*guard)(struct winapi_plugin_call *c, void (*fn)(void *arg), void *arg);

    void *host;                 /* the host's own: do not touch */
};

struct winapi_plugin {
    uint32_t abi;               /* WINAPI_PLUGIN_ABI */
    const char *name;           /* [a-z0-9_], at most 63 characters */
    enum winapi_plugin_access access;
    unsigned passes;            /* times run() goes over the range: 0 (once) to 16 */
    unsigned flags;             /* WINAPI_PLUGIN_CHAIN_LAST; no other bit */
    const char *description;    /* one line, for people */
    /* 0, or -1 after set_error().  May be NULL. */
    int (*start)(struct winapi_plugin_call *c);
    /* 0, or -1 after set_error().  May be NULL for WINAPI_PLUGIN_NONE. */
    int (*run)(struct winapi_plugin_call *c);
    /* May be NULL. */
    void (*finish)(struct winapi_plugin_call *c, int done);
};

/* What a plugin exports:
 *     WINAPI_PLUGIN_EXPORT const struct winapi_plugin winapi_plugin_v1 = { ... };
 * (declared here, so that C++ gives it C linkage too).
 */
WINAPI_PLUGIN_EXPORT extern const struct winapi_plugin winapi_plugin_v1;

#ifdef __cplusplus
}
#endif

#endif /* WINAPI_PLUGIN_H */

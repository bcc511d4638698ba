/*
 * winapi.h - the libwinapi client API.
 *
 * A guest program allocates a shared buffer (a plain file in the backing
 * directory, mapped MAP_SHARED), fills it, and asks the host daemon over a
 * newline-delimited JSON control channel to process it.  The host maps the
 * same file, so the data never crosses the socket.
 *
 * Conventions, everywhere in this header:
 *  - functions returning int return 0 on success and -1 with errno set on
 *    failure; the errno values follow the error-code table of the protocol
 *    (EINVAL, EOPNOTSUPP, EACCES, ENOENT, EIO, EBUSY) plus ECONNREFUSED,
 *    ETIMEDOUT and ECONNRESET for a host that is down, silent or vanishes;
 *  - settings not given explicitly are read from the environment
 *    (WINAPI_HOST, WINAPI_PORT, WINAPI_TOKEN_FILE, WINAPI_BACKING_DIR,
 *    WINAPI_AUTOMOUNT_ROOT), then fall back to the defaults;
 *  - a handle may be shared by many threads: requests from different threads
 *    are pipelined on one connection and matched by request_id.  A dropped
 *    connection fails the requests in flight with ECONNRESET; the next
 *    request reconnects.
 *
 * Build with: cc prog.c $(pkg-config --cflags --libs winapi)
 */
#ifndef WINAPI_H
#define WINAPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WINAPI_DEFAULT_HOST        "127.0.0.1"
#define WINAPI_DEFAULT_PORT        5757
#define WINAPI_DEFAULT_BACKING_DIR "/mnt/c/temp"
#define WINAPI_DEFAULT_TIMEOUT     30          /* seconds */

typedef struct winapi_client *winapi_handle_t;

typedef struct {
    void *data;              /* mapped memory */
    size_t size;             /* bytes */
    char file_path[256];     /* backing file (guest path) */
    int fd;                  /* file descriptor */
    uint32_t buffer_id;      /* unique buffer identifier */
} winapi_shared_buffer_t;

/*
 * Settings for winapi_open().  Zero (or NULL) fields mean "from the
 * environment, else the default".  Strings are copied; the caller keeps
 * ownership of the structure.
 */
typedef struct {
    const char *host;           /* WINAPI_HOST, "127.0.0.1" */
    int port;                   /* WINAPI_PORT, 5757 */
    const char *token_file;     /* WINAPI_TOKEN_FILE, none */
    const char *backing_dir;    /* WINAPI_BACKING_DIR, "/mnt/c/temp" */
    const char *automount_root; /* WINAPI_AUTOMOUNT_ROOT, as wslpath finds it */
    int timeout;                /* seconds to wait for an answer, 30 */
} winapi_options_t;

/*
 * Open a handle.  opts may be NULL.  Does not connect yet: the first request
 * does, so a handle can be opened before the host is up.  Fails with EINVAL
 * for a bad setting (the reason is in winapi_last_error()) and ENOMEM.
 */
int winapi_open(const winapi_options_t *opts, winapi_handle_t *handle);

/* Close the connection and free the handle.  NULL is a no-op. */
void winapi_close(winapi_handle_t handle);

/* The settings in force after defaults and environment were applied. */
const char *winapi_host(winapi_handle_t handle);
int winapi_port(winapi_handle_t handle);
const char *winapi_backing_dir(winapi_handle_t handle);
const char *winapi_automount_root(winapi_handle_t handle);

/*
 * A human-readable reason for the calling thread's last failure in this
 * library ("host 127.0.0.1:5757 refused the connection").  Never NULL; the
 * string is owned by the library and valid until the thread's next call.
 */
const char *winapi_last_error(void);

/*
 * Create a buffer of size bytes (size may be 0) in the backing directory,
 * named winapi_shared_buffer_{ID}_{PID}, mode 0600, and map it read-write.
 * On failure nothing is left behind: no file, no descriptor, no mapping.
 */
int winapi_alloc_shared_buffer(winapi_handle_t handle, size_t size,
                               winapi_shared_buffer_t *buffer);

/*
 * Ask the host to run operation ("process", "checksum", "fill", "stat" or a
 * plugin's) on the whole buffer with default parameters.  On failure the
 * buffer stays valid and is the caller's to free.
 */
int winapi_process_shared_buffer(winapi_handle_t handle,
                                 winapi_shared_buffer_t *buffer,
                                 const char *operation);

/*
 * Unmap, close and unlink the buffer, then zero the structure.  Safe on a
 * zeroed structure and on one already freed.
 */
void winapi_free_shared_buffer(winapi_shared_buffer_t *buffer);

/*
 * A request with everything the protocol allows.  operation is required;
 * every other field may be zero/NULL.
 */
typedef struct {
    const char *operation;      /* "checksum" */
    const char *params_json;    /* JSON object text, e.g. {"algorithm":"sha256"} */
    const char *access;         /* "read", "write" or NULL for the default */
    int has_range;              /* nonzero: process [offset, offset+length) */
    uint64_t offset;
    uint64_t length;
} winapi_request_t;

/*
 * Send req for the file at guest_path (size bytes, identified as buffer_id)
 * and wait for the answer.  If response is not NULL, *response receives the
 * whole response line (JSON, no newline; malloc'd, the caller frees it) on
 * success and on an error answered by the host; it is NULL when no answer
 * came.  Returns 0 for a "success" response, else -1 with errno per the
 * table.
 */
int winapi_request_path(winapi_handle_t handle, const char *guest_path,
                        uint64_t size, uint32_t buffer_id,
                        const winapi_request_t *req, char **response);

/* winapi_request_path() for a buffer from winapi_alloc_shared_buffer(). */
int winapi_request(winapi_handle_t handle, const winapi_shared_buffer_t *buffer,
                   const winapi_request_t *req, char **response);

/*
 * Send a raw JSON line (without newline; a request_id, if any, is replaced by
 * the library's own; a hello without a token gets the handle's, if it has
 * one) and return the raw response.  For ping, hello and tools.  Same
 * return convention as winapi_request_path().
 */
int winapi_request_json(winapi_handle_t handle, const char *json,
                        char **response);

/*
 * A chain: steps[0..nsteps) (1 to 16) run in order over one mapping of the
 * file, as one request.  Each step's operation and params_json are its
 * own; access and the range are steps[0]'s.  *response as above: on
 * success its result holds "steps", one result per step; a failing
 * step's error holds "step", its index.
 */
int winapi_chain_path(winapi_handle_t handle, const char *guest_path,
                      uint64_t size, uint32_t buffer_id,
                      const winapi_request_t *steps, size_t nsteps, char **response);

/*
 * Jobs (version 2): a request the host answers at once and works on in
 * the background.  Every call here is thread-safe on one handle.
 */
typedef struct {
    uint64_t job_id;
    char state[16];             /* "queued", "running", "done", "failed", "cancelled" */
    char operation[64];         /* the request's, or "chain" */
    uint64_t bytes_done;        /* progress, moving at least every MiB */
    uint64_t bytes_total;
    char *response;             /* once ended: the request's whole response (JSON); else NULL */
} winapi_job_t;

/*
 * Submit req (or, when nsteps > 0, the chain steps[0..nsteps)) for the
 * file at guest_path as a job.  What is wrong with it fails here at once,
 * as winapi_request_path() would; else *job_id is set and 0 returned.
 */
int winapi_submit_path(winapi_handle_t handle, const char *guest_path,
                       uint64_t size, uint32_t buffer_id,
                       const winapi_request_t *steps, size_t nsteps, uint64_t *job_id);
/* winapi_submit_path() for a buffer from winapi_alloc_shared_buffer(), one request. */
int winapi_submit(winapi_handle_t handle, const winapi_shared_buffer_t *buffer,
                  const winapi_request_t *req, uint64_t *job_id);

/*
 * The job's state and progress now (status), when it ends or after
 * timeout_ms (wait; -1: 30 s, the host's default), or after asking it to
 * stop (cancel: it stops within 100 ms, its state becomes "cancelled" and
 * its response the error cancelled, ECANCELED).  0 with *job filled
 * (release it with winapi_job_release), or -1 with errno: ENOENT for an
 * unknown job or one ended longer ago than the host keeps it.
 */
int winapi_job_status(winapi_handle_t handle, uint64_t job_id, winapi_job_t *job);
int winapi_job_wait(winapi_handle_t handle, uint64_t job_id, int timeout_ms,
                    winapi_job_t *job);
int winapi_job_cancel(winapi_handle_t handle, uint64_t job_id, winapi_job_t *job);
/* Every job the host keeps: *jobs (free with winapi_job_list_free) and *count. */
int winapi_job_list(winapi_handle_t handle, winapi_job_t **jobs, size_t *count);
void winapi_job_release(winapi_job_t *job);
void winapi_job_list_free(winapi_job_t *jobs, size_t count);
/*
 * How an ended job's request went, as errno: 0 if it succeeded (or has not
 * ended), else the errno of its error code, as a synchronous request would
 * have set it (EBADMSG for data_error, ECANCELED once cancelled...).
 */
int winapi_job_errno(const winapi_job_t *job);

/*
 * Buffer files that a killed program left behind: in dir (NULL: the
 * WINAPI_BACKING_DIR environment variable, else WINAPI_DEFAULT_BACKING_DIR),
 * every file named winapi_shared_buffer_{ID}_{PID} whose process is gone and
 * that no winapifs journal in dir names (a running mount's, or one the next
 * mount will take over).  Never a file whose process still runs, nor any
 * other file.  Unless dry_run each is removed; fn, if not NULL, is called
 * for each with its path and 0 or the errno of its removal.  Returns how
 * many were found, or -1 with errno set (the directory cannot be read).
 */
typedef void winapi_reap_fn(void *arg, const char *path, int err);
int winapi_reap(const char *dir, int dry_run, winapi_reap_fn *fn, void *arg);

/*
 * Buffer pools.  A buffer put back keeps its file, mapping and pages, up to
 * max_bytes in all, and is handed out again for any request it can hold
 * (cut to the size asked for), so that a program that makes buffers over
 * and over pays for their first touch once.  Thread-safe: one pool may
 * serve every thread of a handle.
 *
 * winapi_pool_get() returns a buffer as winapi_alloc_shared_buffer() does:
 * size bytes, file and mapping of exactly that size, zeroed unless flags
 * has WINAPI_POOL_DIRTY (then it holds whatever its last user left).
 * winapi_pool_put() takes the buffer back (or frees it, when the pool is
 * full) and zeroes *buffer; a buffer of no pool may be put, and is freed.
 * winapi_free_shared_buffer() may also free a pooled buffer.
 * winapi_pool_close() frees every buffer kept; buffers still out stay
 * their holders' to put or free.
 */
typedef struct winapi_pool winapi_pool_t;
#define WINAPI_POOL_DIRTY 1u
int winapi_pool_open(winapi_handle_t handle, uint64_t max_bytes, winapi_pool_t **pool);
int winapi_pool_get(winapi_pool_t *pool, size_t size, unsigned flags,
                    winapi_shared_buffer_t *buffer);
void winapi_pool_put(winapi_pool_t *pool, winapi_shared_buffer_t *buffer);
void winapi_pool_close(winapi_pool_t *pool);

#ifdef __cplusplus
}
#endif

#endif /* WINAPI_H */

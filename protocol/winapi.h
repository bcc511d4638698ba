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
 * the library's own) and return the raw response.  For ping, hello and
 * tools.  Same return convention as winapi_request_path().
 */
int winapi_request_json(winapi_handle_t handle, const char *json,
                        char **response);

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

#ifdef __cplusplus
}
#endif

#endif /* WINAPI_H */

/*
 * winapi.c - the winapi command (winapi(1)): ask the host from a shell.
 *
 *   winapi [--host H] [--port P] [--token-file F] COMMAND ...
 *
 * Built on the public API of libwinapi alone, as any program would be.
 * A file in a winapifs mount is asked about through its attributes, so
 * that the mount's coherence and its status/result attributes hold; any
 * other file under the automount root goes through the library.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "winapi.h"

/* How often the progress bar is redrawn, and the wait it does meanwhile. */
#define PROGRESS_MS 200

static volatile sig_atomic_t interrupted;

static const char usage_text[] =
"Usage: winapi [--host H] [--port P] [--token-file F] COMMAND ...\n"
"Ask the host of winapifs (winapi-hostd) from a shell.\n"
"\n"
"  ping                          the host's answer to ping\n"
"  hello                         its name, version, protocol and operations\n"
"  process FILE OPERATION [PARAMS-JSON]\n"
"          [--access read|write] [--offset N --length N] [--async]\n"
"  process FILE --chain '[{\"operation\":...,\"params\":{...}},...]'\n"
"                                run OPERATION (or the chain) on FILE and print\n"
"                                the result JSON; --async prints the job instead\n"
"  jobs                          every job the host keeps\n"
"  wait JOB [--timeout MS]       the job's status when it ends (or after MS)\n"
"  wait FILE                     the result of the file's job, once it ended\n"
"  cancel JOB|FILE               stop the job (the file's last one)\n"
"  reap [--dry-run] [DIR]        remove buffer files of programs that are gone\n"
"\n"
"FILE is a file in a winapifs mount (asked through its attributes) or any\n"
"file under the automount root (through libwinapi).  While the host works\n"
"and stderr is a terminal, a progress bar is drawn there.\n"
"Settings come from the options, else WINAPI_HOST, WINAPI_PORT,\n"
"WINAPI_TOKEN_FILE, WINAPI_BACKING_DIR, WINAPI_AUTOMOUNT_ROOT.\n"
"Exit status: 0, or 1 after saying why on stderr (2: bad usage).\n"
"See winapi(1).\n";

struct args {
    winapi_options_t opts;
    const char *access;
    const char *chain;
    bool has_offset, has_length, async, dry_run;
    uint64_t offset, length;
    int timeout_ms;
    char **pos;                 /* COMMAND and what follows */
    int npos;
};

static int fail(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "winapi: WHAT: why" on stderr; exit status 1. */
static int fail(const char *what, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "winapi: %s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "winapi: ..." and where to look; exit status 2. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "winapi: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'winapi --help' for more information.\n");
    return 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!*s || *s == '-')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* Options anywhere on the line (GNU getopt moves the rest to the end). */
static int parse_args(int argc, char **argv, struct args *a)
{
    enum { O_HOST = 256, O_PORT, O_TOKEN, O_ACCESS, O_OFFSET, O_LENGTH, O_ASYNC,
           O_CHAIN, O_TIMEOUT, O_DRY, O_HELP, O_VERSION };
    static const struct option options[] = {
        { "host", required_argument, NULL, O_HOST },
        { "port", required_argument, NULL, O_PORT },
        { "token-file", required_argument, NULL, O_TOKEN },
        { "access", required_argument, NULL, O_ACCESS },
        { "offset", required_argument, NULL, O_OFFSET },
        { "length", required_argument, NULL, O_LENGTH },
        { "async", no_argument, NULL, O_ASYNC },
        { "chain", required_argument, NULL, O_CHAIN },
        { "timeout", required_argument, NULL, O_TIMEOUT },
        { "dry-run", no_argument, NULL, O_DRY },
        { "help", no_argument, NULL, O_HELP },
        { "version", no_argument, NULL, O_VERSION },
        { NULL, 0, NULL, 0 },
    };
    uint64_t n;
    int opt;

    memset(a, 0, sizeof(*a));
    a->timeout_ms = -1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case O_HOST: a->opts.host = optarg; break;
        case O_PORT:
            if (!parse_u64(optarg, &n) || n == 0 || n > 65535)
                return usage_error("--port %s: expected 1 to 65535", optarg);
            a->opts.port = (int)n;
            break;
        case O_TOKEN: a->opts.token_file = optarg; break;
        case O_ACCESS:
            if (strcmp(optarg, "read") != 0 && strcmp(optarg, "write") != 0)
                return usage_error("--access %s: expected read or write", optarg);
            a->access = optarg;
            break;
        case O_OFFSET:
            if (!parse_u64(optarg, &a->offset))
                return usage_error("--offset %s: expected a byte count", optarg);
            a->has_offset = true;
            break;
        case O_LENGTH:
            if (!parse_u64(optarg, &a->length))
                return usage_error("--length %s: expected a byte count", optarg);
            a->has_length = true;
            break;
        case O_ASYNC: a->async = true; break;
        case O_CHAIN: a->chain = optarg; break;
        case O_TIMEOUT:
            if (!parse_u64(optarg, &n) || n > 86400000)
                return usage_error("--timeout %s: expected milliseconds", optarg);
            a->timeout_ms = (int)n;
            break;
        case O_DRY: a->dry_run = true; break;
        case O_HELP: fputs(usage_text, stdout); exit(0);
        case O_VERSION: printf("winapi %s\n", PACKAGE_VERSION); exit(0);
        default: fprintf(stderr, "Try 'winapi --help' for more information.\n"); return 2;
        }
    }
    if (a->has_offset != a->has_length)
        return usage_error("%s", "--offset and --length go together");
    a->pos = argv + optind;
    a->npos = argc - optind;
    if (a->npos == 0)
        return usage_error("%s", "no command (see --help)");
    return 0;
}

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Print a JSON text as one line on stdout. */
static void print_json(const char *text)
{
    printf("%s\n", text);
}

/* The host's message in a response text, or "". */
static const char *host_message(json_object *resp)
{
    json_object *e, *m;

    if (resp && json_object_object_get_ex(resp, "error", &e) &&
        json_object_object_get_ex(e, "message", &m))
        return json_object_get_string(m);
    return "";
}

/*
 * Print the result of a response text, or say why it failed: 0 or 1.  The
 * errno shown is its error code's, else err, else EIO.
 */
static int show_response(const char *what, const char *text, int err)
{
    json_object *resp = text ? json_tokener_parse(text) : NULL;
    json_object *result;
    winapi_job_t as_job = { .response = (char *)text };
    int rc = 0, code_err = text ? winapi_job_errno(&as_job) : 0;

    if (resp && json_object_object_get_ex(resp, "result", &result))
        print_json(json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN));
    else {
        rc = fail(what, "%s: %s", strerror(code_err ? code_err : err ? err : EIO),
                  resp ? host_message(resp) : winapi_last_error());
    }
    json_object_put(resp);
    return rc;
}

/* ---- the progress bar ------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *human(double bytes, char *buf, size_t len)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int u = 0;

    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

/* "1.2 GiB / 4.0 GiB  30%  850.0 MiB/s  3 s left", as dd and pv show it. */
static void draw_progress(const winapi_job_t *j, double t0)
{
    char done[32], total[32], rate[32];
    double secs = now_s() - t0, bps = secs > 0 ? (double)j->bytes_done / secs : 0;
    int pct = j->bytes_total ? (int)(100.0 * (double)j->bytes_done / (double)j->bytes_total) : 100;

    fprintf(stderr, "\r%s / %s  %3d%%  %s/s", human((double)j->bytes_done, done, sizeof(done)),
            human((double)j->bytes_total, total, sizeof(total)), pct,
            human(bps, rate, sizeof(rate)));
    if (bps > 0 && j->bytes_done < j->bytes_total)
        fprintf(stderr, "  %.0f s left\033[K", (double)(j->bytes_total - j->bytes_done) / bps);
    else
        fprintf(stderr, "\033[K");
    fflush(stderr);
}

/* Wait for the job, drawing progress on a terminal; Ctrl-C cancels it. */
static int follow(winapi_handle_t h, const char *what, uint64_t job_id)
{
    bool bar = isatty(STDERR_FILENO);
    double t0 = now_s();
    winapi_job_t j;
    int rc;

    for (;;) {
        if (interrupted) {
            winapi_job_cancel(h, job_id, &j);
            winapi_job_release(&j);
            if (bar)
                fputc('\n', stderr);
            return fail(what, "interrupted: job %llu cancelled", (unsigned long long)job_id);
        }
        if (winapi_job_wait(h, job_id, bar ? PROGRESS_MS : 1000, &j) < 0)
            return fail(what, "%s: %s", strerror(errno), winapi_last_error());
        if (j.response)
            break;
        if (bar)
            draw_progress(&j, t0);
        winapi_job_release(&j);
    }
    if (bar) {
        draw_progress(&j, t0);
        fputc('\n', stderr);
    }
    rc = show_response(what, j.response, strcmp(j.state, "cancelled") == 0 ? ECANCELED : 0);
    winapi_job_release(&j);
    return rc;
}

/* ---- process ----------------------------------------------------------- */

/* A file of a winapifs mount answers its read-only attribute buffer_id. */
static bool in_mount(const char *path)
{
    char v[32];

    return getxattr(path, "user.winapi.buffer_id", v, sizeof(v)) > 0;
}

/* The JSON of one request, or a chain, for the mount's user.winapi.submit. */
static char *mount_request(const struct args *a, const char *op, const char *params)
{
    json_object *o = json_object_new_object();
    char *text;

    if (a->chain)
        json_object_object_add(o, "operations", json_tokener_parse(a->chain));
    else
        json_object_object_add(o, "operation", json_object_new_string(op));
    if (params)
        json_object_object_add(o, "params", json_tokener_parse(params));
    if (a->access)
        json_object_object_add(o, "access", json_object_new_string(a->access));
    if (a->has_offset) {
        json_object_object_add(o, "offset", json_object_new_int64((int64_t)a->offset));
        json_object_object_add(o, "length", json_object_new_int64((int64_t)a->length));
    }
    text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return text;
}

/* A control attribute's value as text in buf; -1 with errno. */
static ssize_t get_attr(const char *file, const char *name, char *buf, size_t len)
{
    ssize_t n = getxattr(file, name, buf, len - 1);

    if (n >= 0)
        buf[n] = '\0';
    return n;
}

/* The file's user.winapi.progress into *j; -1 with errno. */
static int mount_progress(const char *file, winapi_job_t *j)
{
    char text[512];
    json_object *o, *v;

    memset(j, 0, sizeof(*j));
    if (get_attr(file, "user.winapi.progress", text, sizeof(text)) < 0)
        return -1;
    o = json_tokener_parse(text);
    if (!o) {
        errno = EPROTO;
        return -1;
    }
    if (json_object_object_get_ex(o, "job_id", &v))
        j->job_id = (uint64_t)json_object_get_int64(v);
    if (json_object_object_get_ex(o, "state", &v))
        snprintf(j->state, sizeof(j->state), "%s", json_object_get_string(v));
    if (json_object_object_get_ex(o, "bytes_done", &v))
        j->bytes_done = (uint64_t)json_object_get_int64(v);
    if (json_object_object_get_ex(o, "bytes_total", &v))
        j->bytes_total = (uint64_t)json_object_get_int64(v);
    json_object_put(o);
    return 0;
}

static bool state_ended(const char *state)
{
    return strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
           strcmp(state, "cancelled") == 0;
}

/*
 * Follow the file's job until the mount says it ended, drawing progress on
 * a terminal; Ctrl-C cancels it.  Prints the result as follow() does.
 */
static int follow_mount(const char *file)
{
    bool bar = isatty(STDERR_FILENO), cancelled = false;
    struct timespec pause = { 0, PROGRESS_MS * 1000000L };
    char result[65536];
    double t0 = now_s();
    winapi_job_t j;

    for (;;) {
        if (mount_progress(file, &j) < 0)
            return fail(file, "%s", strerror(errno));
        if (state_ended(j.state))
            break;
        if (interrupted && !cancelled) {
            cancelled = true;
            if (setxattr(file, "user.winapi.cancel", "1", 1, 0) < 0)
                return fail(file, "cannot cancel its job: %s", strerror(errno));
        }
        if (bar)
            draw_progress(&j, t0);
        nanosleep(&pause, NULL);
    }
    if (bar) {
        draw_progress(&j, t0);
        fputc('\n', stderr);
    }
    if (cancelled)
        return fail(file, "interrupted: job %llu cancelled", (unsigned long long)j.job_id);
    if (get_attr(file, "user.winapi.result", result, sizeof(result)) < 0)
        return fail(file, "%s", strerror(errno));
    return show_response(file, result, strcmp(j.state, "cancelled") == 0 ? ECANCELED : 0);
}

/* Print the file's job as "winapi process --async" does: {"job_id":J}. */
static int print_mount_job(const char *file)
{
    winapi_job_t j;

    if (mount_progress(file, &j) < 0)
        return fail(file, "%s", strerror(errno));
    printf("{\"job_id\":%llu}\n", (unsigned long long)j.job_id);
    return 0;
}

/*
 * Submit through the file's attributes, then follow the job: the mount
 * records its end (and drops its cache) as for a setfattr of process.
 */
static int process_in_mount(const struct args *a, const char *file, const char *op,
                            const char *params)
{
    static char before[65536], result[65536];
    char *req;
    int e;

    req = mount_request(a, op, params);
    if (!req)
        return fail(file, "%s", strerror(ENOMEM));
    if (get_attr(file, "user.winapi.result", before, sizeof(before)) < 0)
        before[0] = '\0';
    e = setxattr(file, "user.winapi.submit", req, strlen(req), 0) < 0 ? errno : 0;
    free(req);
    if (e) {
        /* What the host answered, if it answered: the result changed. */
        if (get_attr(file, "user.winapi.result", result, sizeof(result)) >= 0 &&
            strcmp(result, before) != 0)
            return show_response(file, result, e);
        return fail(file, "%s", strerror(e));
    }
    return a->async ? print_mount_job(file) : follow_mount(file);
}

/* Parse the --chain text into steps; the texts live in *keep (free it). */
static int chain_steps(const char *file, const char *chain, winapi_request_t *steps,
                       size_t *n, json_object **keep)
{
    json_object *a = json_tokener_parse(chain);

    *keep = a;
    if (!a || !json_object_is_type(a, json_type_array) || json_object_array_length(a) < 1 ||
        json_object_array_length(a) > 16)
        return fail(file, "--chain: expected a JSON array of 1 to 16 steps");
    *n = json_object_array_length(a);
    for (size_t i = 0; i < *n; i++) {
        json_object *s = json_object_array_get_idx(a, i), *v;
        memset(&steps[i], 0, sizeof(steps[i]));
        if (!json_object_object_get_ex(s, "operation", &v) ||
            !json_object_is_type(v, json_type_string))
            return fail(file, "--chain: step %zu has no \"operation\"", i);
        steps[i].operation = json_object_get_string(v);
        if (json_object_object_get_ex(s, "params", &v))
            steps[i].params_json = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    }
    return 0;
}

/*
 * file as an absolute path with its links kept, as the shell shows it (the
 * automount root may be reached through one): the logical working
 * directory ($PWD, if it is the working directory) is the base.
 */
static int absolute(const char *file, char *out, size_t len)
{
    const char *pwd = getenv("PWD");
    struct stat a, b;
    char cwd[PATH_MAX];

    if (file[0] != '/') {
        if (pwd && pwd[0] == '/' && stat(pwd, &a) == 0 && stat(".", &b) == 0 &&
            a.st_dev == b.st_dev && a.st_ino == b.st_ino)
            snprintf(cwd, sizeof(cwd), "%s", pwd);
        else if (!getcwd(cwd, sizeof(cwd)))
            return -1;
        if ((size_t)snprintf(out, len, "%s/%s", cwd, file) >= len) {
            errno = ENAMETOOLONG;
            return -1;
        }
        return 0;
    }
    if ((size_t)snprintf(out, len, "%s", file) >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static int cmd_process(winapi_handle_t h, const struct args *a)
{
    const char *file = a->npos > 1 ? a->pos[1] : NULL;
    const char *op = a->npos > 2 ? a->pos[2] : NULL, *params = a->npos > 3 ? a->pos[3] : NULL;
    winapi_request_t steps[16];
    json_object *keep = NULL;
    char path[PATH_MAX];
    struct stat st;
    uint64_t job;
    size_t n = 1;
    int rc;

    if (!file || (!op && !a->chain) || (op && a->chain) || a->npos > 4)
        return usage_error("%s", "process FILE OPERATION [PARAMS-JSON], or FILE --chain JSON");
    if (stat(file, &st) < 0)
        return fail(file, "%s", strerror(errno));
    if (a->chain) {
        if ((rc = chain_steps(file, a->chain, steps, &n, &keep)) != 0) {
            json_object_put(keep);
            return rc;
        }
    } else {
        memset(&steps[0], 0, sizeof(steps[0]));
        steps[0].operation = op;
        steps[0].params_json = params;
    }
    steps[0].access = a->access;
    steps[0].has_range = a->has_offset;
    steps[0].offset = a->offset;
    steps[0].length = a->length;
    if (in_mount(file)) {
        rc = process_in_mount(a, file, op, params);
        json_object_put(keep);
        return rc;
    }
    if (absolute(file, path, sizeof(path)) < 0) {
        json_object_put(keep);
        return fail(file, "%s", strerror(errno));
    }
    /* Through a job whether or not --async: its progress is what the bar shows. */
    if (winapi_submit_path(h, path, (uint64_t)st.st_size, 1, steps, n, &job) < 0) {
        rc = fail(file, "%s: %s", strerror(errno), winapi_last_error());
    } else if (a->async) {
        printf("{\"job_id\":%llu}\n", (unsigned long long)job);
        rc = 0;
    } else {
        rc = follow(h, file, job);
    }
    json_object_put(keep);
    return rc;
}

/* ---- jobs, wait, cancel, ping, hello, reap ------------------------------ */

/* JOB: a job id; or *file: a file of a winapifs mount, whose job it is. */
static int job_arg(const struct args *a, uint64_t *job, const char **file)
{
    *file = NULL;
    if (a->npos != 2)
        return usage_error("%s JOB|FILE: expected a job id or a file in a mount", a->pos[0]);
    if (parse_u64(a->pos[1], job) && *job > 0)
        return 0;
    if (access(a->pos[1], F_OK) < 0)
        return usage_error("%s %s: neither a job id nor a file", a->pos[0], a->pos[1]);
    if (!in_mount(a->pos[1]))
        return fail(a->pos[1], "not a file of a winapifs mount: give its job id");
    *file = a->pos[1];
    return 0;
}

/* wait or cancel for a file of a mount, through its attributes. */
static int file_job(const char *file, bool cancel)
{
    winapi_job_t j;

    if (!cancel)
        return follow_mount(file);
    /*
     * A setfattr of process holds the file's inode lock while it waits, and
     * this one waits with it: such a job is cancelled by its id (winapi(1)).
     */
    if (setxattr(file, "user.winapi.cancel", "1", 1, 0) < 0)
        return fail(file, "%s", strerror(errno));
    /* The host stops it within 100 ms; show it stopped, as the mount sees it. */
    for (int i = 0; i < 50; i++) {
        struct timespec pause = { 0, 20 * 1000000L };
        if (mount_progress(file, &j) < 0)
            return fail(file, "%s", strerror(errno));
        if (state_ended(j.state))
            break;
        nanosleep(&pause, NULL);
    }
    printf("{\"job_id\":%llu,\"state\":\"%s\"}\n", (unsigned long long)j.job_id, j.state);
    return 0;
}

static void print_job(const winapi_job_t *j)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "job_id", json_object_new_int64((int64_t)j->job_id));
    json_object_object_add(o, "state", json_object_new_string(j->state));
    json_object_object_add(o, "operation", json_object_new_string(j->operation));
    json_object_object_add(o, "bytes_done", json_object_new_int64((int64_t)j->bytes_done));
    json_object_object_add(o, "bytes_total", json_object_new_int64((int64_t)j->bytes_total));
    if (j->response)
        json_object_object_add(o, "response", json_tokener_parse(j->response));
    print_json(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

static int cmd_job(winapi_handle_t h, const struct args *a, bool cancel)
{
    winapi_job_t j;
    uint64_t job;
    const char *file;
    char what[40];
    int rc = job_arg(a, &job, &file);

    if (rc)
        return rc;
    if (file)
        return file_job(file, cancel);
    snprintf(what, sizeof(what), "job %llu", (unsigned long long)job);
    if ((cancel ? winapi_job_cancel(h, job, &j) : winapi_job_wait(h, job, a->timeout_ms, &j)) < 0)
        return fail(what, "%s: %s", strerror(errno), winapi_last_error());
    print_job(&j);
    winapi_job_release(&j);
    return 0;
}

static int cmd_jobs(winapi_handle_t h)
{
    winapi_job_t *jobs;
    size_t n;

    if (winapi_job_list(h, &jobs, &n) < 0)
        return fail("jobs", "%s: %s", strerror(errno), winapi_last_error());
    for (size_t i = 0; i < n; i++)
        print_job(&jobs[i]);
    winapi_job_list_free(jobs, n);
    return 0;
}

static int cmd_raw(winapi_handle_t h, const char *api)
{
    char json[64], *resp = NULL;
    int rc;

    snprintf(json, sizeof(json), "{\"api\":\"%s\"}", api);
    rc = winapi_request_json(h, json, &resp);
    rc = rc < 0 && !resp ? fail(api, "%s: %s", strerror(errno), winapi_last_error())
                         : show_response(api, resp, errno);
    free(resp);
    return rc;
}

static void reaped(void *arg, const char *path, int err)
{
    const struct args *a = arg;

    if (err)
        fprintf(stderr, "winapi: %s: %s\n", path, strerror(err));
    else
        printf("%s%s\n", a->dry_run ? "would remove " : "removed ", path);
}

static int cmd_reap(const struct args *a)
{
    const char *dir = a->npos > 1 ? a->pos[1] : NULL;
    int n;

    if (a->npos > 2)
        return usage_error("%s", "reap [--dry-run] [DIR]");
    n = winapi_reap(dir, a->dry_run, reaped, (void *)a);
    if (n < 0)
        return fail(dir ? dir : "reap", "%s", strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    struct sigaction sa = { .sa_handler = on_interrupt };
    winapi_handle_t h;
    struct args a;
    const char *cmd;
    int rc = parse_args(argc, argv, &a);

    if (rc)
        return rc;
    cmd = a.pos[0];
    if (strcmp(cmd, "reap") == 0)
        return cmd_reap(&a);
    if (winapi_open(&a.opts, &h) < 0)
        return fail("settings", "%s", winapi_last_error());
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (strcmp(cmd, "ping") == 0 || strcmp(cmd, "hello") == 0)
        rc = a.npos == 1 ? cmd_raw(h, cmd) : usage_error("%s takes no argument", cmd);
    else if (strcmp(cmd, "process") == 0)
        rc = cmd_process(h, &a);
    else if (strcmp(cmd, "jobs") == 0)
        rc = a.npos == 1 ? cmd_jobs(h) : usage_error("%s takes no argument", cmd);
    else if (strcmp(cmd, "wait") == 0 || strcmp(cmd, "cancel") == 0)
        rc = cmd_job(h, &a, strcmp(cmd, "cancel") == 0);
    else
        rc = usage_error("unknown command %s (see --help)", cmd);
    winapi_close(h);
    return rc;
}

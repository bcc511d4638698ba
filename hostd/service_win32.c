/*
 * service_win32.c - winapi-hostd.exe as a Windows service, with the Service
 * Control Manager's own calls (plat_service in plat.h):
 *
 *   --service install [OPTION]...  CreateService: an auto-start service
 *                                  "winapi-hostd" whose command line is
 *                                  "<this exe>" --service run OPTION...
 *   --service uninstall            ControlService(STOP), wait, DeleteService
 *   --service run [OPTION]...      what the SCM starts: the dispatcher calls
 *                                  svc_main on a thread of its own, which runs
 *                                  the daemon (plat_daemon.serve) and reports
 *                                  START_PENDING, RUNNING once it listens, and
 *                                  STOPPED with its exit status.
 *
 * Built with plat_win32.c when configure's host is mingw; tested under Wine
 * by tests/test_win_service.sh.  See docs/windows.md.
 *
 * The STOP and SHUTDOWN controls take the path Ctrl-C takes in a console
 * (plat_win32_stop): the daemon stops accepting, closes every connection,
 * joins its threads, and only then does the service report STOPPED.
 *
 * A service has no console, so its log goes to a file: --log-file, else
 * %ProgramData%\winapi-hostd\winapi-hostd.log.  What is said before the
 * log is set up (a bad option) goes to that default file as well.
 *
 * Trust: the service runs as NT AUTHORITY\LocalService, which has no more
 * rights on files than an ordinary user: a client that can reach the port
 * gets the daemon's rights below the allowed roots, and LocalSystem's would
 * pass over every ACL there.  The log directory is made by `install`, from
 * an administrator's prompt, with an ACL of its own (see LOG_DIR_SDDL).
 */
#include "config.h"

#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601
#endif
#include <windows.h>
#include <sddl.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "log.h"
#include "plat.h"
#include "plat_win32.h"

#define SVC_NAME L"winapi-hostd"
#define SVC_DISPLAY L"winapi-hostd shared buffer host"
#define SVC_DESCRIPTION L"Maps the shared buffers of Linux guests (WSL2) and runs " \
    L"operations on them for winapifs and libwinapi clients."
#define SVC_ACCOUNT L"NT AUTHORITY\\LocalService"
#define LOG_SUBDIR "\\winapi-hostd"
#define LOG_NAME "\\winapi-hostd.log"
/*
 * The log directory: not inherited from ProgramData (where every user may
 * add files); full control for SYSTEM and Administrators, read and write
 * for the service's account, read for users.
 */
#define LOG_DIR_SDDL "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FRFW;;;LS)(A;OICI;FR;;;BU)"
/* How long uninstall waits for a running service to stop. */
#define STOP_WAIT_MS 30000
#define STOP_POLL_MS 250

/* ---- the running service ---------------------------------------------- */

static const struct plat_daemon *svc_daemon;
static int svc_argc;
static char **svc_argv;         /* main's: program, --service, run, options */
static char svc_log[MAX_PATH + sizeof(LOG_NAME)];
static FILE *svc_early;         /* the default log, for log_early() */
static SERVICE_STATUS_HANDLE svc_handle;
/* The status is reported from the dispatcher's thread and from svc_main's. */
static SRWLOCK svc_lock = SRWLOCK_INIT;
static SERVICE_STATUS svc_status = { .dwServiceType = SERVICE_WIN32_OWN_PROCESS };

static void svc_report(DWORD state, int exit_status, DWORD wait_hint_ms)
{
    AcquireSRWLockExclusive(&svc_lock);
    svc_status.dwCurrentState = state;
    /* Controls only once running: a stop during start would find no server. */
    svc_status.dwControlsAccepted =
        state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    svc_status.dwWin32ExitCode = exit_status ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
    svc_status.dwServiceSpecificExitCode = (DWORD)exit_status;
    svc_status.dwWaitHint = wait_hint_ms;
    if (state == SERVICE_RUNNING || state == SERVICE_STOPPED)
        svc_status.dwCheckPoint = 0;
    else
        svc_status.dwCheckPoint++;
    SetServiceStatus(svc_handle, &svc_status);
    ReleaseSRWLockExclusive(&svc_lock);
}

static DWORD WINAPI svc_control(DWORD control, DWORD type, void *data, void *ctx)
{
    (void)type;
    (void)data;
    (void)ctx;
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        /* svc_main reports STOPPED once the server has stopped. */
        svc_report(SERVICE_STOP_PENDING, 0, 10000);
        plat_win32_stop();
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

static void svc_ready(void)
{
    svc_report(SERVICE_RUNNING, 0, 0);
}

/* ---- the log ----------------------------------------------------------- */

/*
 * %ProgramData%\winapi-hostd.  ProgramData is read where the system keeps
 * it, since a service's environment need not say the same as an
 * administrator's prompt (under Wine it does not); then the environment.
 */
static int svc_log_dir(char *dir, size_t dirlen)
{
    char base[MAX_PATH];
    DWORD size = sizeof(base);
    DWORD n;

    if (RegGetValueA(HKEY_LOCAL_MACHINE,
                     "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList",
                     "ProgramData", RRF_RT_REG_SZ, NULL, base, &size) != ERROR_SUCCESS) {
        n = GetEnvironmentVariableA("ProgramData", base, sizeof(base));
        if (n == 0 || n >= sizeof(base))
            snprintf(base, sizeof(base), "C:\\ProgramData");
    }
    return snprintf(dir, dirlen, "%s%s", base, LOG_SUBDIR) < (int)dirlen ? 0 : -1;
}

/*
 * Make the log directory with its ACL (see LOG_DIR_SDDL), or keep the one
 * there unless it is a link elsewhere.  0, or -1 with the reason in err.
 */
static int svc_log_dir_make(const char *dir, char *err, size_t errlen)
{
    SECURITY_ATTRIBUTES sa = { .nLength = sizeof(sa) };
    char why[256];
    DWORD attr, e = NO_ERROR;

    if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(
            LOG_DIR_SDDL, SDDL_REVISION_1, &sa.lpSecurityDescriptor, NULL))
        e = GetLastError();
    else if (!CreateDirectoryA(dir, &sa))
        e = GetLastError();
    LocalFree(sa.lpSecurityDescriptor);
    if (e == ERROR_ALREADY_EXISTS) {
        attr = GetFileAttributesA(dir);
        if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_REPARSE_POINT)) {
            snprintf(err, errlen, "%s is a link or junction; remove it", dir);
            return -1;
        }
        return 0;
    }
    if (e != NO_ERROR) {
        plat_win32_error(e, why, sizeof(why));
        snprintf(err, errlen, "cannot make %s: %s", dir, why);
        return -1;
    }
    return 0;
}

/* ---- run ----------------------------------------------------------------- */

/* For what cannot go to the log file: the Application event log, source
 * winapi-hostd (unregistered: Event Viewer shows the text after a note). */
static void svc_event(const char *msg)
{
    HANDLE ev = RegisterEventSourceA(NULL, "winapi-hostd");

    if (!ev)
        return;
    ReportEventA(ev, EVENTLOG_ERROR_TYPE, 0, 1, NULL, 1, 0, &msg, NULL);
    DeregisterEventSource(ev);
}

/*
 * The default log, its directory made, open as log_early(): what is said
 * before the daemon sets up its log (a bad option) would be lost otherwise,
 * since a service's stderr leads nowhere (and the CRT will not reopen it).
 * 0, or -1 with the reason in err.
 */
static int svc_log_default(char *err, size_t errlen)
{
    if (svc_log_dir(svc_log, sizeof(svc_log)) < 0 ||
        strlen(svc_log) + sizeof(LOG_NAME) > sizeof(svc_log)) {
        snprintf(err, errlen, "the ProgramData directory's path is too long");
        return -1;
    }
    if (svc_log_dir_make(svc_log, err, errlen) < 0)
        return -1;
    strcat(svc_log, LOG_NAME);
    svc_early = fopen(svc_log, "a");
    if (!svc_early) {
        snprintf(err, errlen, "cannot open %s: %s", svc_log, strerror(errno));
        return -1;
    }
    setvbuf(svc_early, NULL, _IONBF, 0);
    log_set_early(svc_early);
    return 0;
}

/*
 * The daemon's argv: the program, --log-file DEFAULT, then the options,
 * where a --log-file of the user's comes later and wins.  NULL when out
 * of memory.
 */
static char **svc_daemon_args(void)
{
    char **args = calloc((size_t)svc_argc + 1, sizeof(*args));

    if (!args)
        return NULL;
    args[0] = svc_argv[0];
    args[1] = "--log-file";
    args[2] = svc_log;
    for (int i = 3; i < svc_argc; i++)
        args[i] = svc_argv[i];
    return args;
}

static void WINAPI svc_main(DWORD argc, wchar_t **argv)
{
    char err[512];
    char **args;
    int rc = EXIT_FAILURE;

    /* Arguments of StartService (`sc start winapi-hostd X`) are not options:
     * those are in the service's command line, which the CRT gave main. */
    (void)argc;
    (void)argv;
    svc_handle = RegisterServiceCtrlHandlerExW(SVC_NAME, svc_control, NULL);
    if (!svc_handle) {
        svc_event("RegisterServiceCtrlHandlerEx failed");
        return;
    }
    svc_report(SERVICE_START_PENDING, 0, 30000);
    if (svc_log_default(err, sizeof(err)) < 0) {
        svc_event(err);
    } else if (!(args = svc_daemon_args())) {
        svc_event("out of memory");
    } else {
        rc = svc_daemon->serve(svc_argc, args, svc_ready);
        free(args);
        if (rc != 0)
            fprintf(svc_early, "winapi-hostd: the service stopped with status %d\n", rc);
    }
    /* Before STOPPED, after which the process may be ended at any time. */
    if (svc_early) {
        log_set_early(NULL);
        fclose(svc_early);
    }
    svc_report(SERVICE_STOPPED, rc, 0);
}

static int svc_run(int argc, char **argv, const struct plat_daemon *d)
{
    SERVICE_TABLE_ENTRYW table[] = { { SVC_NAME, svc_main }, { NULL, NULL } };
    DWORD e;

    svc_daemon = d;
    svc_argc = argc;
    svc_argv = argv;
    /* Returns when svc_main has returned: the service has stopped. */
    if (StartServiceCtrlDispatcherW(table))
        return EXIT_SUCCESS;
    e = GetLastError();
    if (e == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
        fprintf(stderr, "winapi-hostd: --service run is for the Service Control Manager;\n"
                "start the service with 'sc start winapi-hostd', or run winapi-hostd.exe\n"
                "without --service to serve from this console\n");
        return EXIT_FAILURE;
    }
    fprintf(stderr, "winapi-hostd: StartServiceCtrlDispatcher failed (error %lu)\n",
            (unsigned long)e);
    return EXIT_FAILURE;
}

/* ---- install, uninstall ---------------------------------------------- */

/* A growing wide string; failed says it ran out of memory once. */
struct wstr {
    wchar_t *s;
    size_t len, cap;
    bool failed;
};

static void wstr_addn(struct wstr *w, const wchar_t *s, size_t n)
{
    wchar_t *grown;
    size_t cap;

    if (w->failed)
        return;
    if (w->len + n + 1 > w->cap) {
        cap = (w->len + n + 1) * 2;
        grown = realloc(w->s, cap * sizeof(*grown));
        if (!grown) {
            w->failed = true;
            return;
        }
        w->s = grown;
        w->cap = cap;
    }
    wmemcpy(w->s + w->len, s, n);
    w->len += n;
    w->s[w->len] = L'\0';
}

static void wstr_add(struct wstr *w, const wchar_t *s)
{
    wstr_addn(w, s, wcslen(s));
}

static void wstr_repeat(struct wstr *w, wchar_t c, size_t n)
{
    while (n-- > 0)
        wstr_addn(w, &c, 1);
}

/*
 * Append arg as one argument that the CRT's parser (and CommandLineToArgvW)
 * reads back unchanged: quoted when it is empty or has blanks or quotes,
 * with the backslashes before a quote, or before the closing quote, doubled.
 */
static void wstr_add_arg(struct wstr *w, const wchar_t *arg)
{
    size_t slashes = 0;

    wstr_add(w, L" ");
    if (arg[0] && !wcspbrk(arg, L" \t\n\v\"")) {
        wstr_add(w, arg);
        return;
    }
    wstr_add(w, L"\"");
    for (const wchar_t *p = arg; *p; p++) {
        if (*p == L'\\') {
            slashes++;
            continue;
        }
        wstr_repeat(w, L'\\', *p == L'"' ? slashes * 2 + 1 : slashes);
        wstr_addn(w, p, 1);
        slashes = 0;
    }
    wstr_repeat(w, L'\\', slashes * 2);
    wstr_add(w, L"\"");
}

/* The argument in the ANSI code page, as main's argv has it, widened. */
static void wstr_add_acp_arg(struct wstr *w, const char *arg)
{
    int n = MultiByteToWideChar(CP_ACP, 0, arg, -1, NULL, 0);
    wchar_t *wide = n > 0 ? malloc((size_t)n * sizeof(*wide)) : NULL;

    if (!wide || !MultiByteToWideChar(CP_ACP, 0, arg, -1, wide, n)) {
        w->failed = true;
        free(wide);
        return;
    }
    wstr_add_arg(w, wide);
    free(wide);
}

/* "<this exe>" --service run OPTION...; NULL when out of memory. */
static wchar_t *svc_command_line(int nopt, char **opt)
{
    wchar_t exe[32768];
    DWORD n = GetModuleFileNameW(NULL, exe, sizeof(exe) / sizeof(exe[0]));
    struct wstr w = { 0 };

    if (n == 0 || n >= sizeof(exe) / sizeof(exe[0]))
        return NULL;
    /* Always quoted: an unquoted path with a blank is a known hijack. */
    wstr_add(&w, L"\"");
    wstr_add(&w, exe);
    wstr_add(&w, L"\" --service run");
    for (int i = 0; i < nopt; i++)
        wstr_add_acp_arg(&w, opt[i]);
    if (w.failed) {
        free(w.s);
        return NULL;
    }
    return w.s;
}

/* Why an SCM call failed, and what to do about the usual reasons. */
static int svc_fail(const char *doing, const char *call, DWORD e)
{
    char why[256];
    const char *hint = "";

    plat_win32_error(e, why, sizeof(why));
    switch (e) {
    case ERROR_ACCESS_DENIED:
        hint = "; run it from an administrator's command prompt";
        break;
    case ERROR_SERVICE_EXISTS:
        hint = "; it is installed already ('winapi-hostd.exe --service uninstall' first)";
        break;
    case ERROR_SERVICE_DOES_NOT_EXIST:
        hint = "; it is not installed";
        break;
    case ERROR_SERVICE_MARKED_FOR_DELETE:
        hint = "; it is being deleted: close the Services console and try again";
        break;
    }
    fprintf(stderr, "winapi-hostd: cannot %s the service winapi-hostd: %s: %s%s\n",
            doing, call, why, hint);
    return EXIT_FAILURE;
}

/* The options would start the daemon (checked on a copy: getopt permutes). */
static int svc_check_options(char *prog, int nopt, char **opt, const struct plat_daemon *d)
{
    char **args = calloc((size_t)nopt + 2, sizeof(*args));
    int rc;

    if (!args)
        return -1;
    args[0] = prog;
    memcpy(args + 1, opt, (size_t)nopt * sizeof(*opt));
    rc = d->check(nopt + 1, args);
    free(args);
    return rc;
}

static int svc_create(SC_HANDLE scm, const wchar_t *cmd)
{
    SERVICE_DESCRIPTIONW desc = { .lpDescription = SVC_DESCRIPTION };
    SC_HANDLE svc = CreateServiceW(scm, SVC_NAME, SVC_DISPLAY, SERVICE_CHANGE_CONFIG,
                                   SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                                   SERVICE_ERROR_NORMAL, cmd, NULL, NULL, NULL,
                                   SVC_ACCOUNT, NULL);

    if (!svc)
        return svc_fail("install", "CreateService", GetLastError());
    /* Only what Services shows: the service works without it. */
    if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &desc))
        fprintf(stderr, "winapi-hostd: the service has no description (error %lu)\n",
                (unsigned long)GetLastError());
    CloseServiceHandle(svc);
    return EXIT_SUCCESS;
}

static int svc_install(int argc, char **argv, const struct plat_daemon *d)
{
    char dir[MAX_PATH], err[512];
    wchar_t *cmd;
    SC_HANDLE scm;
    int rc;

    if (svc_check_options(argv[0], argc - 3, argv + 3, d) != 0)
        return EXIT_FAILURE;
    if (svc_log_dir(dir, sizeof(dir)) < 0 || svc_log_dir_make(dir, err, sizeof(err)) < 0) {
        fprintf(stderr, "winapi-hostd: cannot install the service winapi-hostd: "
                "the log directory: %s\n", err);
        return EXIT_FAILURE;
    }
    cmd = svc_command_line(argc - 3, argv + 3);
    if (!cmd) {
        fprintf(stderr, "winapi-hostd: cannot install the service winapi-hostd: "
                "out of memory, or no path for this program\n");
        return EXIT_FAILURE;
    }
    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
    if (!scm) {
        free(cmd);
        return svc_fail("install", "OpenSCManager", GetLastError());
    }
    rc = svc_create(scm, cmd);
    if (rc == EXIT_SUCCESS)
        printf("winapi-hostd: installed the service winapi-hostd (auto start, as %ls):\n"
               "  %ls\n"
               "Start it with 'sc start winapi-hostd'; it logs to %s%s unless told\n"
               "otherwise with --log-file.\n", SVC_ACCOUNT, cmd, dir, LOG_NAME);
    CloseServiceHandle(scm);
    free(cmd);
    return rc;
}

/* Ask a running service to stop and wait until it has: 0, or -1 after saying why. */
static int svc_stop_and_wait(SC_HANDLE svc)
{
    SERVICE_STATUS st;
    DWORD e, waited = 0;

    if (!ControlService(svc, SERVICE_CONTROL_STOP, &st)) {
        e = GetLastError();
        if (e == ERROR_SERVICE_NOT_ACTIVE)
            return 0;
        /* Starting or stopping already: it cannot take a control now; wait. */
        if (e != ERROR_SERVICE_CANNOT_ACCEPT_CTRL) {
            svc_fail("stop", "ControlService", e);
            return -1;
        }
    }
    while (QueryServiceStatus(svc, &st) && st.dwCurrentState != SERVICE_STOPPED) {
        if (waited >= STOP_WAIT_MS) {
            fprintf(stderr, "winapi-hostd: the service winapi-hostd did not stop within %d s\n",
                    STOP_WAIT_MS / 1000);
            return -1;
        }
        Sleep(STOP_POLL_MS);
        waited += STOP_POLL_MS;
    }
    return 0;
}

static int svc_uninstall(void)
{
    SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    SC_HANDLE svc;
    int rc = EXIT_FAILURE;

    if (!scm)
        return svc_fail("uninstall", "OpenSCManager", GetLastError());
    svc = OpenServiceW(scm, SVC_NAME, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
    if (!svc) {
        svc_fail("uninstall", "OpenService", GetLastError());
        goto out_scm;
    }
    if (svc_stop_and_wait(svc) < 0)
        goto out_svc;
    if (!DeleteService(svc)) {
        svc_fail("uninstall", "DeleteService", GetLastError());
        goto out_svc;
    }
    printf("winapi-hostd: removed the service winapi-hostd\n");
    rc = EXIT_SUCCESS;
out_svc:
    CloseServiceHandle(svc);
out_scm:
    CloseServiceHandle(scm);
    return rc;
}

int plat_service(int argc, char **argv, const struct plat_daemon *d)
{
    const char *action = argc > 2 ? argv[2] : NULL;

    if (action && strcmp(action, "install") == 0)
        return svc_install(argc, argv, d);
    if (action && strcmp(action, "uninstall") == 0) {
        if (argc == 3)
            return svc_uninstall();
        fprintf(stderr, "winapi-hostd: --service uninstall takes no options\n");
        return EXIT_FAILURE;
    }
    if (action && strcmp(action, "run") == 0)
        return svc_run(argc, argv, d);
    fprintf(stderr, "winapi-hostd: --service %s%s: expected 'install [OPTION]...', "
            "'uninstall' or 'run [OPTION]...'\n", action ? action : "needs an action",
            action ? "" : " (see --help)");
    return EXIT_FAILURE;
}

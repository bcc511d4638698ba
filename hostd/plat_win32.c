/*
 * plat_win32.c - the Windows platform layer of winapi-hostd: Winsock2
 * sockets, CreateFileW + CreateFileMappingW + MapViewOfFile mappings, a
 * vectored exception handler that contains faults on mapped memory, and
 * Ctrl-C, a closed console or the service's stop control (service_win32.c)
 * as the stop signal.
 *
 * Built instead of plat_posix.c when configure's host is mingw
 * (./configure --host=x86_64-w64-mingw32, or scripts/build-windows.sh),
 * and tested under Wine (scripts/check-wine.sh).  See docs/windows.md.
 *
 * Paths arrive in UTF-8, the protocol's encoding, and go to the W
 * functions: the A functions would read the same bytes in the ANSI code
 * page and open another name.
 *
 * How a file is opened beneath an allowed root (plat_file_open):
 *  1. the root is opened, following links (it is configuration), and its
 *     final path is taken (at most once a second: root_seen);
 *  2. every directory below it is opened with FILE_FLAG_OPEN_REPARSE_POINT
 *     and refused if it is a reparse point (symlink, junction, mount point)
 *     or not a directory.  It stays open without FILE_SHARE_DELETE, so it
 *     cannot be renamed or replaced until the file is open;
 *  3. the file is opened the same way and must be a regular disk file with
 *     no other hard link;
 *  4. its final path (GetFinalPathNameByHandleW) must be the root's final
 *     path followed by exactly the requested components.
 * Step 4 alone keeps every mapping inside the root whatever happened in
 * between.  It also refuses the links a file system follows without showing
 * them as reparse points (Wine shows a Unix symlink as the file it points
 * to) and 8.3 short-name aliases.
 */
#include "config.h"

#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601     /* Windows 7: GetFinalPathNameByHandleW */
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <winternl.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapcache_win32.h"
#include "plat.h"
#include "plat_win32.h"
#include "wp_path.h"

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
/* Shared, but pinned: nobody may rename or delete it while it is open. */
#define SHARE_PIN (FILE_SHARE_READ | FILE_SHARE_WRITE)
/* Longest final path we compare; a root reached through a junction may be long. */
#define FINAL_MAX 4096
/* Every component takes at least two characters of a WP_HOST_PATH_MAX path. */
#define MAX_DEPTH (WP_HOST_PATH_MAX / 2 + 1)

struct plat_file {
    HANDLE h;
    uint64_t size;          /* as it was opened */
    wchar_t final[FINAL_MAX];   /* its final path, checked */
};

static HANDLE stop_event;
static DWORD guard_tls = TLS_OUT_OF_INDEXES;

void plat_win32_error(DWORD e, char *out, size_t outlen)
{
    char msg[256];
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                             NULL, e, 0, msg, sizeof(msg), NULL);

    while (n > 0 && strchr("\r\n. ", msg[n - 1]))
        n--;
    snprintf(out, outlen, "%.*s (error %lu)", (int)n, n ? msg : "", (unsigned long)e);
    if (n == 0)
        snprintf(out, outlen, "error %lu", (unsigned long)e);
}

/* ---- process: start, stop, faults ------------------------------------- */

static BOOL WINAPI on_console_event(DWORD type)
{
    /* Only services see a logoff, and it may be anyone's: not ours to end. */
    if (type == CTRL_LOGOFF_EVENT)
        return TRUE;
    SetEvent(stop_event);
    /* After a close or shutdown the system ends the process as soon as this
     * returns: wait here while main stops the server and exits. */
    if (type == CTRL_CLOSE_EVENT || type == CTRL_SHUTDOWN_EVENT)
        Sleep(INFINITE);
    return TRUE;
}

/* Where a contained fault resumes: back into plat_guard, which returns -1. */
__attribute__((noreturn)) static void guard_escape(void)
{
    void **jb = TlsGetValue(guard_tls);

    __builtin_longjmp(jb, 1);
}

/*
 * A fault on a mapped file while the thread is in plat_guard: the file
 * shrank under the mapping (Wine turns SIGBUS into an access violation;
 * Windows raises an in-page error when the backing store fails).  Anything
 * else, such as a NULL pointer, goes on to the default handling: a crash.
 */
static LONG CALLBACK on_exception(EXCEPTION_POINTERS *ep)
{
    EXCEPTION_RECORD *r = ep->ExceptionRecord;
    MEMORY_BASIC_INFORMATION mbi;
    DWORD saved = GetLastError();       /* the faulting code's, if it goes on */
    bool ours = TlsGetValue(guard_tls) && r->NumberParameters >= 2 &&
                (r->ExceptionCode == EXCEPTION_ACCESS_VIOLATION ||
                 r->ExceptionCode == EXCEPTION_IN_PAGE_ERROR) &&
                VirtualQuery((void *)r->ExceptionInformation[1], &mbi, sizeof(mbi)) &&
                mbi.Type == MEM_MAPPED;

    SetLastError(saved);
    if (!ours)
        return EXCEPTION_CONTINUE_SEARCH;
    /* Resume in guard_escape as if the faulting code had called it; the
     * dispatcher finishes normally before the jump. */
#if defined(__x86_64__)
    ep->ContextRecord->Rsp = ((ep->ContextRecord->Rsp - 256) & ~(DWORD64)15) - 8;
    ep->ContextRecord->Rip = (DWORD64)(uintptr_t)guard_escape;
#elif defined(__aarch64__)
    ep->ContextRecord->Sp = (ep->ContextRecord->Sp - 256) & ~(DWORD64)15;
    ep->ContextRecord->Pc = (DWORD64)(uintptr_t)guard_escape;
#else
    return EXCEPTION_CONTINUE_SEARCH;
#endif
    return EXCEPTION_CONTINUE_EXECUTION;
}

int plat_init(char *err, size_t errlen)
{
    WSADATA wsa;
    int rc = WSAStartup(MAKEWORD(2, 2), &wsa);

    if (rc != 0) {
        plat_win32_error((DWORD)rc, err, errlen);
        return -1;
    }
    stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    guard_tls = TlsAlloc();
    if (!stop_event || guard_tls == TLS_OUT_OF_INDEXES ||
        !AddVectoredExceptionHandler(1, on_exception)) {
        plat_win32_error(GetLastError(), err, errlen);
        return -1;
    }
    /* Without a console (a service wrapper) there is no Ctrl-C to catch. */
    SetConsoleCtrlHandler(on_console_event, TRUE);
    /* No "insert a disk" dialogs from a daemon. */
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOOPENFILEERRORBOX);
    setvbuf(stderr, NULL, _IONBF, 0);
    atexit(mapcache_clear);
    return 0;
}

int plat_detach(void)
{
    /* Windows has no fork: run at logon or under a service wrapper instead. */
    return 0;
}

/* Waits in one-second steps, releasing on each the views of freed buffers. */
void plat_wait_for_stop(void)
{
    while (WaitForSingleObject(stop_event, 1000) == WAIT_TIMEOUT)
        mapcache_sweep();
}

void plat_win32_stop(void)
{
    SetEvent(stop_event);
}

int plat_ncpu(void)
{
    DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);

    return n > 0 ? (int)n : 1;
}

int plat_guard(void (*fn)(void *), void *arg)
{
    void *jb[5];
    /* Guards nest (a plugin's guard() inside run()): the outer one is back
     * in force on the way out. */
    void *volatile outer = TlsGetValue(guard_tls);

    if (__builtin_setjmp(jb)) {
        TlsSetValue(guard_tls, outer);
        return -1;
    }
    TlsSetValue(guard_tls, jb);
    fn(arg);
    TlsSetValue(guard_tls, outer);
    return 0;
}

/* ---- sockets ----------------------------------------------------------- */

static void format_peer(const struct sockaddr *sa, int len, char *out, size_t outlen)
{
    char h[NI_MAXHOST], p[NI_MAXSERV];

    if (getnameinfo(sa, len, h, sizeof(h), p, sizeof(p), NI_NUMERICHOST | NI_NUMERICSERV))
        snprintf(out, outlen, "?");
    else if (sa->sa_family == AF_INET6)
        snprintf(out, outlen, "[%s]:%s", h, p);
    else
        snprintf(out, outlen, "%s:%s", h, p);
}

plat_sock plat_listen(const char *addr, const char *port, int *bound,
                      char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res;
    struct sockaddr_storage ss;
    int sl = sizeof(ss), rc;
    u_long nonblocking = 1;
    char why[256];
    SOCKET s;

    rc = getaddrinfo(addr, port, &hints, &res);
    if (rc) {
        plat_win32_error((DWORD)rc, why, sizeof(why));
        snprintf(err, errlen, "%s:%s: %s", addr, port, why);
        return PLAT_NO_SOCK;
    }
    /* No SO_REUSEADDR: on Windows it would let another program take the port. */
    s = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (s == INVALID_SOCKET ||
        bind(s, res->ai_addr, (int)res->ai_addrlen) != 0 || listen(s, SOMAXCONN) != 0 ||
        getsockname(s, (struct sockaddr *)&ss, &sl) != 0 ||
        ioctlsocket(s, FIONBIO, &nonblocking) != 0) {
        plat_win32_error(WSAGetLastError(), why, sizeof(why));
        snprintf(err, errlen, "cannot listen on %s:%s: %s", addr, port, why);
        if (s != INVALID_SOCKET)
            closesocket(s);
        freeaddrinfo(res);
        return PLAT_NO_SOCK;
    }
    freeaddrinfo(res);
    *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
    return (plat_sock)s;
}

int plat_accept(plat_sock ls, plat_sock *out, char *peer, size_t peerlen)
{
    struct sockaddr_storage ss;
    DWORD one = 1;

    for (;;) {
        int sl = sizeof(ss);
        /* It inherits the listener's non-blocking mode. */
        SOCKET s = accept((SOCKET)ls, (struct sockaddr *)&ss, &sl);

        if (s != INVALID_SOCKET) {
            setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof(one));
            format_peer((struct sockaddr *)&ss, sl, peer, peerlen);
            *out = (plat_sock)s;
            return 1;
        }
        switch (WSAGetLastError()) {
        case WSAEWOULDBLOCK:
            return 0;
        case WSAEINTR:
        case WSAECONNRESET:         /* gone before we took it */
            break;
        default:                    /* WSAEMFILE, WSAENOBUFS: later */
            return -1;
        }
    }
}

long plat_recv(plat_sock s, void *buf, size_t len)
{
    int n = recv((SOCKET)s, buf, len > INT_MAX ? INT_MAX : (int)len, 0);

    if (n != SOCKET_ERROR)
        return n;
    return WSAGetLastError() == WSAEWOULDBLOCK ? PLAT_AGAIN : -1;
}

long plat_sendv(plat_sock s, const struct plat_iov *iov, int n)
{
    WSABUF b[PLAT_IOV_MAX];
    DWORD sent = 0;

    if (n > PLAT_IOV_MAX)
        n = PLAT_IOV_MAX;
    for (int i = 0; i < n; i++) {
        b[i].buf = (char *)iov[i].base;
        b[i].len = iov[i].len > INT_MAX ? INT_MAX : (ULONG)iov[i].len;
    }
    if (WSASend((SOCKET)s, b, (DWORD)n, &sent, 0, NULL, NULL) != 0)
        return WSAGetLastError() == WSAEWOULDBLOCK ? PLAT_AGAIN : -1;
    return sent > 0 ? (long)sent : PLAT_AGAIN;
}

void plat_shutdown(plat_sock s)
{
    shutdown((SOCKET)s, SD_BOTH);
}

void plat_close(plat_sock s)
{
    closesocket((SOCKET)s);
}

int plat_socket_room(int want)
{
    /* Windows sockets are handles, with no per-process limit to raise. */
    return want;
}

/* ---- files ------------------------------------------------------------- */

/* UTF-8 to UTF-16; false if s is not UTF-8 or does not fit. */
static bool widen(const char *s, wchar_t *out, int outlen)
{
    return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, out, outlen) > 0;
}

static void narrow(const wchar_t *s, char *out, int outlen)
{
    if (WideCharToMultiByte(CP_UTF8, 0, s, -1, out, outlen, NULL, NULL) <= 0)
        snprintf(out, (size_t)outlen, "?");
}

/* A final path as people write it: C:\x for \\?\C:\x, \\srv\x for \\?\UNC\srv\x. */
static void show_final(const wchar_t *final, char *out, int outlen)
{
    if (wcsncmp(final, L"\\\\?\\UNC\\", 8) == 0) {
        snprintf(out, (size_t)outlen, "\\\\");
        narrow(final + 8, out + 2, outlen - 2);
    } else {
        narrow(wcsncmp(final, L"\\\\?\\", 4) == 0 ? final + 4 : final, out, outlen);
    }
}

static wp_code open_error(DWORD e, const char *what, char *err, size_t errlen)
{
    char why[256];

    plat_win32_error(e, why, sizeof(why));
    snprintf(err, errlen, "%s: %s", what, why);
    switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
        return WP_NOT_FOUND;
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME:
    case ERROR_DIRECTORY:
    case ERROR_CANT_ACCESS_FILE:        /* a reparse point of a kind we cannot follow */
    case ERROR_CANT_RESOLVE_FILENAME:   /* a loop of links */
        return WP_PATH_NOT_ALLOWED;
    default:
        return WP_IO_ERROR;
    }
}

/* The pinned chain root, dir, dir... and the path that reached them. */
struct walk {
    HANDLE dirs[MAX_DEPTH + 1];
    int ndirs;
    wchar_t path[2 * WP_HOST_PATH_MAX];
    size_t len;
    wchar_t root_final[FINAL_MAX];
};

static void walk_close(struct walk *w)
{
    while (w->ndirs > 0)
        CloseHandle(w->dirs[--w->ndirs]);
}

static bool final_path(HANDLE h, wchar_t *out, DWORD outlen)
{
    DWORD n = GetFinalPathNameByHandleW(h, out, outlen, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);

    return n > 0 && n < outlen;
}

/* Append '\' and comp to w->path. */
static bool walk_append(struct walk *w, const char *comp)
{
    size_t room = sizeof(w->path) / sizeof(w->path[0]) - w->len;

    if (room < 3)
        return false;
    if (w->len > 0 && w->path[w->len - 1] != L'\\') {
        w->path[w->len++] = L'\\';
        room--;
    }
    if (!widen(comp, w->path + w->len, (int)room))
        return false;
    w->len += wcslen(w->path + w->len);
    return true;
}

/*
 * The allowed roots' final paths, looked up again at most once a second:
 * opening a root and asking where it is costs three round trips to the
 * Wine server, a third of what a small request costs there.  Safe because
 * the file's own final path must still be under the root's as seen within
 * the second; a root moved or replaced is followed within a second, as on
 * POSIX.  Keyed by the configuration's string for the root.
 */
#define ROOTS_SEEN 32
static struct {
    const char *root;
    ULONGLONG at;               /* GetTickCount64 */
    wchar_t final[FINAL_MAX];
} roots_seen[ROOTS_SEEN];
static SRWLOCK roots_lock = SRWLOCK_INIT;

static bool root_seen(const char *root, wchar_t final[FINAL_MAX])
{
    ULONGLONG now = GetTickCount64();
    bool found = false;

    AcquireSRWLockShared(&roots_lock);
    for (int i = 0; i < ROOTS_SEEN && roots_seen[i].root; i++)
        if (roots_seen[i].root == root && now - roots_seen[i].at < 1000) {
            wcscpy(final, roots_seen[i].final);
            found = true;
            break;
        }
    ReleaseSRWLockShared(&roots_lock);
    return found;
}

static void root_saw(const char *root, const wchar_t *final)
{
    int i;

    AcquireSRWLockExclusive(&roots_lock);
    for (i = 0; i < ROOTS_SEEN && roots_seen[i].root && roots_seen[i].root != root; i++)
        continue;
    if (i < ROOTS_SEEN) {
        roots_seen[i].root = root;
        roots_seen[i].at = GetTickCount64();
        wcscpy(roots_seen[i].final, final);
    }
    ReleaseSRWLockExclusive(&roots_lock);
}

static wp_code walk_root(struct walk *w, const char *root, char *err, size_t errlen)
{
    HANDLE h;

    w->len = 0;
    if (!walk_append(w, root)) {
        snprintf(err, errlen, "%s: not a usable path", root);
        return WP_PATH_NOT_ALLOWED;
    }
    if (root_seen(root, w->root_final))
        return WP_OK;
    /* The root may itself be a link or junction: follow it. */
    h = CreateFileW(w->path, FILE_READ_ATTRIBUTES, SHARE_PIN, NULL, OPEN_EXISTING,
                    FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return open_error(GetLastError(), root, err, errlen);
    w->dirs[w->ndirs++] = h;
    if (!final_path(h, w->root_final, FINAL_MAX)) {
        snprintf(err, errlen, "%s: cannot tell where the allowed root is", root);
        return WP_IO_ERROR;
    }
    root_saw(root, w->root_final);
    return WP_OK;
}

/*
 * A handle's attributes, links and size.  Not GetFileInformationByHandle,
 * which also fetches the volume's serial number: a volume query that costs
 * Wine 0.7 ms on every call, most of what a small request cost there.
 */
static bool file_info(HANDLE h, DWORD *attrs, DWORD *links, uint64_t *size)
{
    FILE_BASIC_INFO b;
    FILE_STANDARD_INFO s;

    if (!GetFileInformationByHandleEx(h, FileBasicInfo, &b, sizeof(b)))
        return false;
    *attrs = b.FileAttributes;
    if (!links && !size)
        return true;
    if (!GetFileInformationByHandleEx(h, FileStandardInfo, &s, sizeof(s)))
        return false;
    if (links)
        *links = s.NumberOfLinks;
    if (size)
        *size = (uint64_t)s.EndOfFile.QuadPart;
    return true;
}

/* A directory below the root: no reparse point, and pinned. */
static wp_code walk_dir(struct walk *w, const char *comp, char *err, size_t errlen)
{
    DWORD attrs;
    HANDLE h;

    if (w->ndirs > MAX_DEPTH || !walk_append(w, comp)) {
        snprintf(err, errlen, "%s: path too long", comp);
        return WP_PATH_NOT_ALLOWED;
    }
    h = CreateFileW(w->path, FILE_READ_ATTRIBUTES, SHARE_PIN, NULL, OPEN_EXISTING,
                    FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return open_error(GetLastError(), comp, err, errlen);
    w->dirs[w->ndirs++] = h;
    if (!file_info(h, &attrs, NULL, NULL))
        return open_error(GetLastError(), comp, err, errlen);
    if (attrs & FILE_ATTRIBUTE_REPARSE_POINT) {
        snprintf(err, errlen, "%s: is a reparse point (symbolic link or junction)", comp);
        return WP_PATH_NOT_ALLOWED;
    }
    if (!(attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        snprintf(err, errlen, "%s: not a directory", comp);
        return WP_PATH_NOT_ALLOWED;
    }
    return WP_OK;
}

/* Why the file could not be opened for data: a directory is not allowed. */
static wp_code leaf_open_error(const wchar_t *path, DWORD e, const char *name,
                               char *err, size_t errlen)
{
    DWORD attrs;
    HANDLE h;
    bool dir = false;

    if (e == ERROR_ACCESS_DENIED) {
        h = CreateFileW(path, FILE_READ_ATTRIBUTES, SHARE_ALL, NULL, OPEN_EXISTING,
                        FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
        if (h != INVALID_HANDLE_VALUE) {
            dir = file_info(h, &attrs, NULL, NULL) && (attrs & FILE_ATTRIBUTE_DIRECTORY);
            CloseHandle(h);
        }
    }
    if (dir) {
        snprintf(err, errlen, "%s: not a regular file", name);
        return WP_PATH_NOT_ALLOWED;
    }
    return open_error(e, name, err, errlen);
}

/* The opened file: a regular disk file, not a link, no other hard link. */
static wp_code check_leaf(HANDLE h, const char *name, uint64_t *size,
                          char *err, size_t errlen)
{
    DWORD attrs, links;

    if (GetFileType(h) != FILE_TYPE_DISK) {
        snprintf(err, errlen, "%s: not a regular file", name);
        return WP_PATH_NOT_ALLOWED;
    }
    if (!file_info(h, &attrs, &links, size))
        return open_error(GetLastError(), name, err, errlen);
    if (attrs & FILE_ATTRIBUTE_REPARSE_POINT) {
        snprintf(err, errlen, "%s: is a reparse point (symbolic link or junction)", name);
        return WP_PATH_NOT_ALLOWED;
    }
    if (attrs & FILE_ATTRIBUTE_DIRECTORY) {
        snprintf(err, errlen, "%s: not a regular file", name);
        return WP_PATH_NOT_ALLOWED;
    }
    /* A hard link is a link too: it could name a file outside the root. */
    if (links > 1) {
        snprintf(err, errlen, "%s: has other hard links", name);
        return WP_PATH_NOT_ALLOWED;
    }
    return WP_OK;
}

/* The file is where it was asked for: root's final path, then rel exactly. */
static wp_code check_final(HANDLE h, const wchar_t *root_final, const char *rel,
                           wchar_t got[FINAL_MAX], char *err, size_t errlen)
{
    wchar_t want[FINAL_MAX];
    size_t rl = wcslen(root_final);
    char shown[FINAL_MAX];

    if (rl + 2 >= FINAL_MAX) {
        snprintf(err, errlen, "%s: path too long", rel);
        return WP_PATH_NOT_ALLOWED;
    }
    wcscpy(want, root_final);
    if (rl > 0 && want[rl - 1] != L'\\')
        want[rl++] = L'\\';
    if (!widen(rel, want + rl, (int)(FINAL_MAX - rl))) {
        snprintf(err, errlen, "%s: path too long", rel);
        return WP_PATH_NOT_ALLOWED;
    }
    if (!final_path(h, got, FINAL_MAX)) {
        snprintf(err, errlen, "%s: cannot tell where the file is", rel);
        return WP_IO_ERROR;
    }
    if (CompareStringOrdinal(got, -1, want, -1, TRUE) != CSTR_EQUAL) {
        show_final(got, shown, sizeof(shown));
        snprintf(err, errlen, "%s: reached through a link or alias (it is %s)", rel, shown);
        return WP_PATH_NOT_ALLOWED;
    }
    return WP_OK;
}

static wp_code open_leaf(struct walk *w, const char *name, const char *rel, bool write,
                         HANDLE *out, uint64_t *size, wchar_t final[FINAL_MAX],
                         char *err, size_t errlen)
{
    DWORD access = GENERIC_READ | (write ? GENERIC_WRITE : 0);
    wp_code rc;
    HANDLE h;

    if (!walk_append(w, name)) {
        snprintf(err, errlen, "%s: path too long", name);
        return WP_PATH_NOT_ALLOWED;
    }
    h = CreateFileW(w->path, access, SHARE_ALL, NULL, OPEN_EXISTING,
                    FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return leaf_open_error(w->path, GetLastError(), name, err, errlen);
    rc = check_leaf(h, name, size, err, errlen);
    if (rc == WP_OK)
        rc = check_final(h, w->root_final, rel, final, err, errlen);
    if (rc != WP_OK) {
        CloseHandle(h);
        return rc;
    }
    *out = h;
    return WP_OK;
}

wp_code plat_file_open(const char *root_dir, const char *rel, bool write,
                       plat_file **f, uint64_t *size, char *err, size_t errlen)
{
    char buf[WP_HOST_PATH_MAX], *comp, *next;
    struct walk *w;
    HANDLE h = INVALID_HANDLE_VALUE;
    wp_code rc;

    if (strlen(rel) >= sizeof(buf)) {
        snprintf(err, errlen, "path too long");
        return WP_PATH_NOT_ALLOWED;
    }
    strcpy(buf, rel);
    /* About 24 KiB of paths: kept off the worker's stack. */
    w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return WP_INTERNAL;
    }
    rc = walk_root(w, root_dir, err, errlen);
    for (comp = buf; rc == WP_OK && (next = strchr(comp, '\\')); comp = next + 1) {
        *next = '\0';
        rc = walk_dir(w, comp, err, errlen);
    }
    if (rc == WP_OK && !(*f = malloc(sizeof(**f)))) {
        snprintf(err, errlen, "out of memory");
        rc = WP_INTERNAL;
    }
    if (rc == WP_OK) {
        rc = open_leaf(w, comp, rel, write, &h, size, (*f)->final, err, errlen);
        if (rc != WP_OK) {
            free(*f);
            *f = NULL;
        }
    }
    walk_close(w);
    free(w);
    if (rc != WP_OK)
        return rc;
    (*f)->h = h;
    (*f)->size = *size;
    return WP_OK;
}

void plat_file_close(plat_file *f)
{
    if (f) {
        CloseHandle(f->h);
        free(f);
    }
}

/* ---- mappings ---------------------------------------------------------- */

void *plat_win32_map_view(HANDLE h, bool write, uint64_t off, size_t len,
                          char *err, size_t errlen)
{
    HANDLE sec;
    void *view;
    char why[256];

    /* Size 0: the file's own.  Any other would grow a writable file. */
    sec = CreateFileMappingW(h, NULL, write ? PAGE_READWRITE : PAGE_READONLY, 0, 0, NULL);
    if (!sec) {
        plat_win32_error(GetLastError(), why, sizeof(why));
        snprintf(err, errlen, "CreateFileMapping: %s", why);
        return NULL;
    }
    view = MapViewOfFile(sec, write ? FILE_MAP_WRITE : FILE_MAP_READ, (DWORD)(off >> 32),
                         (DWORD)off, (SIZE_T)len);
    if (!view) {
        plat_win32_error(GetLastError(), why, sizeof(why));
        snprintf(err, errlen, "MapViewOfFile: %s", why);
    }
    CloseHandle(sec);       /* the view keeps the section */
    return view;
}

/* A view of the range alone, for this request (priv NULL). */
static wp_code map_range(plat_file *f, uint64_t off, uint64_t len, bool write,
                         plat_map *m, char *err, size_t errlen)
{
    SYSTEM_INFO si;
    uint64_t aoff;

    GetSystemInfo(&si);
    aoff = off - off % si.dwAllocationGranularity;
    m->base = plat_win32_map_view(f->h, write, aoff, (size_t)(len + (off - aoff)), err, errlen);
    if (!m->base)
        return WP_IO_ERROR;
    m->priv = NULL;
    m->addr = (char *)m->base + (off - aoff);
    return WP_OK;
}

wp_code plat_map_file(plat_file *f, uint64_t off, uint64_t len, bool write,
                      plat_map *m, char *err, size_t errlen)
{
    void *base;

    /* A view of the whole file, kept for the next request (mapcache_win32.h);
     * where the address space has no room for all of it (a huge file under
     * Wine), the range alone.  From now on Windows refuses to shrink the
     * file (ERROR_USER_MAPPED_FILE); a view of the size it was opened with
     * fails if it shrank since. */
    m->faulted = false;
    m->len = (size_t)len;
    LARGE_INTEGER now;

    m->priv = mapcache_get(f->h, f->final, f->size, write, &base, err, errlen);
    if (!m->priv)
        return map_range(f, off, len, write, m, err, errlen);
    m->base = base;
    m->addr = (char *)base + off;
    /* Shrunk since it was opened, by less than the page a view may end in:
     * the view would show zeros past the file's end. */
    if (!GetFileSizeEx(f->h, &now) || (uint64_t)now.QuadPart < f->size) {
        m->faulted = true;
        plat_unmap(m);
        snprintf(err, errlen, "the file shrank to %lld bytes", (long long)now.QuadPart);
        return WP_IO_ERROR;
    }
    return WP_OK;
}

void plat_map_ready(plat_map *m, uint64_t off, uint64_t len)
{
    /* Windows faults pages in by clusters already; under Wine, locking a
     * part to bring its pages in costs more than the faults. */
    (void)m;
    (void)off;
    (void)len;
}

void plat_unmap(plat_map *m)
{
    if (m->priv)
        mapcache_put(m->priv, m->faulted);
    else if (m->base)
        UnmapViewOfFile(m->base);
    m->priv = NULL;
    m->base = NULL;
}

/* ---- files without a mapping ------------------------------------------ */

wp_code plat_file_write(plat_file *f, uint64_t off, const void *buf, size_t len,
                        char *err, size_t errlen)
{
    const char *p = buf;
    char why[256];

    while (len > 0) {
        OVERLAPPED o = { .Offset = (DWORD)off, .OffsetHigh = (DWORD)(off >> 32) };
        DWORD n = len > (1u << 30) ? (1u << 30) : (DWORD)len, done = 0;
        if (!WriteFile(f->h, p, n, &done, &o) || done == 0) {
            plat_win32_error(GetLastError(), why, sizeof(why));
            snprintf(err, errlen, "write: %s", why);
            return WP_IO_ERROR;
        }
        p += done;
        off += done;
        len -= done;
    }
    return WP_OK;
}

wp_code plat_file_read(plat_file *f, uint64_t off, void *buf, size_t len, size_t *got,
                       char *err, size_t errlen)
{
    char *p = buf, why[256];

    *got = 0;
    while (*got < len) {
        uint64_t at = off + *got;
        OVERLAPPED o = { .Offset = (DWORD)at, .OffsetHigh = (DWORD)(at >> 32) };
        DWORD n = len - *got > (1u << 30) ? (1u << 30) : (DWORD)(len - *got), done = 0;
        if (!ReadFile(f->h, p + *got, n, &done, &o)) {
            if (GetLastError() == ERROR_HANDLE_EOF)
                break;
            plat_win32_error(GetLastError(), why, sizeof(why));
            snprintf(err, errlen, "read: %s", why);
            return WP_IO_ERROR;
        }
        if (done == 0)
            break;
        *got += done;
    }
    return WP_OK;
}

wp_code plat_file_resize(plat_file *f, uint64_t size, char *err, size_t errlen)
{
    FILE_END_OF_FILE_INFO eof = { .EndOfFile.QuadPart = (LONGLONG)size };
    char why[256];

    /* A kept view would make Windows refuse to shrink it. */
    mapcache_forget(f->h, f->final);
    if (!SetFileInformationByHandle(f->h, FileEndOfFileInfo, &eof, sizeof(eof))) {
        plat_win32_error(GetLastError(), why, sizeof(why));
        snprintf(err, errlen, "cannot set the size: %s", why);
        return WP_IO_ERROR;
    }
    f->size = size;
    return WP_OK;
}

bool plat_file_same(const plat_file *a, const plat_file *b)
{
    /* Both were opened by plat_file_open: their final paths are checked and
     * they have one link each, so one final path is one file. */
    return CompareStringOrdinal(a->final, -1, b->final, -1, TRUE) == CSTR_EQUAL;
}

wp_code plat_temp_open(plat_file **f, char *err, size_t errlen)
{
    wchar_t dir[MAX_PATH + 1], name[MAX_PATH + 1];
    char why[256];
    HANDLE h;

    if (!GetTempPathW(MAX_PATH + 1, dir) || !GetTempFileNameW(dir, L"wah", 0, name)) {
        plat_win32_error(GetLastError(), why, sizeof(why));
        snprintf(err, errlen, "cannot make a temporary file: %s", why);
        return WP_IO_ERROR;
    }
    h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                    FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        plat_win32_error(GetLastError(), why, sizeof(why));
        DeleteFileW(name);
        snprintf(err, errlen, "cannot make a temporary file: %s", why);
        return WP_IO_ERROR;
    }
    *f = calloc(1, sizeof(**f));
    if (!*f) {
        CloseHandle(h);
        snprintf(err, errlen, "out of memory");
        return WP_INTERNAL;
    }
    (*f)->h = h;
    return WP_OK;
}

void plat_keep_maps(int seconds)
{
    mapcache_set_idle(seconds);
}

/* ---- shared libraries -------------------------------------------------- */

void *plat_lib_open(const char *path, char *err, size_t errlen)
{
    wchar_t w[MAX_PATH * 4], full[MAX_PATH * 4];
    HMODULE lib;

    if (!widen(path, w, (int)(sizeof(w) / sizeof(w[0])))) {
        snprintf(err, errlen, "not a UTF-8 path that fits");
        return NULL;
    }
    /* A full path: LoadLibrary searches for a bare name, and the DLL's own
     * directory is searched for what it needs in turn. */
    DWORD n = GetFullPathNameW(w, (DWORD)(sizeof(full) / sizeof(full[0])), full, NULL);

    if (n == 0 || n >= sizeof(full) / sizeof(full[0])) {
        if (n == 0)
            plat_win32_error(GetLastError(), err, errlen);
        else
            snprintf(err, errlen, "path too long");
        return NULL;
    }
    lib = LoadLibraryExW(full, NULL, LOAD_WITH_ALTERED_SEARCH_PATH);
    if (!lib)
        plat_win32_error(GetLastError(), err, errlen);
    return (void *)lib;
}

void *plat_lib_symbol(void *lib, const char *name)
{
    return (void *)GetProcAddress((HMODULE)lib, name);
}

void plat_lib_close(void *lib)
{
    FreeLibrary((HMODULE)lib);
}

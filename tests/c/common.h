/*
 * tests/c/common.h — shared helpers for the C test programs (header only).
 *
 * How the tests run
 * -----------------
 * scripts/test.sh compiles every tests/c/test_*.c on its own with
 *     cc -std=c11 -Wall -Wextra -Werror -pedantic -pthread -Iinclude -Itests/c
 * links it against target/debug/libwantu.so (rpath), starts one wantu-server
 * and runs each program under valgrind (leaks are errors). A program passes
 * when it exits 0. To run one by hand:
 *     scripts/server.sh build/c/test_core
 *
 * The server is given through the environment (scripts/server.sh exports):
 *     WANTU_TEST_ENDPOINT   base URL for upload and manage, "http://127.0.0.1:PORT"
 *     WANTU_TEST_AK         an access key the server accepts
 *     WANTU_TEST_SK         its secret key
 *     WANTU_TEST_NAMESPACE  a namespace to upload into
 * Tests share the server: use file names unique to your test (e.g. prefix
 * them with the program's name) so programs do not collide.
 *
 * The pattern
 * -----------
 * Include common.h first (it sets _POSIX_C_SOURCE and includes wantu.h,
 * pthread.h and the usual C and POSIX headers).
 *
 *     #include "common.h"
 *
 *     static void test_upload(void)
 *     {
 *         wantu_client *c = test_client();
 *         char policy[256];
 *         char *doc;
 *         test_policy(policy, sizeof policy, NULL);
 *         doc = expect_ok(wantu_upload_content(c, policy, "/t", "a.txt",
 *                                              (const uint8_t *)"hi", 2, NULL, NULL, NULL));
 *         CHECK(json_int(doc, "file_size") == 2);
 *         wantu_string_free(doc);
 *         expect_error(wantu_upload_token(c, NULL), 0, "InvalidArgument", "`policy_json`");
 *         wantu_client_free(c);
 *     }
 *
 *     int main(void)
 *     {
 *         test_init();
 *         RUN(test_upload);
 *         return test_report();   // prints "N passed, N failed" (N = checks)
 *     }
 *
 * Helpers (all thread-safe unless noted)
 * -------
 *   CHECK(cond)                 counts a check; on failure prints file:line and cond
 *   CHECK_DOC(cond, doc)        the same, printing doc (a JSON result) on failure
 *   RUN(fn)                     prints "== fn" and calls fn()
 *   test_init()                 reads the environment; exits 2 if it is missing
 *   test_report()               prints "N passed, N failed"; the exit status for main
 *   test_endpoint(), test_ak(), test_sk(), test_namespace()
 *   test_client()               a client on the test server (NULL counts a failure)
 *   test_policy(buf, n, extra)  {"namespace":NS,"expiration":-1<extra>} into buf;
 *                               extra is NULL or ",\"key\":value..." (starts with a comma)
 *   test_bytes(len, seed)       malloc'd deterministic pseudo-random bytes
 *   test_b64url(data, len, pad) URL-safe Base64, malloc'd; pad=1 keeps '=' (Python's
 *                               base64.urlsafe_b64encode, the seed's `parts` form)
 *   test_temp_file(data, len, path, n)  writes a temporary file; 1 on success
 *   test_temp_dir(path, n)      creates a temporary directory; 1 on success
 *   test_refused_endpoint(buf, n)  "http://127.0.0.1:PORT" where nothing listens
 *   test_unique(prefix, buf, n) a name unique to this process and call
 *   test_download(dir, name, &len, &status)  GET /files/NS/dir/name from the
 *                               server: the body (malloc'd; free it) or NULL
 *   json_find(doc, key)         the raw value of a top-level key, or NULL
 *   json_int(doc, key)          a number (or numeric string) value; JSON_MISSING if absent
 *   json_str(doc, key)          a string value, unescaped, malloc'd (free it); NULL if absent
 *   json_bool(doc, key)         1 / 0, or -1 when absent or not a boolean
 *   json_str_is(doc, key, s)    whether the string value equals s
 *   json_str_has(doc, key, s)   whether the string value contains s
 *   json_count(doc, text)       how many times text occurs in doc (e.g. how many
 *                               per-file results say "status":"skipped")
 *   expect_error(doc, code, error, msg_sub)  checks code, "error" and that
 *                               "message" contains msg_sub; FREES doc
 *   expect_success(doc)         checks "code" 200; FREES doc
 *   expect_ok(doc)              checks "code" 200; returns doc (free it yourself)
 *
 * The JSON helpers read the flat result objects libwantu answers; they
 * look at top-level keys only and are not a general JSON parser.
 */
#ifndef WANTU_TEST_COMMON_H
#define WANTU_TEST_COMMON_H

#ifdef _WIN32
/* Windows (MinGW-w64, see docs/windows.md): Winsock for the sockets,
 * winpthreads (the posix flavour of x86_64-w64-mingw32-gcc) for pthread.h
 * and nanosleep, the C runtime's io.h / direct.h for files. */
#define _WIN32_WINNT 0x0601 /* Windows 7: inet_pton */
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <direct.h>
#include <fcntl.h>
#include <io.h>
#include <process.h>
#include <sys/utime.h>
#else
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "wantu.h"

#define JSON_MISSING LLONG_MIN

/* ---- portability (POSIX / Windows) ------------------------------------- */
/*
 * The little the tests need that differs between POSIX and Windows:
 *   test_socket, TEST_BAD_SOCKET, test_closesocket(s)   a TCP socket
 *   test_sockets_init()   WSAStartup on Windows (test_init calls it)
 *   test_mkdtemp(t)       mkdtemp: t ends in XXXXXX, replaced in place
 *   test_fopen_utf8(path, mode), test_mkdir_utf8(path), test_remove_utf8(path),
 *   test_rmdir_utf8(path), test_exists_utf8(path), test_set_mtime_utf8(path, secs)
 *                         file calls on UTF-8 paths (the C runtime's narrow
 *                         calls use the ANSI code page on Windows)
 *   test_remove_tree_utf8(path)  removes a folder and everything in it (never
 *                         following a link); 0 on success (instead of
 *                         system("rm -rf ..."), which Windows lacks)
 * Paths handed to libwantu stay UTF-8 on every platform (the library
 * converts them to UTF-16 on Windows); temporary paths use '/' on Windows
 * too, so that they can be embedded in JSON options without escaping.
 */
#ifdef _WIN32
typedef SOCKET test_socket;
#define TEST_BAD_SOCKET INVALID_SOCKET
#define test_closesocket(s) closesocket(s)
static inline void test_sockets_init(void)
{
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
        fprintf(stderr, "WSAStartup failed\n");
        exit(2);
    }
}
static inline char *test_mkdtemp(char *templ)
{
    static atomic_uint seq;
    size_t n = strlen(templ);
    int tries;
    for (tries = 0; n >= 6 && tries < 100; tries++) {
        char six[7];
        unsigned r = (unsigned)GetTickCount() * 31u + (unsigned)_getpid() * 1009u +
                     atomic_fetch_add(&seq, 1) * 7919u;
        snprintf(six, sizeof six, "%06x", r & 0xffffffu);
        memcpy(templ + n - 6, six, 6);
        if (_mkdir(templ) == 0)
            return templ;
    }
    return NULL;
}
static inline wchar_t *test_wide(const char *utf8)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
    if (w != NULL && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, w, n) != n) {
        free(w);
        w = NULL;
    }
    return w;
}
static inline FILE *test_fopen_utf8(const char *path, const char *mode)
{
    wchar_t *p = test_wide(path), *m = test_wide(mode);
    FILE *f = p != NULL && m != NULL ? _wfopen(p, m) : NULL;
    free(p);
    free(m);
    return f;
}
/* fn (a wide C runtime call) on a UTF-8 path: 0 on success, -1 otherwise. */
static inline int test_wide_call(int (*fn)(const wchar_t *), const char *path)
{
    wchar_t *w = test_wide(path);
    int r = w != NULL ? fn(w) : -1;
    free(w);
    return r;
}
static inline int test_mkdir_utf8(const char *path) { return test_wide_call(_wmkdir, path); }
static inline int test_remove_utf8(const char *path) { return test_wide_call(_wremove, path); }
static inline int test_rmdir_utf8(const char *path) { return test_wide_call(_wrmdir, path); }
static inline int test_set_mtime_utf8(const char *path, long long secs)
{
    wchar_t *w = test_wide(path);
    struct _utimbuf t;
    int r;
    t.actime = t.modtime = (time_t)secs;
    r = w != NULL ? _wutime(w, &t) : -1;
    free(w);
    return r;
}
static inline int test_exists_utf8(const char *path)
{
    wchar_t *w = test_wide(path);
    int yes = w != NULL && GetFileAttributesW(w) != INVALID_FILE_ATTRIBUTES;
    free(w);
    return yes;
}
/* Removes the folder w and what it holds; a link or junction inside is
 * removed, not followed. 0 on success. */
static inline int test_remove_tree_wide(const wchar_t *w)
{
    size_t n = wcslen(w);
    wchar_t *pattern = malloc((n + 3) * sizeof *pattern);
    WIN32_FIND_DATAW fd;
    HANDLE h;
    int r = 0;
    if (pattern == NULL)
        return -1;
    memcpy(pattern, w, n * sizeof *w);
    memcpy(pattern + n, L"/*", 3 * sizeof *w);
    h = FindFirstFileW(pattern, &fd);
    free(pattern);
    if (h != INVALID_HANDLE_VALUE) {
        do {
            const wchar_t *name = fd.cFileName;
            size_t m = wcslen(name);
            wchar_t *child;
            if (wcscmp(name, L".") == 0 || wcscmp(name, L"..") == 0)
                continue;
            child = malloc((n + m + 2) * sizeof *child);
            if (child == NULL) {
                r = -1;
                continue;
            }
            memcpy(child, w, n * sizeof *w);
            child[n] = L'/';
            memcpy(child + n + 1, name, (m + 1) * sizeof *w);
            if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
                if (fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
                    if (!RemoveDirectoryW(child))
                        r = -1;
                } else if (test_remove_tree_wide(child) != 0) {
                    r = -1;
                }
            } else if (!DeleteFileW(child)) {
                r = -1;
            }
            free(child);
        } while (FindNextFileW(h, &fd));
        FindClose(h);
    }
    if (!RemoveDirectoryW(w))
        r = -1;
    return r;
}
static inline int test_remove_tree_utf8(const char *path)
{
    wchar_t *w = test_wide(path);
    int r = w != NULL ? test_remove_tree_wide(w) : -1;
    free(w);
    return r;
}
#else
typedef int test_socket;
#define TEST_BAD_SOCKET (-1)
#define test_closesocket(s) close(s)
static inline void test_sockets_init(void) {}
static inline char *test_mkdtemp(char *templ) { return mkdtemp(templ); }
static inline FILE *test_fopen_utf8(const char *path, const char *mode)
{
    return fopen(path, mode);
}
static inline int test_mkdir_utf8(const char *path) { return mkdir(path, 0700); }
static inline int test_remove_utf8(const char *path) { return remove(path); }
static inline int test_rmdir_utf8(const char *path) { return rmdir(path); }
static inline int test_set_mtime_utf8(const char *path, long long secs)
{
    struct timespec t[2];
    t[0].tv_sec = t[1].tv_sec = (time_t)secs;
    t[0].tv_nsec = t[1].tv_nsec = 0;
    return utimensat(AT_FDCWD, path, t, 0);
}
static inline int test_exists_utf8(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}
/* Removes the folder path and what it holds; a link inside is removed, not
 * followed. 0 on success. */
static inline int test_remove_tree_utf8(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int r = 0;
    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            struct stat st;
            size_t n;
            char *child;
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            n = strlen(path) + strlen(e->d_name) + 2;
            child = malloc(n);
            if (child == NULL) {
                r = -1;
                continue;
            }
            snprintf(child, n, "%s/%s", path, e->d_name);
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
                if (test_remove_tree_utf8(child) != 0)
                    r = -1;
            } else if (unlink(child) != 0) {
                r = -1;
            }
            free(child);
        }
        closedir(d);
    }
    if (rmdir(path) != 0)
        r = -1;
    return r;
}
#endif

static atomic_int t_checks;
static atomic_int t_failures;
static const char *t_endpoint, *t_ak, *t_sk, *t_namespace;
static atomic_uint t_unique;

/* ---- counting ---------------------------------------------------------- */

static inline int check_at(const char *file, int line, int ok, const char *what,
                           const char *doc)
{
    atomic_fetch_add(&t_checks, 1);
    if (!ok) {
        atomic_fetch_add(&t_failures, 1);
        fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
        if (doc != NULL)
            fprintf(stderr, "     got: %s\n", doc);
    }
    return ok;
}

#define CHECK(cond) check_at(__FILE__, __LINE__, (cond) ? 1 : 0, #cond, NULL)
#define CHECK_DOC(cond, doc) check_at(__FILE__, __LINE__, (cond) ? 1 : 0, #cond, (doc))
#define RUN(fn)                                                                                    \
    do {                                                                                           \
        printf("== %s\n", #fn);                                                                    \
        fflush(stdout);                                                                            \
        fn();                                                                                      \
    } while (0)

static inline int test_report(void)
{
    int checks = atomic_load(&t_checks), failed = atomic_load(&t_failures);
    printf("%d passed, %d failed\n", checks - failed, failed);
    fflush(stdout);
    return failed == 0 && checks > 0 ? 0 : 1;
}

/* ---- environment ------------------------------------------------------- */

static inline const char *test_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr,
                "%s is not set: run the C tests through scripts/test.sh, or one by hand "
                "with scripts/server.sh PROGRAM\n",
                name);
        exit(2);
    }
    return v;
}

static inline void test_init(void)
{
    t_endpoint = test_env("WANTU_TEST_ENDPOINT");
    t_ak = test_env("WANTU_TEST_AK");
    t_sk = test_env("WANTU_TEST_SK");
    t_namespace = test_env("WANTU_TEST_NAMESPACE");
    test_sockets_init();
    setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline const char *test_endpoint(void) { return t_endpoint; }
static inline const char *test_ak(void) { return t_ak; }
static inline const char *test_sk(void) { return t_sk; }
static inline const char *test_namespace(void) { return t_namespace; }

static inline wantu_client *test_client(void)
{
    wantu_client *c = wantu_client_new(t_ak, t_sk, NULL, t_endpoint, t_endpoint);
    if (c == NULL) {
        char *why = wantu_last_error();
        check_at(__FILE__, __LINE__, 0, "wantu_client_new for the test server", why);
        wantu_string_free(why);
    }
    return c;
}

static inline const char *test_policy(char *buf, size_t size, const char *extra)
{
    snprintf(buf, size, "{\"namespace\":\"%s\",\"expiration\":-1%s}", t_namespace,
             extra != NULL ? extra : "");
    return buf;
}

static inline const char *test_unique(const char *prefix, char *buf, size_t size)
{
    snprintf(buf, size, "%s-%ld-%u", prefix, (long)getpid(), atomic_fetch_add(&t_unique, 1));
    return buf;
}

/* ---- data and files ---------------------------------------------------- */

static inline unsigned char *test_bytes(size_t len, unsigned long seed)
{
    unsigned char *p = malloc(len > 0 ? len : 1);
    unsigned long long x = (seed + 1) * 0x9E3779B97F4A7C15ULL;
    size_t i;
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)(x >> 24);
    }
    return p;
}

static inline char *test_b64url(const void *data, size_t len, int pad)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *s = data;
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    size_t i, o = 0;
    if (out == NULL)
        return NULL;
    for (i = 0; i < len; i += 3) {
        unsigned long v = (unsigned long)s[i] << 16;
        if (i + 1 < len)
            v |= (unsigned long)s[i + 1] << 8;
        if (i + 2 < len)
            v |= s[i + 2];
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = abc[(v >> 6) & 63];
        else if (pad)
            out[o++] = '=';
        if (i + 2 < len)
            out[o++] = abc[v & 63];
        else if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static inline const char *test_tmpdir(void)
{
#ifdef _WIN32
    static char dir[MAX_PATH + 1];
    DWORD n = GetTempPathA(sizeof dir, dir), i;
    if (n == 0 || n > sizeof dir)
        return ".";
    for (i = 0; i < n; i++)
        if (dir[i] == '\\')
            dir[i] = '/';
    if (n > 1 && dir[n - 1] == '/')
        dir[n - 1] = '\0';
    return dir;
#else
    const char *t = getenv("TMPDIR");
    return t != NULL && *t ? t : "/tmp";
#endif
}

static inline int test_temp_file(const void *data, size_t len, char *path, size_t size)
{
    int fd, ok;
    snprintf(path, size, "%s/wantu-ctest-XXXXXX", test_tmpdir());
    fd = mkstemp(path);
    if (fd < 0)
        return 0;
    ok = len == 0 || write(fd, data, len) == (ssize_t)len;
    return close(fd) == 0 && ok;
}

static inline int test_temp_dir(char *path, size_t size)
{
    snprintf(path, size, "%s/wantu-ctest-XXXXXX", test_tmpdir());
    return test_mkdtemp(path) != NULL;
}

/* ---- network ----------------------------------------------------------- */

/* A port that was just free: bound, then closed, so connecting is refused. */
static inline const char *test_refused_endpoint(char *buf, size_t size)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    test_socket fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd == TEST_BAD_SOCKET || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        fprintf(stderr, "cannot bind a local port\n");
        exit(2);
    }
    test_closesocket(fd);
    snprintf(buf, size, "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    return buf;
}

/* Appends s percent-encoded (everything but unreserved characters). */
static inline size_t test_pct(char *out, size_t o, size_t size, const char *s)
{
    static const char hexd[] = "0123456789ABCDEF";
    for (; *s && o + 4 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hexd[c >> 4];
            out[o++] = hexd[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

/* Decodes a chunked body in place; returns the decoded length. */
static inline size_t test_unchunk(unsigned char *body, size_t len)
{
    size_t in = 0, out = 0;
    while (in < len) {
        char *end;
        unsigned long n = strtoul((const char *)body + in, &end, 16);
        const unsigned char *nl = memchr(body + in, '\n', len - in);
        (void)end;
        if (nl == NULL || n == 0)
            break;
        in = (size_t)(nl - body) + 1;
        if (in + n > len)
            n = len - in;
        memmove(body + out, body + in, n);
        out += n;
        in += n + 2; /* the chunk's CRLF */
    }
    return out;
}

/*
 * Downloads /files/NS{dir}/{name} with a plain HTTP/1.0 GET. Returns the
 * body (malloc'd, NUL-terminated beyond *len) when the status is 200, else
 * NULL; *status gets the HTTP status (0 when there was no answer).
 */
static inline unsigned char *test_download(const char *dir, const char *name, size_t *len,
                                           int *status)
{
    char host[256], path[2048], req[2400];
    const char *h = t_endpoint, *seg;
    unsigned port = 80;
    size_t o = 0, cap = 1 << 16, got = 0;
    unsigned char *buf;
    struct sockaddr_in a;
    test_socket fd;
    int st = 0;
    ssize_t n;
    *len = 0;
    *status = 0;
    if (strncmp(h, "http://", 7) == 0)
        h += 7;
    snprintf(host, sizeof host, "%s", h);
    host[strcspn(host, "/")] = '\0';
    if (strchr(host, ':') != NULL) {
        port = (unsigned)atoi(strchr(host, ':') + 1);
        *strchr(host, ':') = '\0';
    }
    o = (size_t)snprintf(path, sizeof path, "/files/");
    o = test_pct(path, o, sizeof path, t_namespace);
    /* each segment of dir, then name, percent-encoded */
    for (seg = dir; seg != NULL && *seg;) {
        char part[512];
        size_t l;
        while (*seg == '/')
            seg++;
        l = strcspn(seg, "/");
        if (l == 0)
            break;
        snprintf(part, sizeof part, "%.*s", (int)l, seg);
        path[o++] = '/';
        o = test_pct(path, o, sizeof path, part);
        seg += l;
    }
    path[o++] = '/';
    o = test_pct(path, o, sizeof path, name);
    snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s:%u\r\nConnection: close\r\n\r\n",
             path, host, port);

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == TEST_BAD_SOCKET || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd != TEST_BAD_SOCKET)
            test_closesocket(fd);
        return NULL;
    }
    if (send(fd, req, (int)strlen(req), 0) != (int)strlen(req)) {
        test_closesocket(fd);
        return NULL;
    }
    buf = malloc(cap + 1);
    while (buf != NULL && (n = recv(fd, (char *)buf + got, (int)(cap - got), 0)) > 0) {
        got += (size_t)n;
        if (got == cap) {
            unsigned char *bigger = realloc(buf, cap * 2 + 1);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    test_closesocket(fd);
    if (buf == NULL)
        return NULL;
    buf[got] = '\0';
    if (sscanf((const char *)buf, "HTTP/%*s %d", &st) == 1)
        *status = st;
    {
        unsigned char *body = (unsigned char *)strstr((const char *)buf, "\r\n\r\n");
        size_t head, blen;
        int chunked;
        if (body == NULL || st != 200) {
            free(buf);
            return NULL;
        }
        body += 4;
        head = (size_t)(body - buf);
        blen = got - head;
        buf[head - 1] = '\0'; /* search the headers only */
        chunked = strstr((const char *)buf, "chunked") != NULL;
        memmove(buf, body, blen);
        if (chunked)
            blen = test_unchunk(buf, blen);
        buf[blen] = '\0';
        *len = blen;
    }
    return buf;
}

/* ---- JSON results ------------------------------------------------------ */

/* The raw text of the value of a top-level key, or NULL. */
static inline const char *json_find(const char *doc, const char *key)
{
    size_t klen = strlen(key);
    int depth = 0, expect_key = 0;
    const char *p = doc;
    if (doc == NULL)
        return NULL;
    while (*p) {
        if (*p == '"') {
            const char *start = p + 1, *q = start;
            while (*q && *q != '"') {
                if (*q == '\\' && q[1])
                    q++;
                q++;
            }
            if (!*q)
                return NULL;
            if (depth == 1 && expect_key) {
                const char *after = q + 1;
                while (*after == ' ' || *after == '\n' || *after == '\t' || *after == '\r')
                    after++;
                if (*after == ':' && (size_t)(q - start) == klen &&
                    memcmp(start, key, klen) == 0) {
                    after++;
                    while (*after == ' ' || *after == '\n' || *after == '\t' || *after == '\r')
                        after++;
                    return after;
                }
                expect_key = 0;
            }
            p = q + 1;
            continue;
        }
        if (*p == '{' || *p == '[') {
            depth++;
            expect_key = *p == '{' && depth == 1;
        } else if (*p == '}' || *p == ']') {
            depth--;
        } else if (*p == ',' && depth == 1) {
            expect_key = 1;
        }
        p++;
    }
    return NULL;
}

static inline long long json_int(const char *doc, const char *key)
{
    const char *v = json_find(doc, key);
    char *end;
    long long n;
    if (v == NULL)
        return JSON_MISSING;
    if (*v == '"')
        v++;
    n = strtoll(v, &end, 10);
    return end == v ? JSON_MISSING : n;
}

static inline int json_bool(const char *doc, const char *key)
{
    const char *v = json_find(doc, key);
    if (v != NULL && strncmp(v, "true", 4) == 0)
        return 1;
    if (v != NULL && strncmp(v, "false", 5) == 0)
        return 0;
    return -1;
}

/* Appends code point cp to out as UTF-8. */
static inline size_t json_utf8(char *out, size_t o, unsigned long cp)
{
    if (cp < 0x80) {
        out[o++] = (char)cp;
    } else if (cp < 0x800) {
        out[o++] = (char)(0xC0 | (cp >> 6));
        out[o++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[o++] = (char)(0xE0 | (cp >> 12));
        out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[o++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[o++] = (char)(0xF0 | (cp >> 18));
        out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[o++] = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

static inline char *json_str(const char *doc, const char *key)
{
    const char *v = json_find(doc, key), *p;
    char *out;
    size_t o = 0;
    if (v == NULL || *v != '"')
        return NULL;
    out = malloc(strlen(v) + 1); /* unescaping never makes it longer */
    if (out == NULL)
        return NULL;
    for (p = v + 1; *p && *p != '"'; p++) {
        if (*p != '\\') {
            out[o++] = *p;
            continue;
        }
        p++;
        switch (*p) {
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case 'r': out[o++] = '\r'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'u': {
            char hex[5] = {0};
            unsigned long cp;
            memcpy(hex, p + 1, 4);
            cp = strtoul(hex, NULL, 16);
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && p[1] == '\\' && p[2] == 'u') {
                unsigned long lo;
                memcpy(hex, p + 3, 4);
                lo = strtoul(hex, NULL, 16);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            o = json_utf8(out, o, cp);
            break;
        }
        case '\0': p--; break;
        default: out[o++] = *p; break; /* \" \\ \/ */
        }
    }
    out[o] = '\0';
    return out;
}

static inline int json_str_is(const char *doc, const char *key, const char *expected)
{
    char *v = json_str(doc, key);
    int ok = v != NULL && strcmp(v, expected) == 0;
    free(v);
    return ok;
}

static inline int json_str_has(const char *doc, const char *key, const char *needle)
{
    char *v = json_str(doc, key);
    int ok = v != NULL && strstr(v, needle) != NULL;
    free(v);
    return ok;
}

static inline long long json_count(const char *doc, const char *text)
{
    long long n = 0;
    size_t len = strlen(text);
    const char *at = doc;
    if (len == 0) return 0;
    while ((at = strstr(at, text)) != NULL) {
        n++;
        at += len;
    }
    return n;
}

/* A result must be an object with integer "code", string "message" and "request_id". */
static inline int json_is_result(const char *doc)
{
    const char *m = json_find(doc, "message"), *r = json_find(doc, "request_id");
    return doc != NULL && doc[0] == '{' && json_int(doc, "code") != JSON_MISSING &&
           json_find(doc, "code")[0] != '"' && m != NULL && *m == '"' && r != NULL && *r == '"';
}

static inline int expect_error_at(const char *file, int line, char *doc, long long code,
                                  const char *error, const char *msg_sub)
{
    char what[512];
    int ok = json_is_result(doc) && json_int(doc, "code") == code &&
             json_str_is(doc, "error", error) && json_str_has(doc, "message", msg_sub);
    snprintf(what, sizeof what, "expected code %lld, error %s, message containing \"%s\"", code,
             error, msg_sub);
    check_at(file, line, ok, what, doc != NULL ? doc : "(NULL)");
    wantu_string_free(doc);
    return ok;
}

static inline char *expect_ok_at(const char *file, int line, char *doc)
{
    check_at(file, line, json_is_result(doc) && json_int(doc, "code") == 200,
             "expected a success (code 200)", doc != NULL ? doc : "(NULL)");
    return doc;
}

static inline int expect_success_at(const char *file, int line, char *doc)
{
    int ok = json_is_result(doc) && json_int(doc, "code") == 200;
    check_at(file, line, ok, "expected a success (code 200)", doc != NULL ? doc : "(NULL)");
    wantu_string_free(doc);
    return ok;
}

#define expect_error(doc, code, error, msg_sub)                                                    \
    expect_error_at(__FILE__, __LINE__, (doc), (code), (error), (msg_sub))
#define expect_ok(doc) expect_ok_at(__FILE__, __LINE__, (doc))
#define expect_success(doc) expect_success_at(__FILE__, __LINE__, (doc))

#endif /* WANTU_TEST_COMMON_H */

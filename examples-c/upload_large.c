/*
 * upload_large: uploads a file of any size with one call, drawing a
 * progress bar on stderr. Ctrl-C cancels: the progress callback returns
 * non-zero, the parts in flight stop, and the upload is cancelled on the
 * server too.
 *
 *   upload_large ENDPOINT AK SK NAMESPACE FILE [/DIR/NAME] [OPTIONS_JSON]
 *
 * OPTIONS_JSON is passed as is, e.g. '{"concurrency":8,"integrity":false}'
 * or '{"checkpoint_path":"big.checkpoint"}' to resume after a crash.
 * Set UPLOAD_LARGE_QUIET=1 to draw no bar (for benchmarks).
 *
 * The result JSON goes to stdout; the exit status is 0 on success, 130
 * when cancelled, 1 on any other failure.
 *
 * Build (from the repository root, after `cargo build`):
 *   cc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude examples-c/upload_large.c \
 *      -Ltarget/debug -Wl,-rpath,target/debug -lwantu -o upload_large
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wantu.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1; /* the progress callback sees it and cancels */
}

struct bar {
    struct timespec start;
    int quiet;
};

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Runs on the thread that called wantu_transfer_file, every 100 ms or MiB. */
static int on_progress(uint64_t sent, uint64_t total, void *user_data)
{
    const struct bar *bar = user_data;
    double secs = seconds_since(&bar->start);
    double mib = (double)sent / 1048576.0;
    double rate = secs > 0 ? mib / secs : 0;
    if (!bar->quiet) {
        if (total == WANTU_SIZE_UNKNOWN) {
            fprintf(stderr, "\r%10.1f MiB  %8.1f MiB/s", mib, rate);
        } else {
            enum { WIDTH = 40 };
            char cells[WIDTH + 1];
            double share = total > 0 ? (double)sent / (double)total : 1.0;
            int filled = (int)(share * WIDTH), i;
            for (i = 0; i < WIDTH; i++)
                cells[i] = i < filled ? '#' : '.';
            cells[WIDTH] = '\0';
            fprintf(stderr, "\r[%s] %5.1f%%  %.1f / %.1f MiB  %.1f MiB/s", cells, share * 100.0,
                    mib, (double)total / 1048576.0, rate);
        }
        fflush(stderr);
    }
    return interrupted ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *endpoint, *ak, *sk, *ns, *file, *target, *options, *quiet;
    char dir[1024] = "/", name[1024], policy[512];
    const char *slash;
    struct bar bar;
    struct sigaction sa;
    wantu_client *client;
    char *result;
    const char *code;
    int status;

    if (argc < 6 || argc > 8) {
        fprintf(stderr, "usage: %s ENDPOINT AK SK NAMESPACE FILE [/DIR/NAME] [OPTIONS_JSON]\n",
                argv[0]);
        return 2;
    }
    endpoint = argv[1];
    ak = argv[2];
    sk = argv[3];
    ns = argv[4];
    file = argv[5];
    target = argc > 6 ? argv[6] : NULL;
    options = argc > 7 ? argv[7] : NULL;

    /* /DIR/NAME, or the file's own name in the root folder. */
    if (target != NULL && (slash = strrchr(target, '/')) != NULL) {
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - target), target);
        if (dir[0] == '\0')
            snprintf(dir, sizeof dir, "/");
        snprintf(name, sizeof name, "%s", slash + 1);
    } else if (target != NULL) {
        snprintf(name, sizeof name, "%s", target);
    } else {
        slash = strrchr(file, '/');
        snprintf(name, sizeof name, "%s", slash != NULL ? slash + 1 : file);
    }
    snprintf(policy, sizeof policy, "{\"namespace\":\"%s\",\"expiration\":-1}", ns);

    client = wantu_client_new(ak, sk, NULL, endpoint, endpoint);
    if (client == NULL) {
        char *why = wantu_last_error();
        fprintf(stderr, "cannot create the client: %s\n", why != NULL ? why : "?");
        wantu_string_free(why);
        return 1;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    quiet = getenv("UPLOAD_LARGE_QUIET");
    bar.quiet = quiet != NULL && strcmp(quiet, "1") == 0;
    clock_gettime(CLOCK_MONOTONIC, &bar.start);
    result = wantu_transfer_file(client, policy, dir, name, file, NULL, NULL, options, on_progress,
                                 &bar, NULL);
    if (!bar.quiet)
        fprintf(stderr, "\n%.2f s\n", seconds_since(&bar.start));

    printf("%s\n", result);
    /* The result is a flat JSON object; a real program would parse it. */
    code = strstr(result, "\"code\":");
    if (code != NULL && atoi(code + 7) == 200)
        status = 0;
    else
        status = strstr(result, "\"error\":\"Cancelled\"") != NULL ? 130 : 1;
    wantu_string_free(result);
    wantu_client_free(client);
    return status;
}

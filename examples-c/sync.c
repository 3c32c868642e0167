/*
 * sync: a local folder up to a namespace folder, then back down into
 * another local folder, with a progress line. Running it again sends only
 * what changed ("skip":"md5": one listing per remote folder, an MD5 per
 * local file whose size matches).
 *
 *   sync ENDPOINT AK SK NAMESPACE LOCAL_DIR REMOTE_DIR [DOWNLOAD_DIR]
 *
 * Ctrl-C cancels: the progress callback answers non-zero, every request in
 * flight stops, and multipart uploads are cancelled on the server.
 * The exit status is 0 when every file made it, 130 when cancelled, 1
 * otherwise; the result JSON of each half goes to stdout.
 *
 * Build (from the repository root, after `cargo build`):
 *   cc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude examples-c/sync.c \
 *      -Ltarget/debug -Wl,-rpath,target/debug -lwantu -o sync
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

struct line {
    const char *what;
    struct timespec start;
};

/* Runs on this thread, every 100 ms or MiB, for the bytes of the whole call. */
static int on_progress(uint64_t done, uint64_t total, void *user_data)
{
    const struct line *l = user_data;
    struct timespec now;
    double secs, mib = (double)done / 1048576.0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    secs = (double)(now.tv_sec - l->start.tv_sec) + (double)(now.tv_nsec - l->start.tv_nsec) / 1e9;
    if (total == WANTU_SIZE_UNKNOWN)
        fprintf(stderr, "\r%s %9.1f MiB  %7.1f MiB/s   ", l->what, mib,
                secs > 0 ? mib / secs : 0.0);
    else
        fprintf(stderr, "\r%s %9.1f / %.1f MiB  %7.1f MiB/s   ", l->what, mib,
                (double)total / 1048576.0, secs > 0 ? mib / secs : 0.0);
    return interrupted ? 1 : 0;
}

/* 0 when every file made it, 130 when cancelled, 1 otherwise. */
static int outcome(char *doc)
{
    int status = strstr(doc, "\"failed\":0,") != NULL ? 0 : 1;
    if (strstr(doc, "\"error\":\"Cancelled\"") != NULL)
        status = 130;
    fprintf(stderr, "\n");
    printf("%s\n", doc);
    wantu_string_free(doc);
    return status;
}

int main(int argc, char **argv)
{
    char policy[512];
    struct line up = {"up  ", {0, 0}};
    wantu_client *client;
    int status;
    if (argc < 7) {
        fprintf(stderr,
                "usage: %s ENDPOINT AK SK NAMESPACE LOCAL_DIR REMOTE_DIR [DOWNLOAD_DIR]\n",
                argv[0]);
        return 2;
    }
    signal(SIGINT, on_sigint);
    client = wantu_client_new(argv[2], argv[3], NULL, argv[1], argv[1]);
    if (client == NULL) {
        char *why = wantu_last_error();
        fprintf(stderr, "cannot create a client: %s\n", why ? why : "(no reason given)");
        wantu_string_free(why);
        return 1;
    }
    snprintf(policy, sizeof policy, "{\"namespace\":\"%s\",\"expiration\":-1}", argv[4]);

    /* Up: every file under LOCAL_DIR, unchanged ones skipped. */
    clock_gettime(CLOCK_MONOTONIC, &up.start);
    status = outcome(wantu_upload_dir(client, policy, argv[5], argv[6], "{\"skip\":\"md5\"}",
                                      on_progress, &up, NULL));

    /* Down: REMOTE_DIR back into DOWNLOAD_DIR, unchanged local files skipped. */
    if (status == 0 && argc > 7) {
        struct line down = {"down", {0, 0}};
        clock_gettime(CLOCK_MONOTONIC, &down.start);
        status = outcome(wantu_download_dir(client, argv[4], argv[6], argv[7],
                                            "{\"skip\":\"md5\"}", on_progress, &down, NULL));
    }
    wantu_client_free(client);
    return status;
}

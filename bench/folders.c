/*
 * bench/folders: many small files, two ways, for bench/folders.sh.
 *
 *   folders dir  ENDPOINT AK SK NS LOCAL REMOTE [OPTIONS_JSON]
 *       one wantu_upload_dir call (default options unless OPTIONS_JSON)
 *   folders loop ENDPOINT AK SK NS LOCAL REMOTE
 *       a sequential loop of wantu_upload_file over the same files
 *
 * Prints one line: "<mode> files=N seconds=S files_per_s=R ok=0|1", and
 * for `dir` the result's counts. Exit status 0 only when every file was
 * stored.
 */
#define _XOPEN_SOURCE 700

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wantu.h"

static wantu_client *client;
static char policy[256];
static const char *local_root, *remote_root;
static size_t files, failures;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Uploads one file to remote_root + its folder relative to local_root. */
static int one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    char dir[4096];
    const char *rel = path + strlen(local_root);
    size_t parent = (size_t)ftw->base - strlen(local_root);
    char *doc;
    (void)st;
    if (type != FTW_F)
        return 0;
    snprintf(dir, sizeof dir, "%s%.*s", remote_root, (int)parent, rel);
    doc = wantu_upload_file(client, policy, dir, path + ftw->base, path, NULL, NULL, NULL);
    files++;
    if (strncmp(doc, "{\"code\":200", 11) != 0 && strstr(doc, "\"code\":200") == NULL) {
        if (failures++ == 0)
            fprintf(stderr, "failed: %s: %s\n", path, doc);
    }
    wantu_string_free(doc);
    return 0;
}

int main(int argc, char **argv)
{
    double t0, secs;
    int ok;
    if (argc < 8 || (strcmp(argv[1], "dir") != 0 && strcmp(argv[1], "loop") != 0)) {
        fprintf(stderr, "usage: folders dir|loop ENDPOINT AK SK NS LOCAL REMOTE [OPTIONS_JSON]\n");
        return 2;
    }
    client = wantu_client_new(argv[3], argv[4], NULL, argv[2], argv[2]);
    if (client == NULL) {
        fprintf(stderr, "no client: %s\n", wantu_last_error());
        return 1;
    }
    snprintf(policy, sizeof policy, "{\"namespace\":\"%s\",\"expiration\":-1}", argv[5]);
    local_root = argv[6];
    remote_root = argv[7];
    t0 = now();
    if (strcmp(argv[1], "dir") == 0) {
        char *doc = wantu_upload_dir(client, policy, local_root, remote_root,
                                     argc > 8 ? argv[8] : NULL, NULL, NULL, NULL);
        const char *up = strstr(doc, "\"uploaded\":");
        secs = now() - t0;
        /* Top-level keys only: no per-file result has a "failed" key. */
        ok = strstr(doc, "\"failed\":0,") != NULL;
        files = up != NULL ? (size_t)strtoul(up + 11, NULL, 10) : 0;
        if (!ok)
            fprintf(stderr, "failed: %.600s\n", doc);
        wantu_string_free(doc);
    } else {
        nftw(local_root, one, 32, FTW_PHYS);
        secs = now() - t0;
        ok = failures == 0;
    }
    printf("%s files=%zu seconds=%.2f files_per_s=%.1f ok=%d\n", argv[1], files, secs,
           secs > 0 ? (double)files / secs : 0.0, ok);
    wantu_client_free(client);
    return ok ? 0 : 1;
}

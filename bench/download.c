/*
 * download: the benchmark driver for downloads (bench/download.sh). One
 * libwantu call, its result JSON on stdout; exit status 0 on success.
 *
 *   download file ENDPOINT AK SK NAMESPACE /DIR/NAME LOCAL_PATH [OPTIONS_JSON]
 *   download dir  ENDPOINT AK SK NAMESPACE REMOTE_DIR LOCAL_DIR [OPTIONS_JSON]
 *
 * ENDPOINT serves both the upload and the manage API. The caller checks
 * the result's top-level "code" (bench/download.sh does, with Python).
 */
#include <stdio.h>
#include <string.h>

#include "wantu.h"

int main(int argc, char **argv)
{
    wantu_client *client;
    char *result, dir[1024] = "/";
    const char *name, *slash, *options;
    if (argc < 8 || (strcmp(argv[1], "file") != 0 && strcmp(argv[1], "dir") != 0)) {
        fprintf(stderr, "usage: download file|dir ENDPOINT AK SK NAMESPACE REMOTE LOCAL [OPTIONS]\n");
        return 2;
    }
    options = argc > 8 ? argv[8] : NULL;
    client = wantu_client_new(argv[3], argv[4], "TOP", argv[2], argv[2]);
    if (client == NULL) {
        fprintf(stderr, "download: cannot create the client\n");
        return 1;
    }
    if (strcmp(argv[1], "file") == 0) {
        slash = strrchr(argv[6], '/');
        name = slash != NULL ? slash + 1 : argv[6];
        if (slash != NULL && slash != argv[6] && (size_t)(slash - argv[6]) < sizeof dir) {
            memcpy(dir, argv[6], (size_t)(slash - argv[6]));
            dir[slash - argv[6]] = '\0';
        }
        result = wantu_download_file(client, argv[5], dir, name, argv[7], options, NULL, NULL,
                                     NULL);
    } else {
        result = wantu_download_dir(client, argv[5], argv[6], argv[7], options, NULL, NULL, NULL);
    }
    puts(result);
    wantu_string_free(result);
    wantu_client_free(client);
    return 0;
}

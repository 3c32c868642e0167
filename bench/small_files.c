/*
 * small_files: the seed's one-request upload call in a loop, for
 * `make bench` (bench/run.sh): uploads DIR/f00000 ... DIR/f<COUNT-1> with
 * wantu_upload_file over one client (its connections are reused, as a
 * program uploading many small files would) and prints how many succeeded.
 *
 *   small_files ENDPOINT AK SK NAMESPACE DIR COUNT
 *
 * Exit status 0 when every upload answered code 200.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wantu.h"

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s ENDPOINT AK SK NAMESPACE DIR COUNT\n", argv[0]);
        return 2;
    }
    const char *dir = argv[5];
    long count = strtol(argv[6], NULL, 10);
    struct wantu_client *client = wantu_client_new(argv[2], argv[3], NULL, argv[1], NULL);
    if (client == NULL) {
        char *why = wantu_last_error();
        fprintf(stderr, "small_files: %s\n", why ? why : "no client");
        wantu_string_free(why);
        return 1;
    }
    char policy[512], path[4096], name[32];
    snprintf(policy, sizeof policy, "{\"namespace\":\"%s\",\"expiration\":-1}", argv[4]);
    long ok = 0;
    for (long i = 0; i < count; i++) {
        snprintf(name, sizeof name, "f%05ld", i);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        char *answer = wantu_upload_file(client, policy, "/small", name, path, NULL, NULL, NULL);
        if (answer != NULL && strstr(answer, "\"code\":200") != NULL) {
            ok++;
        } else {
            fprintf(stderr, "small_files: %s: %s\n", name, answer ? answer : "(null)");
        }
        wantu_string_free(answer);
    }
    wantu_client_free(client);
    printf("{\"code\":200,\"uploaded\":%ld}\n", ok);
    return ok == count ? 0 : 1;
}

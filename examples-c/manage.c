/*
 * Managing stored files and folders with libwantu.
 *
 *   manage ENDPOINT AK SK NAMESPACE
 *
 * Without arguments it reads WANTU_TEST_ENDPOINT, WANTU_TEST_AK,
 * WANTU_TEST_SK and WANTU_TEST_NAMESPACE (scripts/server.sh exports them
 * for a local wantu-server). Every call answers a JSON document, printed
 * here and released with wantu_string_free().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wantu.h"

static int failures = 0;

/* Prints a result and frees it; counts anything but the expected code. */
static void show(const char *what, char *json, int expected_code)
{
    char code[16];
    snprintf(code, sizeof code, "\"code\":%d", expected_code);
    if (strstr(json, code) == NULL)
        failures++;
    printf("%-12s %s\n", what, json);
    wantu_string_free(json);
}

static const char *arg(int argc, char **argv, int i, const char *env)
{
    const char *v = argc > 4 ? argv[i] : getenv(env);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "usage: manage ENDPOINT AK SK NAMESPACE (or set %s)\n", env);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *endpoint = arg(argc, argv, 1, "WANTU_TEST_ENDPOINT");
    const char *ak = arg(argc, argv, 2, "WANTU_TEST_AK");
    const char *sk = arg(argc, argv, 3, "WANTU_TEST_SK");
    const char *ns = arg(argc, argv, 4, "WANTU_TEST_NAMESPACE");
    const char *text = "hello, wantu";
    char policy[256];
    wantu_client *c;

    /* The same endpoint serves uploads and management on wantu-server. */
    c = wantu_client_new(ak, sk, NULL, endpoint, endpoint);
    if (c == NULL) {
        char *why = wantu_last_error();
        fprintf(stderr, "cannot create a client: %s\n", why);
        wantu_string_free(why);
        return 1;
    }
    snprintf(policy, sizeof policy, "{\"namespace\":\"%s\",\"expiration\":-1}", ns);

    /* A file to manage. */
    show("upload", wantu_upload_content(c, policy, "/example", "hello.txt",
                                        (const uint8_t *)text, strlen(text), NULL, NULL, NULL),
         200);

    /* Files: exists, metadata, one page of a listing, rename, every page. */
    show("exists", wantu_file_exists(c, ns, "/example", "hello.txt"), 200);
    show("get", wantu_file_get(c, ns, "/example", "hello.txt"), 200);
    show("list", wantu_file_list(c, ns, "/example", 1, 10), 200);
    show("rename", wantu_file_rename(c, ns, "/example", "hello.txt", "/example/renamed",
                                     "hello again.txt"),
         200);
    show("list all", wantu_file_list_all(c, ns, "/example/renamed", 1000), 200);

    /* Folders: create (parents too), list, delete; a folder must be empty. */
    show("mkdir", wantu_dir_create(c, ns, "/example/a/b"), 200);
    show("list dirs", wantu_dir_list(c, ns, "/example", 1, WANTU_MAX_PAGE_SIZE), 200);
    show("rmdir a", wantu_dir_delete(c, ns, "/example/a"), 409); /* DirNotEmpty */
    show("rmdir a/b", wantu_dir_delete(c, ns, "/example/a/b"), 200);
    show("rmdir a", wantu_dir_delete(c, ns, "/example/a"), 200);

    /* Clean up; getting a deleted file answers 404 FileNotExist. */
    show("delete", wantu_file_delete(c, ns, "/example/renamed", "hello again.txt"), 200);
    show("get", wantu_file_get(c, ns, "/example/renamed", "hello again.txt"), 404);

    wantu_client_free(c);
    if (failures > 0)
        fprintf(stderr, "%d call(s) did not answer as expected\n", failures);
    return failures > 0 ? 1 : 0;
}

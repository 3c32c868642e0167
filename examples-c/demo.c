/*
 * The seed's demo (the Python SDK's test.py) in C: upload a file, upload
 * bytes, a multipart upload of three parts, a multipart cancel, and what an
 * error looks like. Each call prints its result JSON.
 *
 *   demo ENDPOINT AK SK NAMESPACE
 *   (or the environment variables WANTU_ENDPOINT, WANTU_AK, WANTU_SK,
 *    WANTU_NAMESPACE)
 *
 * `make demo` runs it against a local wantu-server. Against the real
 * service, leave ENDPOINT empty ("") to use the default hosts.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wantu.h"

/* Every part but the last must be at least WANTU_MIN_PART_SIZE (100 KiB). */
#define PART_SIZE (128 * 1024)
#define PARTS 3
#define LAST_PART_SIZE 110000

static int failures = 0;

/* Prints a result, notes whether its "code" is the expected one, frees it. */
static void show(const char *step, char *result, int expected_code)
{
    char expect[32];
    snprintf(expect, sizeof expect, "\"code\":%d", expected_code);
    printf("%s:\n  %s\n\n", step, result);
    if (strstr(result, expect) == NULL) {
        fprintf(stderr, "demo: %s did not answer code %d\n", step, expected_code);
        failures++;
    }
    wantu_string_free(result);
}

/*
 * Copies the string value of a top-level key of a result into buf (our
 * results are flat JSON objects, and ids and e_tags need no unescaping).
 * Returns 0 when the key is missing.
 */
static int field(const char *json, const char *key, char *buf, size_t size)
{
    char pattern[64];
    const char *start, *end;
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    start = strstr(json, pattern);
    if (start == NULL)
        return 0;
    start += strlen(pattern);
    end = strchr(start, '"');
    if (end == NULL || (size_t)(end - start) >= size)
        return 0;
    memcpy(buf, start, (size_t)(end - start));
    buf[end - start] = '\0';
    return 1;
}

/* URL-safe Base64 with padding: Python's base64.urlsafe_b64encode. */
static char *b64url(const char *text)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t len = strlen(text), i, o = 0;
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    const unsigned char *s = (const unsigned char *)text;
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
        out[o++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? abc[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static const char *arg_or_env(int argc, char **argv, int i, const char *env)
{
    const char *v = i < argc ? argv[i] : getenv(env);
    return v != NULL ? v : "";
}

/* Writes a small local file to upload; returns its path in buf. */
static int write_sample_file(char *path, size_t size)
{
    const char text[] = "hello from the libwantu C demo\n";
    const char *tmp = getenv("TMPDIR");
    FILE *f;
    int fd;
    snprintf(path, size, "%s/wantu-demo-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
    fd = mkstemp(path);
    if (fd < 0)
        return 0;
    f = fdopen(fd, "wb");
    if (f == NULL) {
        close(fd);
        return 0;
    }
    fwrite(text, 1, sizeof text - 1, f);
    return fclose(f) == 0;
}

int main(int argc, char **argv)
{
    const char *endpoint = arg_or_env(argc, argv, 1, "WANTU_ENDPOINT");
    const char *ak = arg_or_env(argc, argv, 2, "WANTU_AK");
    const char *sk = arg_or_env(argc, argv, 3, "WANTU_SK");
    const char *ns = arg_or_env(argc, argv, 4, "WANTU_NAMESPACE");
    char policy[512], path[512], id[128], upload_id[128];
    char etags[PARTS][64], parts_json[512];
    unsigned char *big;
    size_t big_len = (PARTS - 1) * PART_SIZE + LAST_PART_SIZE, i;
    wantu_client *client;
    char *result, *parts_b64;
    const char bytes[] = "bytes uploaded from memory";

    printf("libwantu %s (header %s)\n\n", wantu_version(), WANTU_VERSION_STRING);
    if (!*ak || !*sk || !*ns) {
        fprintf(stderr, "usage: %s ENDPOINT AK SK NAMESPACE\n", argv[0]);
        return 2;
    }

    /* The seed's Want(ak, sk, type, upload_endpoint, manage_endpoint). */
    client = wantu_client_new(ak, sk, NULL, *endpoint ? endpoint : NULL,
                              *endpoint ? endpoint : NULL);
    if (client == NULL) {
        char *why = wantu_last_error();
        fprintf(stderr, "demo: cannot create the client: %s\n", why ? why : "?");
        wantu_string_free(why);
        return 1;
    }

    /* The upload policy: which namespace, and until when (-1 = never). */
    snprintf(policy, sizeof policy,
             "{\"namespace\":\"%s\",\"expiration\":-1,\"insertOnly\":0}", ns);
    show("upload_token", wantu_upload_token(client, policy), 200);

    /* 1. upload_file(policy, dir, name, file_path, md5, meta, var) */
    if (!write_sample_file(path, sizeof path)) {
        perror("demo: cannot write the sample file");
        wantu_client_free(client);
        return 1;
    }
    show("upload_file", wantu_upload_file(client, policy, "/demo", "hello.txt", path, NULL,
                                          "{\"author\":\"demo\"}", NULL), 200);
    remove(path);

    /* 2. upload_content(policy, dir, name, content, md5, meta, var) */
    show("upload_content",
         wantu_upload_content(client, policy, "/demo", "bytes.txt",
                              (const uint8_t *)bytes, sizeof bytes - 1, NULL, NULL, NULL),
         200);

    /* 3. multipart: init with part 1, upload parts 2..N, complete. */
    big = malloc(big_len);
    if (big == NULL) {
        wantu_client_free(client);
        return 1;
    }
    for (i = 0; i < big_len; i++)
        big[i] = (unsigned char)(i * 31 + i / 4096);

    result = wantu_multipart_init(client, policy, "/demo", "big.bin", big, PART_SIZE,
                                  NULL, NULL, NULL);
    printf("multipart_init:\n  %s\n\n", result);
    if (!field(result, "id", id, sizeof id) ||
        !field(result, "upload_id", upload_id, sizeof upload_id) ||
        !field(result, "e_tag", etags[0], sizeof etags[0])) {
        fprintf(stderr, "demo: multipart_init failed\n");
        wantu_string_free(result);
        free(big);
        wantu_client_free(client);
        return 1;
    }
    wantu_string_free(result);

    for (i = 1; i < PARTS; i++) {
        size_t len = i + 1 < PARTS ? PART_SIZE : LAST_PART_SIZE;
        char step[64];
        result = wantu_multipart_upload(client, policy, id, upload_id, (uint32_t)(i + 1),
                                        big + i * PART_SIZE, len, NULL);
        snprintf(step, sizeof step, "multipart_upload part %u", (unsigned)(i + 1));
        if (!field(result, "e_tag", etags[i], sizeof etags[i]))
            etags[i][0] = '\0';
        show(step, result, 200);
    }

    /*
     * `parts` in the seed's form: base64.urlsafe_b64encode(json.dumps([...])).
     * A plain JSON array (this parts_json itself) is accepted as well.
     */
    snprintf(parts_json, sizeof parts_json,
             "[{\"e_tag\": \"%s\", \"part_number\": 1}, {\"e_tag\": \"%s\", \"part_number\": 2}, "
             "{\"e_tag\": \"%s\", \"part_number\": 3}]",
             etags[0], etags[1], etags[2]);
    parts_b64 = b64url(parts_json);
    printf("parts: %s\n  seed form: %s\n\n", parts_json, parts_b64 ? parts_b64 : "?");
    show("multipart_complete",
         wantu_multipart_complete(client, policy, id, upload_id,
                                  parts_b64 ? parts_b64 : parts_json, NULL),
         200);
    free(parts_b64);

    /* 4. multipart_cancel: start another upload and abandon it. */
    result = wantu_multipart_init(client, policy, "/demo", "cancelled.bin", big, PART_SIZE,
                                  NULL, NULL, NULL);
    printf("multipart_init (to cancel):\n  %s\n\n", result);
    if (field(result, "id", id, sizeof id) && field(result, "upload_id", upload_id, sizeof upload_id)) {
        show("multipart_cancel", wantu_multipart_cancel(client, policy, id, upload_id), 200);
    } else {
        fprintf(stderr, "demo: multipart_init failed\n");
        failures++;
    }
    wantu_string_free(result);
    free(big);

    /* 5. An error: the server checks the md5 and refuses a wrong one. */
    show("upload_content with a wrong md5 (an error, on purpose)",
         wantu_upload_content(client, policy, "/demo", "bad.txt", (const uint8_t *)bytes,
                              sizeof bytes - 1, "00000000000000000000000000000000", NULL, NULL),
         400);

    wantu_client_free(client);
    if (failures) {
        fprintf(stderr, "demo: %d step(s) failed\n", failures);
        return 1;
    }
    printf("demo: every step answered as expected\n");
    return 0;
}

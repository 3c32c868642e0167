/*
 * Downloads through the C API: a tree with awkward names back byte for
 * byte, skip rules, one file in parallel ranges with progress, cancel,
 * and hostile arguments. Sizes stay small because this runs under valgrind.
 */
#include "common.h"

#define SMALL_PARTS "{\"part_size\":102400,\"concurrency\":3}"

struct file {
    const char *dir; /* below the test's remote root */
    const char *name;
    size_t len;
};

static const struct file TREE[] = {
    {"", "top.txt", 10},
    {"", "empty", 0},
    {"a b", "with space.bin", 5000},
    {"a b/100% #1", "h#sh%25.txt", 70},
    {"\xe4\xb8\xad\xe6\x96\x87", "\xe6\x96\x87\xe4\xbb\xb6.jpg", 333},            /* 中文/文件.jpg */
    {"\xe4\xb8\xad\xe6\x96\x87/\xf0\x9f\x98\x80", "e \xf0\x9f\x98\x80.png", 1234}, /* 中文/😀 */
    {"deep/er", "big.bin", 250000}, /* three ranges of 102400 */
};
#define TREE_LEN (sizeof TREE / sizeof TREE[0])

struct progress {
    uint64_t last, total, calls;
    int backwards, reentry_refused;
    uint64_t cancel_at;
};

static int on_progress(uint64_t done, uint64_t total, void *user_data)
{
    struct progress *p = user_data;
    if (p->calls > 0 && done < p->last)
        p->backwards = 1;
    p->last = done;
    p->total = total;
    p->calls++;
    if (p->calls == 1) {
        char *doc = wantu_download_file(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        p->reentry_refused = json_str_has(doc, "message", "inside one of its own callbacks");
        wantu_string_free(doc);
    }
    return p->cancel_at > 0 && done >= p->cancel_at;
}

/* Whether the file at path (UTF-8) holds exactly data[0..len). */
static int same_bytes(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = test_fopen_utf8(path, "rb");
    unsigned char *buf;
    size_t got;
    int same;
    if (f == NULL)
        return 0;
    buf = malloc(len + 1);
    got = fread(buf, 1, len + 1, f);
    fclose(f);
    same = got == len && (len == 0 || memcmp(buf, data, len) == 0);
    free(buf);
    return same;
}

static void remote_dir(char *out, size_t n, const char *root, const char *dir)
{
    snprintf(out, n, "%s%s%s", root, dir[0] ? "/" : "", dir);
}

static void test_tree_round_trip(void)
{
    wantu_client *c = test_client();
    char policy[256], root[128], local[512], path[1024], rdir[512];
    unsigned char *data[TREE_LEN];
    char *doc;
    size_t i;
    test_policy(policy, sizeof policy, NULL);
    snprintf(root, sizeof root, "/");
    test_unique("dl-tree", root + 1, sizeof root - 1);
    for (i = 0; i < TREE_LEN; i++) {
        data[i] = test_bytes(TREE[i].len, (unsigned long)i + 1);
        remote_dir(rdir, sizeof rdir, root, TREE[i].dir);
        expect_success(wantu_transfer_content(c, policy, rdir, TREE[i].name, data[i], TREE[i].len,
                                              NULL, NULL, NULL, NULL, NULL, NULL));
    }
    CHECK(test_temp_dir(local, sizeof local));
    doc = expect_ok(wantu_download_dir(c, test_namespace(), root, local, SMALL_PARTS, NULL, NULL,
                                       NULL));
    CHECK_DOC(json_int(doc, "downloaded") == (long long)TREE_LEN, doc);
    CHECK_DOC(json_int(doc, "failed") == 0, doc);
    CHECK_DOC(json_count(doc, "\"status\":\"downloaded\"") == (long long)TREE_LEN, doc);
    wantu_string_free(doc);
    for (i = 0; i < TREE_LEN; i++) {
        snprintf(path, sizeof path, "%s/%s%s%s", local, TREE[i].dir, TREE[i].dir[0] ? "/" : "",
                 TREE[i].name);
        CHECK(same_bytes(path, data[i], TREE[i].len));
    }

    /* A second run with skip md5 fetches nothing. */
    doc = expect_ok(wantu_download_dir(c, test_namespace(), root, local, "{\"skip\":\"md5\"}",
                                       NULL, NULL, NULL));
    CHECK_DOC(json_int(doc, "downloaded") == 0, doc);
    CHECK_DOC(json_int(doc, "skipped") == (long long)TREE_LEN, doc);
    CHECK_DOC(json_count(doc, "\"status\":\"skipped\"") == (long long)TREE_LEN, doc);
    wantu_string_free(doc);

    /* A dry run names what it would fetch, and counts it apart. */
    doc = expect_ok(wantu_download_dir(c, test_namespace(), root, local, "{\"dry_run\":true}",
                                       NULL, NULL, NULL));
    CHECK_DOC(json_int(doc, "downloaded") == 0, doc);
    CHECK_DOC(json_int(doc, "would_download") == (long long)TREE_LEN, doc);
    CHECK_DOC(json_count(doc, "\"status\":\"would_download\"") == (long long)TREE_LEN, doc);
    wantu_string_free(doc);

    /* One file in parallel ranges, with progress. */
    {
        struct progress p = {0};
        snprintf(path, sizeof path, "%s/single.bin", local);
        remote_dir(rdir, sizeof rdir, root, "deep/er");
        doc = expect_ok(wantu_download_file(c, test_namespace(), rdir, "big.bin", path,
                                            SMALL_PARTS, on_progress, &p, NULL));
        CHECK_DOC(json_int(doc, "parts") == 3, doc);
        wantu_string_free(doc);
        CHECK(same_bytes(path, data[TREE_LEN - 1], TREE[TREE_LEN - 1].len));
        CHECK(!p.backwards);
        CHECK(p.last == 250000 && p.total == 250000);
        CHECK(p.reentry_refused);
    }

    /* Cancelled before it starts: an error, and no file under the name. */
    {
        wantu_cancel *cancel = wantu_cancel_new();
        wantu_cancel_trigger(cancel);
        snprintf(path, sizeof path, "%s/cancelled.bin", local);
        expect_error(wantu_download_file(c, test_namespace(), rdir, "big.bin", path, SMALL_PARTS,
                                         NULL, NULL, cancel),
                     0, "Cancelled", "cancelled");
        CHECK(access(path, F_OK) != 0);
        expect_error(wantu_download_dir(c, test_namespace(), root, local, NULL, NULL, NULL,
                                        cancel),
                     0, "Cancelled", "cancelled");
        wantu_cancel_free(cancel);
    }
    /* A callback that stops the download. */
    {
        struct progress p = {0};
        p.cancel_at = 1;
        snprintf(path, sizeof path, "%s/stopped.bin", local);
        doc = wantu_download_file(c, test_namespace(), rdir, "big.bin", path,
                                  "{\"part_size\":102400,\"concurrency\":1,\"resume\":false}",
                                  on_progress, &p, NULL);
        /* It may also have finished before the callback ran; never a partial file. */
        if (json_int(doc, "code") == 200)
            CHECK(same_bytes(path, data[TREE_LEN - 1], TREE[TREE_LEN - 1].len));
        else
            CHECK_DOC(json_str_is(doc, "error", "Cancelled") && access(path, F_OK) != 0, doc);
        wantu_string_free(doc);
    }
    for (i = 0; i < TREE_LEN; i++)
        free(data[i]);
    CHECK(test_remove_tree_utf8(local) == 0);
    wantu_client_free(c);
}

/*
 * Names that are ordinary on POSIX but mean something else to Windows: a
 * drive prefix ("C:x.txt" would be written to the current folder of drive
 * C:, outside local_dir), an alternate data stream ("a:b"), devices ("NUL",
 * "con.txt"), a wildcard ("q?.txt") and a trailing dot that Windows drops
 * ("trail."). POSIX downloads them byte for byte; Windows refuses each one
 * up front (InvalidArgument), writes nothing for it, and still downloads
 * the ordinary file beside them.
 */
static const char *const WINDOWS_NAMES[] = {"C:x.txt", "NUL",    "a:b",   "con.txt",
                                            "ok.txt",  "q?.txt", "trail."};
#define WINDOWS_NAMES_LEN (sizeof WINDOWS_NAMES / sizeof WINDOWS_NAMES[0])

static void test_names_windows_cannot_hold(void)
{
    wantu_client *c = test_client();
    char policy[256], root[128], local[512], path[1024];
    unsigned char *data = test_bytes(100, 77);
    char *doc;
    size_t i;
    test_policy(policy, sizeof policy, NULL);
    snprintf(root, sizeof root, "/");
    test_unique("dl-winnames", root + 1, sizeof root - 1);
    for (i = 0; i < WINDOWS_NAMES_LEN; i++)
        expect_success(wantu_transfer_content(c, policy, root, WINDOWS_NAMES[i], data, 100, NULL,
                                              NULL, NULL, NULL, NULL, NULL));
    CHECK(test_temp_dir(local, sizeof local));
    doc = wantu_download_dir(c, test_namespace(), root, local, NULL, NULL, NULL, NULL);
#ifdef _WIN32
    CHECK_DOC(json_str_is(doc, "error", "SomeFilesFailed"), doc);
    CHECK_DOC(json_int(doc, "downloaded") == 1, doc);
    CHECK_DOC(json_int(doc, "failed") == (long long)WINDOWS_NAMES_LEN - 1, doc);
    /* Each refused by name before anything was written, none an I/O error. */
    CHECK_DOC(json_str_has(doc, "message", "first: C:x.txt: remote name \"C:x.txt\""), doc);
    CHECK_DOC(strstr(doc, "IoError") == NULL, doc);
    CHECK_DOC(strstr(doc, "\"error\":\"InvalidArgument\"") != NULL, doc);
    /* Nothing escaped to drive C:'s current folder. */
    CHECK(!test_exists_utf8("C:x.txt"));
    test_remove_utf8("C:x.txt"); /* in case an older build put it there */
    snprintf(path, sizeof path, "%s/ok.txt", local);
    CHECK(same_bytes(path, data, 100));
#else
    CHECK_DOC(json_int(doc, "code") == 200, doc);
    CHECK_DOC(json_int(doc, "downloaded") == (long long)WINDOWS_NAMES_LEN, doc);
    for (i = 0; i < WINDOWS_NAMES_LEN; i++) {
        snprintf(path, sizeof path, "%s/%s", local, WINDOWS_NAMES[i]);
        CHECK(same_bytes(path, data, 100));
    }
#endif
    wantu_string_free(doc);
    CHECK(test_remove_tree_utf8(local) == 0);
    free(data);
    wantu_client_free(c);
}

static void test_bad_arguments(void)
{
    wantu_client *c = test_client();
    char local[512], path[1024];
    const char *ns = test_namespace();
    CHECK(test_temp_dir(local, sizeof local));
    snprintf(path, sizeof path, "%s/x", local);
    expect_error(wantu_download_file(NULL, ns, "/", "n", path, NULL, NULL, NULL, NULL), 0,
                 "InvalidArgument", "`client`");
    expect_error(wantu_download_file(c, NULL, "/", "n", path, NULL, NULL, NULL, NULL), 0,
                 "InvalidArgument", "`ns`");
    expect_error(wantu_download_file(c, ns, "/", NULL, path, NULL, NULL, NULL, NULL), 0,
                 "InvalidArgument", "`name`");
    expect_error(wantu_download_file(c, ns, "/", "n", NULL, NULL, NULL, NULL, NULL), 0,
                 "InvalidArgument", "`local_path`");
    expect_error(wantu_download_file(c, ns, "/", "n", path, "{\"concurrency\":0}", NULL, NULL,
                                     NULL),
                 0, "InvalidArgument", "`concurrency`");
    expect_error(wantu_download_file(c, ns, "/", "n", path, "{\"skip\":\"md5\"}", NULL, NULL,
                                     NULL),
                 0, "InvalidArgument", "`skip`");
    expect_error(wantu_download_file(c, ns, "/", "n", local, NULL, NULL, NULL, NULL), 0,
                 "InvalidArgument", "is a folder");
    snprintf(path, sizeof path, "%s/missing/x", local);
    expect_error(wantu_download_file(c, ns, "/", "n", path, NULL, NULL, NULL, NULL), 0, "IoError",
                 "does not exist");
    snprintf(path, sizeof path, "%s/x", local);
    expect_error(wantu_download_file(c, ns, "/", "no-such-file", path, NULL, NULL, NULL, NULL),
                 404, "FileNotExist", "");
    CHECK(access(path, F_OK) != 0);
    expect_error(wantu_download_dir(c, ns, "/no/such/folder", local, NULL, NULL, NULL, NULL), 0,
                 "InvalidArgument", "`remote_dir`");
    expect_error(wantu_download_dir(c, ns, "/", NULL, NULL, NULL, NULL, NULL), 0,
                 "InvalidArgument", "`local_dir`");
    expect_error(wantu_download_dir(c, ns, "/", local, "{\"include\":[\"a[\"]}", NULL, NULL,
                                    NULL),
                 0, "InvalidArgument", "`include`");
    rmdir(local);
    wantu_client_free(c);
}

int main(void)
{
    test_init();
    RUN(test_tree_round_trip);
    RUN(test_names_windows_cannot_hold);
    RUN(test_bad_arguments);
    return test_report();
}

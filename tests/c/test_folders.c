/*
 * Folder and batch uploads through the C API: a tree of awkward
 * names byte-exact, skip "md5" re-runs, a FIFO in the folder, a batch of
 * files and bytes, cancel, and hostile arguments. Small sizes: valgrind.
 */
#include "common.h"

#include <sys/stat.h>

#define NFILES 9

struct entry {
    const char *rel; /* relative path inside the local folder */
    const char *dir; /* its folder below the remote root */
    const char *name;
    size_t len;
};

static const struct entry tree[NFILES] = {
    {"a.txt", "", "a.txt", 1000},
    {"empty.bin", "", "empty.bin", 0},
    {"with space/file name.txt", "with space", "file name.txt", 4321},
    {"pct%20#/100% #1.txt", "pct%20#", "100% #1.txt", 77},
    {"\xe4\xb8\xad\xe6\x96\x87/\xe7\x85\xa7\xe7\x89\x87.jpg", "\xe4\xb8\xad\xe6\x96\x87",
     "\xe7\x85\xa7\xe7\x89\x87.jpg", 5000},
    {"emoji \xf0\x9f\x98\x80/\xf0\x9f\x8e\x89.png", "emoji \xf0\x9f\x98\x80",
     "\xf0\x9f\x8e\x89.png", 3000},
    {"deep/a/b/c/leaf.dat", "deep/a/b/c", "leaf.dat", 1},
    {"deep/a/empty too.txt", "deep/a", "empty too.txt", 0},
    {"big/large.bin", "big", "large.bin", 250000}, /* three parts of 102400 */
};

struct progress {
    uint64_t last_sent, last_total, calls;
    int backwards;
};

static int on_progress(uint64_t sent, uint64_t total, void *user_data)
{
    struct progress *p = user_data;
    if (p->calls > 0 && sent < p->last_sent)
        p->backwards = 1;
    p->last_sent = sent;
    p->last_total = total;
    p->calls++;
    return 0;
}

static void mkdirs(const char *root, const char *rel)
{
    char path[1024];
    size_t i;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (i = strlen(root) + 1; path[i]; i++) {
        if (path[i] == '/') {
            path[i] = '\0';
            test_mkdir_utf8(path);
            path[i] = '/';
        }
    }
}

static int write_file(const char *root, const char *rel, const unsigned char *data, size_t len)
{
    char path[1024];
    FILE *f;
    size_t n;
    mkdirs(root, rel);
    snprintf(path, sizeof path, "%s/%s", root, rel);
    f = test_fopen_utf8(path, "wb"); /* UTF-8 names on Windows too */
    if (f == NULL)
        return 0;
    n = len == 0 ? 0 : fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len;
}

static void remove_tree(const char *root) { CHECK(test_remove_tree_utf8(root) == 0); }

static void check_tree(const char *remote, unsigned char **data)
{
    int i;
    for (i = 0; i < NFILES; i++) {
        char dir[512];
        size_t len = 0;
        int status = 0;
        unsigned char *got;
        snprintf(dir, sizeof dir, "%s/%s", remote, tree[i].dir);
        got = test_download(dir, tree[i].name, &len, &status);
        CHECK(status == 200);
        CHECK(len == tree[i].len);
        CHECK(got != NULL && (len == 0 || memcmp(got, data[i], len) == 0));
        if (status != 200)
            fprintf(stderr, "     %s/%s: HTTP %d\n", dir, tree[i].name, status);
        free(got);
    }
}

static void test_tree(void)
{
    wantu_client *c = test_client();
    char policy[256], root[512], remote[128], path[1024];
    unsigned char *data[NFILES];
    struct progress p = {0};
    uint64_t total = 0;
    char *doc;
    int i;
    test_policy(policy, sizeof policy, NULL);
    test_unique("/test_folders", remote, sizeof remote);
    CHECK(test_temp_dir(root, sizeof root));
    for (i = 0; i < NFILES; i++) {
        data[i] = test_bytes(tree[i].len, 40 + (unsigned long)i);
        CHECK(write_file(root, tree[i].rel, data[i], tree[i].len));
        total += tree[i].len;
    }

    doc = expect_ok(wantu_upload_dir(c, policy, root, remote, "{\"part_size\":102400}",
                                     on_progress, &p, NULL));
    CHECK_DOC(json_int(doc, "uploaded") == NFILES, doc);
    CHECK_DOC(json_int(doc, "failed") == 0, doc);
    CHECK_DOC(json_count(doc, "\"status\":\"uploaded\"") == NFILES, doc);
    CHECK_DOC(json_int(doc, "bytes") == (long long)total, doc);
    CHECK_DOC(strstr(doc, "\"multipart\":true") != NULL, doc);
    CHECK(!p.backwards);
    CHECK(p.last_sent == total && p.last_total == total);
    wantu_string_free(doc);
    check_tree(remote, data);

    /* Again, skipping what is the same: nothing is sent. */
    doc = expect_ok(wantu_upload_dir(c, policy, root, remote, "{\"skip\":\"md5\"}", NULL, NULL,
                                     NULL));
    CHECK_DOC(json_int(doc, "uploaded") == 0, doc);
    CHECK_DOC(json_int(doc, "skipped") == NFILES, doc);
    CHECK_DOC(json_count(doc, "\"status\":\"skipped\"") == NFILES, doc);
    CHECK_DOC(json_int(doc, "attempts") == 0, doc);
    wantu_string_free(doc);

    /* One file changes (same size): only it is sent. */
    free(data[4]);
    data[4] = test_bytes(tree[4].len, 999);
    CHECK(write_file(root, tree[4].rel, data[4], tree[4].len));
    doc = expect_ok(wantu_upload_dir(c, policy, root, remote, "{\"skip\":\"md5\"}", NULL, NULL,
                                     NULL));
    CHECK_DOC(json_int(doc, "uploaded") == 1, doc);
    CHECK_DOC(json_int(doc, "skipped") == NFILES - 1, doc);
    CHECK_DOC(json_int(doc, "bytes") == (long long)tree[4].len, doc);
    wantu_string_free(doc);
    check_tree(remote, data);

#ifndef _WIN32 /* FIFOs are POSIX only */
    /* A FIFO in the folder is skipped with a note; nothing waits on it. */
    snprintf(path, sizeof path, "%s/a pipe", root);
    CHECK(mkfifo(path, 0600) == 0);
    doc = wantu_upload_dir(c, policy, root, remote, "{\"skip\":\"md5\"}", NULL, NULL, NULL);
    CHECK_DOC(json_int(doc, "code") == 200, doc);
    CHECK_DOC(json_int(doc, "failed") == 0 && json_int(doc, "skipped") == NFILES + 1, doc);
    CHECK_DOC(strstr(doc, "a FIFO: only regular files are uploaded") != NULL, doc);
    wantu_string_free(doc);
#else
    (void)path;
#endif

    for (i = 0; i < NFILES; i++)
        free(data[i]);
    remove_tree(root);
    wantu_client_free(c);
}

static void test_batch(void)
{
    wantu_client *c = test_client();
    char policy[256], file[512], remote[128], jobs[2048];
    unsigned char *data = test_bytes(3000, 7);
    unsigned char *got;
    size_t len = 0;
    int status = 0;
    char *doc;
    test_policy(policy, sizeof policy, NULL);
    test_unique("/test_folders_batch", remote, sizeof remote);
    CHECK(test_temp_file(data, 3000, file, sizeof file));
    snprintf(jobs, sizeof jobs,
             "[{\"path\":\"%s\",\"dir\":\"%s\",\"name\":\"from file.bin\",\"meta\":{\"k\":\"v\"}},"
             "{\"content_base64\":\"aGVsbG8=\",\"dir\":\"%s/sub\",\"name\":\"hello.txt\"}]",
             file, remote, remote);
    doc = expect_ok(wantu_transfer_batch(c, policy, jobs, NULL, NULL, NULL, NULL));
    CHECK_DOC(json_int(doc, "uploaded") == 2, doc);
    wantu_string_free(doc);
    got = test_download(remote, "from file.bin", &len, &status);
    CHECK(status == 200 && len == 3000 && got != NULL && memcmp(got, data, 3000) == 0);
    free(got);
    got = test_download(strcat(remote, "/sub"), "hello.txt", &len, &status);
    CHECK(status == 200 && len == 5 && got != NULL && memcmp(got, "hello", 5) == 0);
    free(got);
    unlink(file);
    free(data);
    wantu_client_free(c);
}

static void test_cancel_and_bad_input(void)
{
    wantu_client *c = test_client();
    wantu_cancel *cancel = wantu_cancel_new();
    char policy[256], root[512], named[256];
    test_policy(policy, sizeof policy, NULL);
    CHECK(test_temp_dir(root, sizeof root));
    CHECK(write_file(root, "x/y.txt", (const unsigned char *)"y", 1));

    /* A triggered handle: the call ends at once, cancelled. */
    wantu_cancel_trigger(cancel);
    expect_error(wantu_upload_dir(c, policy, root, "/test_folders_cancel", NULL, NULL, NULL,
                                  cancel),
                 0, "Cancelled", "cancelled by the caller");
    wantu_cancel_free(cancel);

    expect_error(wantu_upload_dir(c, policy, "/nonexistent/wantu-c-folder", "/", NULL, NULL,
                                  NULL, NULL),
                 0, "IoError", "`local_dir` /nonexistent/wantu-c-folder");
    expect_error(wantu_upload_dir(c, policy, NULL, "/", NULL, NULL, NULL, NULL), 0,
                 "InvalidArgument", "`local_dir` is NULL");
    expect_error(wantu_upload_dir(NULL, policy, root, "/", NULL, NULL, NULL, NULL), 0,
                 "InvalidArgument", "`client`");
    expect_error(wantu_upload_dir(c, policy, root, "/", "{\"skip\":1}", NULL, NULL, NULL), 0,
                 "InvalidArgument", "`options_json`");
    expect_error(wantu_upload_dir(c, policy, root, "/", "{\"checkpoint_path\":\"/tmp/c\"}", NULL,
                                  NULL, NULL),
                 0, "InvalidArgument", "`checkpoint_path`");
    test_policy(named, sizeof named, ",\"name\":\"fixed.jpg\"");
    expect_error(wantu_upload_dir(c, named, root, "/", NULL, NULL, NULL, NULL), 0,
                 "InvalidArgument", "\"name\"");
    expect_error(wantu_transfer_batch(c, policy, "[{\"path\":\"a\"},{\"pth\":\"b\"}]", NULL, NULL,
                                      NULL, NULL),
                 0, "InvalidArgument", "`jobs_json`[1]: unknown key `pth`");
    expect_error(wantu_transfer_batch(c, policy, "{", NULL, NULL, NULL, NULL), 0,
                 "InvalidArgument", "`jobs_json` is not valid JSON");
    expect_error(wantu_transfer_batch(c, policy, "[{\"content_base64\":\"@@\",\"name\":\"n\"}]",
                                      NULL, NULL, NULL, NULL),
                 0, "InvalidArgument", "not Base64");
    remove_tree(root);
    wantu_client_free(c);
}

int main(void)
{
    test_init();
    RUN(test_tree);
    RUN(test_batch);
    RUN(test_cancel_and_bad_input);
    return test_report();
}

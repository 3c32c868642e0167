/*
 * The management API from C: a happy path through files and folders, the
 * server's errors, processing and scanning answered 501 by wantu-server,
 * and hostile input (NULL, invalid UTF-8, bad pages, bad JSON) at every
 * management function, each answered with a JSON error.
 */
#include "common.h"

static const char BAD_UTF8[] = {'a', (char)0xC3, (char)0x28, '\0'};

/* ---- the table of functions for hostile-input checks ------------------- */

/* Each entry calls one function with string arguments a[0..n); numbers are
 * valid. Arguments marked optional may be NULL. */
typedef char *(*call_fn)(const wantu_client *c, const char **a);

typedef struct {
    const char *fn;
    int n;
    const char *names[7];
    unsigned optional; /* bit i: argument i may be NULL */
    call_fn call;
} op;

#define OPT(i) (1u << (i))

static char *c_file_exists(const wantu_client *c, const char **a)
{
    return wantu_file_exists(c, a[0], a[1], a[2]);
}
static char *c_file_get(const wantu_client *c, const char **a)
{
    return wantu_file_get(c, a[0], a[1], a[2]);
}
static char *c_file_delete(const wantu_client *c, const char **a)
{
    return wantu_file_delete(c, a[0], a[1], a[2]);
}
static char *c_file_rename(const wantu_client *c, const char **a)
{
    return wantu_file_rename(c, a[0], a[1], a[2], a[3], a[4]);
}
static char *c_file_list(const wantu_client *c, const char **a)
{
    return wantu_file_list(c, a[0], a[1], 1, 10);
}
static char *c_file_list_all(const wantu_client *c, const char **a)
{
    return wantu_file_list_all(c, a[0], a[1], 10);
}
static char *c_dir_create(const wantu_client *c, const char **a)
{
    return wantu_dir_create(c, a[0], a[1]);
}
static char *c_dir_exists(const wantu_client *c, const char **a)
{
    return wantu_dir_exists(c, a[0], a[1]);
}
static char *c_dir_delete(const wantu_client *c, const char **a)
{
    return wantu_dir_delete(c, a[0], a[1]);
}
static char *c_dir_list(const wantu_client *c, const char **a)
{
    return wantu_dir_list(c, a[0], a[1], 1, 10);
}
static char *c_dir_list_all(const wantu_client *c, const char **a)
{
    return wantu_dir_list_all(c, a[0], a[1], 10);
}
static char *c_pts_add(const wantu_client *c, const char **a)
{
    return wantu_pts_add(c, a[0], a[1], a[2], a[3], a[4], 0);
}
static char *c_pts_get(const wantu_client *c, const char **a)
{
    return wantu_pts_get(c, a[0]);
}
static char *c_media_encode(const wantu_client *c, const char **a)
{
    return wantu_media_encode(c, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
}
static char *c_media_encode_result(const wantu_client *c, const char **a)
{
    return wantu_media_encode_result(c, a[0]);
}
static char *c_snapshot(const wantu_client *c, const char **a)
{
    return wantu_snapshot(c, a[0], a[1], a[2], a[3], a[4], 1000, a[5]);
}
static char *c_snapshot_result(const wantu_client *c, const char **a)
{
    return wantu_snapshot_result(c, a[0]);
}
static char *c_scan_porn(const wantu_client *c, const char **a)
{
    return wantu_scan_porn(c, a[0], a[1], a[2]);
}
static char *c_scan_advertising(const wantu_client *c, const char **a)
{
    return wantu_scan_advertising(c, a[0], a[1], a[2]);
}
static char *c_scan_feedback(const wantu_client *c, const char **a)
{
    return wantu_scan_feedback(c, a[0]);
}

static const op OPS[] = {
    {"wantu_file_exists", 3, {"ns", "dir", "name"}, 0, c_file_exists},
    {"wantu_file_get", 3, {"ns", "dir", "name"}, 0, c_file_get},
    {"wantu_file_delete", 3, {"ns", "dir", "name"}, 0, c_file_delete},
    {"wantu_file_rename", 5, {"ns", "dir", "name", "new_dir", "new_name"}, OPT(3), c_file_rename},
    {"wantu_file_list", 2, {"ns", "dir"}, 0, c_file_list},
    {"wantu_file_list_all", 2, {"ns", "dir"}, 0, c_file_list_all},
    {"wantu_dir_create", 2, {"ns", "dir"}, 0, c_dir_create},
    {"wantu_dir_exists", 2, {"ns", "dir"}, 0, c_dir_exists},
    {"wantu_dir_delete", 2, {"ns", "dir"}, 0, c_dir_delete},
    {"wantu_dir_list", 2, {"ns", "dir"}, 0, c_dir_list},
    {"wantu_dir_list_all", 2, {"ns", "dir"}, 0, c_dir_list_all},
    {"wantu_pts_add", 5, {"ns", "dir", "name", "fops", "notify_url"}, OPT(4), c_pts_add},
    {"wantu_pts_get", 1, {"persistent_id"}, 0, c_pts_get},
    {"wantu_media_encode",
     7,
     {"ns", "input_dir", "input_name", "output_dir", "output_name", "encode_template",
      "options_json"},
     OPT(6),
     c_media_encode},
    {"wantu_media_encode_result", 1, {"task_id"}, 0, c_media_encode_result},
    {"wantu_snapshot",
     6,
     {"ns", "input_dir", "input_name", "output_dir", "output_name", "notify_url"},
     OPT(5),
     c_snapshot},
    {"wantu_snapshot_result", 1, {"task_id"}, 0, c_snapshot_result},
    {"wantu_scan_porn", 3, {"ns", "files_json", "urls_json"}, OPT(2), c_scan_porn},
    {"wantu_scan_advertising", 3, {"ns", "files_json", "urls_json"}, OPT(2), c_scan_advertising},
    {"wantu_scan_feedback", 1, {"feedback_json"}, 0, c_scan_feedback},
};

/* A valid value for an argument name, so only the broken one is wrong. */
static const char *valid_value(const char *name)
{
    if (strcmp(name, "ns") == 0)
        return test_namespace();
    if (strstr(name, "dir") != NULL)
        return "/hostile";
    if (strcmp(name, "files_json") == 0)
        return "[\"/hostile/a.jpg\"]";
    if (strcmp(name, "feedback_json") == 0)
        return "[{\"url\":\"http://x/a.jpg\",\"label\":1}]";
    if (strcmp(name, "options_json") == 0)
        return "{}";
    if (strstr(name, "url") != NULL)
        return NULL; /* optional; a URL scan would conflict with files_json */
    return "a.jpg";
}

static void test_hostile_arguments(void)
{
    wantu_client *c = test_client();
    size_t i;
    for (i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
        const op *o = &OPS[i];
        const char *a[7];
        char needle[64];
        int k;
        for (k = 0; k < o->n; k++)
            a[k] = valid_value(o->names[k]);
        printf("   %s\n", o->fn);
        /* NULL client */
        expect_error(o->call(NULL, a), 0, "InvalidArgument", "`client` is NULL");
        for (k = 0; k < o->n; k++) {
            const char *keep = a[k];
            snprintf(needle, sizeof needle, "`%s`", o->names[k]);
            if (!(o->optional & OPT(k))) {
                a[k] = NULL;
                expect_error(o->call(c, a), 0, "InvalidArgument", needle);
            }
            a[k] = BAD_UTF8;
            {
                char *doc = o->call(c, a);
                CHECK_DOC(json_str_has(doc, "message", "not valid UTF-8"), doc);
                expect_error(doc, 0, "InvalidArgument", needle);
            }
            a[k] = keep;
        }
    }
    wantu_client_free(c);
}

static void test_hostile_numbers_and_json(void)
{
    wantu_client *c = test_client();
    const char *ns = test_namespace();
    int64_t bad_pages[] = {0, -1, INT64_MIN};
    int64_t bad_sizes[] = {0, 101, -5, INT64_MAX};
    size_t i;
    for (i = 0; i < sizeof bad_pages / sizeof bad_pages[0]; i++) {
        expect_error(wantu_file_list(c, ns, "/", bad_pages[i], 10), 0, "InvalidArgument",
                     "`page`");
        expect_error(wantu_dir_list(c, ns, "/", bad_pages[i], 10), 0, "InvalidArgument", "`page`");
    }
    for (i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        expect_error(wantu_file_list(c, ns, "/", 1, bad_sizes[i]), 0, "InvalidArgument",
                     "`page_size`");
        expect_error(wantu_dir_list(c, ns, "/", 1, bad_sizes[i]), 0, "InvalidArgument",
                     "`page_size`");
    }
    expect_error(wantu_file_list_all(c, ns, "/", 0), 0, "InvalidArgument", "`max_items`");
    expect_error(wantu_dir_list_all(c, ns, "/", -1), 0, "InvalidArgument", "`max_items`");
    expect_error(wantu_file_exists(c, "", "/", "a"), 0, "InvalidArgument", "`ns`");
    expect_error(wantu_file_get(c, ns, "/", ""), 0, "InvalidArgument", "`name`");
    expect_error(wantu_file_get(c, ns, "/", "a/b"), 0, "InvalidArgument", "`name`");
    expect_error(wantu_file_rename(c, ns, "/", "a", NULL, "x/y"), 0, "InvalidArgument",
                 "`new_name`");
    expect_error(wantu_snapshot(c, ns, "/", "a", "/", "b", -1, NULL), 0, "InvalidArgument",
                 "`time_ms`");
    expect_error(wantu_pts_add(c, ns, "/", "a", "", NULL, 0), 0, "InvalidArgument", "`fops`");
    expect_error(wantu_pts_get(c, ".."), 0, "InvalidArgument", "`persistent_id`");
    expect_error(wantu_media_encode_result(c, ""), 0, "InvalidArgument", "`task_id`");
    expect_error(wantu_media_encode(c, ns, "/", "a", "/", "b", "t", "{"), 0, "InvalidArgument",
                 "`options_json`");
    expect_error(wantu_media_encode(c, ns, "/", "a", "/", "b", "t", "[1]"), 0, "InvalidArgument",
                 "`options_json`");
    expect_error(wantu_media_encode(c, ns, "/", "a", "/", "b", "t", "{\"bogus\":1}"), 0,
                 "InvalidArgument", "bogus");
    expect_error(wantu_media_encode(c, ns, "/", "a", "/", "b", "t", "{\"force\":2}"), 0,
                 "InvalidArgument", "`options_json`");
    expect_error(wantu_scan_porn(c, ns, NULL, NULL), 0, "InvalidArgument", "exactly one");
    expect_error(wantu_scan_porn(c, ns, "[\"/a\"]", "[\"http://x\"]"), 0, "InvalidArgument",
                 "exactly one");
    expect_error(wantu_scan_porn(c, ns, "[", NULL), 0, "InvalidArgument", "`files_json`");
    expect_error(wantu_scan_porn(c, ns, "[]", NULL), 0, "InvalidArgument", "`files_json`");
    expect_error(wantu_scan_advertising(c, ns, "[{\"dir\":1}]", NULL), 0, "InvalidArgument",
                 "`files_json`[0]");
    expect_error(wantu_scan_advertising(c, NULL, NULL, "[7]"), 0, "InvalidArgument",
                 "`urls_json`[0]");
    expect_error(wantu_scan_feedback(c, "[]"), 0, "InvalidArgument", "`feedback_json`");
    expect_error(wantu_scan_feedback(c, "[1]"), 0, "InvalidArgument", "`feedback_json`[0]");
    expect_error(wantu_scan_feedback(c, "nope"), 0, "InvalidArgument", "`feedback_json`");
    expect_error(wantu_resource_id(NULL, "/", "a"), 0, "InvalidArgument", "`ns`");
    expect_error(wantu_resource_id(ns, NULL, "a"), 0, "InvalidArgument", "`dir`");
    expect_error(wantu_resource_id(ns, "/", BAD_UTF8), 0, "InvalidArgument", "`name`");
    wantu_client_free(c);
}

/* ---- happy paths against the server ------------------------------------ */

static void upload(wantu_client *c, const char *dir, const char *name, const char *text)
{
    char policy[256];
    test_policy(policy, sizeof policy, NULL);
    expect_success(wantu_upload_content(c, policy, dir, name, (const uint8_t *)text,
                                        strlen(text), NULL, NULL, NULL));
}

static void test_files(void)
{
    wantu_client *c = test_client();
    const char *ns = test_namespace();
    char dir[128], moved[160];
    char *doc;
    snprintf(dir, sizeof dir, "/%s", test_unique("test_manage", moved, sizeof moved));
    snprintf(moved, sizeof moved, "%s/moved", dir);

    upload(c, dir, "a b+c&d.txt", "hello");
    upload(c, dir, "ü 😀.txt", "world");

    doc = expect_ok(wantu_file_exists(c, ns, dir, "a b+c&d.txt"));
    CHECK_DOC(json_bool(doc, "exist") == 1, doc);
    wantu_string_free(doc);
    doc = expect_ok(wantu_file_exists(c, ns, dir, "missing"));
    CHECK_DOC(json_bool(doc, "exist") == 0, doc);
    wantu_string_free(doc);

    doc = expect_ok(wantu_file_get(c, ns, dir, "a b+c&d.txt"));
    CHECK_DOC(json_str_is(doc, "name", "a b+c&d.txt") && json_str_is(doc, "dir", dir), doc);
    CHECK_DOC(json_int(doc, "size") == 5 && json_find(doc, "e_tag") != NULL, doc);
    CHECK_DOC(json_str_is(doc, "md5", "5d41402abc4b2a76b9719d911017c592"), doc);
    wantu_string_free(doc);

    doc = expect_ok(wantu_file_list(c, ns, dir, 1, 1));
    CHECK_DOC(json_int(doc, "total_count") == 2 && json_int(doc, "total_page") == 2, doc);
    CHECK_DOC(json_int(doc, "current_page") == 1 && json_int(doc, "page_size") == 1, doc);
    CHECK_DOC(strstr(doc, "\"a b+c&d.txt\"") != NULL, doc);
    wantu_string_free(doc);

    doc = expect_ok(wantu_file_list_all(c, ns, dir, 1));
    CHECK_DOC(json_bool(doc, "truncated") == 1 && json_int(doc, "total_count") == 2, doc);
    wantu_string_free(doc);
    doc = expect_ok(wantu_file_list_all(c, ns, dir, WANTU_MAX_PAGE_SIZE));
    CHECK_DOC(json_bool(doc, "truncated") == 0 && strstr(doc, "ü 😀.txt") != NULL, doc);
    wantu_string_free(doc);

    doc = expect_ok(wantu_file_rename(c, ns, dir, "a b+c&d.txt", moved, "#1?.txt"));
    CHECK_DOC(json_str_is(doc, "name", "#1?.txt") && json_str_is(doc, "dir", moved), doc);
    wantu_string_free(doc);
    doc = expect_ok(wantu_file_rename(c, ns, moved, "#1?.txt", NULL, "100%.txt"));
    CHECK_DOC(json_str_is(doc, "dir", moved), doc);
    wantu_string_free(doc);
    expect_error(wantu_file_get(c, ns, dir, "a b+c&d.txt"), 404, "FileNotExist", "");

    expect_success(wantu_file_delete(c, ns, moved, "100%.txt"));
    expect_success(wantu_file_delete(c, ns, dir, "ü 😀.txt"));
    expect_error(wantu_file_delete(c, ns, dir, "ü 😀.txt"), 404, "FileNotExist", "");
    doc = expect_ok(wantu_file_exists(c, ns, moved, "100%.txt"));
    CHECK_DOC(json_bool(doc, "exist") == 0, doc);
    wantu_string_free(doc);
    wantu_client_free(c);
}

static void test_folders(void)
{
    wantu_client *c = test_client();
    const char *ns = test_namespace();
    char dir[128], sub[160], name[96];
    char *doc;
    snprintf(dir, sizeof dir, "/%s", test_unique("test_manage", name, sizeof name));
    snprintf(sub, sizeof sub, "%s/a/b", dir);

    expect_success(wantu_dir_create(c, ns, sub));
    expect_error(wantu_dir_create(c, ns, sub), 409, "NameDuplicated", "");
    doc = expect_ok(wantu_dir_exists(c, ns, dir));
    CHECK_DOC(json_bool(doc, "exist") == 1, doc);
    wantu_string_free(doc);
    doc = expect_ok(wantu_dir_list(c, ns, dir, 1, 10));
    CHECK_DOC(json_int(doc, "total_count") == 1 && strstr(doc, "\"name\":\"a\"") != NULL, doc);
    wantu_string_free(doc);
    doc = expect_ok(wantu_dir_list_all(c, ns, dir, 10));
    CHECK_DOC(json_int(doc, "total_count") == 1 && json_bool(doc, "truncated") == 0, doc);
    wantu_string_free(doc);
    expect_error(wantu_dir_delete(c, ns, dir), 409, "DirNotEmpty", "");
    expect_success(wantu_dir_delete(c, ns, sub));
    snprintf(sub, sizeof sub, "%s/a/", dir); /* trailing '/' is the same folder */
    expect_success(wantu_dir_delete(c, ns, sub));
    expect_success(wantu_dir_delete(c, ns, dir));
    doc = expect_ok(wantu_dir_exists(c, ns, dir));
    CHECK_DOC(json_bool(doc, "exist") == 0, doc);
    wantu_string_free(doc);
    expect_error(wantu_dir_delete(c, ns, dir), 404, "DirNotExist", "");
    wantu_client_free(c);
}

static void test_processing_is_unsupported(void)
{
    wantu_client *c = test_client();
    const char *ns = test_namespace();
    char dir[128], name[96], files[256];
    snprintf(dir, sizeof dir, "/%s", test_unique("test_manage", name, sizeof name));
    snprintf(files, sizeof files, "[\"%s/v.mp4\"]", dir);
    upload(c, dir, "v.mp4", "not a video");

    expect_error(wantu_pts_add(c, ns, dir, "v.mp4", "avthumb/mp4", NULL, 1), 501,
                 "UnsupportedOperation", "");
    expect_error(wantu_pts_get(c, "p-1"), 501, "UnsupportedOperation", "");
    expect_error(wantu_media_encode(c, ns, dir, "v.mp4", dir, "o.mp4", "tpl",
                                    "{\"use_preset\":1,\"seek\":2}"),
                 501, "UnsupportedOperation", "");
    expect_error(wantu_media_encode(c, ns, dir, "v.mp4", dir, "o.mp4", "tpl", NULL), 501,
                 "UnsupportedOperation", "");
    expect_error(wantu_media_encode_result(c, "t-1"), 501, "UnsupportedOperation", "");
    expect_error(wantu_snapshot(c, ns, dir, "v.mp4", dir, "s.jpg", 1500, NULL), 501,
                 "UnsupportedOperation", "");
    expect_error(wantu_snapshot_result(c, "t-2"), 501, "UnsupportedOperation", "");
    expect_error(wantu_scan_porn(c, ns, files, NULL), 501, "UnsupportedOperation", "");
    expect_error(wantu_scan_advertising(c, NULL, NULL, "[\"http://x/a.jpg\"]"), 501,
                 "UnsupportedOperation", "");
    expect_error(wantu_scan_feedback(c, "{\"url\":\"http://x/a.jpg\",\"label\":1}"), 501,
                 "UnsupportedOperation", "");
    expect_success(wantu_file_delete(c, ns, dir, "v.mp4"));
    wantu_client_free(c);
}

static void test_resource_id_and_refused_signature(void)
{
    wantu_client *c;
    char *doc = expect_ok(wantu_resource_id("demo", "test/", "test.jpg"));
    CHECK_DOC(json_str_is(doc, "resource_id", "WyJkZW1vIiwiL3Rlc3QiLCJ0ZXN0LmpwZyJd"), doc);
    wantu_string_free(doc);
    doc = expect_ok(wantu_resource_id("demo", "/", NULL));
    CHECK_DOC(json_str_is(doc, "resource_id", "WyJkZW1vIiwiLyJd"), doc);
    wantu_string_free(doc);

    c = wantu_client_new(test_ak(), "wrong-secret", NULL, test_endpoint(), test_endpoint());
    CHECK(c != NULL);
    doc = wantu_dir_exists(c, test_namespace(), "/");
    CHECK_DOC(json_int(doc, "code") == 401 && strstr(doc, "wrong-secret") == NULL, doc);
    wantu_string_free(doc);
    wantu_client_free(c);
}

int main(void)
{
    test_init();
    RUN(test_hostile_arguments);
    RUN(test_hostile_numbers_and_json);
    RUN(test_files);
    RUN(test_folders);
    RUN(test_processing_is_unsupported);
    RUN(test_resource_id_and_refused_signature);
    return test_report();
}

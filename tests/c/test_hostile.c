/*
 * Hostile input at the C boundary, for every seed function: NULL for every
 * pointer, invalid UTF-8 in every string, malformed JSON, unusable policies,
 * files that cannot be read, impossible buffers, wrong ids and parts, wrong
 * md5 and secret, a refused connection, unusable constructor arguments.
 * Each call must answer a JSON error whose message names the problem (and
 * run clean under valgrind: no crash, no leak).
 */
#include "common.h"

#define PART (WANTU_MIN_PART_SIZE + 100)
#define BAD_UTF8 "\xff\xfe bad"
#define ZERO_MD5 "00000000000000000000000000000000"

static wantu_client *client;
static char policy[256];

/* "`arg` is NULL" and "`arg` is not valid UTF-8" for argument index i. */
typedef char *(*call_fn)(const char **args);

struct arg {
    const char *name; /* as the message names it */
    int required;     /* NULL is refused */
};

/* Replaces each argument in turn by NULL (when required) and by invalid UTF-8. */
static void each_string_arg(const char *fn, call_fn call, const char **good,
                            const struct arg *args, size_t n)
{
    size_t i;
    char sub[128];
    for (i = 0; i < n; i++) {
        const char *saved = good[i];
        printf("   %s: `%s`\n", fn, args[i].name);
        if (args[i].required) {
            good[i] = NULL;
            snprintf(sub, sizeof sub, "`%s` is NULL", args[i].name);
            expect_error(call(good), 0, "InvalidArgument", sub);
        }
        good[i] = BAD_UTF8;
        snprintf(sub, sizeof sub, "`%s` is not valid UTF-8", args[i].name);
        expect_error(call(good), 0, "InvalidArgument", sub);
        good[i] = saved;
    }
}

/* ---- one adapter per function: args are its string arguments in order ---- */

static wantu_client *call_client; /* the client the adapters use */
static const uint8_t *call_content = (const uint8_t *)"abc";
static size_t call_len = 3;
static uint32_t call_part = 2;

static char *call_token(const char **a) { return wantu_upload_token(call_client, a[0]); }

static char *call_upload_file(const char **a)
{
    return wantu_upload_file(call_client, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
}

static char *call_upload_content(const char **a)
{
    return wantu_upload_content(call_client, a[0], a[1], a[2], call_content, call_len, a[3], a[4],
                                a[5]);
}

static char *call_init(const char **a)
{
    return wantu_multipart_init(call_client, a[0], a[1], a[2], call_content, call_len, a[3], a[4],
                                a[5]);
}

static char *call_part_upload(const char **a)
{
    return wantu_multipart_upload(call_client, a[0], a[1], a[2], call_part, call_content, call_len,
                                  a[3]);
}

static char *call_complete(const char **a)
{
    return wantu_multipart_complete(call_client, a[0], a[1], a[2], a[3], a[4]);
}

static char *call_cancel(const char **a) { return wantu_multipart_cancel(call_client, a[0], a[1], a[2]); }

/* ---- tests --------------------------------------------------------------- */

static void test_null_and_bad_utf8_everywhere(void)
{
    char path[512];
    const char *token_args[1];
    const char *file_args[7];
    const char *content_args[6];
    const char *part_args[4];
    const char *complete_args[5];
    const char *cancel_args[3];
    static const struct arg token_spec[] = {{"policy_json", 1}};
    static const struct arg file_spec[] = {{"policy_json", 1}, {"dir", 0},  {"name", 0},
                                           {"file_path", 1},   {"md5", 0},  {"meta_json", 0},
                                           {"var_json", 0}};
    static const struct arg content_spec[] = {{"policy_json", 1}, {"dir", 0},       {"name", 0},
                                              {"md5", 0},         {"meta_json", 0}, {"var_json", 0}};
    static const struct arg part_spec[] = {
        {"policy_json", 1}, {"id", 1}, {"upload_id", 1}, {"md5", 0}};
    static const struct arg complete_spec[] = {
        {"policy_json", 1}, {"id", 1}, {"upload_id", 1}, {"parts", 1}, {"md5", 0}};
    static const struct arg cancel_spec[] = {{"policy_json", 1}, {"id", 1}, {"upload_id", 1}};
    const char *parts = "[{\"part_number\":1,\"e_tag\":\"A\"}]";

    CHECK(test_temp_file("x", 1, path, sizeof path));
    call_client = client;
    token_args[0] = policy;
    each_string_arg("upload_token", call_token, token_args, token_spec, 1);

    file_args[0] = policy, file_args[1] = "/h", file_args[2] = "n.txt", file_args[3] = path;
    file_args[4] = ZERO_MD5, file_args[5] = "{}", file_args[6] = "{}";
    each_string_arg("upload_file", call_upload_file, file_args, file_spec, 7);

    content_args[0] = policy, content_args[1] = "/h", content_args[2] = "n.txt";
    content_args[3] = ZERO_MD5, content_args[4] = "{}", content_args[5] = "{}";
    each_string_arg("upload_content", call_upload_content, content_args, content_spec, 6);
    each_string_arg("multipart_init", call_init, content_args, content_spec, 6);

    part_args[0] = policy, part_args[1] = "id", part_args[2] = "UPLOADID", part_args[3] = ZERO_MD5;
    each_string_arg("multipart_upload", call_part_upload, part_args, part_spec, 4);

    complete_args[0] = policy, complete_args[1] = "id", complete_args[2] = "UPLOADID";
    complete_args[3] = parts, complete_args[4] = ZERO_MD5;
    each_string_arg("multipart_complete", call_complete, complete_args, complete_spec, 5);

    cancel_args[0] = policy, cancel_args[1] = "id", cancel_args[2] = "UPLOADID";
    each_string_arg("multipart_cancel", call_cancel, cancel_args, cancel_spec, 3);

    /* A NULL client, for every function. */
    call_client = NULL;
    expect_error(call_token(token_args), 0, "InvalidArgument", "`client` is NULL");
    expect_error(call_upload_file(file_args), 0, "InvalidArgument", "`client` is NULL");
    expect_error(call_upload_content(content_args), 0, "InvalidArgument", "`client` is NULL");
    expect_error(call_init(content_args), 0, "InvalidArgument", "`client` is NULL");
    expect_error(call_part_upload(part_args), 0, "InvalidArgument", "`client` is NULL");
    expect_error(call_complete(complete_args), 0, "InvalidArgument", "`client` is NULL");
    expect_error(call_cancel(cancel_args), 0, "InvalidArgument", "`client` is NULL");
    call_client = client;
    remove(path);
}

static void test_bytes_without_any_name(void)
{
    /* The test policy names no file, so bytes with no name are refused
       instead of being stored under a placeholder. */
    expect_error(wantu_upload_content(client, policy, "/h", NULL, (const uint8_t *)"x", 1, NULL,
                                      NULL, NULL),
                 0, "InvalidArgument", "`name` is NULL or empty");
    expect_error(wantu_multipart_init(client, policy, "/h", "", (const uint8_t *)"x", 1, NULL, NULL,
                                      NULL),
                 0, "InvalidArgument", "`name` is NULL or empty");
}

static void test_null_content_with_length(void)
{
    expect_error(wantu_upload_content(client, policy, "/h", "n", NULL, 5, NULL, NULL, NULL), 0,
                 "InvalidArgument", "`content` is NULL but its length is 5");
    expect_error(wantu_multipart_init(client, policy, "/h", "n", NULL, 7, NULL, NULL, NULL), 0,
                 "InvalidArgument", "`content` is NULL but its length is 7");
    expect_error(wantu_multipart_upload(client, policy, "id", "UP", 2, NULL, SIZE_MAX, NULL), 0,
                 "InvalidArgument", "`content` is NULL");
}

static void test_bad_policies(void)
{
    static const struct {
        const char *policy, *message;
    } cases[] = {
        {"", "policy is not valid JSON"},
        {"{", "policy is not valid JSON"},
        {"{\"namespace\":\"a\",\"expiration\":-1,}", "policy is not valid JSON"},
        {"[1,2]", "policy must be a JSON object"},
        {"\"namespace\"", "policy must be a JSON object"},
        {"42", "policy must be a JSON object"},
        {"null", "policy must be a JSON object"},
        {"{\"expiration\":-1}", "policy has no \"namespace\""},
        {"{\"namespace\":\"\",\"expiration\":-1}", "policy has no \"namespace\""},
        {"{\"namespace\":7,\"expiration\":-1}", "policy has no \"namespace\""},
        {"{\"namespace\":\"a\"}", "policy has no \"expiration\""},
        {"{\"namespace\":\"a\",\"expiration\":null}", "policy has no \"expiration\""},
        {"{\"namespace\":\"a\",\"expiration\":\"soon\"}", "\"expiration\" must be a number"},
        {"{\"namespace\":\"a\",\"expiration\":[1]}", "\"expiration\" must be a number"},
    };
    size_t i;
    char path[512];
    CHECK(test_temp_file("x", 1, path, sizeof path));
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = cases[i].policy, *m = cases[i].message;
        expect_error(wantu_upload_token(client, p), 0, "InvalidArgument", m);
        expect_error(wantu_upload_file(client, p, "/h", "n", path, NULL, NULL, NULL), 0,
                     "InvalidArgument", m);
        expect_error(wantu_upload_content(client, p, "/h", "n", NULL, 0, NULL, NULL, NULL), 0,
                     "InvalidArgument", m);
        expect_error(wantu_multipart_init(client, p, "/h", "n", NULL, 0, NULL, NULL, NULL), 0,
                     "InvalidArgument", m);
        expect_error(wantu_multipart_upload(client, p, "id", "UP", 2, NULL, 0, NULL), 0,
                     "InvalidArgument", m);
        expect_error(wantu_multipart_complete(client, p, "id", "UP", "[]", NULL), 0,
                     "InvalidArgument", m);
        expect_error(wantu_multipart_cancel(client, p, "id", "UP"), 0, "InvalidArgument", m);
    }
    remove(path);
}

static void test_bad_meta_and_var(void)
{
    /* %s is the argument: `meta` or `var`. */
    static const struct {
        const char *json, *message;
    } cases[] = {
        {"{", "`%s` is not valid JSON"},
        {"{\"a\":}", "`%s` is not valid JSON"},
        {"[\"a\"]", "`%s` must be a JSON object"},
        {"\"text\"", "`%s` must be a JSON object"},
        {"17", "`%s` must be a JSON object"},
        {"{\"a\":{\"b\":1}}", "`%s` value of \"a\" must be a string, number or boolean"},
        {"{\"a\":[1]}", "`%s` value of \"a\" must be a string, number or boolean"},
        {"{\"a\":null}", "`%s` value of \"a\" must be a string, number or boolean"},
        {"{\"\":\"v\"}", "`%s` has an empty key"},
    };
    size_t i;
    char sub[128];
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *j = cases[i].json;
        snprintf(sub, sizeof sub, cases[i].message, "meta");
        expect_error(wantu_upload_content(client, policy, "/h", "n", NULL, 0, NULL, j, NULL), 0,
                     "InvalidArgument", sub);
        expect_error(wantu_upload_file(client, policy, "/h", "n", "/nonexistent", NULL, j, NULL),
                     0, "InvalidArgument", sub);
        expect_error(wantu_multipart_init(client, policy, "/h", "n", NULL, 0, NULL, j, NULL), 0,
                     "InvalidArgument", sub);
        snprintf(sub, sizeof sub, cases[i].message, "var");
        expect_error(wantu_upload_content(client, policy, "/h", "n", NULL, 0, NULL, NULL, j), 0,
                     "InvalidArgument", sub);
        expect_error(wantu_upload_file(client, policy, "/h", "n", "/nonexistent", NULL, NULL, j),
                     0, "InvalidArgument", sub);
        expect_error(wantu_multipart_init(client, policy, "/h", "n", NULL, 0, NULL, NULL, j), 0,
                     "InvalidArgument", sub);
    }
}

static void test_bad_md5_text(void)
{
    static const char *bad[] = {"xyz", "0123456789abcdef0123456789abcdeg",
                                "0123456789abcdef0123456789abcdef0"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_error(wantu_upload_content(client, policy, "/h", "n", NULL, 0, bad[i], NULL, NULL),
                     0, "InvalidArgument", "`md5` must be 32 hexadecimal digits");
        expect_error(wantu_multipart_init(client, policy, "/h", "n", NULL, 0, bad[i], NULL, NULL),
                     0, "InvalidArgument", "`md5` must be 32 hexadecimal digits");
        expect_error(wantu_multipart_upload(client, policy, "id", "UP", 2, NULL, 0, bad[i]), 0,
                     "InvalidArgument", "`md5` must be 32 hexadecimal digits");
        expect_error(wantu_multipart_complete(client, policy, "id", "UP",
                                              "[{\"part_number\":1,\"e_tag\":\"A\"}]", bad[i]),
                     0, "InvalidArgument", "`md5` must be 32 hexadecimal digits");
    }
}

static void test_unreadable_files(void)
{
    char dir[512], missing[600], fifo[600];
    CHECK(test_temp_dir(dir, sizeof dir));
    snprintf(missing, sizeof missing, "%s/no-such-file.bin", dir);
    expect_error(wantu_upload_file(client, policy, "/h", "n", missing, NULL, NULL, NULL), 0,
                 "IoError", "no-such-file.bin");
    expect_error(wantu_upload_file(client, policy, "/h", "n", missing, NULL, NULL, NULL), 0,
                 "IoError", "cannot open file");
    expect_error(wantu_upload_file(client, policy, "/h", "n", dir, NULL, NULL, NULL), 0, "IoError",
                 "is a directory");
    expect_error(wantu_upload_file(client, policy, "/h", "n", "", NULL, NULL, NULL), 0, "IoError",
                 "cannot open file");
#ifndef _WIN32 /* FIFOs, alarm and /dev/zero are POSIX only */
    /* Not regular files: refused up front (a FIFO without a writer used to
     * hang forever, hence the alarm; /dev/zero used to be sent). */
    snprintf(fifo, sizeof fifo, "%s/pipe", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    alarm(60);
    expect_error(wantu_upload_file(client, policy, "/h", "n", fifo, NULL, NULL, NULL), 0,
                 "IoError", "/pipe is not a regular file");
    expect_error(wantu_upload_file(client, policy, "/h", "n", "/dev/zero", NULL, NULL, NULL), 0,
                 "IoError", "/dev/zero is not a regular file");
    alarm(0);
    remove(fifo);
#else
    (void)fifo;
#endif
    rmdir(dir);
}

static void test_expired_policy(void)
{
    char expired[256];
    char path[512];
    const char *sub = "policy expired";
    snprintf(expired, sizeof expired, "{\"namespace\":\"%s\",\"expiration\":1000}",
             test_namespace());
    CHECK(test_temp_file("x", 1, path, sizeof path));
    expect_error(wantu_upload_file(client, expired, "/h", "expired", path, NULL, NULL, NULL), 401,
                 "TokenExpired", sub);
    expect_error(wantu_upload_content(client, expired, "/h", "expired", NULL, 0, NULL, NULL, NULL),
                 401, "TokenExpired", sub);
    expect_error(wantu_multipart_init(client, expired, "/h", "expired", NULL, 0, NULL, NULL, NULL),
                 401, "TokenExpired", sub);
    expect_error(wantu_multipart_cancel(client, expired, "id", "UP"), 401, "TokenExpired", sub);
    remove(path);
}

/* Starts a multipart upload of one PART; fills id and upload_id (malloc'd). */
static int start_upload(const char *name, const unsigned char *data, char **id, char **upload_id,
                        char **etag)
{
    char *doc = expect_ok(
        wantu_multipart_init(client, policy, "/c/hostile", name, data, PART, NULL, NULL, NULL));
    *id = json_str(doc, "id");
    *upload_id = json_str(doc, "upload_id");
    *etag = json_str(doc, "e_tag");
    wantu_string_free(doc);
    return CHECK(*id != NULL && *upload_id != NULL && *etag != NULL);
}

static void test_wrong_ids_and_part_numbers(void)
{
    unsigned char *data = test_bytes(PART, 30);
    char *id = NULL, *upload_id = NULL, *etag = NULL;
    char *id2 = NULL, *upload_id2 = NULL, *etag2 = NULL;
    const char *fake_id = "00000000-0000-4000-8000-000000000000";
    const char *fake_up = "0123456789ABCDEF0123456789ABCDEF";
    char parts[256];

    /* Empty ids are caught before anything is sent. */
    expect_error(wantu_multipart_upload(client, policy, "", fake_up, 2, data, 1, NULL), 0,
                 "InvalidArgument", "`id` is empty");
    expect_error(wantu_multipart_upload(client, policy, fake_id, " ", 2, data, 1, NULL), 0,
                 "InvalidArgument", "`upload_id` is empty");
    expect_error(wantu_multipart_complete(client, policy, "", fake_up, "[{\"part_number\":1,"
                                          "\"e_tag\":\"A\"}]", NULL),
                 0, "InvalidArgument", "`id` is empty");
    expect_error(wantu_multipart_cancel(client, policy, fake_id, ""), 0, "InvalidArgument",
                 "`upload_id` is empty");
    /* Part numbers outside 1..10000. */
    expect_error(wantu_multipart_upload(client, policy, fake_id, fake_up, 0, data, 1, NULL), 0,
                 "InvalidArgument", "`part_number` must be from 1 to 10000, not 0");
    expect_error(wantu_multipart_upload(client, policy, fake_id, fake_up, 10001, data, 1, NULL), 0,
                 "InvalidArgument", "not 10001");
    expect_error(wantu_multipart_upload(client, policy, fake_id, fake_up, UINT32_MAX, data, 1,
                                        NULL),
                 0, "InvalidArgument", "`part_number`");

    /* Unknown ids: the server has no such upload. */
    snprintf(parts, sizeof parts, "[{\"part_number\":1,\"e_tag\":\"%s\"}]", "AB");
    expect_error(wantu_multipart_upload(client, policy, fake_id, fake_up, 2, data, PART, NULL),
                 404, "NoSuchUpload", "no multipart upload with id 00000000-0000");
    expect_error(wantu_multipart_complete(client, policy, fake_id, fake_up, parts, NULL), 404,
                 "NoSuchUpload", "no multipart upload with id");
    expect_error(wantu_multipart_cancel(client, policy, fake_id, fake_up), 404, "NoSuchUpload",
                 "no multipart upload with id");
    expect_error(wantu_multipart_cancel(client, policy, "garbage id \"\\", "garbage"), 404,
                 "NoSuchUpload", "no multipart upload with id garbage id");

    if (start_upload("hostile-ids-1", data, &id, &upload_id, &etag) &&
        start_upload("hostile-ids-2", data, &id2, &upload_id2, &etag2)) {
        /* The id of one upload with the upload_id of another. */
        expect_error(wantu_multipart_upload(client, policy, id, upload_id2, 2, data, PART, NULL),
                     404, "NoSuchUpload", "does not belong to upload");
        expect_error(wantu_multipart_cancel(client, policy, id2, upload_id), 404, "NoSuchUpload",
                     "does not belong to upload");
        expect_success(wantu_multipart_cancel(client, policy, id2, upload_id2));
    }
    free(id2), free(upload_id2), free(etag2);
    free(id), free(upload_id), free(etag);
    free(data);
}

static void test_bad_parts(void)
{
    unsigned char *data = test_bytes(3 * PART, 31);
    char *id = NULL, *upload_id = NULL, *etag1 = NULL, *etag3 = NULL, *doc;
    char parts[512];
    static const struct {
        const char *parts, *message;
    } local[] = {
        {"", "`parts`"},
        {"   ", "`parts`"},
        {"[]", "`parts` is empty"},
        {"!!!not base64!!!", "`parts` is neither a JSON array nor Base64 of one"},
        {"e30", "`parts` is not a JSON array"}, /* Base64 of {} */
        {"{}", "`parts`"},
        {"[{}]", "`parts`[0] needs a part_number"},
        {"[{\"part_number\":0,\"e_tag\":\"A\"}]", "`parts`[0] needs a part_number from 1 to 10000"},
        {"[{\"part_number\":1,\"e_tag\":\"A\"},{\"part_number\":\"x\",\"e_tag\":\"B\"}]",
         "`parts`[1] needs a part_number"},
        {"[{\"part_number\":1}]", "`parts`[0] needs an e_tag"},
        {"[{\"part_number\":1,\"e_tag\":\"\"}]", "`parts`[0] needs an e_tag"},
        {"[1,2,3]", "`parts`[0]"},
    };
    size_t i;
    for (i = 0; i < sizeof local / sizeof local[0]; i++)
        expect_error(wantu_multipart_complete(client, policy, "id", "UP", local[i].parts, NULL), 0,
                     "InvalidArgument", local[i].message);

    if (!start_upload("hostile-parts", data, &id, &upload_id, &etag1)) {
        free(id), free(upload_id), free(etag1), free(data);
        return;
    }
    doc = expect_ok(wantu_multipart_upload(client, policy, id, upload_id, 3, data + 2 * PART, PART,
                                           NULL));
    etag3 = json_str(doc, "e_tag");
    wantu_string_free(doc);
    /* Parts 1 and 3 without 2: not contiguous. */
    snprintf(parts, sizeof parts,
             "[{\"part_number\":1,\"e_tag\":\"%s\"},{\"part_number\":3,\"e_tag\":\"%s\"}]", etag1,
             etag3 ? etag3 : "");
    expect_error(wantu_multipart_complete(client, policy, id, upload_id, parts, NULL), 400,
                 "InvalidArgument", "without gaps");
    /* A part listed with the wrong e_tag. */
    snprintf(parts, sizeof parts, "[{\"part_number\":1,\"e_tag\":\"%s\"}]", ZERO_MD5);
    expect_error(wantu_multipart_complete(client, policy, id, upload_id, parts, NULL), 400,
                 "InvalidArgument", "eTag of part 1");
    /* A part never uploaded. */
    snprintf(parts, sizeof parts,
             "[{\"part_number\":1,\"e_tag\":\"%s\"},{\"part_number\":2,\"e_tag\":\"%s\"}]", etag1,
             etag1);
    expect_error(wantu_multipart_complete(client, policy, id, upload_id, parts, NULL), 400,
                 "InvalidArgument", "part 2 was never uploaded");
    /* A wrong md5 of a part. */
    expect_error(wantu_multipart_upload(client, policy, id, upload_id, 2, data + PART, PART,
                                        ZERO_MD5),
                 400, "BadDigest", "md5 of");
    expect_success(wantu_multipart_cancel(client, policy, id, upload_id));
    free(id), free(upload_id), free(etag1), free(etag3), free(data);
}

static void test_small_parts_and_whole_md5(void)
{
    unsigned char *data = test_bytes(2 * PART, 32);
    char *id = NULL, *upload_id = NULL, *etag1 = NULL, *etag2 = NULL, *doc;
    char parts[512];
    if (!start_upload("hostile-small", data, &id, &upload_id, &etag1)) {
        free(id), free(upload_id), free(etag1), free(data);
        return;
    }
    /* Part 2 too small, then part 3: part 2 is not the last, so too small. */
    doc = expect_ok(wantu_multipart_upload(client, policy, id, upload_id, 2, data + PART, 1000,
                                           NULL));
    etag2 = json_str(doc, "e_tag");
    wantu_string_free(doc);
    doc = expect_ok(wantu_multipart_upload(client, policy, id, upload_id, 3, data, 10, NULL));
    {
        char *etag3 = json_str(doc, "e_tag");
        snprintf(parts, sizeof parts,
                 "[{\"part_number\":1,\"e_tag\":\"%s\"},{\"part_number\":2,\"e_tag\":\"%s\"},"
                 "{\"part_number\":3,\"e_tag\":\"%s\"}]",
                 etag1, etag2 ? etag2 : "", etag3 ? etag3 : "");
        free(etag3);
    }
    wantu_string_free(doc);
    expect_error(wantu_multipart_complete(client, policy, id, upload_id, parts, NULL), 400,
                 "EntityTooSmall", "part 2 has 1000 bytes");
    /* Complete parts 1..2 (2 is last, small is fine) with a wrong whole-file md5. */
    snprintf(parts, sizeof parts,
             "[{\"part_number\":1,\"e_tag\":\"%s\"},{\"part_number\":2,\"e_tag\":\"%s\"}]", etag1,
             etag2 ? etag2 : "");
    expect_error(wantu_multipart_complete(client, policy, id, upload_id, parts, ZERO_MD5), 400,
                 "BadDigest", "md5 of");
    expect_success(wantu_multipart_cancel(client, policy, id, upload_id));
    free(id), free(upload_id), free(etag1), free(etag2), free(data);
}

static void test_wrong_md5(void)
{
    char path[512];
    CHECK(test_temp_file("hello", 5, path, sizeof path));
    expect_error(wantu_upload_file(client, policy, "/h", "md5-file", path, ZERO_MD5, NULL, NULL),
                 400, "BadDigest", "md5 of");
    expect_error(wantu_upload_content(client, policy, "/h", "md5-bytes", (const uint8_t *)"x", 1,
                                      ZERO_MD5, NULL, NULL),
                 400, "BadDigest", "md5 of");
    expect_error(wantu_multipart_init(client, policy, "/h", "md5-init", (const uint8_t *)"x", 1,
                                      ZERO_MD5, NULL, NULL),
                 400, "BadDigest", "md5 of");
    remove(path);
}

static void test_names_cannot_escape(void)
{
    expect_error(wantu_upload_content(client, policy, "/h", "../../etc/passwd", (const uint8_t *)"x",
                                      1, NULL, NULL, NULL),
                 400, "InvalidArgument", "must not contain '/'");
    expect_error(wantu_upload_content(client, policy, "/../../h", "dots.txt", (const uint8_t *)"d",
                                      1, NULL, NULL, NULL),
                 400, "InvalidArgument", "must not contain '.' or '..' segments");
}

static void test_wrong_secret(void)
{
    wantu_client *bad = wantu_client_new(test_ak(), "not-the-secret", NULL, test_endpoint(),
                                         test_endpoint());
    wantu_client *unknown = wantu_client_new("unknown-ak", test_sk(), NULL, test_endpoint(),
                                             test_endpoint());
    char path[512];
    CHECK(test_temp_file("x", 1, path, sizeof path));
    expect_error(wantu_upload_file(bad, policy, "/h", "n", path, NULL, NULL, NULL), 401,
                 "InvalidToken", "signature does not match");
    expect_error(wantu_upload_content(bad, policy, "/h", "n", NULL, 0, NULL, NULL, NULL), 401,
                 "InvalidToken", "signature does not match");
    expect_error(wantu_multipart_init(bad, policy, "/h", "n", NULL, 0, NULL, NULL, NULL), 401,
                 "InvalidToken", "signature does not match");
    expect_error(wantu_multipart_upload(bad, policy, "id", "UP", 2, NULL, 0, NULL), 401,
                 "InvalidToken", "signature does not match");
    expect_error(wantu_multipart_complete(bad, policy, "id", "UP",
                                          "[{\"part_number\":1,\"e_tag\":\"A\"}]", NULL),
                 401, "InvalidToken", "signature does not match");
    expect_error(wantu_multipart_cancel(bad, policy, "id", "UP"), 401, "InvalidToken",
                 "signature does not match");
    expect_error(wantu_upload_content(unknown, policy, "/h", "n", NULL, 0, NULL, NULL, NULL), 401,
                 "InvalidToken", "unknown access key");
    remove(path);
    wantu_client_free(bad);
    wantu_client_free(unknown);
}

static void test_refused_connection(void)
{
    char endpoint[64], path[512];
    const char *host;
    wantu_client *c;
    test_refused_endpoint(endpoint, sizeof endpoint);
    host = endpoint + strlen("http://");
    c = wantu_client_new(test_ak(), test_sk(), NULL, endpoint, endpoint);
    CHECK(test_temp_file("x", 1, path, sizeof path));
    expect_error(wantu_upload_file(c, policy, "/h", "n", path, NULL, NULL, NULL), 0,
                 "ConnectError", host);
    expect_error(wantu_upload_content(c, policy, "/h", "n", NULL, 0, NULL, NULL, NULL), 0,
                 "ConnectError", host);
    expect_error(wantu_multipart_init(c, policy, "/h", "n", NULL, 0, NULL, NULL, NULL), 0,
                 "ConnectError", host);
    expect_error(wantu_multipart_upload(c, policy, "id", "UP", 2, NULL, 0, NULL), 0,
                 "ConnectError", host);
    expect_error(wantu_multipart_complete(c, policy, "id", "UP",
                                          "[{\"part_number\":1,\"e_tag\":\"A\"}]", NULL),
                 0, "ConnectError", host);
    expect_error(wantu_multipart_cancel(c, policy, "id", "UP"), 0, "ConnectError", "cannot connect");
    remove(path);
    wantu_client_free(c);
}

/* A constructor that fails answers NULL; wantu_last_error says why. */
#define expect_no_client(c, error, sub) expect_no_client_at(__LINE__, (c), (error), (sub))
static void expect_no_client_at(int line, wantu_client *c, const char *error, const char *sub)
{
    if (!check_at(__FILE__, line, c == NULL, "the constructor answers NULL", sub)) {
        wantu_client_free(c);
        return;
    }
    expect_error_at(__FILE__, line, wantu_last_error(), 0, error, sub);
}

static void test_constructor(void)
{
    expect_no_client(wantu_client_new(NULL, "sk", NULL, NULL, NULL), "InvalidArgument",
                     "`ak` is NULL");
    expect_no_client(wantu_client_new("ak", NULL, NULL, NULL, NULL), "InvalidArgument",
                     "`sk` is NULL");
    expect_no_client(wantu_client_new(NULL, NULL, NULL, NULL, NULL), "InvalidArgument", "`ak`");
    expect_no_client(wantu_client_new("", "sk", NULL, NULL, NULL), "InvalidArgument",
                     "`ak` (access key) is empty");
    expect_no_client(wantu_client_new("  ", "sk", NULL, NULL, NULL), "InvalidArgument",
                     "`ak` (access key) is empty");
    expect_no_client(wantu_client_new("ak", "", NULL, NULL, NULL), "InvalidArgument",
                     "`sk` (secret key) is empty");
    expect_no_client(wantu_client_new(BAD_UTF8, "sk", NULL, NULL, NULL), "InvalidArgument",
                     "`ak` is not valid UTF-8");
    expect_no_client(wantu_client_new("ak", BAD_UTF8, NULL, NULL, NULL), "InvalidArgument",
                     "`sk` is not valid UTF-8");
    expect_no_client(wantu_client_new("ak", "sk", BAD_UTF8, NULL, NULL), "InvalidArgument",
                     "`type` is not valid UTF-8");
    expect_no_client(wantu_client_new("ak", "sk", "OSS", NULL, NULL), "InvalidArgument",
                     "`type` must be \"TOP\" or \"CLOUD\", not \"OSS\"");
    expect_no_client(wantu_client_new("ak", "sk", NULL, BAD_UTF8, NULL), "InvalidArgument",
                     "`upload_endpoint` is not valid UTF-8");
    expect_no_client(wantu_client_new("ak", "sk", NULL, NULL, BAD_UTF8), "InvalidArgument",
                     "`manage_endpoint` is not valid UTF-8");
    expect_no_client(wantu_client_new("ak", "sk", NULL, "not a url", NULL), "InvalidArgument",
                     "`upload_endpoint` \"not a url\" is not a URL");
    expect_no_client(wantu_client_new("ak", "sk", NULL, "ftp://host", NULL), "InvalidArgument",
                     "must be an http:// or https:// URL");
    expect_no_client(wantu_client_new("ak", "sk", NULL, NULL, "http://h/?q=1"), "InvalidArgument",
                     "`manage_endpoint`");
    expect_no_client(wantu_client_new_with_options("ak", "sk", NULL, NULL, NULL, BAD_UTF8),
                     "InvalidArgument", "`options_json` is not valid UTF-8");
    expect_no_client(wantu_client_new_with_options("ak", "sk", NULL, NULL, NULL, "{"),
                     "InvalidArgument", "`options_json` is not usable");
    expect_no_client(wantu_client_new_with_options("ak", "sk", NULL, NULL, NULL, "[1]"),
                     "InvalidArgument", "`options_json` is not usable");
    expect_no_client(wantu_client_new_with_options("ak", "sk", NULL, NULL, NULL,
                                                   "{\"timeout\":5}"),
                     "InvalidArgument", "unknown field `timeout`");
    expect_no_client(wantu_client_new_with_options("ak", "sk", NULL, NULL, NULL,
                                                   "{\"connect_timeout_ms\":-1}"),
                     "InvalidArgument", "`options_json` is not usable");
    expect_no_client(wantu_client_new_with_options("ak", "sk", NULL, NULL, NULL,
                                                   "{\"ca_file\":\"/nonexistent/ca.pem\"}"),
                     "IoError", "cannot read CA file /nonexistent/ca.pem");
    expect_no_client(wantu_client_new_with_options("ak", "sk", NULL, NULL, NULL,
                                                   "{\"proxy\":\"::not a proxy::\"}"),
                     "InvalidArgument", "proxy");
}

int main(void)
{
    test_init();
    client = test_client();
    test_policy(policy, sizeof policy, NULL);
    RUN(test_null_and_bad_utf8_everywhere);
    RUN(test_null_content_with_length);
    RUN(test_bytes_without_any_name);
    RUN(test_bad_policies);
    RUN(test_bad_meta_and_var);
    RUN(test_bad_md5_text);
    RUN(test_unreadable_files);
    RUN(test_expired_policy);
    RUN(test_wrong_ids_and_part_numbers);
    RUN(test_bad_parts);
    RUN(test_small_parts_and_whole_md5);
    RUN(test_wrong_md5);
    RUN(test_names_cannot_escape);
    RUN(test_wrong_secret);
    RUN(test_refused_connection);
    RUN(test_constructor);
    wantu_client_free(client);
    return test_report();
}

/*
 * The seed's calls from C, the happy paths: client life cycle, version,
 * tokens (docs/protocol.md's known answer), simple uploads of files and bytes,
 * md5, meta and var, multipart with both `parts` forms, cancel. Every
 * upload is downloaded again and compared byte for byte.
 */
#include "common.h"

#define PART (WANTU_MIN_PART_SIZE + 1000)

/* Downloads dir/name and compares it with data. */
static void check_stored(const char *dir, const char *name, const unsigned char *data,
                         size_t len)
{
    size_t got_len;
    int status;
    unsigned char *got = test_download(dir, name, &got_len, &status);
    CHECK(status == 200);
    CHECK(got != NULL && got_len == len && (len == 0 || memcmp(got, data, len) == 0));
    free(got);
}

static void test_version(void)
{
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", WANTU_VERSION_MAJOR, WANTU_VERSION_MINOR,
             WANTU_VERSION_PATCH);
    CHECK(strcmp(wantu_version(), WANTU_VERSION_STRING) == 0);
    CHECK(strncmp(wantu_version(), expected, strlen(expected)) == 0);
}

static void test_client_life_cycle(void)
{
    wantu_client *c = wantu_client_new("ak", "sk", NULL, NULL, NULL);
    char *err;
    CHECK(c != NULL);
    CHECK(wantu_last_error() == NULL); /* a success clears the last error */
    wantu_client_free(c);
    c = wantu_client_new("ak", "sk", "CLOUD", "http://127.0.0.1:1", "http://127.0.0.1:1/prefix/");
    CHECK(c != NULL);
    wantu_client_free(c);
    c = wantu_client_new_with_options(
        "ak", "sk", "top", NULL, NULL,
        "{\"connect_timeout_ms\":500,\"request_timeout_ms\":60000,\"user_agent\":\"t/1\"}");
    CHECK(c != NULL);
    wantu_client_free(c);
    wantu_client_free(NULL);
    wantu_string_free(NULL);
    /* A failure is remembered until the next constructor call on the thread. */
    CHECK(wantu_client_new(NULL, "sk", NULL, NULL, NULL) == NULL);
    err = wantu_last_error();
    CHECK_DOC(err != NULL && json_int(err, "code") == 0, err);
    wantu_string_free(err);
    err = wantu_last_error();
    CHECK(err != NULL);
    wantu_string_free(err);
}

static void test_token_known_answer(void)
{
    /* docs/protocol.md §2, dummy keys. */
    const char *policy = "{\"namespace\":\"demo\",\"expiration\":-1,\"insertOnly\":0,"
                         "\"detectMime\":1,\"dir\":\"/test\",\"name\":\"test.jpg\"}";
    const char *expected =
        "UPLOAD_AK_TOP "
        "MTIzNDU2Nzg6ZXlKdVlXMWxjM0JoWTJVaU9pSmtaVzF2SWl3aVpYaHdhWEpoZEdsdmJpSTZMVEVzSW1sdWMy"
        "VnlkRTl1YkhraU9qQXNJbVJsZEdWamRFMXBiV1VpT2pFc0ltUnBjaUk2SWk5MFpYTjBJaXdpYm1GdFpTSTZJ"
        "blJsYzNRdWFuQm5JbjA6OTliNDcwYTJlNTUxNzljOTQwNWU0MDE3MTUyYTAzYjYzOTk4MmRjZg";
    wantu_client *c = wantu_client_new("12345678", "0123456789abcdef0123456789abcdef", NULL,
                                       NULL, NULL);
    char *doc = expect_ok(wantu_upload_token(c, policy));
    CHECK_DOC(json_str_is(doc, "token", expected), doc);
    wantu_string_free(doc);
    wantu_client_free(c);

    c = wantu_client_new("12345678", "0123456789abcdef0123456789abcdef", "CLOUD", NULL, NULL);
    doc = expect_ok(wantu_upload_token(c, policy));
    CHECK_DOC(json_str_has(doc, "token", "UPLOAD_AK_CLOUD "), doc);
    wantu_string_free(doc);
    wantu_client_free(c);
}

static void test_upload_file(void)
{
    wantu_client *c = test_client();
    char policy[256], path[512], name[64];
    size_t len = 70000;
    unsigned char *data = test_bytes(len, 1);
    char *doc;
    test_policy(policy, sizeof policy, NULL);
    test_unique("core-file", name, sizeof name);
    CHECK(test_temp_file(data, len, path, sizeof path));
    doc = expect_ok(wantu_upload_file(c, policy, "/c/core", name, path, NULL, NULL, NULL));
    CHECK_DOC(json_str_is(doc, "name", name), doc);
    CHECK_DOC(json_str_is(doc, "dir", "/c/core"), doc);
    CHECK_DOC(json_int(doc, "file_size") == (long long)len, doc);
    CHECK_DOC(json_str_has(doc, "url", name), doc);
    CHECK_DOC(json_find(doc, "e_tag") != NULL && json_find(doc, "request_id") != NULL, doc);
    CHECK_DOC(json_str_is(doc, "message", "OK"), doc);
    wantu_string_free(doc);
    check_stored("/c/core", name, data, len);
    remove(path);
    free(data);
    wantu_client_free(c);
}

static void test_upload_content_and_md5(void)
{
    wantu_client *c = test_client();
    char policy[256], name[64], md5[40];
    size_t len = 4096, i;
    unsigned char *data = test_bytes(len, 2);
    char *doc, *etag;
    test_policy(policy, sizeof policy, NULL);
    test_unique("core-bytes", name, sizeof name);
    doc = expect_ok(wantu_upload_content(c, policy, "/c/core", name, data, len, NULL, NULL, NULL));
    etag = json_str(doc, "e_tag");
    CHECK_DOC(etag != NULL && strlen(etag) == 32, doc);
    wantu_string_free(doc);
    check_stored("/c/core", name, data, len);

    /* The e_tag is the MD5 of the bytes: sent back as md5 (any case) it passes. */
    snprintf(md5, sizeof md5, "%s", etag != NULL ? etag : "");
    for (i = 0; md5[i]; i++)
        md5[i] = (char)(md5[i] >= 'A' && md5[i] <= 'F' ? md5[i] + 32 : md5[i]);
    expect_success(wantu_upload_content(c, policy, "/c/core", name, data, len, md5, NULL, NULL));
    expect_success(wantu_upload_content(c, policy, "/c/core", name, data, len, etag, NULL, NULL));
    expect_error(wantu_upload_content(c, policy, "/c/core", name, data, len,
                                      "0123456789abcdef0123456789abcdef", NULL, NULL),
                 400, "BadDigest", "md5 of");
    free(etag);

    /* (NULL, 0) is an empty file. */
    test_unique("core-empty", name, sizeof name);
    doc = expect_ok(wantu_upload_content(c, policy, "/c/core", name, NULL, 0, NULL, NULL, NULL));
    CHECK_DOC(json_int(doc, "file_size") == 0, doc);
    wantu_string_free(doc);
    check_stored("/c/core", name, (const unsigned char *)"", 0);
    free(data);
    wantu_client_free(c);
}

static void test_policy_names_win_and_var(void)
{
    wantu_client *c = test_client();
    char policy[256], name[64], expected[96];
    char *doc;
    test_unique("core-var", name, sizeof name);
    /* The policy's dir/name win over the arguments; ${var-k} comes from var. */
    test_policy(policy, sizeof policy, ",\"dir\":\"/c/policy\",\"name\":\"v-${var-k}.txt\"");
    doc = expect_ok(wantu_upload_content(c, policy, "/ignored", "ignored.txt",
                                         (const uint8_t *)"var", 3, NULL,
                                         "{\"author\":\"c test\",\"n\":7}", "{\"k\":\"x\"}"));
    snprintf(expected, sizeof expected, "v-%s.txt", "x");
    CHECK_DOC(json_str_is(doc, "name", expected), doc);
    CHECK_DOC(json_str_is(doc, "dir", "/c/policy"), doc);
    wantu_string_free(doc);
    check_stored("/c/policy", expected, (const unsigned char *)"var", 3);
    wantu_client_free(c);
}

/* Uploads data in three parts; parts_form 0 = plain JSON array, 1 = seed Base64. */
static void multipart_round_trip(wantu_client *c, const char *policy, int parts_form)
{
    char name[64], parts[1024];
    size_t len = 2 * PART + 5000, i;
    unsigned char *data = test_bytes(len, 10 + (unsigned long)parts_form);
    char *doc, *id, *upload_id, *etags[3];
    test_unique(parts_form ? "core-mp-seed" : "core-mp-json", name, sizeof name);

    doc = expect_ok(wantu_multipart_init(c, policy, "/c/mp", name, data, PART, NULL,
                                         "{\"kind\":\"multipart\"}", NULL));
    CHECK_DOC(json_int(doc, "part_number") == 1, doc);
    id = json_str(doc, "id");
    upload_id = json_str(doc, "upload_id");
    etags[0] = json_str(doc, "e_tag");
    CHECK_DOC(id != NULL && upload_id != NULL && etags[0] != NULL, doc);
    wantu_string_free(doc);
    if (id == NULL || upload_id == NULL) {
        free(id);
        free(upload_id);
        free(etags[0]);
        free(data);
        return;
    }
    /* Parts may arrive in any order: 3 before 2. */
    doc = expect_ok(wantu_multipart_upload(c, policy, id, upload_id, 3, data + 2 * PART,
                                           len - 2 * PART, NULL));
    CHECK_DOC(json_int(doc, "part_number") == 3, doc);
    etags[2] = json_str(doc, "e_tag");
    wantu_string_free(doc);
    doc = expect_ok(wantu_multipart_upload(c, policy, id, upload_id, 2, data + PART, PART, NULL));
    etags[1] = json_str(doc, "e_tag");
    wantu_string_free(doc);
    CHECK(etags[1] != NULL && etags[2] != NULL);

    if (parts_form == 0) {
        snprintf(parts, sizeof parts,
                 "[{\"part_number\":1,\"e_tag\":\"%s\"},{\"partNumber\":\"2\",\"eTag\":\"%s\"},"
                 "{\"part_number\":3,\"e_tag\":\"%s\"}]",
                 etags[0], etags[1] ? etags[1] : "", etags[2] ? etags[2] : "");
    } else {
        /* base64.urlsafe_b64encode(json.dumps([...])), exactly as the seed shows. */
        char json[1024];
        char *b64;
        snprintf(json, sizeof json,
                 "[{\"e_tag\": \"%s\", \"part_number\": 1}, {\"e_tag\": \"%s\", "
                 "\"part_number\": 2}, {\"e_tag\": \"%s\", \"part_number\": 3}]",
                 etags[0], etags[1] ? etags[1] : "", etags[2] ? etags[2] : "");
        b64 = test_b64url(json, strlen(json), 1);
        snprintf(parts, sizeof parts, "%s", b64);
        free(b64);
    }
    doc = expect_ok(wantu_multipart_complete(c, policy, id, upload_id, parts, NULL));
    CHECK_DOC(json_str_is(doc, "name", name), doc);
    CHECK_DOC(json_int(doc, "file_size") == (long long)len, doc);
    wantu_string_free(doc);
    check_stored("/c/mp", name, data, len);

    for (i = 0; i < 3; i++)
        free(etags[i]);
    free(id);
    free(upload_id);
    free(data);
}

static void test_multipart(void)
{
    wantu_client *c = test_client();
    char policy[256];
    test_policy(policy, sizeof policy, NULL);
    multipart_round_trip(c, policy, 0);
    multipart_round_trip(c, policy, 1);
    wantu_client_free(c);
}

static void test_multipart_cancel(void)
{
    wantu_client *c = test_client();
    char policy[256], name[64];
    unsigned char *data = test_bytes(PART, 20);
    char *doc, *id, *upload_id;
    test_policy(policy, sizeof policy, NULL);
    test_unique("core-cancel", name, sizeof name);
    doc = expect_ok(wantu_multipart_init(c, policy, "/c/mp", name, data, PART, NULL, NULL, NULL));
    id = json_str(doc, "id");
    upload_id = json_str(doc, "upload_id");
    wantu_string_free(doc);
    if (CHECK(id != NULL && upload_id != NULL)) {
        expect_success(wantu_multipart_cancel(c, policy, id, upload_id));
        /* The upload is gone: further parts are refused. */
        expect_error(wantu_multipart_upload(c, policy, id, upload_id, 2, data, PART, NULL), 404,
                     "NoSuchUpload", "no multipart upload with id");
    }
    free(id);
    free(upload_id);
    free(data);
    wantu_client_free(c);
}

int main(void)
{
    test_init();
    RUN(test_version);
    RUN(test_client_life_cycle);
    RUN(test_token_known_answer);
    RUN(test_upload_file);
    RUN(test_upload_content_and_md5);
    RUN(test_policy_names_win_and_var);
    RUN(test_multipart);
    RUN(test_multipart_cancel);
    return test_report();
}

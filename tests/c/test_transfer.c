/*
 * The one-call uploader through the C API: file, memory and read-callback
 * sources, progress, cancel handles, checkpoints, and hostile arguments.
 * Sizes stay small (parts of 102400 bytes) because this runs under valgrind.
 */
#include "common.h"

#define PART 102400
#define SMALL_PARTS "{\"part_size\":102400,\"concurrency\":3}"

struct progress {
    uint64_t last_sent, last_total, calls, unknown_calls;
    int backwards, over_total, reentry_refused;
    uint64_t cancel_at; /* answer non-zero once sent >= cancel_at (0: never) */
    const wantu_cancel *trigger; /* trigger this handle instead of answering */
    atomic_int *started;         /* set to 1 once bytes went out */
};

static int on_progress(uint64_t sent, uint64_t total, void *user_data)
{
    struct progress *p = user_data;
    if (p->calls > 0 && sent < p->last_sent)
        p->backwards = 1;
    if (total != WANTU_SIZE_UNKNOWN && sent > total)
        p->over_total = 1;
    if (total == WANTU_SIZE_UNKNOWN)
        p->unknown_calls++;
    p->last_sent = sent;
    p->last_total = total;
    p->calls++;
    if (p->started != NULL && sent > 0)
        atomic_store(p->started, 1);
    if (p->calls == 1) {
        /* Calling back into the library from a callback is refused. */
        char *doc = wantu_upload_token(NULL, NULL);
        p->reentry_refused = json_str_has(doc, "message", "inside one of its own callbacks");
        wantu_string_free(doc);
    }
    if (p->cancel_at > 0 && sent >= p->cancel_at) {
        if (p->trigger != NULL) {
            wantu_cancel_trigger(p->trigger); /* allowed inside a callback */
            return 0;
        }
        return 1;
    }
    return 0;
}

static void check_progress(const struct progress *p, uint64_t total)
{
    CHECK(p->calls >= 1);
    CHECK(!p->backwards);
    CHECK(!p->over_total);
    CHECK(p->last_sent == total);
    CHECK(p->last_total == total);
    CHECK(p->reentry_refused);
}

static void check_stored(const char *dir, const char *name, const unsigned char *data, size_t len)
{
    size_t got_len;
    int status;
    unsigned char *got = test_download(dir, name, &got_len, &status);
    CHECK(status == 200);
    CHECK(got != NULL && got_len == len && memcmp(got, data, len) == 0);
    free(got);
}

static int is_stored(const char *dir, const char *name)
{
    size_t len;
    int status;
    unsigned char *got = test_download(dir, name, &len, &status);
    free(got);
    return status == 200;
}

static void test_file(void)
{
    wantu_client *c = test_client();
    char policy[256], path[512], name[128], dir[512], options[1024];
    size_t len = 6 * PART - 1000;
    unsigned char *data = test_bytes(len, 1);
    struct progress p = {0};
    char *doc;
    test_policy(policy, sizeof policy, NULL);
    CHECK(test_temp_file(data, len, path, sizeof path));
    CHECK(test_temp_dir(dir, sizeof dir));
    test_unique("transfer-file", name, sizeof name);
    snprintf(options, sizeof options,
             "{\"part_size\":102400,\"concurrency\":3,\"checkpoint_path\":\"%s/cp.json\"}", dir);
    doc = expect_ok(wantu_transfer_file(c, policy, "/ct", name, path, "{\"k\":\"v\"}", NULL,
                                        options, on_progress, &p, NULL));
    CHECK_DOC(json_bool(doc, "multipart") == 1, doc);
    CHECK_DOC(json_int(doc, "parts") == 6, doc);
    CHECK_DOC(json_int(doc, "uploaded_parts") == 6, doc);
    CHECK_DOC(json_int(doc, "attempts") >= 7, doc);
    CHECK_DOC(json_str_is(doc, "checkpoint", "new"), doc);
    CHECK_DOC(json_int(doc, "file_size") == (long long)len, doc);
    wantu_string_free(doc);
    check_progress(&p, len);
    check_stored("/ct", name, data, len);
    {
        char cp[600];
        struct stat st;
        snprintf(cp, sizeof cp, "%s/cp.json", dir);
        CHECK(stat(cp, &st) != 0); /* success removes the checkpoint */
    }
    rmdir(dir);
    unlink(path);
    free(data);
    wantu_client_free(c);
}

static void test_content(void)
{
    wantu_client *c = test_client();
    char policy[256], name[128];
    size_t len = 3 * PART + 17;
    unsigned char *data = test_bytes(len, 2);
    struct progress p = {0};
    char *doc;
    test_policy(policy, sizeof policy, NULL);
    test_unique("transfer-mem", name, sizeof name);
    doc = expect_ok(wantu_transfer_content(c, policy, "/ct", name, data, len, NULL, NULL,
                                           SMALL_PARTS, on_progress, &p, NULL));
    CHECK_DOC(json_int(doc, "parts") == 4, doc);
    wantu_string_free(doc);
    check_progress(&p, len);
    check_stored("/ct", name, data, len);

    /* Small: one simple request, no callback, integrity off. */
    test_unique("transfer-small", name, sizeof name);
    doc = expect_ok(wantu_transfer_content(c, policy, "/ct", name, data, 1000, NULL, NULL,
                                           "{\"integrity\":false}", NULL, NULL, NULL));
    CHECK_DOC(json_bool(doc, "multipart") == 0, doc);
    CHECK_DOC(json_find(doc, "md5") == NULL, doc);
    wantu_string_free(doc);
    check_stored("/ct", name, data, 1000);

    /* (NULL, 0) is an empty file. */
    test_unique("transfer-empty", name, sizeof name);
    expect_success(wantu_transfer_content(c, policy, "/ct", name, NULL, 0, NULL, NULL, NULL, NULL,
                                          NULL, NULL));
    free(data);
    wantu_client_free(c);
}

struct source {
    const unsigned char *data;
    size_t len, at, step;
    size_t fail_at; /* answer -1 once this many bytes were handed out (0: never) */
};

static ptrdiff_t read_source(uint8_t *buf, size_t cap, void *user_data)
{
    struct source *s = user_data;
    size_t n;
    if (s->fail_at > 0 && s->at >= s->fail_at)
        return -1;
    s->step = s->step % 50000 + 7919; /* odd, changing sizes, like a pipe */
    n = s->len - s->at;
    if (n > cap)
        n = cap;
    if (n > s->step)
        n = s->step;
    memcpy(buf, s->data + s->at, n);
    s->at += n;
    return (ptrdiff_t)n;
}

static void test_stream(void)
{
    wantu_client *c = test_client();
    char policy[256], name[128];
    size_t len = 4 * PART + 555;
    unsigned char *data = test_bytes(len, 3);
    struct source src = {data, len, 0, 1, 0};
    struct progress p = {0};
    char *doc;
    test_policy(policy, sizeof policy, NULL);
    test_unique("transfer-stream", name, sizeof name);
    doc = expect_ok(wantu_transfer_stream(c, policy, "/ct", name, read_source, &src, NULL, NULL,
                                          SMALL_PARTS, on_progress, &p, NULL));
    CHECK_DOC(json_int(doc, "parts") == 5, doc);
    CHECK_DOC(json_bool(doc, "multipart") == 1, doc);
    wantu_string_free(doc);
    CHECK(p.unknown_calls >= 1); /* the total was unknown while reading */
    check_progress(&p, len);
    check_stored("/ct", name, data, len);

    /* A read error fails the upload and leaves nothing behind. */
    test_unique("transfer-broken", name, sizeof name);
    src.at = 0;
    src.fail_at = 2 * PART + 10;
    expect_error(wantu_transfer_stream(c, policy, "/ct", name, read_source, &src, NULL, NULL,
                                       SMALL_PARTS, NULL, NULL, NULL),
                 0, "IoError", "read callback answered -1");
    CHECK(!is_stored("/ct", name));
    free(data);
    wantu_client_free(c);
}

struct canceller {
    const wantu_cancel *cancel;
    atomic_int *started;
};

static void *cancel_when_started(void *arg)
{
    struct canceller *k = arg;
    struct timespec ms = {0, 1000000};
    while (!atomic_load(k->started))
        nanosleep(&ms, NULL);
    wantu_cancel_trigger(k->cancel);
    wantu_cancel_trigger(k->cancel); /* any number of times */
    return NULL;
}

static void test_cancel(void)
{
    wantu_client *c = test_client();
    char policy[256], name[128];
    size_t len = 30 * PART;
    unsigned char *data = test_bytes(len, 4);
    wantu_cancel *cancel = wantu_cancel_new();
    atomic_int started = 0;
    struct progress p = {0};
    struct canceller k;
    pthread_t thread;
    char *doc;
    test_policy(policy, sizeof policy, NULL);
    CHECK(cancel != NULL);
    CHECK(wantu_cancel_is_triggered(cancel) == 0);

    /* From another thread, mid-upload. */
    test_unique("transfer-cancel", name, sizeof name);
    p.started = &started;
    k.cancel = cancel;
    k.started = &started;
    CHECK(pthread_create(&thread, NULL, cancel_when_started, &k) == 0);
    doc = wantu_transfer_content(c, policy, "/ct", name, data, len, NULL, NULL,
                                 "{\"part_size\":102400,\"concurrency\":2}", on_progress, &p, cancel);
    pthread_join(thread, NULL);
    CHECK_DOC(json_int(doc, "code") == 0 && json_str_is(doc, "error", "Cancelled"), doc);
    CHECK_DOC(json_int(doc, "uploaded_parts") < 30, doc);
    wantu_string_free(doc);
    CHECK(wantu_cancel_is_triggered(cancel) == 1);
    CHECK(!is_stored("/ct", name));

    /* A triggered handle stays triggered. */
    expect_error(wantu_transfer_content(c, policy, "/ct", name, data, 1000, NULL, NULL, NULL, NULL,
                                        NULL, cancel),
                 0, "Cancelled", "nothing was stored");
    wantu_cancel_free(cancel);

    /* From the progress callback, by answering non-zero or by the handle. */
    memset(&p, 0, sizeof p);
    p.cancel_at = PART;
    expect_error(wantu_transfer_content(c, policy, "/ct", name, data, len, NULL, NULL, SMALL_PARTS,
                                        on_progress, &p, NULL),
                 0, "Cancelled", "cancelled by the caller");
    cancel = wantu_cancel_new();
    memset(&p, 0, sizeof p);
    p.cancel_at = PART;
    p.trigger = cancel;
    expect_error(wantu_transfer_content(c, policy, "/ct", name, data, len, NULL, NULL, SMALL_PARTS,
                                        on_progress, &p, cancel),
                 0, "Cancelled", "cancelled by the caller");
    CHECK(!is_stored("/ct", name));
    wantu_cancel_free(cancel);

    /* NULL does nothing. */
    wantu_cancel_trigger(NULL);
    wantu_cancel_free(NULL);
    CHECK(wantu_cancel_is_triggered(NULL) == 0);
    free(data);
    wantu_client_free(c);
}

static void test_hostile(void)
{
    wantu_client *c = test_client();
    char policy[256], path[512], dir[512], options[1024];
    unsigned char *data = test_bytes(1000, 5);
    struct source src = {data, 1000, 0, 1, 0};
    static const char *bad_options[][2] = {
        {"{\"part_size\":0}", "`part_size`"},
        {"{\"part_size\":1099511627776}", "`part_size`"},
        {"{\"part_size\":1e300}", "not usable"},
        {"{\"concurrency\":0}", "`concurrency`"},
        {"{\"concurrency\":-3}", "not usable"},
        {"{\"max_attempts\":0}", "`max_attempts`"},
        {"{\"concurency\":2}", "unknown field"},
        {"[]", "expected an object"},
        {"{", "not usable"},
    };
    size_t i;
    test_policy(policy, sizeof policy, NULL);
    CHECK(test_temp_file(data, 1000, path, sizeof path));
    CHECK(test_temp_dir(dir, sizeof dir));

    expect_error(wantu_transfer_file(NULL, policy, "/ct", "h", path, NULL, NULL, NULL, NULL, NULL,
                                     NULL),
                 0, "InvalidArgument", "`client`");
    expect_error(wantu_transfer_file(c, NULL, "/ct", "h", path, NULL, NULL, NULL, NULL, NULL, NULL),
                 0, "InvalidArgument", "`policy_json`");
    expect_error(wantu_transfer_file(c, policy, "/ct", "h", NULL, NULL, NULL, NULL, NULL, NULL,
                                     NULL),
                 0, "InvalidArgument", "`file_path`");
    expect_error(wantu_transfer_file(c, policy, "/ct", "h", "/no/such/file", NULL, NULL, NULL, NULL,
                                     NULL, NULL),
                 0, "IoError", "/no/such/file");
    expect_error(wantu_transfer_content(c, policy, "/ct", "h", NULL, 5, NULL, NULL, NULL, NULL,
                                        NULL, NULL),
                 0, "InvalidArgument", "`content`");
    expect_error(wantu_transfer_stream(c, policy, "/ct", "h", NULL, NULL, NULL, NULL, NULL, NULL,
                                       NULL, NULL),
                 0, "InvalidArgument", "`read`");
    expect_error(wantu_transfer_content(c, policy, "/ct", "h", data, 10, "[1]", NULL, NULL, NULL,
                                        NULL, NULL),
                 0, "InvalidArgument", "`meta`");
    expect_error(wantu_transfer_content(c, policy, "/ct", "h", data, 10, NULL, NULL, "{\"x\":\"\xff\"}",
                                        NULL, NULL, NULL),
                 0, "InvalidArgument", "`options_json` is not valid UTF-8");
    for (i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        expect_error(wantu_transfer_file(c, policy, "/ct", "h", path, NULL, NULL, bad_options[i][0],
                                         NULL, NULL, NULL),
                     0, "InvalidArgument", bad_options[i][1]);
        src.at = 0;
        expect_error(wantu_transfer_stream(c, policy, "/ct", "h", read_source, &src, NULL, NULL,
                                           bad_options[i][0], NULL, NULL, NULL),
                     0, "InvalidArgument", bad_options[i][1]);
    }
    snprintf(options, sizeof options, "{\"checkpoint_path\":\"%s/missing/cp.json\"}", dir);
    expect_error(wantu_transfer_file(c, policy, "/ct", "h", path, NULL, NULL, options, NULL, NULL,
                                     NULL),
                 0, "IoError", "not writable");
    snprintf(options, sizeof options, "{\"checkpoint_path\":\"%s\"}", dir);
    expect_error(wantu_transfer_file(c, policy, "/ct", "h", path, NULL, NULL, options, NULL, NULL,
                                     NULL),
                 0, "InvalidArgument", "directory");
    snprintf(options, sizeof options, "{\"checkpoint_path\":\"%s/cp.json\"}", dir);
    expect_error(wantu_transfer_content(c, policy, "/ct", "h", data, 10, NULL, NULL, options, NULL,
                                        NULL, NULL),
                 0, "InvalidArgument", "file uploads only");
    CHECK(!is_stored("/ct", "h"));
    rmdir(dir);
    unlink(path);
    free(data);
    wantu_client_free(c);
}

int main(void)
{
    test_init();
    RUN(test_file);
    RUN(test_content);
    RUN(test_stream);
    RUN(test_cancel);
    RUN(test_hostile);
    return test_report();
}

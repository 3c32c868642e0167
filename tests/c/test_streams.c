/*
 * Downloads to the caller through the C API: a stored file into a write
 * callback and into memory, byte for byte with its MD5 checked; ranges;
 * ranges outside the file; a write callback that fails or cancels or calls
 * back in; NULL and bad arguments. Sizes stay small (valgrind).
 */
#include "common.h"

#define SMALL_PARTS "{\"part_size\":102400,\"concurrency\":3}"
#define BIG_LEN 350000 /* four ranges of 102400 */

static char g_dir[128];
static unsigned char *g_big;
static char *g_big_md5;

struct sink {
    unsigned char *buf;
    size_t len, cap;
    size_t writes;
    int fail_at_write; /* return this write's number (1-based) as an error */
    const wantu_cancel *cancel_at_first;
    int reentry_refused;
};

static int on_write(const uint8_t *data, size_t len, void *user_data)
{
    struct sink *s = user_data;
    s->writes++;
    if (s->writes == 1) {
        char *doc = wantu_download_stream(NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL,
                                          NULL, NULL);
        s->reentry_refused = json_str_has(doc, "message", "inside one of its own callbacks");
        wantu_string_free(doc);
        if (s->cancel_at_first != NULL)
            wantu_cancel_trigger(s->cancel_at_first);
    }
    if (s->fail_at_write > 0 && (int)s->writes == s->fail_at_write)
        return -7;
    if (len == 0 || s->len + len > s->cap)
        return 1; /* never expected: counted by the callers' checks */
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    return 0;
}

static struct sink new_sink(size_t cap)
{
    struct sink s;
    memset(&s, 0, sizeof s);
    s.buf = malloc(cap > 0 ? cap : 1);
    s.cap = cap;
    return s;
}

static void setup(void)
{
    wantu_client *c = test_client();
    char policy[256];
    char *doc;
    test_policy(policy, sizeof policy, NULL);
    snprintf(g_dir, sizeof g_dir, "/");
    test_unique("streams", g_dir + 1, sizeof g_dir - 1);
    g_big = test_bytes(BIG_LEN, 42);
    doc = expect_ok(wantu_transfer_content(c, policy, g_dir, "big.bin", g_big, BIG_LEN, NULL, NULL,
                                           NULL, NULL, NULL, NULL));
    g_big_md5 = json_str(doc, "md5");
    CHECK_DOC(g_big_md5 != NULL, doc);
    wantu_string_free(doc);
    expect_success(wantu_transfer_content(c, policy, g_dir, "empty", (const uint8_t *)"", 0, NULL,
                                          NULL, NULL, NULL, NULL, NULL));
    wantu_client_free(c);
}

static void test_whole_file_in_order(void)
{
    wantu_client *c = test_client();
    const char *options[] = {NULL, SMALL_PARTS};
    size_t i;
    for (i = 0; i < 2; i++) {
        struct sink s = new_sink(BIG_LEN);
        char *doc = wantu_download_stream(c, test_namespace(), g_dir, "big.bin", 0, WANTU_TO_END,
                                          options[i], on_write, &s, NULL, NULL, NULL);
        CHECK_DOC(json_int(doc, "code") == 200, doc);
        CHECK(s.len == BIG_LEN && memcmp(s.buf, g_big, BIG_LEN) == 0);
        CHECK_DOC(json_str_is(doc, "md5", g_big_md5), doc);
        CHECK_DOC(json_bool(doc, "md5_checked") == 1, doc);
        CHECK(json_int(doc, "length") == BIG_LEN);
        CHECK(s.reentry_refused);
        wantu_string_free(doc);
        free(s.buf);
    }
    {
        uint8_t *data = (uint8_t *)"not touched";
        size_t len = 99;
        char *doc = wantu_download_memory(c, test_namespace(), g_dir, "big.bin", 0, WANTU_TO_END,
                                          SMALL_PARTS, NULL, NULL, NULL, &data, &len);
        CHECK_DOC(json_int(doc, "code") == 200, doc);
        CHECK(len == BIG_LEN && data != NULL && memcmp(data, g_big, BIG_LEN) == 0);
        wantu_string_free(doc);
        wantu_bytes_free(data);
        wantu_bytes_free(data); /* a second free is ignored */
        wantu_bytes_free(NULL);
    }
    {
        uint8_t *data = (uint8_t *)"x";
        size_t len = 5;
        struct sink s = new_sink(0);
        char *doc = wantu_download_memory(c, test_namespace(), g_dir, "empty", 0, WANTU_TO_END,
                                          NULL, NULL, NULL, NULL, &data, &len);
        CHECK_DOC(json_int(doc, "code") == 200, doc);
        CHECK(data == NULL && len == 0);
        wantu_string_free(doc);
        doc = wantu_download_stream(c, test_namespace(), g_dir, "empty", 0, WANTU_TO_END, NULL,
                                    on_write, &s, NULL, NULL, NULL);
        CHECK_DOC(json_int(doc, "code") == 200 && s.writes == 0, doc);
        wantu_string_free(doc);
        free(s.buf);
    }
    wantu_client_free(c);
}

static void test_ranges(void)
{
    wantu_client *c = test_client();
    struct sink s = new_sink(BIG_LEN);
    uint8_t *data = NULL;
    size_t len = 0;
    char *doc = wantu_download_stream(c, test_namespace(), g_dir, "big.bin", 100000, 150000,
                                      SMALL_PARTS, on_write, &s, NULL, NULL, NULL);
    CHECK_DOC(json_int(doc, "code") == 200, doc);
    CHECK(s.len == 150000 && memcmp(s.buf, g_big + 100000, 150000) == 0);
    CHECK_DOC(json_bool(doc, "md5_checked") == 0, doc);
    CHECK(json_int(doc, "offset") == 100000 && json_int(doc, "size") == BIG_LEN);
    wantu_string_free(doc);

    doc = wantu_download_memory(c, test_namespace(), g_dir, "big.bin", BIG_LEN - 10, WANTU_TO_END,
                                NULL, NULL, NULL, NULL, &data, &len);
    CHECK_DOC(json_int(doc, "code") == 200, doc);
    CHECK(len == 10 && memcmp(data, g_big + BIG_LEN - 10, 10) == 0);
    wantu_string_free(doc);
    wantu_bytes_free(data);

    /* Past the end, overflowing, beyond the memory cap. */
    expect_error(wantu_download_memory(c, test_namespace(), g_dir, "big.bin", BIG_LEN + 1,
                                       WANTU_TO_END, NULL, NULL, NULL, NULL, &data, &len),
                 0, "InvalidArgument", "holds 350000 bytes");
    CHECK(data == NULL && len == 0);
    expect_error(wantu_download_stream(c, test_namespace(), g_dir, "big.bin", BIG_LEN - 1, 2, NULL,
                                       on_write, &s, NULL, NULL, NULL),
                 0, "InvalidArgument", "holds 350000 bytes");
    expect_error(wantu_download_stream(c, test_namespace(), g_dir, "big.bin", UINT64_MAX - 1, 5,
                                       NULL, on_write, &s, NULL, NULL, NULL),
                 0, "InvalidArgument", "outside");
    expect_error(wantu_download_memory(c, test_namespace(), g_dir, "big.bin", 0, WANTU_TO_END,
                                       "{\"max_bytes\":1000}", NULL, NULL, NULL, &data, &len),
                 0, "InvalidArgument", "`max_bytes`");
    expect_error(wantu_download_stream(c, test_namespace(), g_dir, "big.bin", 0, WANTU_TO_END,
                                       "{\"max_bytes\":1000}", on_write, &s, NULL, NULL, NULL),
                 0, "InvalidArgument", "wantu_download_memory");
    expect_error(wantu_download_stream(c, test_namespace(), g_dir, "nope", 0, WANTU_TO_END, NULL,
                                       on_write, &s, NULL, NULL, NULL),
                 404, "FileNotExist", "does not exist");
    free(s.buf);
    wantu_client_free(c);
}

static void test_failing_writer_and_cancel(void)
{
    wantu_client *c = test_client();
    wantu_cancel *cancel = wantu_cancel_new();
    struct sink s = new_sink(BIG_LEN);
    char *doc;
    s.fail_at_write = 2;
    doc = wantu_download_stream(c, test_namespace(), g_dir, "big.bin", 0, WANTU_TO_END, SMALL_PARTS,
                                on_write, &s, NULL, NULL, NULL);
    CHECK(s.writes == 2 && s.len == 102400);
    expect_error(doc, 0, "IoError", "returned -7 after 102400 bytes");
    free(s.buf);

    s = new_sink(BIG_LEN);
    s.cancel_at_first = cancel;
    doc = wantu_download_stream(c, test_namespace(), g_dir, "big.bin", 0, WANTU_TO_END, SMALL_PARTS,
                                on_write, &s, NULL, NULL, cancel);
    CHECK(s.writes == 1);
    expect_error(doc, 0, "Cancelled", "cancelled");
    free(s.buf);

    /* Already triggered: nothing is delivered. */
    s = new_sink(BIG_LEN);
    doc = wantu_download_stream(c, test_namespace(), g_dir, "big.bin", 0, WANTU_TO_END, NULL,
                                on_write, &s, NULL, NULL, cancel);
    CHECK(s.writes == 0);
    expect_error(doc, 0, "Cancelled", "cancelled");
    free(s.buf);
    wantu_cancel_free(cancel);
    wantu_client_free(c);
}

/* The non-blocking forms: the same bytes, through a completion queue; the
 * write callback runs on the call's library thread. */
static void test_async_forms(void)
{
    wantu_client *c = test_client();
    wantu_queue *q = wantu_queue_new();
    wantu_async how;
    struct sink s = new_sink(BIG_LEN);
    uint8_t *data = NULL;
    size_t len = 0;
    wantu_event ev;
    int i;
    memset(&how, 0, sizeof how);
    how.queue = q;
    CHECK(wantu_download_stream_async(c, test_namespace(), g_dir, "big.bin", 0, WANTU_TO_END,
                                      SMALL_PARTS, on_write, &s, NULL, NULL, NULL, &how) != NULL);
    CHECK(wantu_download_memory_async(c, test_namespace(), g_dir, "big.bin", 1000, 2000, NULL, NULL,
                                      NULL, NULL, &data, &len, &how) != NULL);
    for (i = 0; i < 2; i++) {
        CHECK(wantu_queue_wait(q, 30000, &ev) == 1);
        if (ev.kind != WANTU_EVENT_DONE) {
            i--;
            continue;
        }
        CHECK_DOC(json_int(ev.result, "code") == 200, ev.result);
        wantu_string_free(ev.result);
        wantu_op_free(ev.op);
    }
    CHECK(s.len == BIG_LEN && memcmp(s.buf, g_big, BIG_LEN) == 0);
    CHECK(len == 2000 && data != NULL && memcmp(data, g_big + 1000, 2000) == 0);
    wantu_bytes_free(data);
    free(s.buf);
    wantu_queue_free(q);
    wantu_client_free(c);
}

static void test_bad_arguments(void)
{
    wantu_client *c = test_client();
    const char *ns = test_namespace();
    struct sink s = new_sink(16);
    uint8_t *data = NULL;
    size_t len = 0;
    expect_error(wantu_download_stream(NULL, ns, g_dir, "big.bin", 0, WANTU_TO_END, NULL, on_write,
                                       &s, NULL, NULL, NULL),
                 0, "InvalidArgument", "`client`");
    expect_error(wantu_download_stream(c, NULL, g_dir, "big.bin", 0, WANTU_TO_END, NULL, on_write,
                                       &s, NULL, NULL, NULL),
                 0, "InvalidArgument", "`ns`");
    expect_error(wantu_download_stream(c, ns, g_dir, NULL, 0, WANTU_TO_END, NULL, on_write, &s,
                                       NULL, NULL, NULL),
                 0, "InvalidArgument", "`name`");
    expect_error(wantu_download_stream(c, ns, g_dir, "big.bin", 0, WANTU_TO_END, NULL, NULL, &s,
                                       NULL, NULL, NULL),
                 0, "InvalidArgument", "`write`");
    expect_error(wantu_download_stream(c, ns, g_dir, "big.bin", 0, WANTU_TO_END, "{\"resume\":1}",
                                       on_write, &s, NULL, NULL, NULL),
                 0, "InvalidArgument", "unknown field");
    expect_error(wantu_download_stream(c, ns, g_dir, "big.bin", 0, WANTU_TO_END, "[", on_write, &s,
                                       NULL, NULL, NULL),
                 0, "InvalidArgument", "");
    expect_error(wantu_download_memory(c, ns, g_dir, "big.bin", 0, WANTU_TO_END, NULL, NULL, NULL,
                                       NULL, NULL, &len),
                 0, "InvalidArgument", "`out_data`");
    expect_error(wantu_download_memory(c, ns, g_dir, "big.bin", 0, WANTU_TO_END, NULL, NULL, NULL,
                                       NULL, &data, NULL),
                 0, "InvalidArgument", "`out_len`");
    expect_error(wantu_download_memory(c, ns, g_dir, "../x", 0, WANTU_TO_END, NULL, NULL, NULL,
                                       NULL, &data, &len),
                 0, "InvalidArgument", "");
    CHECK(s.writes == 0);
    wantu_bytes_free((uint8_t *)&len); /* not a buffer of the library: ignored */
    free(s.buf);
    wantu_client_free(c);
}

int main(void)
{
    test_init();
    setup();
    RUN(test_whole_file_in_order);
    RUN(test_ranges);
    RUN(test_failing_writer_and_cancel);
    RUN(test_async_forms);
    RUN(test_bad_arguments);
    free(g_big);
    free(g_big_md5);
    return test_report();
}

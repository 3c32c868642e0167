/*
 * Handles used wrongly: after wantu_client_free / wantu_cancel_free, twice,
 * invented, freed from inside a callback, freed while another thread's call
 * is running. Each must be reported or refused, never followed (the library
 * must not read freed memory: this runs under valgrind and the sanitizers),
 * and a stale handle must never reach a handle created after it.
 */
#include "common.h"

#include <time.h>

#define LEN (3 * WANTU_MIN_PART_SIZE + 7)
#define SMALL_PARTS "{\"part_size\":102400,\"concurrency\":1}"
#define NOT_LIVE "`client` is not a live client handle"

static char policy[256];

static void test_freed_client_is_reported_and_never_drives_a_new_one(void)
{
    wantu_client *old = test_client(), *fresh;
    char *doc;
    expect_success(wantu_upload_token(old, policy));
    wantu_client_free(old);
    expect_error(wantu_upload_token(old, policy), 0, "InvalidArgument", NOT_LIVE);

    /* A new client, likely where the old one was: the old handle still
     * answers the error, and freeing it again leaves the new one alone. */
    fresh = wantu_client_new("another-ak", test_sk(), NULL, test_endpoint(), test_endpoint());
    CHECK(fresh != NULL);
    CHECK(fresh != old);
    expect_error(wantu_upload_token(old, policy), 0, "InvalidArgument", NOT_LIVE);
    expect_error(wantu_upload_content(old, policy, "/handles", "x", (const uint8_t *)"x", 1, NULL,
                                      NULL, NULL),
                 0, "InvalidArgument", NOT_LIVE);
    expect_error(wantu_transfer_content(old, policy, "/handles", "x", (const uint8_t *)"x", 1,
                                        NULL, NULL, NULL, NULL, NULL, NULL),
                 0, "InvalidArgument", NOT_LIVE);
    wantu_client_free(old);
    doc = expect_ok(wantu_upload_token(fresh, policy));
    CHECK_DOC(json_str_has(doc, "token", "UPLOAD_AK_TOP "), doc);
    wantu_string_free(doc);
    wantu_client_free(fresh);
    expect_error(wantu_upload_token(fresh, policy), 0, "InvalidArgument", NOT_LIVE);
}

static void test_invented_client_handles(void)
{
    uint64_t not_a_client[4] = {0, 0, 0, 0};
    wantu_client *invented[] = {(wantu_client *)(uintptr_t)0x1234,
                                (wantu_client *)(void *)not_a_client,
                                (wantu_client *)(uintptr_t)UINTPTR_MAX};
    size_t i;
    for (i = 0; i < sizeof invented / sizeof invented[0]; i++) {
        expect_error(wantu_upload_token(invented[i], policy), 0, "InvalidArgument", NOT_LIVE);
        wantu_client_free(invented[i]); /* ignored */
    }
}

static void test_freed_cancel_never_reaches_a_new_one(void)
{
    wantu_client *c = test_client();
    wantu_cancel *old = wantu_cancel_new(), *fresh;
    wantu_cancel_free(old);
    fresh = wantu_cancel_new();
    CHECK(fresh != NULL);
    wantu_cancel_trigger(old);
    CHECK(wantu_cancel_is_triggered(old) == 0);
    CHECK(wantu_cancel_is_triggered(fresh) == 0);
    wantu_cancel_free(old);
    expect_error(wantu_transfer_content(c, policy, "/handles", "x", (const uint8_t *)"x", 1, NULL,
                                        NULL, NULL, NULL, NULL, old),
                 0, "InvalidArgument", "`cancel` is not a live cancel handle");
    wantu_cancel_trigger(fresh);
    CHECK(wantu_cancel_is_triggered(fresh) == 1);
    wantu_cancel_free(fresh);
    wantu_client_free(c);
}

/* A callback that tries to free the client and the cancel handle of the
 * upload it runs in. */
struct freeing {
    wantu_client *client;
    wantu_cancel *cancel;
    int calls;
};

static int free_in_progress(uint64_t sent, uint64_t total, void *user_data)
{
    struct freeing *f = user_data;
    (void)total;
    if (sent > 0 && f->calls++ == 0) {
        wantu_client_free(f->client);
        wantu_cancel_free(f->cancel);
    }
    return 0;
}

struct reader {
    struct freeing f;
    const unsigned char *data;
    size_t len, at;
};

static ptrdiff_t free_in_read(uint8_t *buf, size_t cap, void *user_data)
{
    struct reader *r = user_data;
    size_t n = r->len - r->at < cap ? r->len - r->at : cap;
    if (r->f.calls++ == 0) {
        wantu_client_free(r->f.client);
        wantu_cancel_free(r->f.cancel);
    }
    memcpy(buf, r->data + r->at, n);
    r->at += n;
    return (ptrdiff_t)n;
}

/* After the callback's refused frees, both handles still work. */
static void check_still_live(struct freeing *f)
{
    CHECK(f->calls > 0);
    expect_success(wantu_upload_token(f->client, policy));
    wantu_cancel_trigger(f->cancel);
    CHECK(wantu_cancel_is_triggered(f->cancel) == 1);
    wantu_cancel_free(f->cancel);
    wantu_client_free(f->client);
}

static void test_free_from_a_progress_callback_is_refused(void)
{
    unsigned char *data = test_bytes(LEN, 1);
    char name[64];
    struct freeing f = {test_client(), wantu_cancel_new(), 0};
    test_unique("handles-progress", name, sizeof name);
    expect_success(wantu_transfer_content(f.client, policy, "/handles", name, data, LEN, NULL,
                                          NULL, SMALL_PARTS, free_in_progress, &f, f.cancel));
    check_still_live(&f);
    free(data);
}

static void test_free_from_a_read_callback_is_refused(void)
{
    char name[64];
    struct reader r = {{test_client(), wantu_cancel_new(), 0}, NULL, LEN, 0};
    r.data = test_bytes(LEN, 2);
    test_unique("handles-read", name, sizeof name);
    expect_success(wantu_transfer_stream(r.f.client, policy, "/handles", name, free_in_read, &r,
                                         NULL, NULL, SMALL_PARTS, NULL, NULL, r.f.cancel));
    check_still_live(&r.f);
    free((void *)r.data);
}

/* wantu_client_free on one thread while another thread's upload runs: the
 * upload finishes with the client it started with; the handle is dead at
 * once for every later call. */
struct running {
    wantu_client *client;
    atomic_int started, freed;
    char *doc;
    char name[64];
    unsigned char *data;
};

static int wait_for_free(uint64_t sent, uint64_t total, void *user_data)
{
    struct running *r = user_data;
    struct timespec tick = {0, 1000000};
    (void)total;
    if (sent > 0 && !atomic_exchange(&r->started, 1)) {
        while (!atomic_load(&r->freed))
            nanosleep(&tick, NULL);
    }
    return 0;
}

static void *upload_thread(void *arg)
{
    struct running *r = arg;
    r->doc = wantu_transfer_content(r->client, policy, "/handles", r->name, r->data, LEN, NULL,
                                    NULL, SMALL_PARTS, wait_for_free, r, NULL);
    return NULL;
}

static void test_free_during_another_threads_call(void)
{
    struct running r;
    pthread_t thread;
    struct timespec tick = {0, 1000000};
    memset(&r, 0, sizeof r);
    r.client = test_client();
    r.data = test_bytes(LEN, 3);
    test_unique("handles-running", r.name, sizeof r.name);
    CHECK(pthread_create(&thread, NULL, upload_thread, &r) == 0);
    while (!atomic_load(&r.started))
        nanosleep(&tick, NULL);
    wantu_client_free(r.client);
    expect_error(wantu_upload_token(r.client, policy), 0, "InvalidArgument", NOT_LIVE);
    atomic_store(&r.freed, 1);
    pthread_join(thread, NULL);
    CHECK_DOC(json_int(r.doc, "code") == 200 && json_int(r.doc, "file_size") == LEN, r.doc);
    wantu_string_free(r.doc);
    expect_error(wantu_upload_token(r.client, policy), 0, "InvalidArgument", NOT_LIVE);
    free(r.data);
}

int main(void)
{
    test_init();
    test_policy(policy, sizeof policy, NULL);
    RUN(test_freed_client_is_reported_and_never_drives_a_new_one);
    RUN(test_invented_client_handles);
    RUN(test_freed_cancel_never_reaches_a_new_one);
    RUN(test_free_from_a_progress_callback_is_refused);
    RUN(test_free_from_a_read_callback_is_refused);
    RUN(test_free_during_another_threads_call);
    return test_report();
}

/*
 * One client shared by many pthreads: simple uploads from every thread at
 * once, all byte-exact, and the parts of one multipart upload sent from
 * different threads. (tests/threads.rs does 8 x 50; valgrind serialises
 * threads, so fewer here.)
 */
#include "common.h"

#define THREADS 8
#define UPLOADS_PER_THREAD 6
#define PART (WANTU_MIN_PART_SIZE + 7)

static wantu_client *shared;
static char policy[256];

struct job {
    int index;
    /* multipart: the upload every thread sends one part of */
    const char *id, *upload_id;
    const unsigned char *data;
    char *etag; /* answer, malloc'd */
};

static void *uploader(void *arg)
{
    struct job *job = arg;
    int i;
    for (i = 0; i < UPLOADS_PER_THREAD; i++) {
        char name[64];
        size_t len = 1000 + (size_t)(job->index * 977 + i * 131), got_len;
        unsigned char *data = test_bytes(len, (unsigned long)(job->index * 1000 + i));
        unsigned char *got;
        int status;
        char *doc;
        snprintf(name, sizeof name, "threads-%d-%d-%ld", job->index, i, (long)getpid());
        doc = wantu_upload_content(shared, policy, "/c/threads", name, data, len, NULL, NULL, NULL);
        CHECK_DOC(json_int(doc, "code") == 200 && json_int(doc, "file_size") == (long long)len,
                  doc);
        wantu_string_free(doc);
        got = test_download("/c/threads", name, &got_len, &status);
        CHECK(got != NULL && got_len == len && memcmp(got, data, len) == 0);
        free(got);
        free(data);
    }
    return NULL;
}

static void test_shared_client_uploads(void)
{
    pthread_t threads[THREADS];
    struct job jobs[THREADS];
    int i;
    for (i = 0; i < THREADS; i++) {
        jobs[i].index = i;
        CHECK(pthread_create(&threads[i], NULL, uploader, &jobs[i]) == 0);
    }
    for (i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
}

static void *part_sender(void *arg)
{
    struct job *job = arg;
    int part = job->index + 2; /* part 1 came with multipart_init */
    char *doc = wantu_multipart_upload(shared, policy, job->id, job->upload_id, (uint32_t)part,
                                       job->data + (size_t)(part - 1) * PART, PART, NULL);
    CHECK_DOC(json_int(doc, "code") == 200 && json_int(doc, "part_number") == part, doc);
    job->etag = json_str(doc, "e_tag");
    wantu_string_free(doc);
    return NULL;
}

static void test_parts_from_many_threads(void)
{
    enum { SENDERS = 4, PARTS = SENDERS + 1 };
    size_t len = (size_t)PARTS * PART, got_len, o;
    unsigned char *data = test_bytes(len, 99), *got;
    pthread_t threads[SENDERS];
    struct job jobs[SENDERS];
    char parts[2048], name[64];
    char *doc, *id, *upload_id, *etag1;
    int i, status;
    test_unique("threads-mp", name, sizeof name);
    doc = expect_ok(wantu_multipart_init(shared, policy, "/c/threads", name, data, PART, NULL,
                                         NULL, NULL));
    id = json_str(doc, "id");
    upload_id = json_str(doc, "upload_id");
    etag1 = json_str(doc, "e_tag");
    wantu_string_free(doc);
    if (!CHECK(id != NULL && upload_id != NULL && etag1 != NULL)) {
        free(id), free(upload_id), free(etag1), free(data);
        return;
    }
    for (i = 0; i < SENDERS; i++) {
        jobs[i].index = i;
        jobs[i].id = id;
        jobs[i].upload_id = upload_id;
        jobs[i].data = data;
        jobs[i].etag = NULL;
        CHECK(pthread_create(&threads[i], NULL, part_sender, &jobs[i]) == 0);
    }
    for (i = 0; i < SENDERS; i++)
        pthread_join(threads[i], NULL);

    o = (size_t)snprintf(parts, sizeof parts, "[{\"part_number\":1,\"e_tag\":\"%s\"}", etag1);
    for (i = 0; i < SENDERS; i++)
        o += (size_t)snprintf(parts + o, sizeof parts - o, ",{\"part_number\":%d,\"e_tag\":\"%s\"}",
                              i + 2, jobs[i].etag ? jobs[i].etag : "");
    snprintf(parts + o, sizeof parts - o, "]");
    expect_success(wantu_multipart_complete(shared, policy, id, upload_id, parts, NULL));
    got = test_download("/c/threads", name, &got_len, &status);
    CHECK(got != NULL && got_len == len && memcmp(got, data, len) == 0);
    free(got);
    for (i = 0; i < SENDERS; i++)
        free(jobs[i].etag);
    free(id), free(upload_id), free(etag1), free(data);
}

int main(void)
{
    test_init();
    shared = test_client();
    test_policy(policy, sizeof policy, NULL);
    RUN(test_shared_client_uploads);
    RUN(test_parts_from_many_threads);
    wantu_client_free(shared);
    return test_report();
}

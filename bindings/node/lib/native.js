'use strict';
// libwantu through koffi: finding the library and declaring its functions.
// Nothing here is specific to the official SDK's shape; index.js is.

const fs = require('fs');
const path = require('path');
const koffi = require('koffi');
const { libraryFileName } = require('./library-name');

// Where libwantu may be, in order: WANTU_LIB (an explicit choice that must
// load), the library bundled in this package (native/, put there by
// `npm pack`), the system's loader path, and, for work inside the
// repository, its release then debug cargo build.
function candidates() {
    const name = libraryFileName();
    const list = [];
    if (process.env.WANTU_LIB) list.push({ file: process.env.WANTU_LIB, explicit: true });
    list.push({ file: path.join(__dirname, '..', 'native', name) });
    list.push({ file: name });
    const target = path.join(__dirname, '..', '..', '..', 'target');
    list.push({ file: path.join(target, 'release', name) }, { file: path.join(target, 'debug', name) });
    return list;
}

function load() {
    const tried = [];
    for (const { file, explicit } of candidates()) {
        if (!explicit && path.isAbsolute(file) && !fs.existsSync(file)) {
            tried.push(`${file} (missing)`);
            continue;
        }
        try {
            return { lib: koffi.load(file), file };
        } catch (e) {
            if (explicit) throw new Error(`WANTU_LIB=${file} cannot be loaded: ${e.message}`);
            tried.push(`${file} (${e.message})`);
        }
    }
    throw new Error(
        'libwantu not found; install a package that bundles it (make node-pack), set WANTU_LIB ' +
            'to the path of libwantu.so, or install it (make install). Tried: ' + tried.join('; ')
    );
}

// Every owned `char *` the library answers is a JSON document freed with
// wantu_string_free; the disposable type frees it once koffi has copied it
// (the queue's answers are freed by lib/completions.js).
// Network calls are declared in their non-blocking form only (`…_async`,
// with a `wantu_async *how` last): lib/completions.js delivers their
// answers. `how.user_data` is declared as an integer, the id of the
// pending call, which the library hands back untouched.
function declare(lib) {
    const stringFree = lib.func('void wantu_string_free(void *s)');
    const Json = koffi.disposable('wantu_json', 'str', stringFree);
    koffi.opaque('wantu_client');
    koffi.opaque('wantu_op');
    koffi.opaque('wantu_queue');
    koffi.struct('wantu_async', { queue: 'wantu_queue *', on_done: 'void *', user_data: 'uintptr_t', progress: 'int32_t' });
    koffi.struct('wantu_event', {
        kind: 'int',
        op: 'wantu_op *',
        user_data: 'uintptr_t',
        result: 'void *',
        sent: 'uint64_t',
        total: 'uint64_t',
    });
    const f = (proto) => lib.func(proto);
    const op = (proto) => lib.func(`wantu_op *${proto.replace(/\)$/, ', const wantu_async *how)')}`);
    // The calls with progress and cancel take these before `how`; the
    // package passes NULL for all three (progress comes as queue events,
    // cancel by operation handle).
    const watched = 'void *progress, void *user_data, void *cancel';
    return {
        stringFree,
        version: f('const char *wantu_version()'),
        lastError: f('wantu_json wantu_last_error()'),
        clientNew: f(
            'wantu_client *wantu_client_new_with_options(const char *ak, const char *sk, const char *type, ' +
                'const char *upload_endpoint, const char *manage_endpoint, const char *options_json)'
        ),
        clientFree: f('void wantu_client_free(wantu_client *client)'),
        queueNew: f('wantu_queue *wantu_queue_new()'),
        queueFd: f('int wantu_queue_fd(wantu_queue *queue)'),
        queueTake: f('int wantu_queue_take(wantu_queue *queue, _Out_ wantu_event *event)'),
        queueWait: f('int wantu_queue_wait(wantu_queue *queue, int timeout_ms, _Out_ wantu_event *event)'),
        opCancel: f('void wantu_op_cancel(wantu_op *op)'),
        opFree: f('void wantu_op_free(wantu_op *op)'),
        uploadFile: op(
            'wantu_upload_file_async(wantu_client *client, const char *policy_json, const char *dir, ' +
                'const char *name, const char *file_path, const char *md5, const char *meta_json, const char *var_json)'
        ),
        multipartInit: op(
            'wantu_multipart_init_async(wantu_client *client, const char *policy_json, const char *dir, ' +
                'const char *name, const uint8_t *content, size_t content_len, const char *md5, ' +
                'const char *meta_json, const char *var_json)'
        ),
        multipartUpload: op(
            'wantu_multipart_upload_async(wantu_client *client, const char *policy_json, const char *id, ' +
                'const char *upload_id, uint32_t part_number, const uint8_t *content, size_t content_len, ' +
                'const char *md5)'
        ),
        multipartComplete: op(
            'wantu_multipart_complete_async(wantu_client *client, const char *policy_json, const char *id, ' +
                'const char *upload_id, const char *parts, const char *md5)'
        ),
        multipartCancel: op(
            'wantu_multipart_cancel_async(wantu_client *client, const char *policy_json, const char *id, ' +
                'const char *upload_id)'
        ),
        fileExists: op('wantu_file_exists_async(wantu_client *client, const char *ns, const char *dir, const char *name)'),
        fileGet: op('wantu_file_get_async(wantu_client *client, const char *ns, const char *dir, const char *name)'),
        fileDelete: op('wantu_file_delete_async(wantu_client *client, const char *ns, const char *dir, const char *name)'),
        fileList: op(
            'wantu_file_list_async(wantu_client *client, const char *ns, const char *dir, int64_t page, int64_t page_size)'
        ),
        dirCreate: op('wantu_dir_create_async(wantu_client *client, const char *ns, const char *dir)'),
        dirExists: op('wantu_dir_exists_async(wantu_client *client, const char *ns, const char *dir)'),
        dirDelete: op('wantu_dir_delete_async(wantu_client *client, const char *ns, const char *dir)'),
        dirList: op(
            'wantu_dir_list_async(wantu_client *client, const char *ns, const char *dir, int64_t page, int64_t page_size)'
        ),
        ptsAdd: op(
            'wantu_pts_add_async(wantu_client *client, const char *ns, const char *dir, const char *name, ' +
                'const char *fops, const char *notify_url, int32_t force)'
        ),
        ptsGet: op('wantu_pts_get_async(wantu_client *client, const char *persistent_id)'),
        transferFile: op(
            'wantu_transfer_file_async(wantu_client *client, const char *policy_json, const char *dir, ' +
                'const char *name, const char *file_path, const char *meta_json, const char *var_json, ' +
                `const char *options_json, ${watched})`
        ),
        uploadDir: op(
            'wantu_upload_dir_async(wantu_client *client, const char *policy_json, const char *local_dir, ' +
                `const char *remote_dir, const char *options_json, ${watched})`
        ),
        transferBatch: op(
            'wantu_transfer_batch_async(wantu_client *client, const char *policy_json, const char *jobs_json, ' +
                `const char *options_json, ${watched})`
        ),
        downloadFile: op(
            'wantu_download_file_async(wantu_client *client, const char *ns, const char *dir, const char *name, ' +
                `const char *local_path, const char *options_json, ${watched})`
        ),
        downloadDir: op(
            'wantu_download_dir_async(wantu_client *client, const char *ns, const char *remote_dir, ' +
                `const char *local_dir, const char *options_json, ${watched})`
        ),
    };
}

let cached = null;

/** The loaded library's declared functions (loaded on first use), and its path. */
function native() {
    if (cached === null) {
        const { lib, file } = load();
        cached = Object.assign(declare(lib), { file });
    }
    return cached;
}

module.exports = { native };

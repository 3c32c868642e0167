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

// koffi runs async calls on stacks of its own, 128 KiB by default: too
// small for libwantu (a call of it crashed the process in a 128 KiB stack).
// Give them what Rust gives every thread it spawns, 2 MiB. koffi accepts
// this only before its first library load.
const ASYNC_STACK = 2 * 1024 * 1024;

function configureKoffi() {
    const config = koffi.config();
    if (config.async_stack_size >= ASYNC_STACK) return;
    try {
        koffi.config({ ...config, async_stack_size: ASYNC_STACK });
    } catch (e) {
        throw new Error(
            `libwantu needs koffi's async_stack_size of at least ${ASYNC_STACK} bytes, and koffi cannot change it ` +
                `now (${e.message}): require('libwantu') before loading another library through koffi, or call ` +
                `koffi.config({ ...koffi.config(), async_stack_size: ${ASYNC_STACK} }) first`
        );
    }
}

function load() {
    configureKoffi();
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
// wantu_string_free; the disposable type frees it once koffi has copied it.
function declare(lib) {
    const stringFree = lib.func('void wantu_string_free(void *s)');
    const Json = koffi.disposable('wantu_json', 'str', stringFree);
    koffi.opaque('wantu_client');
    koffi.opaque('wantu_cancel');
    const progressFn = koffi.proto('int wantu_progress_fn(uint64_t sent, uint64_t total, void *user_data)');
    const f = (proto) => lib.func(proto);
    return {
        Json,
        progressPointer: koffi.pointer(progressFn),
        register: koffi.register,
        unregister: koffi.unregister,
        version: f('const char *wantu_version()'),
        lastError: f('wantu_json wantu_last_error()'),
        clientNew: f(
            'wantu_client *wantu_client_new_with_options(const char *ak, const char *sk, const char *type, ' +
                'const char *upload_endpoint, const char *manage_endpoint, const char *options_json)'
        ),
        clientFree: f('void wantu_client_free(wantu_client *client)'),
        uploadFile: f(
            'wantu_json wantu_upload_file(wantu_client *client, const char *policy_json, const char *dir, ' +
                'const char *name, const char *file_path, const char *md5, const char *meta_json, const char *var_json)'
        ),
        multipartInit: f(
            'wantu_json wantu_multipart_init(wantu_client *client, const char *policy_json, const char *dir, ' +
                'const char *name, const uint8_t *content, size_t content_len, const char *md5, ' +
                'const char *meta_json, const char *var_json)'
        ),
        multipartUpload: f(
            'wantu_json wantu_multipart_upload(wantu_client *client, const char *policy_json, const char *id, ' +
                'const char *upload_id, uint32_t part_number, const uint8_t *content, size_t content_len, ' +
                'const char *md5)'
        ),
        multipartComplete: f(
            'wantu_json wantu_multipart_complete(wantu_client *client, const char *policy_json, const char *id, ' +
                'const char *upload_id, const char *parts, const char *md5)'
        ),
        multipartCancel: f(
            'wantu_json wantu_multipart_cancel(wantu_client *client, const char *policy_json, const char *id, ' +
                'const char *upload_id)'
        ),
        fileExists: f('wantu_json wantu_file_exists(wantu_client *client, const char *ns, const char *dir, const char *name)'),
        fileGet: f('wantu_json wantu_file_get(wantu_client *client, const char *ns, const char *dir, const char *name)'),
        fileDelete: f('wantu_json wantu_file_delete(wantu_client *client, const char *ns, const char *dir, const char *name)'),
        fileList: f(
            'wantu_json wantu_file_list(wantu_client *client, const char *ns, const char *dir, int64_t page, int64_t page_size)'
        ),
        dirCreate: f('wantu_json wantu_dir_create(wantu_client *client, const char *ns, const char *dir)'),
        dirExists: f('wantu_json wantu_dir_exists(wantu_client *client, const char *ns, const char *dir)'),
        dirDelete: f('wantu_json wantu_dir_delete(wantu_client *client, const char *ns, const char *dir)'),
        dirList: f(
            'wantu_json wantu_dir_list(wantu_client *client, const char *ns, const char *dir, int64_t page, int64_t page_size)'
        ),
        ptsAdd: f(
            'wantu_json wantu_pts_add(wantu_client *client, const char *ns, const char *dir, const char *name, ' +
                'const char *fops, const char *notify_url, int32_t force)'
        ),
        ptsGet: f('wantu_json wantu_pts_get(wantu_client *client, const char *persistent_id)'),
        transferFile: f(
            'wantu_json wantu_transfer_file(wantu_client *client, const char *policy_json, const char *dir, ' +
                'const char *name, const char *file_path, const char *meta_json, const char *var_json, ' +
                'const char *options_json, wantu_progress_fn *progress, void *user_data, wantu_cancel *cancel)'
        ),
        uploadDir: f(
            'wantu_json wantu_upload_dir(wantu_client *client, const char *policy_json, const char *local_dir, ' +
                'const char *remote_dir, const char *options_json, wantu_progress_fn *progress, void *user_data, ' +
                'wantu_cancel *cancel)'
        ),
        transferBatch: f(
            'wantu_json wantu_transfer_batch(wantu_client *client, const char *policy_json, const char *jobs_json, ' +
                'const char *options_json, wantu_progress_fn *progress, void *user_data, wantu_cancel *cancel)'
        ),
        downloadFile: f(
            'wantu_json wantu_download_file(wantu_client *client, const char *ns, const char *dir, const char *name, ' +
                'const char *local_path, const char *options_json, wantu_progress_fn *progress, void *user_data, ' +
                'wantu_cancel *cancel)'
        ),
        downloadDir: f(
            'wantu_json wantu_download_dir(wantu_client *client, const char *ns, const char *remote_dir, ' +
                'const char *local_dir, const char *options_json, wantu_progress_fn *progress, void *user_data, ' +
                'wantu_cancel *cancel)'
        ),
        downloadMemory: f(
            'wantu_json wantu_download_memory(wantu_client *client, const char *ns, const char *dir, const char *name, ' +
                'uint64_t offset, uint64_t length, const char *options_json, wantu_progress_fn *progress, ' +
                'void *user_data, wantu_cancel *cancel, _Out_ void **out_data, _Out_ size_t *out_len)'
        ),
        bytesFree: f('void wantu_bytes_free(void *data)'),
        view: koffi.view,
        cancelNew: f('wantu_cancel *wantu_cancel_new()'),
        cancelTrigger: f('void wantu_cancel_trigger(wantu_cancel *cancel)'),
        cancelFree: f('void wantu_cancel_free(wantu_cancel *cancel)'),
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

'use strict';
// WANTU: the official Node SDK's constructor and methods (npm `wantu`) on
// libwantu. Same names, argument orders and callbacks `(err, res)` with
// `res.statusCode` and `res.data` (the JSON text, with the wire's camelCase
// names); a promise of `res` when no callback is given. Every library call
// is libwantu's non-blocking form: it starts at once and its answer comes
// back through one completion queue watched by the event loop
// (lib/completions.js), so none blocks the loop or holds a thread.
//
// Errors: wrong argument *types* throw TypeError at once (programming
// errors); wrong *values* (a missing file, a page of 0, a NUL in a name, a
// refused connection, a server refusal) answer a `res` whose statusCode is
// not 200 and whose data is the error JSON (`code` 0 plus an `error` name
// for client-side errors, as libwantu answers everywhere). `err` is set only
// when something outside that contract failed (an exception thrown by your
// own progress callback, for instance).

const fs = require('fs');
const path = require('path');
const { native } = require('./lib/native');
const { completions } = require('./lib/completions');

const DEFAULT_CHUNK = 4 * 1024 * 1024; // the official multiUpload's default
const MAX_PART_SIZE = 64 * 1024 * 1024; // libwantu refuses larger parts

// ---------------------------------------------------------------- results

function camel(key) {
    return key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

// libwantu answers snake_case names (e_tag, upload_id, total_count); the
// service, and so the official SDK's res.data, uses camelCase (eTag,
// uploadId, totalCount). User meta and magic variables keep their keys.
function toWire(value, key) {
    if (Array.isArray(value)) return value.map((v) => toWire(v));
    if (value === null || typeof value !== 'object' || key === 'meta' || key === 'var') return value;
    const out = {};
    for (const [k, v] of Object.entries(value)) out[camel(k)] = toWire(v, k);
    return out;
}

function response(json) {
    let result;
    try {
        result = JSON.parse(json);
    } catch (e) {
        result = { code: 0, error: 'Internal', message: `libwantu answered no JSON: ${json}`, request_id: '' };
    }
    return { statusCode: result.code, headers: {}, data: JSON.stringify(toWire(result)) };
}

function localError(message, error = 'InvalidArgument') {
    return response(JSON.stringify({ code: 0, error, message, request_id: '' }));
}

/** A value C cannot carry, answered as an error res rather than thrown. */
class BadValue extends Error {}

// ---------------------------------------------------------------- arguments

function text(value, arg, optional = false) {
    if (value === undefined || value === null) {
        if (optional) return null;
        throw new TypeError(`\`${arg}\` must be a string, not ${value}`);
    }
    if (typeof value !== 'string') throw new TypeError(`\`${arg}\` must be a string, not ${typeof value}`);
    if (value.includes('\0')) throw new BadValue(`\`${arg}\` contains a NUL character, which C strings cannot carry`);
    return value;
}

// The upload policy: an object (as the official SDK takes it) or JSON text.
function policy(value) {
    if (typeof value === 'string') return text(value, 'uploadPolicy');
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new TypeError(`\`uploadPolicy\` must be an object or JSON text, not ${value === null ? 'null' : typeof value}`);
    }
    return text(JSON.stringify(value), 'uploadPolicy');
}

// meta and _var: the official SDK's "" (none), an object, or JSON text.
function jsonObject(value, arg) {
    if (value === undefined || value === null || value === '') return null;
    if (typeof value === 'string') return text(value, arg);
    if (typeof value === 'object' && !Array.isArray(value)) {
        return Object.keys(value).length ? text(JSON.stringify(value), arg) : null;
    }
    throw new TypeError(`\`${arg}\` must be an object, JSON text or "", not ${typeof value}`);
}

function integer(value, arg, lo, hi) {
    if (typeof value !== 'number') throw new TypeError(`\`${arg}\` must be a number, not ${typeof value}`);
    if (!Number.isInteger(value) || value < lo || value > hi) {
        throw new BadValue(`\`${arg}\` must be a whole number from ${lo} to ${hi}, not ${value}`);
    }
    return value;
}

// Pages are checked by libwantu (1 or more, page sizes up to 100); here only
// that they fit its int64.
function page(value, arg) {
    return integer(value, arg, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

function callbackArg(callback) {
    if (callback !== undefined && typeof callback !== 'function') {
        throw new TypeError(`\`callback\` must be a function, not ${typeof callback}`);
    }
    return callback;
}

// A promise of res, or the same handed to a Node-style callback (called
// outside the promise chain, so that an exception it throws is not lost).
function settle(promise, callback) {
    if (callback === undefined) return promise;
    promise.then(
        (res) => process.nextTick(callback, null, res),
        (err) => process.nextTick(callback, err)
    );
    return undefined;
}

// Reads `length` bytes of a file from `start` (fewer at its end), off the
// event loop; a file that cannot be read answers an IoError res.
async function readChunk(filePath, start, length) {
    const handle = await fs.promises.open(filePath, 'r');
    try {
        const buffer = Buffer.alloc(length);
        let filled = 0;
        while (filled < length) {
            const { bytesRead } = await handle.read(buffer, filled, length - filled, start + filled);
            if (bytesRead === 0) break;
            filled += bytesRead;
        }
        return buffer.subarray(0, filled);
    } finally {
        await handle.close();
    }
}

// An options object as libwantu's options JSON: camelCase names become
// snake_case (partSize -> part_size, dryRun -> dry_run), undefined values
// are left out, and unknown names pass through so that libwantu refuses
// them by name. `skip` lists the keys that are not library options.
function transferOptions(options, skip) {
    const out = {};
    for (const [k, v] of Object.entries(options)) {
        if (skip.includes(k) || v === undefined) continue;
        out[k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())] = v;
    }
    return Object.keys(out).length ? text(JSON.stringify(out), 'options') : null;
}

// The trailing (options, callback) of the calls beyond the official SDK:
// options may be left out, with or without a callback.
function optionsAndCallback(options, callback) {
    if (typeof options === 'function' && callback === undefined) return [{}, options];
    return [options === undefined ? {} : options, callback];
}

// batch()'s jobs as libwantu's jobs JSON: { path } or { content } (a Buffer
// or Uint8Array, sent as content_base64), each with optional dir, name,
// meta and var.
function batchJobs(jobs) {
    if (!Array.isArray(jobs)) throw new TypeError(`\`jobs\` must be an array, not ${typeof jobs}`);
    const out = jobs.map((job, i) => {
        const arg = `jobs[${i}]`;
        if (job === null || typeof job !== 'object' || Array.isArray(job)) {
            throw new TypeError(`\`${arg}\` must be an object, not ${job === null ? 'null' : typeof job}`);
        }
        if (job.path === undefined && job.content === undefined && job.content_base64 === undefined) {
            throw new BadValue(`\`${arg}\` needs \`path\` (a local file) or \`content\` (the bytes)`);
        }
        const one = {};
        for (const [k, v] of Object.entries(job)) {
            if (v === undefined) continue;
            if (k === 'content') {
                if (!(v instanceof Uint8Array)) throw new TypeError(`\`${arg}.content\` must be a Buffer or Uint8Array`);
                one.content_base64 = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
            } else if (k === 'path' || k === 'dir' || k === 'name') {
                one[k] = text(v, `${arg}.${k}`);
            } else if (k === 'meta' || k === 'var') {
                const json = jsonObject(v, `${arg}.${k}`);
                if (json === null) continue;
                try {
                    one[k] = JSON.parse(json);
                } catch (e) {
                    throw new BadValue(`\`${arg}.${k}\` is not JSON: ${e.message}`);
                }
            } else {
                one[k] = v; // libwantu names an unknown key
            }
        }
        return one;
    });
    return text(JSON.stringify(out), 'jobs');
}

// ---------------------------------------------------------------- WANTU

const finalizer = new FinalizationRegistry((handle) => native().clientFree(handle));

/**
 * new WANTU(AK, SK, TYPE, uploadEndpoint, manageEndpoint, options)
 *
 * TYPE is "TOP" (the default) or "CLOUD"; the endpoints are base URLs
 * (default: the service's); options are libwantu's client options
 * (connect_timeout_ms, request_timeout_ms, read_timeout_ms, ca_file, proxy,
 * user_agent). Unusable keys, type or endpoints throw a WantuError.
 */
class WANTU {
    constructor(AK, SK, TYPE, uploadEndpoint, manageEndpoint, options) {
        const lib = native();
        let args;
        try {
            args = [
                text(AK, 'AK'),
                text(SK, 'SK'),
                text(TYPE, 'TYPE', true),
                text(uploadEndpoint, 'uploadEndpoint', true),
                text(manageEndpoint, 'manageEndpoint', true),
                options === undefined || options === null ? null : jsonObject(options, 'options'),
            ];
        } catch (e) {
            if (e instanceof BadValue) throw new WantuError({ code: 0, error: 'InvalidArgument', message: e.message });
            throw e;
        }
        const handle = lib.clientNew(...args);
        if (!handle) {
            const why = lib.lastError();
            throw new WantuError(why ? JSON.parse(why) : { code: 0, error: 'Internal', message: 'unknown failure' });
        }
        this.AK = AK;
        this.type = TYPE || 'TOP';
        this._lib = lib;
        this._handle = handle;
        this._pending = 0;
        this._closing = false;
        finalizer.register(this, handle, this);
    }

    /** Releases the client once the calls still running have ended; later calls answer an error. */
    close() {
        if (this._closing) return;
        this._closing = true;
        finalizer.unregister(this);
        if (this._pending === 0) this._free();
    }

    _free() {
        const handle = this._handle;
        this._handle = null;
        if (handle) this._lib.clientFree(handle);
    }

    // Starts a library call; `build` turns the caller's arguments into C
    // arguments (TypeError thrown, BadValue answered) and may be async
    // (reading a chunk of a file first).
    _run(fn, callback, build) {
        callbackArg(callback);
        let args;
        try {
            args = build();
        } catch (e) {
            if (e instanceof BadValue) return settle(Promise.resolve(localError(e.message)), callback);
            throw e;
        }
        return settle(this._call(fn, args), callback);
    }

    // `watch`, for the calls with progress and cancel: { onProgress, started
    // (handed the call's cancel function) }.
    async _call(fn, args, watch = {}) {
        // Checked and counted before the first await, so that a close()
        // right after this call waits for it.
        if (this._closing) return localError('this WANTU client is closed; create a new one');
        this._pending++;
        try {
            let cArgs;
            try {
                cArgs = await args;
            } catch (e) {
                if (e instanceof BadValue) return localError(e.message);
                if (e && e.code && e.syscall) return localError(e.message, 'IoError');
                throw e;
            }
            const begin = (how) => this._lib[fn](this._handle, ...cArgs, how);
            const { cancel, result } = completions(this._lib).start(begin, watch.onProgress);
            if (watch.started) watch.started(cancel);
            return response(await result);
        } finally {
            this._pending--;
            if (this._closing && this._pending === 0) this._free();
        }
    }

    // -- management (the official SDK's Manage) ----------------------------

    delFile(namespace, dir, file, callback) {
        return this._run('fileDelete', callback, () => [text(namespace, 'namespace'), text(dir, 'dir'), text(file, 'file')]);
    }

    existFile(namespace, dir, file, callback) {
        return this._run('fileExists', callback, () => [text(namespace, 'namespace'), text(dir, 'dir'), text(file, 'file')]);
    }

    getFile(namespace, dir, file, callback) {
        return this._run('fileGet', callback, () => [text(namespace, 'namespace'), text(dir, 'dir'), text(file, 'file')]);
    }

    listFiles(namespace, dir, currentPage, pageSize, callback) {
        return this._run('fileList', callback, () => [
            text(namespace, 'namespace'),
            text(dir, 'dir'),
            page(currentPage, 'currentPage'),
            page(pageSize, 'pageSize'),
        ]);
    }

    createDir(namespace, dir, callback) {
        return this._run('dirCreate', callback, () => [text(namespace, 'namespace'), text(dir, 'dir')]);
    }

    delDir(namespace, dir, callback) {
        return this._run('dirDelete', callback, () => [text(namespace, 'namespace'), text(dir, 'dir')]);
    }

    existDir(namespace, dir, callback) {
        return this._run('dirExists', callback, () => [text(namespace, 'namespace'), text(dir, 'dir')]);
    }

    listDirs(namespace, dir, currentPage, pageSize, callback) {
        return this._run('dirList', callback, () => [
            text(namespace, 'namespace'),
            text(dir, 'dir'),
            page(currentPage, 'currentPage'),
            page(pageSize, 'pageSize'),
        ]);
    }

    addPts(namespace, dir, file, fops, notifyURL, force, callback) {
        return this._run('ptsAdd', callback, () => {
            if (typeof force !== 'number' && typeof force !== 'boolean') {
                throw new TypeError(`\`force\` must be 0, 1 or a boolean, not ${typeof force}`);
            }
            return [
                text(namespace, 'namespace'),
                text(dir, 'dir'),
                text(file, 'file'),
                text(fops, 'fops'),
                notifyURL === '' ? null : text(notifyURL, 'notifyURL', true),
                force ? 1 : 0,
            ];
        });
    }

    getPts(persistentId, callback) {
        return this._run('ptsGet', callback, () => [text(persistentId, 'persistentId')]);
    }

    // -- uploads (the official SDK's Upload) -------------------------------

    singleUpload(uploadPolicy, filePath, dir, meta, _var, callback) {
        return this._run('uploadFile', callback, () => {
            const file = text(filePath, 'filePath');
            return [
                policy(uploadPolicy),
                text(dir, 'dir', true),
                path.basename(file),
                file,
                null,
                jsonObject(meta, 'meta'),
                jsonObject(_var, '_var'),
            ];
        });
    }

    /**
     * The whole multipart upload in one call, as the official SDK's
     * multiUpload, but with libwantu's engine: parts of `chunkSize` bytes
     * (default 4 MiB) read from disk as they are sent, in parallel, each
     * retried. The callback is called once, with the final result.
     */
    multiUpload(uploadPolicy, filePath, dir, meta, _var, chunkSize, callback) {
        // The official SDK took any falsy chunkSize ("" in its README) as 4 MiB.
        const none = chunkSize === undefined || chunkSize === null || chunkSize === '' || chunkSize === 0;
        if (!none && typeof chunkSize !== 'number') throw new TypeError(`\`chunkSize\` must be a number, not ${typeof chunkSize}`);
        return this._transfer(callback, uploadPolicy, filePath, dir, { meta, var: _var, partSize: none ? DEFAULT_CHUNK : chunkSize });
    }

    multiUploadInit(uploadPolicy, filePath, dir, meta, _var, curChunkSize, callback) {
        return this._run('multipartInit', callback, () => {
            const p = policy(uploadPolicy);
            const file = text(filePath, 'filePath');
            const d = text(dir, 'dir', true);
            const m = jsonObject(meta, 'meta');
            const v = jsonObject(_var, '_var');
            const size = integer(curChunkSize, 'curChunkSize', 0, MAX_PART_SIZE);
            return readChunk(file, 0, size).then((chunk) => [p, d, path.basename(file), chunk, chunk.length, null, m, v]);
        });
    }

    multiUploadBlock(uploadPolicy, filePath, id, uploadId, partNumber, chunkStart, curChunkSize, callback) {
        return this._run('multipartUpload', callback, () => {
            const p = policy(uploadPolicy);
            const file = text(filePath, 'filePath');
            const args = [text(id, 'id'), text(uploadId, 'uploadId'), integer(partNumber, 'partNumber', 0, 0xffffffff)];
            const start = integer(chunkStart, 'chunkStart', 0, Number.MAX_SAFE_INTEGER);
            const size = integer(curChunkSize, 'curChunkSize', 0, MAX_PART_SIZE);
            return readChunk(file, start, size).then((chunk) => [p, ...args, chunk, chunk.length, null]);
        });
    }

    /** `eTags`: each part's eTag in part order (part 1 first), as the official SDK takes them. */
    multiUploadComplete(uploadPolicy, filePath, id, uploadId, eTags, callback) {
        return this._run('multipartComplete', callback, () => {
            const p = policy(uploadPolicy);
            text(filePath, 'filePath', true); // unused, as in the official SDK
            if (!Array.isArray(eTags)) throw new TypeError(`\`eTags\` must be an array of strings, not ${typeof eTags}`);
            const parts = eTags.map((eTag, i) => ({ partNumber: i + 1, eTag: text(eTag, `eTags[${i}]`) }));
            return [p, text(id, 'id'), text(uploadId, 'uploadId'), JSON.stringify(parts), null];
        });
    }

    /**
     * cancelMultiUpload(uploadPolicy, id, uploadId, callback) as the
     * official SDK's code takes it, or (uploadPolicy, filePath, id,
     * uploadId, callback) as its README shows it.
     */
    cancelMultiUpload(uploadPolicy, ...rest) {
        const callback = typeof rest[rest.length - 1] === 'function' ? rest.pop() : undefined;
        const withPath = rest.length === 3;
        const [id, uploadId] = withPath ? rest.slice(1) : rest;
        return this._run('multipartCancel', callback, () => {
            if (withPath) text(rest[0], 'filePath', true);
            return [policy(uploadPolicy), text(id, 'id'), text(uploadId, 'uploadId')];
        });
    }

    // -- beyond the official SDK -------------------------------------------

    /**
     * upload(uploadPolicy, filePath, dir, options, callback): a file of any
     * size in one call, simple or multipart with parallel parts, retried;
     * see index.d.ts (UploadOptions) for the options, `onProgress(sent,
     * total)` and `signal` (an AbortSignal that cancels the upload).
     */
    upload(uploadPolicy, filePath, dir, options, callback) {
        [options, callback] = optionsAndCallback(options, callback);
        return this._transfer(callback, uploadPolicy, filePath, dir, options);
    }

    _transfer(callback, uploadPolicy, filePath, dir, options) {
        return this._progressRun('transferFile', callback, options, () => {
            const file = text(filePath, 'filePath');
            return [
                policy(uploadPolicy),
                text(dir, 'dir', true),
                options.name === undefined ? path.basename(file) : text(options.name, 'name'),
                file,
                jsonObject(options.meta, 'meta'),
                jsonObject(options.var, 'var'),
            ];
        }, ['name', 'meta', 'var']);
    }

    /**
     * uploadDir(uploadPolicy, localDir, remoteDir, options, callback): every
     * file under localDir, to remoteDir + its relative path, under one
     * scheduler; see index.d.ts (ManyOptions) for options, onProgress and
     * signal. res.data holds the counts and one result per file.
     */
    uploadDir(uploadPolicy, localDir, remoteDir, options, callback) {
        [options, callback] = optionsAndCallback(options, callback);
        return this._progressRun('uploadDir', callback, options, () => [
            policy(uploadPolicy),
            text(localDir, 'localDir'),
            text(remoteDir, 'remoteDir', true),
        ]);
    }

    /**
     * batch(uploadPolicy, jobs, options, callback): a list of files
     * ({ path }) and buffers ({ content, name }), each with optional dir,
     * name, meta and var, in one call under one scheduler.
     */
    batch(uploadPolicy, jobs, options, callback) {
        [options, callback] = optionsAndCallback(options, callback);
        return this._progressRun('transferBatch', callback, options, () => [policy(uploadPolicy), batchJobs(jobs)]);
    }

    /**
     * download(namespace, dir, name, localPath, options, callback): a stored
     * file to localPath, in parallel ranges when large, MD5 checked, renamed
     * into place only when complete.
     */
    download(namespace, dir, name, localPath, options, callback) {
        [options, callback] = optionsAndCallback(options, callback);
        return this._progressRun('downloadFile', callback, options, () => [
            text(namespace, 'namespace'),
            text(dir, 'dir', true),
            text(name, 'name'),
            text(localPath, 'localPath'),
        ]);
    }

    /** downloadDir(namespace, remoteDir, localDir, options, callback): the inverse of uploadDir. */
    downloadDir(namespace, remoteDir, localDir, options, callback) {
        [options, callback] = optionsAndCallback(options, callback);
        return this._progressRun('downloadDir', callback, options, () => [
            text(namespace, 'namespace'),
            text(remoteDir, 'remoteDir'),
            text(localDir, 'localDir'),
        ]);
    }

    // The calls with options, progress and cancel: `build` gives the C
    // arguments before options_json; `options` minus onProgress, signal and
    // `own` (keys `build` used) become options_json.
    _progressRun(fn, callback, options, build, own = []) {
        callbackArg(callback);
        if (options === null || typeof options !== 'object') throw new TypeError(`\`options\` must be an object, not ${typeof options}`);
        const { onProgress, signal } = options;
        if (onProgress !== undefined && typeof onProgress !== 'function') throw new TypeError('`onProgress` must be a function');
        if (signal !== undefined && (signal === null || typeof signal.addEventListener !== 'function')) {
            throw new TypeError('`signal` must be an AbortSignal');
        }
        let args;
        try {
            args = [...build(), transferOptions(options, ['onProgress', 'signal', ...own])];
        } catch (e) {
            if (e instanceof BadValue) return settle(Promise.resolve(localError(e.message)), callback);
            throw e;
        }
        return settle(this._progressCall(fn, args, onProgress, signal), callback);
    }

    async _progressCall(fn, args, onProgress, signal) {
        // Progress comes as queue events, on the loop; an onProgress that
        // throws cancels the call, whose promise then rejects with it.
        // WANTU_SIZE_UNKNOWN (2^64 - 1) stands for a length not known yet.
        const progress =
            onProgress === undefined
                ? undefined
                : (sent, total) => onProgress(Number(sent), Number(total) >= 2 ** 64 - 1 ? null : Number(total));
        let cancel = null;
        const abort = () => cancel && cancel();
        const started = (c) => {
            cancel = c;
            if (signal !== undefined && signal.aborted) c();
        };
        if (signal !== undefined) signal.addEventListener('abort', abort, { once: true });
        try {
            return await this._call(fn, [...args, null, null, null], { onProgress: progress, started });
        } finally {
            if (signal !== undefined) signal.removeEventListener('abort', abort);
        }
    }
}

/** Thrown by the constructor when libwantu refuses its arguments; `result` is the error JSON. */
class WantuError extends Error {
    constructor(result) {
        super(`${result.error || 'Error'}: ${result.message || ''}`);
        this.name = 'WantuError';
        this.result = result;
    }
}

/** The loaded libwantu's version, e.g. "0.1.0". */
function version() {
    return native().version();
}

/** The path of the libwantu this package loaded. */
function libraryPath() {
    return native().file;
}

module.exports = WANTU;
module.exports.WANTU = WANTU;
module.exports.WantuError = WantuError;
module.exports.version = version;
module.exports.libraryPath = libraryPath;

'use strict';
// libwantu's non-blocking calls, delivered to the event loop without a
// thread per call. One completion queue serves the whole process: every
// call starts with `how.queue` set to it and `how.user_data` set to a small
// integer naming its pending entry; the queue's descriptor (a pipe readable
// while events wait) is watched by libuv as a net.Socket, and each time it
// is readable the events are taken, without blocking, until none is left.
//
// The socket reads the pipe's bytes, which the library asks its users not
// to do: a reader that drained the byte and then did not take the events
// would lose the wake-up. Here every read is followed by taking events
// until the queue answers none, and the queue writes a byte again whenever
// it goes from empty to not empty, so no event waits unseen.
//
// The socket keeps the process alive only while calls are pending, so a
// program exits as soon as its last call has answered.
//
// Where the queue has no descriptor (Windows), or WANTU_NODE_QUEUE_WAIT=1
// asks for it, one koffi `.async` call of wantu_queue_wait (a timeout of
// WAIT_MS) stands in, re-armed while calls are pending: one libuv pool
// thread for all of them, never one per call.

const net = require('net');
const koffi = require('koffi');

const EVENT_DONE = 1;
const EVENT_PROGRESS = 2;
const WAIT_MS = 200;

// What libc's dup is called in, to give libuv a descriptor of its own
// (closing it never closes the queue's).
function libcName() {
    if (process.platform === 'darwin') return 'libSystem.B.dylib';
    if (process.platform === 'linux') return 'libc.so.6';
    return null;
}

class Completions {
    constructor(lib) {
        this._lib = lib;
        this._queue = lib.queueNew();
        if (!this._queue) {
            const why = lib.lastError();
            throw new Error(`libwantu could not create its completion queue: ${why || 'unknown failure'}`);
        }
        this._pending = new Map(); // user_data -> { resolve, reject, onProgress, op, error }
        this._nextId = 1;
        this._socket = null;
        this._waiting = false; // the wait fallback has a call out
        this._useWait = process.env.WANTU_NODE_QUEUE_WAIT === '1' || !this._watch();
    }

    /** How events reach the loop: "descriptor" or "wait". */
    get mode() {
        return this._useWait ? 'wait' : 'descriptor';
    }

    /** Calls started and not yet answered. */
    get pending() {
        return this._pending.size;
    }

    // Watches a duplicate of the queue's descriptor; false when there is
    // none to watch.
    _watch() {
        const fd = this._lib.queueFd(this._queue);
        const name = libcName();
        if (fd < 0 || name === null) return false;
        let copy;
        try {
            copy = koffi.load(name).func('int dup(int fd)')(fd);
        } catch (e) {
            return false;
        }
        if (copy < 0) return false;
        const socket = new net.Socket({ fd: copy, readable: true, writable: false });
        socket.on('data', () => this._drain());
        socket.on('error', () => {
            // Not seen in practice; the wait fallback still delivers.
            this._socket = null;
            this._useWait = true;
            this._arm();
        });
        socket.unref();
        this._socket = socket;
        return true;
    }

    /**
     * Starts a call: `begin(how)` calls a `wantu_…_async` function with
     * `how` and answers its operation handle. Answers { cancel, result }:
     * `result` is a promise of the answer's JSON text (a refusal to start
     * included); `cancel()` cancels the call until it answered, and does
     * nothing after (the handle is freed by then). `onProgress
     * (sent, total)` is called on the loop for each progress event; if it
     * throws, the call is cancelled and `result` rejects with the error.
     */
    start(begin, onProgress) {
        const id = this._nextId;
        this._nextId = id >= Number.MAX_SAFE_INTEGER ? 1 : id + 1;
        const entry = { resolve: null, reject: null, onProgress, op: null, error: null };
        const result = new Promise((resolve, reject) => {
            entry.resolve = resolve;
            entry.reject = reject;
        });
        // Registered first: the answer may be queued before begin returns.
        this._pending.set(id, entry);
        const op = begin({ queue: this._queue, on_done: null, user_data: id, progress: onProgress ? 1 : 0 });
        if (!op) {
            this._pending.delete(id);
            const why = this._lib.lastError();
            entry.resolve(why || '{"code":0,"error":"Internal","message":"libwantu refused to start the call","request_id":""}');
            return { cancel: () => {}, result };
        }
        entry.op = op;
        if (this._pending.size === 1) this._keepAlive();
        const cancel = () => {
            if (this._pending.get(id) === entry) this._lib.opCancel(op);
        };
        return { cancel, result };
    }

    _keepAlive() {
        if (this._useWait) this._arm();
        else this._socket.ref();
    }

    // Takes every waiting event and hands each to its call.
    _drain() {
        for (;;) {
            const event = {};
            if (this._lib.queueTake(this._queue, event) !== 1) break;
            this._handle(event);
        }
        if (this._pending.size === 0 && this._socket !== null) this._socket.unref();
    }

    _handle(event) {
        const id = Number(event.user_data);
        const entry = this._pending.get(id);
        if (event.kind === EVENT_DONE) {
            const json = koffi.decode(event.result, 'char', -1);
            this._lib.stringFree(event.result);
            this._lib.opFree(event.op);
            if (entry === undefined) return;
            this._pending.delete(id);
            if (entry.error !== null) entry.reject(entry.error);
            else entry.resolve(json);
        } else if (event.kind === EVENT_PROGRESS && entry !== undefined && entry.onProgress && entry.error === null) {
            try {
                entry.onProgress(event.sent, event.total);
            } catch (e) {
                entry.error = e;
                this._lib.opCancel(entry.op);
            }
        }
    }

    // The wait fallback: one wantu_queue_wait at a time on a pool thread,
    // re-armed while calls are pending.
    _arm() {
        if (this._waiting || this._pending.size === 0) return;
        this._waiting = true;
        const event = {};
        this._lib.queueWait.async(this._queue, WAIT_MS, event, (err, got) => {
            this._waiting = false;
            if (!err && got === 1) this._handle(event);
            this._drain();
            this._arm();
        });
    }
}

let shared = null;

/** The process's completion queue (created on first use). */
function completions(lib) {
    if (shared === null) shared = new Completions(lib);
    return shared;
}

module.exports = { completions };

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
// Calls started, and events taken, in one turn of the event loop at most.
const PER_TURN = 128;

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
        this._pending = new Map(); // user_data -> { begin, resolve, reject, onProgress, op, error, cancelled }
        this._nextId = 1;
        this._socket = null;
        this._waiting = false; // the wait fallback has a call out
        this._startedThisTurn = 0;
        this._later = []; // [id, entry] of calls to start in a later turn
        this._laterHead = 0;
        this._drainLater = false;
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
        const entry = { begin, resolve: null, reject: null, onProgress, op: null, error: null, cancelled: false };
        const result = new Promise((resolve, reject) => {
            entry.resolve = resolve;
            entry.reject = reject;
        });
        // Registered first: the answer may be queued before begin returns.
        this._pending.set(id, entry);
        if (this._pending.size === 1) this._keepAlive();
        if (this._startedThisTurn < PER_TURN && this._later.length === 0) this._begin(id, entry);
        else this._later.push([id, entry]);
        const cancel = () => {
            if (this._pending.get(id) !== entry) return;
            if (entry.op !== null) this._lib.opCancel(entry.op);
            else entry.cancelled = true;
        };
        return { cancel, result };
    }

    // Starts one call. At most PER_TURN start in one turn of the loop; the
    // others start in the next turns, so that a burst of thousands of
    // calls never holds the loop for long.
    _begin(id, entry) {
        if (this._startedThisTurn++ === 0) {
            setImmediate(() => {
                this._startedThisTurn = 0;
                while (this._laterHead < this._later.length && this._startedThisTurn < PER_TURN) {
                    const [laterId, later] = this._later[this._laterHead];
                    this._later[this._laterHead++] = undefined;
                    this._begin(laterId, later);
                }
                if (this._laterHead === this._later.length) {
                    this._later = [];
                    this._laterHead = 0;
                }
            });
        }
        const begin = entry.begin;
        entry.begin = null;
        const op = begin({ queue: this._queue, on_done: null, user_data: id, progress: entry.onProgress ? 1 : 0 });
        if (!op) {
            this._pending.delete(id);
            const why = this._lib.lastError();
            entry.resolve(why || '{"code":0,"error":"Internal","message":"libwantu refused to start the call","request_id":""}');
            this._idle();
            return;
        }
        entry.op = op;
        if (entry.cancelled) this._lib.opCancel(op);
    }

    _keepAlive() {
        if (this._useWait) this._arm();
        else this._socket.ref();
    }

    // With no call pending, the socket no longer keeps the process alive.
    _idle() {
        if (this._pending.size === 0 && this._socket !== null) this._socket.unref();
    }

    // Takes the waiting events and hands each to its call: PER_TURN at
    // most, then the rest in the next turn of the loop (the descriptor may
    // not wake us again for them: its byte may be read already).
    _drain() {
        for (let n = 0; n < PER_TURN; n++) {
            const event = {};
            if (this._lib.queueTake(this._queue, event) !== 1) {
                this._idle();
                return;
            }
            this._handle(event);
        }
        if (!this._drainLater) {
            this._drainLater = true;
            setImmediate(() => {
                this._drainLater = false;
                this._drain();
            });
        }
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

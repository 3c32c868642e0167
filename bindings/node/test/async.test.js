'use strict';
// Many calls at once through the completion queue, against a real
// wantu-server (scripts/server.sh exports WANTU_TEST_ENDPOINT, _AK, _SK,
// _NAMESPACE): every call answers, the process's threads stay within the
// library's own bounds however many calls are pending, an AbortSignal
// cancels one call among many, close() waits for pending calls, and a
// program exits by itself once its calls have answered.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { after, before, describe, test } = require('node:test');

const WANTU = require('libwantu');

const ENDPOINT = process.env.WANTU_TEST_ENDPOINT;
const NS = process.env.WANTU_TEST_NAMESPACE;
const AK = process.env.WANTU_TEST_AK;
const SK = process.env.WANTU_TEST_SK;
const POLICY = { namespace: NS, expiration: -1 };
const MiB = 1024 * 1024;

// libwantu's threads at most, whatever the number of calls: its I/O
// runtime's 2 workers, 16 threads for blocking file work, 4 call threads
// (docs/async.md). The package adds none, except where answers are taken
// by wantu_queue_wait (WANTU_NODE_QUEUE_WAIT=1, as on Windows): that runs
// on libuv's pool, whose 4 threads start with it.
const LIBRARY_THREADS = 2 + 16 + 4 + (process.env.WANTU_NODE_QUEUE_WAIT === '1' ? 4 : 0);

const threads = () => fs.readdirSync('/proc/self/task').length;
const bare = threads(); // before any client exists in this process

let tmp;

before(() => {
    assert.ok(ENDPOINT && NS, 'run under scripts/server.sh');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wantu-node-async-'));
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('calls through the completion queue', () => {
    test('2,000 uploads at once all succeed, and the threads stay bounded', async () => {
        const wantu = new WANTU(AK, SK, null, ENDPOINT, ENDPOINT);
        const file = path.join(tmp, 'small.bin');
        fs.writeFileSync(file, Buffer.alloc(16 * 1024, 7));
        let most = threads();
        const sampler = setInterval(() => (most = Math.max(most, threads())), 10);
        try {
            const results = await Promise.all(
                Array.from({ length: 2000 }, (_, i) => wantu.singleUpload(POLICY, file, `/async-many/${i}`, '', ''))
            );
            const failed = results.filter((r) => r.statusCode !== 200);
            assert.equal(failed.length, 0, failed.length ? failed[0].data : '');
            assert.equal(JSON.parse((await wantu.getFile(NS, '/async-many/1999', 'small.bin')).data).size, 16 * 1024);
        } finally {
            clearInterval(sampler);
            wantu.close();
        }
        assert.ok(most - bare <= LIBRARY_THREADS, `${most - bare} threads above the process's ${bare} (at most ${LIBRARY_THREADS})`);
    });

    test('an AbortSignal cancels one call among many; the others succeed', async () => {
        const wantu = new WANTU(AK, SK, null, ENDPOINT, ENDPOINT);
        const file = path.join(tmp, 'parts.bin');
        fs.writeFileSync(file, Buffer.alloc(3 * MiB, 5));
        const controller = new AbortController();
        let seen = 0;
        const calls = Array.from({ length: 10 }, (_, i) =>
            wantu.upload(POLICY, file, `/async-cancel-one/${i}`, {
                partSize: 102400,
                concurrency: 1,
                ...(i === 3 ? { signal: controller.signal, onProgress: () => ++seen === 2 && controller.abort() } : {}),
            })
        );
        const results = await Promise.all(calls);
        wantu.close();
        const cancelled = JSON.parse(results[3].data);
        assert.equal(results[3].statusCode, 0, results[3].data);
        assert.equal(cancelled.error, 'Cancelled');
        results.forEach((r, i) => i === 3 || assert.equal(r.statusCode, 200, r.data));
        const check = new WANTU(AK, SK, null, ENDPOINT, ENDPOINT);
        assert.equal(JSON.parse((await check.existFile(NS, '/async-cancel-one/3', 'parts.bin')).data).exist, false);
        assert.equal(JSON.parse((await check.existFile(NS, '/async-cancel-one/4', 'parts.bin')).data).exist, true);
        check.close();
    });

    // The calls with progress and cancel run on libwantu's 4 call threads,
    // the rest waiting in line; a call cancelled while it waits answers at
    // once, not when a thread takes it after the calls ahead of it.
    test('a call cancelled while it waits for a call thread answers before the calls ahead of it', async () => {
        const wantu = new WANTU(AK, SK, null, ENDPOINT, ENDPOINT);
        const file = path.join(tmp, 'line.bin');
        fs.writeFileSync(file, Buffer.alloc(3 * MiB, 6));
        const started = Date.now();
        const ahead = Array.from({ length: 8 }, (_, i) =>
            wantu.upload(POLICY, file, `/async-line/${i}`, { partSize: 102400, concurrency: 1 }).then(() => Date.now() - started)
        );
        const controller = new AbortController();
        const last = wantu.upload(POLICY, file, '/async-line/last', { signal: controller.signal }).then((res) => ({ res, at: Date.now() - started }));
        setTimeout(() => controller.abort(), 20);
        const [{ res, at }, times] = await Promise.all([last, Promise.all(ahead)]);
        wantu.close();
        assert.equal(JSON.parse(res.data).error, 'Cancelled', res.data);
        assert.ok(at < Math.min(...times), `the cancelled call answered after ${at} ms, the first call ahead of it after ${Math.min(...times)} ms`);
    });

    test('close() with 200 calls pending lets them all answer, then refuses new calls', async () => {
        const wantu = new WANTU(AK, SK, null, ENDPOINT, ENDPOINT);
        const file = path.join(tmp, 'closing.bin');
        fs.writeFileSync(file, 'closing');
        const pending = Array.from({ length: 200 }, (_, i) => wantu.singleUpload(POLICY, file, `/async-closing/${i}`, '', ''));
        wantu.close();
        const results = await Promise.all(pending);
        assert.deepEqual(results.map((r) => r.statusCode), Array(200).fill(200));
        const refused = await wantu.existDir(NS, '/async-closing');
        assert.equal(refused.statusCode, 0);
        assert.match(JSON.parse(refused.data).message, /closed/);
    });

    test('a program exits by itself once its calls have answered', async () => {
        const program = `
            const WANTU = require(${JSON.stringify(require.resolve('libwantu'))});
            const w = new WANTU(process.env.WANTU_TEST_AK, process.env.WANTU_TEST_SK, null, process.env.WANTU_TEST_ENDPOINT, process.env.WANTU_TEST_ENDPOINT);
            const ns = process.env.WANTU_TEST_NAMESPACE;
            Promise.all([w.existDir(ns, '/async-exits'), w.listDirs(ns, '/', 1, 10)])
                .then((rs) => console.log(rs.map((r) => r.statusCode).join(' ')));
        `;
        const started = Date.now();
        const out = await new Promise((resolve, reject) =>
            execFile(process.execPath, ['-e', program], { timeout: 20000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)))
        );
        assert.equal(out.trim(), '200 200');
        assert.ok(Date.now() - started < 15000, 'the program ended well before the timeout');
    });
});

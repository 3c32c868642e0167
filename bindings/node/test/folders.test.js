'use strict';
// Folder and batch uploads, downloads of a file and of a folder: the
// installed package against a real wantu-server, as wantu.test.js (run by
// tests/node/run.sh with WANTU_TEST_* exported and WANTU_LIB unset).
// Checked against the server: bytes served back, listings, skips, and
// against the local disk: every byte of what came back down.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');

const { NS, MiB, POLICY, start, stop, bytes, ok, download } = require('./common');

let wantu;
let tmp;

const md5 = (b) => crypto.createHash('md5').update(b).digest('hex');

// Every regular file under `root`, as relative path -> bytes.
function readTree(root) {
    const out = {};
    const walk = (dir) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(p);
            else out[path.relative(root, p)] = fs.readFileSync(p);
        }
    };
    walk(root);
    return out;
}

// A tree with nested folders, an empty file, names with spaces, %, #,
// Chinese and emoji, and one file of several parts.
const TREE = {
    'a.txt': bytes(1000, 1),
    'empty.bin': Buffer.alloc(0),
    'sub/with space.bin': bytes(20000, 2),
    'sub/100% #1.bin': bytes(3000, 3),
    'sub/deeper/照片 📷.jpg': bytes(50000, 4),
    'big/large.bin': bytes(3 * MiB + 17, 5),
};

function writeTree(root, tree) {
    for (const [rel, content] of Object.entries(tree)) {
        fs.mkdirSync(path.join(root, path.dirname(rel)), { recursive: true });
        fs.writeFileSync(path.join(root, rel), content);
    }
}

// Runs `call` while a 5 ms timer runs on the event loop; answers its result
// and how many times the timer fired: a call holding the loop lets it fire
// not at all while it runs.
async function withTimer(call) {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
        const res = await call();
        return { res, ticks };
    } finally {
        clearInterval(timer);
    }
}

before(() => {
    ({ wantu, tmp } = start('wantu-node-folders-'));
});

after(() => stop({ wantu, tmp }));

/** The per-file `status` of a many-files answer, in result order. */
const statuses = (data) => data.results.map((r) => r.status);

describe('folders both ways', () => {
    test('uploadDir sends a tree, downloadDir brings it back byte for byte, skip md5 sends nothing again', async () => {
        const up = path.join(tmp, 'up');
        writeTree(up, TREE);
        const seen = [];
        const { res, ticks } = await withTimer(() =>
            wantu.uploadDir(POLICY, up, '/tree', { partSize: MiB, onProgress: (done, total) => seen.push([done, total]) })
        );
        const data = ok(res);
        const count = Object.keys(TREE).length;
        const total = Object.values(TREE).reduce((n, b) => n + b.length, 0);
        assert.equal(data.uploaded, count, res.data);
        assert.equal(data.failed, 0);
        assert.equal(data.results.length, count);
        assert.deepEqual(statuses(data), Array(count).fill('uploaded'));
        assert.ok(ticks > 0, 'the event loop ran while the folder was sent');
        assert.deepEqual(seen[seen.length - 1], [total, total]);
        for (const [rel, content] of Object.entries(TREE)) {
            const dir = path.posix.join('/tree', path.posix.dirname(rel));
            assert.deepEqual(await download(dir, path.posix.basename(rel)), content, rel);
        }
        const listed = ok(await wantu.listFiles(NS, '/tree/sub', 1, 100)).result.map((f) => f.name).sort();
        assert.deepEqual(listed, ['100% #1.bin', 'with space.bin']);

        // Again with skip md5, callback style: nothing is sent.
        const again = await new Promise((resolve) =>
            wantu.uploadDir(POLICY, up, '/tree', { skip: 'md5' }, (err, r) => resolve({ err, r }))
        );
        assert.equal(again.err, null);
        const skipped = ok(again.r);
        assert.equal(skipped.uploaded, 0, again.r.data);
        assert.equal(skipped.skipped, count);
        assert.deepEqual(statuses(skipped), Array(count).fill('skipped'));
        // One changed file: only it is sent.
        fs.writeFileSync(path.join(up, 'sub/with space.bin'), bytes(20000, 99));
        const one = ok(await wantu.uploadDir(POLICY, up, '/tree', { skip: 'md5' }));
        assert.equal(one.uploaded, 1, JSON.stringify(one));
        assert.deepEqual(await download('/tree/sub', 'with space.bin'), bytes(20000, 99));
        TREE['sub/with space.bin'] = bytes(20000, 99);

        // A dry run says what it would send, in the same words both ways.
        const dry = ok(await wantu.uploadDir(POLICY, up, '/tree', { dryRun: true }));
        assert.deepEqual([dry.uploaded, dry.wouldUpload], [0, count], JSON.stringify(dry));
        assert.deepEqual(statuses(dry), Array(count).fill('would_upload'));

        const down = path.join(tmp, 'down');
        const dryDown = ok(await wantu.downloadDir(NS, '/tree', down, { dryRun: true }));
        assert.deepEqual([dryDown.downloaded, dryDown.wouldDownload], [0, count], JSON.stringify(dryDown));
        assert.deepEqual(statuses(dryDown), Array(count).fill('would_download'));
        const back = await withTimer(() => wantu.downloadDir(NS, '/tree', down, { partSize: 1024 * 1024, concurrency: 8 }));
        const got = ok(back.res);
        assert.equal(got.downloaded, count, back.res.data);
        assert.deepEqual(statuses(got), Array(count).fill('downloaded'));
        assert.ok(back.ticks > 0, 'the event loop ran while the folder came down');
        assert.deepEqual(readTree(down), TREE);
        const noop = ok(await wantu.downloadDir(NS, '/tree', down, { skip: 'md5' }));
        assert.equal(noop.downloaded, 0);
        assert.equal(noop.skipped, count);
        assert.deepEqual(statuses(noop), Array(count).fill('skipped'));
    });

    test('batch: files and buffers with their own folder, name and meta', async () => {
        const file = path.join(tmp, 'job.bin');
        fs.writeFileSync(file, bytes(40000, 6));
        const data = ok(
            await wantu.batch(POLICY, [
                { path: file, dir: '/batch/a' },
                { content: bytes(777, 7), dir: '/batch/b', name: 'from-buffer.bin', meta: { k: 'v' } },
                { content: new Uint8Array([1, 2, 3]), dir: '/batch/b', name: 'tiny.bin' },
            ])
        );
        assert.equal(data.uploaded, 3, JSON.stringify(data));
        assert.deepEqual(await download('/batch/a', 'job.bin'), bytes(40000, 6));
        assert.deepEqual(await download('/batch/b', 'from-buffer.bin'), bytes(777, 7));
        assert.deepEqual(await download('/batch/b', 'tiny.bin'), Buffer.from([1, 2, 3]));
        assert.deepEqual(ok(await wantu.getFile(NS, '/batch/b', 'from-buffer.bin')).meta, { k: 'v' });
        // One bad job fails that file only.
        const mixed = await wantu.batch(POLICY, [
            { content: bytes(10, 8), dir: '/batch/c', name: 'good.bin' },
            { path: path.join(tmp, 'missing.bin'), dir: '/batch/c' },
        ]);
        const m = JSON.parse(mixed.data);
        assert.notEqual(mixed.statusCode, 200, mixed.data);
        assert.equal(m.uploaded, 1, mixed.data);
        assert.equal(m.failed, 1, mixed.data);
        assert.deepEqual(await download('/batch/c', 'good.bin'), bytes(10, 8));
    });

    test('download: one large file in parallel ranges, MD5 checked, with progress', async () => {
        const content = bytes(12 * MiB + 5, 9);
        const file = path.join(tmp, 'dl-src.bin');
        fs.writeFileSync(file, content);
        ok(await wantu.upload(POLICY, file, '/dl'));
        const target = path.join(tmp, 'dl-dest.bin');
        const seen = [];
        const { res, ticks } = await withTimer(() =>
            wantu.download(NS, '/dl', 'dl-src.bin', target, { partSize: MiB, concurrency: 4, onProgress: (d, t) => seen.push([d, t]) })
        );
        const data = ok(res);
        assert.equal(data.size, content.length);
        assert.equal(data.md5, md5(content));
        assert.ok(data.parts > 1, res.data);
        assert.ok(ticks > 0, 'the event loop ran during the download');
        assert.deepEqual(seen[seen.length - 1], [content.length, content.length]);
        assert.equal(md5(fs.readFileSync(target)), md5(content));
        // Callback style, default options.
        const again = await new Promise((resolve) =>
            wantu.download(NS, '/dl', 'dl-src.bin', path.join(tmp, 'dl-cb.bin'), (err, r) => resolve({ err, r }))
        );
        assert.equal(again.err, null);
        ok(again.r);
        assert.equal(md5(fs.readFileSync(path.join(tmp, 'dl-cb.bin'))), md5(content));
    });

    test('an AbortSignal cancels a folder upload and a download; nothing sits under a final name', async () => {
        const up = path.join(tmp, 'cancel-up');
        for (let i = 0; i < 40; i++) writeTree(up, { [`f${i}.bin`]: bytes(200000, 20 + i) });
        const c1 = new AbortController();
        const res = await wantu.uploadDir(POLICY, up, '/cancelled', {
            concurrency: 1,
            signal: c1.signal,
            onProgress: (done) => {
                if (done > 0) c1.abort();
            },
        });
        assert.equal(JSON.parse(res.data).error, 'Cancelled', res.data);
        const stored = ok(await wantu.listFiles(NS, '/cancelled', 1, 100)).totalCount;
        assert.ok(stored < 40, `cancel stopped the upload (${stored} of 40 stored)`);

        const big = path.join(tmp, 'cancel-src.bin');
        fs.writeFileSync(big, bytes(8 * MiB, 60));
        ok(await wantu.upload(POLICY, big, '/cdl'));
        const c2 = new AbortController();
        const target = path.join(tmp, 'cancel-dest.bin');
        const r2 = await wantu.download(NS, '/cdl', 'cancel-src.bin', target, {
            partSize: 102400,
            concurrency: 1,
            signal: c2.signal,
            onProgress: (done) => {
                if (done > 0) c2.abort();
            },
        });
        assert.equal(JSON.parse(r2.data).error, 'Cancelled', r2.data);
        assert.equal(fs.existsSync(target), false, 'no partial file under the final name');

        const already = new AbortController();
        already.abort();
        const r3 = await wantu.downloadDir(NS, '/cdl', path.join(tmp, 'never'), { signal: already.signal });
        assert.equal(JSON.parse(r3.data).error, 'Cancelled', r3.data);
    });
});

describe('bad input, folders and downloads', () => {
    test('wrong types throw TypeError', () => {
        const cases = [
            () => wantu.uploadDir(POLICY, 42, '/x'),
            () => wantu.uploadDir(POLICY, tmp, '/x', 'options'),
            () => wantu.uploadDir(POLICY, tmp, '/x', { onProgress: 1 }),
            () => wantu.batch(POLICY, 'jobs'),
            () => wantu.batch(POLICY, [null]),
            () => wantu.batch(POLICY, [{ content: 'text, not bytes', name: 'x' }]),
            () => wantu.batch(POLICY, [{ path: 7 }]),
            () => wantu.download(NS, '/', 'x', Buffer.from('p')),
            () => wantu.download(NS, '/', 'x', '/tmp/x', { signal: 'no' }),
            () => wantu.downloadDir(NS, '/', {}),
            () => wantu.downloadDir(NS, '/', tmp, {}, 'not a function'),
        ];
        for (const [i, call] of cases.entries()) assert.throws(call, TypeError, `case ${i}`);
    });

    test('wrong values answer the error JSON naming the problem', async () => {
        const expectError = (res, pattern) => {
            assert.notEqual(res.statusCode, 200, res.data);
            const data = JSON.parse(res.data);
            assert.equal(data.code, res.statusCode);
            assert.match(res.data, pattern);
        };
        expectError(await wantu.uploadDir(POLICY, path.join(tmp, 'no-such-folder'), '/x'), /no-such-folder/);
        expectError(await wantu.uploadDir(POLICY, tmp, '/x', { skip: 'sometimes' }), /sometimes/);
        expectError(await wantu.uploadDir(POLICY, tmp, '/x', { noSuchOption: true }), /no_such_option/);
        expectError(await wantu.batch(POLICY, [{ dir: '/x' }]), /jobs\[0\]. needs .path/);
        expectError(await wantu.batch(POLICY, [{ content: Buffer.from('x'), name: 'x', meta: '{not json' }]), /jobs\[0\]\.meta/);
        expectError(await wantu.download(NS, '/', 'no-such-file.bin', path.join(tmp, 'x.bin')), /FileNotExist|not/);
        expectError(await wantu.download(NS, '/', 'x', path.join(tmp, 'no-such-folder', 'x.bin')), /no-such-folder/);
        expectError(await wantu.downloadDir(NS, '/no-such-remote-folder', path.join(tmp, 'dd')), /no-such-remote-folder|DirNotExist|not/);
        expectError(await wantu.download(NS, '/a\0b', 'x', '/tmp/x'), /dir/);
    });
});

'use strict';
// Downloads to the caller: downloadContent (a Buffer) and createReadStream
// (a stream.Readable of range reads) against a real wantu-server, as
// wantu.test.js (run by tests/node/run.sh with WANTU_TEST_* exported).

const assert = require('node:assert/strict');
const { Writable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const { after, before, describe, test } = require('node:test');

const WANTU = require('libwantu');

const ENDPOINT = process.env.WANTU_TEST_ENDPOINT;
const NS = process.env.WANTU_TEST_NAMESPACE;
const POLICY = { namespace: NS, expiration: -1 };
const DIR = '/nodestreams';

function bytes(size, seed) {
    const b = Buffer.alloc(size);
    let x = seed * 2654435761;
    for (let i = 0; i < size; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        b[i] = x >>> 24;
    }
    return b;
}

async function collect(readable) {
    const parts = [];
    await pipeline(
        readable,
        new Writable({
            write(chunk, _enc, done) {
                parts.push(chunk);
                done();
            },
        })
    );
    return Buffer.concat(parts);
}

const BIG = bytes(350000, 7);
let wantu;

describe('downloads to the caller', () => {
    before(async () => {
        wantu = new WANTU(process.env.WANTU_TEST_AK, process.env.WANTU_TEST_SK, null, ENDPOINT, ENDPOINT);
        const jobs = [['big.bin', BIG], ['empty', Buffer.alloc(0)]].map(([name, content]) => ({ dir: DIR, name, content }));
        const res = await wantu.batch(POLICY, jobs);
        assert.equal(res.statusCode, 200, res.data);
    });
    after(() => wantu.close());

    test('downloadContent answers the bytes, or a range of them', async () => {
        const whole = await wantu.downloadContent(NS, DIR, 'big.bin');
        assert.equal(whole.statusCode, 200, whole.data);
        assert.ok(whole.content.equals(BIG));
        assert.equal(JSON.parse(whole.data).md5Checked, true);
        const part = await wantu.downloadContent(NS, DIR, 'big.bin', { start: 1000, end: 5999, partSize: 102400 });
        assert.ok(part.content.equals(BIG.subarray(1000, 6000)));
        const empty = await wantu.downloadContent(NS, DIR, 'empty');
        assert.equal(empty.content.length, 0);
        const res = await new Promise((resolve, reject) =>
            wantu.downloadContent(NS, DIR, 'big.bin', { start: 349990 }, (err, r) => (err ? reject(err) : resolve(r)))
        );
        assert.ok(res.content.equals(BIG.subarray(349990)));
    });

    test('downloadContent answers errors as res', async () => {
        for (const [options, error, needle] of [
            [{ start: 350001 }, 'InvalidArgument', 'holds 350000 bytes'],
            [{ start: 10, end: 5 }, 'InvalidArgument', '`end`'],
            [{ start: -1 }, 'InvalidArgument', '`start`'],
            [{ maxBytes: 1000 }, 'InvalidArgument', '`max_bytes`'],
        ]) {
            const res = await wantu.downloadContent(NS, DIR, 'big.bin', options);
            const doc = JSON.parse(res.data);
            assert.equal(doc.error, error, res.data);
            assert.ok(doc.message.includes(needle), res.data);
            assert.equal(res.content, undefined);
        }
        const missing = await wantu.downloadContent(NS, DIR, 'none.bin');
        assert.equal(missing.statusCode, 404);
        const aborted = await wantu.downloadContent(NS, DIR, 'big.bin', { signal: AbortSignal.abort() });
        assert.equal(JSON.parse(aborted.data).error, 'Cancelled');
    });

    test('createReadStream reads the file by ranges, in order', async () => {
        const got = await collect(wantu.createReadStream(NS, DIR, 'big.bin', { chunkSize: 65536 }));
        assert.ok(got.equals(BIG));
        const range = await collect(wantu.createReadStream(NS, DIR, 'big.bin', { start: 100, end: 200099, chunkSize: 70000 }));
        assert.ok(range.equals(BIG.subarray(100, 200100)));
        const empty = await collect(wantu.createReadStream(NS, DIR, 'empty'));
        assert.equal(empty.length, 0);
        await assert.rejects(collect(wantu.createReadStream(NS, DIR, 'none.bin')), (e) => e.res && /FileNotExist/.test(e.message));
        await assert.rejects(
            collect(wantu.createReadStream(NS, DIR, 'big.bin', { start: 0, end: 350000 })),
            /holds 350000 bytes/
        );
        assert.throws(() => wantu.createReadStream(NS, DIR, 'big.bin', { start: 5, end: 4 }), RangeError);
    });
});

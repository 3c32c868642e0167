'use strict';
// What both test files share: the server scripts/server.sh started
// (WANTU_TEST_ENDPOINT, _AK, _SK, _NAMESPACE), a client and a temporary
// folder per file, deterministic bytes, and the checks of an answer and of
// what the server serves back. tests/node/run.sh copies it beside them.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const WANTU = require('libwantu');

const ENDPOINT = process.env.WANTU_TEST_ENDPOINT;
const NS = process.env.WANTU_TEST_NAMESPACE;
const MiB = 1024 * 1024;
const POLICY = { namespace: NS, expiration: -1 };

/** A client of the test server and a fresh temporary folder (`prefix`…). */
function start(prefix) {
    assert.ok(ENDPOINT && NS, 'run under scripts/server.sh');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const wantu = new WANTU(process.env.WANTU_TEST_AK, process.env.WANTU_TEST_SK, null, ENDPOINT, ENDPOINT);
    return { wantu, tmp };
}

/** Closes what `start` opened. */
function stop({ wantu, tmp }) {
    wantu.close();
    fs.rmSync(tmp, { recursive: true, force: true });
}

/** `size` pseudo-random bytes, the same for the same `seed`. */
function bytes(size, seed) {
    const b = Buffer.alloc(size);
    let x = seed * 2654435761;
    for (let i = 0; i < size; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        b[i] = x >>> 24;
    }
    return b;
}

/** The answer's data, after checking that it succeeded. */
function ok(res) {
    assert.equal(typeof res.data, 'string');
    const data = JSON.parse(res.data);
    assert.equal(res.statusCode, 200, res.data);
    return data;
}

/** The stored file `dir`/`name` as the server serves it. */
function download(dir, name) {
    const url = `${ENDPOINT}/files/${NS}${dir === '/' ? '' : dir}/${encodeURIComponent(name)}`;
    return new Promise((resolve, reject) => {
        http.get(url, (r) => {
            const chunks = [];
            r.on('data', (c) => chunks.push(c));
            r.on('end', () => (r.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${url}: ${r.statusCode}`))));
        }).on('error', reject);
    });
}

module.exports = { WANTU, ENDPOINT, NS, MiB, POLICY, start, stop, bytes, ok, download };

'use strict';
// One run of the Node benchmark (bench/node-async.sh starts it):
//
//   node bench/node-async.js SDK ENDPOINT AK SK NAMESPACE FILE N
//
// SDK is `libwantu` (this repository's package, from NODE_PATH) or
// `official` (npm `wantu` 0.0.1, from NODE_PATH too). Starts N
// singleUpload calls of FILE at once (Promise.all) and prints one JSON
// line: ok, failed, seconds, files_per_s, loop_lag_max_ms (the longest
// wait of a 5 ms timer), read_wait_max_ms (the longest fs.readFile of a
// small file, one issued every 20 ms), threads_above_bare (the most
// threads the process had, minus those of the same process before the SDK
// was loaded, the fs.readFile probe already running).

const fs = require('fs');
const http = require('http');
const path = require('path');

const [sdk, endpoint, ak, sk, namespace, file, count] = process.argv.slice(2);
const N = Number(count);
const threads = () => fs.readdirSync('/proc/self/task').length;
const probeFile = path.join(path.dirname(file), 'probe.txt');
fs.writeFileSync(probeFile, 'a small file read while the uploads run\n');

// The fs.readFile probe, and a 5 ms timer for the loop's lag.
let readMax = 0;
let lagMax = 0;
let mostThreads = 0;
let last = process.hrtime.bigint();
const lag = setInterval(() => {
    const now = process.hrtime.bigint();
    lagMax = Math.max(lagMax, Number(now - last) / 1e6 - 5);
    last = now;
    mostThreads = Math.max(mostThreads, threads());
}, 5);
const probe = setInterval(() => {
    const t = process.hrtime.bigint();
    fs.readFile(probeFile, () => (readMax = Math.max(readMax, Number(process.hrtime.bigint() - t) / 1e6)));
}, 20);

// The official SDK sends to upload.media.aliyun.com:80; point it at ENDPOINT.
function redirectOfficial() {
    const target = new URL(endpoint);
    const request = http.request;
    http.request = (options, ...rest) => {
        if (options && options.host === 'upload.media.aliyun.com') {
            options = { ...options, host: target.hostname, port: target.port };
        }
        return request(options, ...rest);
    };
}

function client() {
    if (sdk === 'libwantu') {
        const WANTU = require('libwantu');
        return new WANTU(ak, sk, null, endpoint, endpoint);
    }
    redirectOfficial();
    const WANTU = require('wantu');
    return new WANTU(ak, sk);
}

// The official SDK answers only through callbacks.
function upload(w, i) {
    const policy = { namespace, expiration: -1, insertOnly: 0 };
    return new Promise((resolve) =>
        w.singleUpload(policy, file, `/bench-${sdk}/${i}`, '', '', (err, res) => resolve(err ? { statusCode: -1, data: String(err) } : res))
    );
}

async function main() {
    await new Promise((r) => setTimeout(r, 200)); // the probe's pool threads are up
    const bare = threads();
    mostThreads = bare;
    const w = client(); // loading the SDK is not part of the figures
    await new Promise((r) => setTimeout(r, 50));
    readMax = 0;
    lagMax = 0;
    const started = process.hrtime.bigint();
    const results = await Promise.all(Array.from({ length: N }, (_, i) => upload(w, i)));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(lag);
    clearInterval(probe);
    if (w.close) w.close();
    const failed = results.filter((r) => r.statusCode !== 200);
    const out = {
        sdk,
        n: N,
        ok: N - failed.length,
        failed: failed.length,
        seconds: Number(seconds.toFixed(2)),
        files_per_s: Math.round((N - failed.length) / seconds),
        loop_lag_max_ms: Math.round(lagMax),
        read_wait_max_ms: Math.round(readMax),
        threads_above_bare: mostThreads - bare,
    };
    if (failed.length) out.first_failure = String(failed[0].data).slice(0, 200);
    console.log(JSON.stringify(out));
}

main();

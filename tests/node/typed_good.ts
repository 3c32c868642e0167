// Compiles with `tsc --strict` against the installed package's index.d.ts.
import WANTU = require('libwantu');

const wantu = new WANTU('ak', 'sk', null, 'http://127.0.0.1:1', 'http://127.0.0.1:1');
const policy = { namespace: 'demo', expiration: -1 };
wantu.existFile('demo', '/', 'a.jpg', (err: Error | null, res: WANTU.Response) => {
    if (!err && res.statusCode === 200) console.log(JSON.parse(res.data).exist);
});
async function main(): Promise<number> {
    const res = await wantu.listFiles('demo', '/', 1, 10);
    const controller = new AbortController();
    const up = await wantu.upload(policy, '/tmp/a.bin', '/d', {
        partSize: 8 * 1024 * 1024,
        onProgress: (sent: number, total: number | null) => console.log(sent, total),
        signal: controller.signal,
    });
    wantu.cancelMultiUpload(policy, 'id', 'uploadId', () => undefined);
    const cancelled: WANTU.Response = await wantu.cancelMultiUpload(policy, '/tmp/a.bin', 'id', 'uploadId');
    const dir = await wantu.uploadDir(policy, '/tmp/photos', '/backup', { skip: 'md5', dryRun: true, signal: controller.signal });
    wantu.batch(policy, [{ path: '/tmp/a.bin' }, { content: new Uint8Array([120]), name: 'x.txt', meta: { k: 'v' } }], (err, r) => {
        if (err === null) console.log(r.statusCode);
    });
    const file = await wantu.download('demo', '/backup', 'a.jpg', '/tmp/a.jpg', { partSize: 1 << 20, resume: true });
    const tree = await wantu.downloadDir('demo', '/backup', '/tmp/restored', {
        skip: 'size',
        onProgress: (done: number, total: number | null) => console.log(done, total),
    });
    const bytes = await wantu.downloadContent('demo', '/backup', 'a.jpg', { start: 0, end: 1023, maxBytes: 1 << 20 });
    const first: number = bytes.content ? bytes.content[0] : -1;
    for await (const chunk of wantu.createReadStream('demo', '/backup', 'a.jpg', { start: 10, chunkSize: 1 << 20 })) {
        console.log(chunk.length);
    }
    wantu.close();
    return first + res.statusCode + up.statusCode + cancelled.statusCode + dir.statusCode + file.statusCode + tree.statusCode + WANTU.version().length;
}
main();

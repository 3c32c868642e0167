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
    wantu.close();
    return res.statusCode + up.statusCode + cancelled.statusCode + WANTU.version().length;
}
main();

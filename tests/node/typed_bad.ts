// Must NOT compile: each line misuses the API.
import WANTU = require('libwantu');

const wantu = new WANTU('ak', 'sk');
wantu.listFiles('demo', '/', '1', 10);
wantu.noSuchCall();
wantu.upload({ namespace: 'demo' }, '/tmp/a.bin', '/d', { partSise: 1 });
wantu.downloadDir('demo', '/backup', '/tmp/restored', { skip: 'always' });

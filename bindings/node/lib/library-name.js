'use strict';

/** The file name of libwantu on this platform (no koffi needed, so `npm pack` can use it). */
function libraryFileName() {
    if (process.platform === 'win32') return 'wantu.dll';
    if (process.platform === 'darwin') return 'libwantu.dylib';
    return 'libwantu.so';
}

module.exports = { libraryFileName };

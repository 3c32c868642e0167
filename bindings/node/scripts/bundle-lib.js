'use strict';
// `npm pack`'s prepack step: builds the release libwantu with cargo and
// copies it into native/, where lib/native.js looks right after WANTU_LIB,
// so that the packed tarball works wherever it is installed. Refuses to
// pack when this package's version is not the library's.

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { libraryFileName } = require('../lib/library-name');

const pkgDir = path.join(__dirname, '..');
const repo = path.join(pkgDir, '..', '..');
const manifest = path.join(repo, 'Cargo.toml');
if (!fs.existsSync(path.join(repo, 'src', 'ffi'))) {
    throw new Error(`the package is packed from the libwantu repository (bindings/node inside it); ${repo} is not one`);
}
const cargo = process.env.CARGO || 'cargo';
const crateVersion = /^version = "([^"]+)"/m.exec(fs.readFileSync(manifest, 'utf8'))[1];
const pkgVersion = require('../package.json').version;
if (crateVersion !== pkgVersion) {
    throw new Error(`bindings/node/package.json says ${pkgVersion} but libwantu is ${crateVersion}: make them equal`);
}

console.error(`bundle-lib: ${cargo} build --release -p wantu`);
execFileSync(cargo, ['build', '--release', '-p', 'wantu', '--manifest-path', manifest], { stdio: 'inherit', cwd: repo });
const metadata = execFileSync(cargo, ['metadata', '--format-version', '1', '--no-deps', '--manifest-path', manifest], {
    cwd: repo,
    maxBuffer: 64 * 1024 * 1024,
});
const built = path.join(JSON.parse(metadata).target_directory, 'release', libraryFileName());
const dest = path.join(pkgDir, 'native', libraryFileName());
fs.mkdirSync(path.dirname(dest), { recursive: true });
fs.copyFileSync(built, dest);
// The package carries code, not a debugger's tables (Rust's std ships with them).
if (process.platform === 'linux') {
    try {
        execFileSync('strip', ['--strip-debug', dest]);
    } catch (e) {
        console.error(`bundle-lib: strip failed (${e.message}); bundling the library unstripped`);
    }
}
console.error(`bundle-lib: ${built} -> ${path.relative(pkgDir, dest)} (${fs.statSync(dest).size} bytes)`);

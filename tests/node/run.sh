#!/usr/bin/env bash
# The Node package as a user meets it (run by scripts/test.sh with a
# wantu-server up): `make node-pack` builds the release library and packs
# bindings/node with it; the tarball is installed into a fresh folder outside
# the repository (koffi comes from the npm registry, as for any user); the
# tests run there with node's test runner and WANTU_LIB unset; the folder
# itself installs too (`npm install --install-links`, whose prepare step
# bundles the library); tsc checks index.d.ts accepts correct code and
# refuses misuse.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/wantu-node.XXXXXX")"
trap 'rm -rf "$work"' EXIT
unset WANTU_LIB WANTU_LIB_DIR
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

echo "-- npm ci in bindings/node (its own dependencies, from package-lock.json)"
(cd "$repo/bindings/node" && npm ci --silent)

echo "-- make node-pack"
rm -f "$repo"/dist/libwantu-*.tgz
make -s -C "$repo" node-pack >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; exit 1; }
tarballs=("$repo"/dist/libwantu-*.tgz)
[ "${#tarballs[@]}" -eq 1 ] && [ -f "${tarballs[0]}" ] || { echo "no single tarball in dist/"; exit 1; }
contents="$(tar tzf "${tarballs[0]}")"
for f in package/package.json package/index.js package/index.d.ts package/lib/native.js package/lib/completions.js package/native/libwantu.so; do
    grep -qx "$f" <<<"$contents" || { echo "$f missing from ${tarballs[0]}"; exit 1; }
done
echo "   $(basename "${tarballs[0]}"): $(wc -l <<<"$contents") files, $(du -h "${tarballs[0]}" | cut -f1)"

echo "-- npm install the tarball into a fresh folder"
mkdir -p "$work/app"
cd "$work/app"
npm init -y >/dev/null
npm install --silent "${tarballs[0]}"

echo "-- node --test (against $WANTU_TEST_ENDPOINT)"
cp "$repo"/bindings/node/test/*.js "$work/app/"
node --test --test-reporter=spec "$work/app/"*.test.js

echo "-- node --test async.test.js again, answers taken by wantu_queue_wait (what stands in on Windows)"
WANTU_NODE_QUEUE_WAIT=1 node --test --test-reporter=spec "$work/app/async.test.js"

echo "-- npm install --install-links bindings/node (prepare bundles the library) into another folder"
mkdir -p "$work/linked"
cd "$work/linked"
npm init -y >/dev/null
npm install --silent --install-links "$repo/bindings/node"
loaded="$(node -e "process.stdout.write(require('libwantu').libraryPath())")"
[ "$loaded" = "$work/linked/node_modules/libwantu/native/libwantu.so" ] ||
    { echo "the installed folder loaded $loaded, not its own library"; exit 1; }
echo "   loads $loaded"
cd "$work/app"

echo "-- index.d.ts: tsc --strict accepts correct code and refuses misuse"
tsc="$repo/bindings/node/node_modules/.bin/tsc"
flags=(--noEmit --strict --lib es2020,dom --module commonjs --moduleResolution node)
cp "$repo"/tests/node/typed_*.ts "$work/app/"
"$tsc" "${flags[@]}" typed_good.ts
if out="$("$tsc" "${flags[@]}" typed_bad.ts)"; then
    echo "tsc accepted misuse of the API"; exit 1
fi
for line in 5 6 7 8; do
    grep -q "typed_bad.ts($line," <<<"$out" || { echo "tsc found no error on line $line:"; echo "$out"; exit 1; }
done
echo "   tsc reports lines 5, 6, 7 and 8 of typed_bad.ts"
echo "Node package: ok"

#!/usr/bin/env bash
# `make bench-node`: the Node package's many calls at once, release builds.
#
# Through bench/latency-proxy with a 40 ms round trip in front of
# wantu-server: 1000 uploads of 16 KiB started at once (Promise.all of
# singleUpload) with this package, then with the official pure-JS SDK (npm
# `wantu` 0.0.1, installed into a temporary folder, never a dependency of
# the package), then 10,000 at once with this package. Each run
# (bench/node-async.js) reports failures, files/s, the event loop's longest
# lag, the longest wait of a small fs.readFile issued every 20 ms, and the
# threads above the same process before the SDK was loaded.
#
# Results are printed and written to build/bench/node-async.md.
# Knobs: RTT_MS (default 40), N (default 1000), MANY (default 10000).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh

RTT_MS="${RTT_MS:-40}"
N="${N:-1000}"
MANY="${MANY:-10000}"
OUT=build/bench
mkdir -p "$OUT"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

echo "== building release libwantu, wantu-server and latency-proxy"
cargo build --release -q -p wantu --lib
cargo build --release -q -p wantu-server --bin wantu-server
cargo build --release -q -p latency-proxy
REL="$(wantu_target_dir)/release"
export WANTU_SERVER_BIN="$REL/wantu-server"
export WANTU_LIB="$REL/libwantu.so"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/wantu-bench-node.XXXXXX")"
PROXY_PID=
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
    wantu_server_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== the package's dependencies (npm ci) and the official SDK (npm install wantu@0.0.1 in $WORK)"
(cd bindings/node && npm ci --silent --ignore-scripts)
mkdir -p "$WORK/modules/node_modules"
(cd "$WORK/modules" && npm init -y >/dev/null && npm install --silent wantu@0.0.1)
ln -s "$PWD/bindings/node" "$WORK/modules/node_modules/libwantu"
export NODE_PATH="$WORK/modules/node_modules"
head -c 16384 /dev/urandom >"$WORK/file16k.bin"

# The server keeps its data on tmpfs when there is one (see bench/folders.sh).
SERVER_DIR="${SERVER_DIR:-/dev/shm}"
[ -d "$SERVER_DIR" ] && [ -w "$SERVER_DIR" ] || SERVER_DIR="${TMPDIR:-/tmp}"
echo "== starting wantu-server (release, data under $SERVER_DIR) and latency-proxy (rtt $RTT_MS ms)"
TMPDIR="$SERVER_DIR" wantu_server_start
mkfifo "$WORK/proxy.out"
"$REL/latency-proxy" --listen 127.0.0.1:0 --upstream "${WANTU_TEST_ENDPOINT#http://}" --rtt-ms "$RTT_MS" \
    >"$WORK/proxy.out" &
PROXY_PID=$!
exec {pfd}<"$WORK/proxy.out"
IFS= read -r -t 30 line <&"$pfd" || { echo "latency-proxy did not start" >&2; exit 1; }
cat <&"$pfd" >/dev/null &
exec {pfd}<&-
FAR="http://${line#listening on }"
echo "   proxy $FAR -> $WANTU_TEST_ENDPOINT"

run() { # SDK COUNT
    node bench/node-async.js "$1" "$FAR" "$WANTU_TEST_AK" "$WANTU_TEST_SK" "$WANTU_TEST_NAMESPACE" \
        "$WORK/file16k.bin" "$2"
}
echo "== $N x 16 KiB at once through the ${RTT_MS} ms link"
OURS="$(run libwantu "$N")"
echo "   $OURS"
THEIRS="$(run official "$N")"
echo "   $THEIRS"
echo "== $MANY x 16 KiB at once"
LOTS="$(run libwantu "$MANY")"
echo "   $LOTS"

python3 - "$OURS" "$THEIRS" "$LOTS" "$RTT_MS" >"$OUT/node-async.md" <<'PY'
import json, sys
ours, theirs, lots = (json.loads(a) for a in sys.argv[1:4])
rtt = sys.argv[4]
print(f"| `Promise.all` of `singleUpload`, 16 KiB each, {rtt} ms RTT | calls | failed | seconds | files/s | loop lag max (ms) | fs.readFile max (ms) | threads above bare |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, r in (("libwantu (this package)", ours), ("official SDK `wantu` 0.0.1", theirs), ("libwantu (this package)", lots)):
    print(f"| {name} | {r['n']} | {r['failed']} | {r['seconds']} | {r['files_per_s']} | {r['loop_lag_max_ms']} | {r['read_wait_max_ms']} | {r['threads_above_bare']} |")
print()
ratio = ours["files_per_s"] / max(theirs["files_per_s"], 1)
print(f"files/s ratio at {ours['n']} calls: **{ratio:.2f}x** the official SDK's.")
PY
echo
cat "$OUT/node-async.md"

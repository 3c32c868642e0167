#!/usr/bin/env bash
# `make bench-async`: N uploads in flight from one thread with the
# non-blocking C API, against the service's own way of working (a
# sequential loop of the blocking seed call wantu_upload_file), through
# bench/latency-proxy with a 40 ms round trip. Release builds, one run.
#
#   1. examples-c/upload_many_async: 1000 uploads of 16 KiB at once,
#      waiting on the completion queue's descriptor with poll(); files/s,
#      and the process's largest thread count (sampled every 10 ms).
#   2. bench/folders loop: the same kind of files, uploaded one after the
#      other with wantu_upload_file (200 of them: the loop's rate does not
#      depend on the count, and 1000 would take a minute and a half).
#
# Target: (1) >= 25x the files/s of (2), with at most 16 threads.
# Results are printed and written to build/bench/async.md.
# Knobs: RTT_MS (default 40), N (default 1000), LOOP_N (default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh
source bench/lib.sh

RTT_MS="${RTT_MS:-40}"
N="${N:-1000}"
LOOP_N="${LOOP_N:-200}"
OUT=build/bench
mkdir -p "$OUT"

echo "== building release libwantu, wantu-server and latency-proxy"
cargo build --release -q -p wantu --lib
cargo build --release -q -p wantu-server --bin wantu-server
cargo build --release -q -p latency-proxy
REL="$(wantu_target_dir)/release"
cc -std=c11 -O2 -Wall -Wextra -Werror -pedantic -Iinclude examples-c/upload_many_async.c \
    -o "$OUT/upload_many_async" -L"$REL" -Wl,-rpath,"$REL" -lwantu
cc -std=c11 -O2 -Wall -Wextra -Werror -pedantic -Iinclude bench/folders.c \
    -o "$OUT/folders" -L"$REL" -Wl,-rpath,"$REL" -lwantu
export WANTU_SERVER_BIN="$REL/wantu-server"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/wantu-bench-async.XXXXXX")"
PROXY_PID=
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
    wantu_server_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python3 - "$WORK/loop" "$LOOP_N" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(root)
for i in range(n):
    with open(os.path.join(root, "file%05d.bin" % i), "wb") as f:
        f.write(os.urandom(16384))
PY

# The server's data on tmpfs, as in bench/folders.sh: its fsyncs on a
# shared VM disk would otherwise be what is measured.
SERVER_DIR="${SERVER_DIR:-/dev/shm}"
[ -d "$SERVER_DIR" ] && [ -w "$SERVER_DIR" ] || SERVER_DIR="${TMPDIR:-/tmp}"
TMPDIR="$SERVER_DIR" wantu_server_start
bench_proxy_start "$WORK" "$REL" "$RTT_MS"
echo "   proxy $FAR -> $WANTU_TEST_ENDPOINT (rtt $RTT_MS ms)"
ARGS=("$WANTU_TEST_AK" "$WANTU_TEST_SK" "$WANTU_TEST_NAMESPACE")

echo "== $N x 16 KiB at once, non-blocking, one thread"
"$OUT/upload_many_async" "$FAR" "${ARGS[@]}" /bench-async "$N" 16384 >"$WORK/async.out" &
APID=$!
THREADS="$(bench_max_threads "$APID")"
wait "$APID"
ASYNC_LINE="$(cat "$WORK/async.out")"
echo "   $ASYNC_LINE threads=$THREADS"

echo "== $LOOP_N x 16 KiB, sequential wantu_upload_file"
LOOP_LINE="$("$OUT/folders" loop "$FAR" "${ARGS[@]}" "$WORK/loop" /bench-loop)"
echo "   $LOOP_LINE"

python3 - "$ASYNC_LINE" "$LOOP_LINE" "$THREADS" "$N" "$RTT_MS" >"$OUT/async.md" <<'PY'
import json, sys
a = json.loads(sys.argv[1])
loop = dict(kv.split("=") for kv in sys.argv[2].split()[1:])
threads, n, rtt = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rate = a["ok"] / a["seconds"]
ratio = rate / float(loop["files_per_s"])
print(f"| 16 KiB uploads, {rtt} ms RTT | files | seconds | files/s | threads |")
print("|---|---:|---:|---:|---:|")
print(f"| sequential `wantu_upload_file` | {loop['files']} | {loop['seconds']} | {loop['files_per_s']} | |")
print(f"| `upload_many_async`, all at once | {a['ok']} of {n} | {a['seconds']:.2f} | {rate:.0f} | {threads} |")
print()
print(f"Ratio: **{ratio:.1f}x** (target >= 25x); failed: {a['failed']}; "
      f"largest thread count {threads} (target <= 16).")
PY
echo
cat "$OUT/async.md"

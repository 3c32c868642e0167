#!/usr/bin/env bash
# `make bench-python`: AsyncWant through a slow link, release builds, one run.
#
# 1000 uploads of 16 KiB through bench/latency-proxy with a 40 ms round
# trip: asyncio.gather of AsyncWant.upload_content against a sequential
# loop of Want.upload_content over the same link (files/s and the ratio;
# target >= 25x), with the process's peak thread count (target <= 16) and
# the event loop's worst lag, seen by a 10 ms ticker (target <= 50 ms).
#
# The server keeps its data on tmpfs (/dev/shm) when there is one, as in
# bench/folders.sh: its fsyncs on a shared disk would be the limit.
# Results are printed and written to build/bench/python-async.md.
# Knobs: RTT_MS (default 40), N (1000), SIZE (16384), SEQ_N (sequential
# uploads, default N), SERVER_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh

RTT_MS="${RTT_MS:-40}" N="${N:-1000}" SIZE="${SIZE:-16384}" SEQ_N="${SEQ_N:-${N:-1000}}"
OUT=build/bench
mkdir -p "$OUT"

echo "== building release libwantu, wantu-server and latency-proxy"
cargo build --release -q -p wantu --lib
cargo build --release -q -p wantu-server --bin wantu-server
cargo build --release -q -p latency-proxy
REL="$(wantu_target_dir)/release"
export WANTU_SERVER_BIN="$REL/wantu-server" WANTU_LIB="$REL/libwantu.so"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/wantu-bench-python.XXXXXX")"
PROXY_PID=
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
    wantu_server_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SERVER_DIR="${SERVER_DIR:-/dev/shm}"
[ -d "$SERVER_DIR" ] && [ -w "$SERVER_DIR" ] || SERVER_DIR="${TMPDIR:-/tmp}"
echo "== starting wantu-server (release, data under $SERVER_DIR) and latency-proxy (rtt $RTT_MS ms)"
TMPDIR="$SERVER_DIR" wantu_server_start
UPSTREAM="${WANTU_TEST_ENDPOINT#http://}"
mkfifo "$WORK/proxy.out"
"$REL/latency-proxy" --listen 127.0.0.1:0 --upstream "$UPSTREAM" --rtt-ms "$RTT_MS" \
    >"$WORK/proxy.out" &
PROXY_PID=$!
exec {pfd}<"$WORK/proxy.out"
IFS= read -r -t 30 line <&"$pfd" || { echo "latency-proxy did not start" >&2; exit 1; }
cat <&"$pfd" >/dev/null &
exec {pfd}<&-
FAR="http://${line#listening on }"
echo "   proxy $FAR -> $WANTU_TEST_ENDPOINT"

echo "== $N x $SIZE B at once (AsyncWant), then $SEQ_N one by one (Want), ${RTT_MS} ms link"
LINE="$(python3 bench/python_async.py "$FAR" "$WANTU_TEST_AK" "$WANTU_TEST_SK" \
    "$WANTU_TEST_NAMESPACE" "$N" "$SIZE" "$SEQ_N")"
echo "   $LINE"

python3 - "$LINE" "$RTT_MS" >"$OUT/python-async.md" <<'PY'
import json, sys
r, rtt = json.loads(sys.argv[1]), sys.argv[2]
a, s = r["async"], r["sequential"]
print(f"| {r['n']} x {r['size'] // 1024} KiB, {rtt} ms RTT | uploads | seconds | files/s |")
print("|---|---:|---:|---:|")
print(f"| sequential loop of `Want.upload_content` | {s['ok']}/{s['ok'] + s['failed']} "
      f"| {s['seconds']} | {s['files_per_s']} |")
print(f"| `asyncio.gather` of `AsyncWant.upload_content` | {a['ok']}/{r['n']} "
      f"| {a['seconds']} | {a['files_per_s']} |")
print()
print(f"Ratio: **{r['ratio']}x** (target >= 25x); stored: {a['stored']} of {r['n']}; "
      f"threads at most **{a['threads_peak']}** (target <= 16; {r['threads_at_start']} at start); "
      f"event-loop lag max **{a['lag_max_ms']} ms**, p99 {a['lag_p99_ms']} ms over {a['ticks']} "
      f"ticks of 10 ms (target <= 50 ms); the same ticker on the idle loop, 2 s after the "
      f"uploads: max {a['idle_lag_max_ms']} ms, p99 {a['idle_lag_p99_ms']} ms.")
PY
echo
cat "$OUT/python-async.md"
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r["async"]["failed"] == 0 and r["async"]["stored"] == r["n"] else 1)' "$LINE"

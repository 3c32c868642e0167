#!/usr/bin/env bash
# `make bench-folders`: many small files, release builds, one run.
#
#   1. 1000 files of 16 KiB in 10 folders through bench/latency-proxy with a
#      40 ms round trip, at default options: one wantu_upload_dir call
#      against a sequential loop of wantu_upload_file over the same files
#      and the same link (files/s, and the ratio; target >= 25x).
#   2. 10,000 files of 4 KiB in 10 folders on loopback, one
#      wantu_upload_dir call at default options: the client's peak RSS
#      (target <= 64 MiB), from /usr/bin/time -v.
#
# The server keeps its data on tmpfs (/dev/shm) when there is one: it
# fsyncs every stored file, and on a shared VM disk those fsyncs made the
# server itself the limit (54 ms per 16 KiB upload at the median, see
# bench/README.md), which hides what the client does with a long link.
# Both sides of the comparison use the same server.
#
# Results are printed and written to build/bench/folders.md.
# Knobs: RTT_MS (default 40), BENCH_DIR (where the files go; default $TMPDIR),
# SERVER_DIR (where the server's data goes; default /dev/shm, else $TMPDIR).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh

RTT_MS="${RTT_MS:-40}"
OUT=build/bench
mkdir -p "$OUT"

if [ ! -x /usr/bin/time ]; then
    echo "== installing GNU time (apt-get install time)"
    if [ "$(id -u)" = 0 ]; then apt-get install -y -q time >/dev/null; else sudo apt-get install -y -q time >/dev/null; fi
fi

echo "== building release libwantu, wantu-server and latency-proxy"
cargo build --release -q -p wantu --lib
cargo build --release -q -p wantu-server --bin wantu-server
cargo build --release -q -p latency-proxy
REL="$(wantu_target_dir)/release"
cc -std=c11 -O2 -Wall -Wextra -Werror -pedantic -Iinclude bench/folders.c \
    -o "$OUT/folders" -L"$REL" -Wl,-rpath,"$REL" -lwantu
export WANTU_SERVER_BIN="$REL/wantu-server"

WORK="$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/wantu-bench-folders.XXXXXX")"
PROXY_PID=
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
    wantu_server_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# make_tree DIR FILES SIZE: FILES random files of SIZE bytes in 10 folders.
make_tree() {
    python3 - "$1" "$2" "$3" <<'PY'
import os, sys
root, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    d = os.path.join(root, "folder%02d" % (i % 10))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "file%05d.bin" % i), "wb") as f:
        f.write(os.urandom(size))
PY
}

echo "== creating 1000 x 16 KiB and 10000 x 4 KiB files in $WORK"
make_tree "$WORK/k1" 1000 16384
make_tree "$WORK/k10" 10000 4096

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

ARGS=("$WANTU_TEST_AK" "$WANTU_TEST_SK" "$WANTU_TEST_NAMESPACE")
echo "== 1000 x 16 KiB through the ${RTT_MS} ms link"
DIR_LINE="$("$OUT/folders" dir "$FAR" "${ARGS[@]}" "$WORK/k1" /far-dir)"
echo "   $DIR_LINE"
LOOP_LINE="$("$OUT/folders" loop "$FAR" "${ARGS[@]}" "$WORK/k1" /far-loop)"
echo "   $LOOP_LINE"

echo "== 10000 x 4 KiB on loopback: peak RSS"
/usr/bin/time -v -o "$WORK/time.txt" "$OUT/folders" dir "$WANTU_TEST_ENDPOINT" "${ARGS[@]}" \
    "$WORK/k10" /rss >"$WORK/rss.out"
RSS_LINE="$(cat "$WORK/rss.out")"
RSS_KIB="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")"
echo "   $RSS_LINE peak_rss_kib=$RSS_KIB"

python3 - "$DIR_LINE" "$LOOP_LINE" "$RSS_LINE" "$RSS_KIB" "$RTT_MS" >"$OUT/folders.md" <<'PY'
import sys
def fields(line):
    return dict(kv.split("=") for kv in line.split()[1:])
d, l, r = fields(sys.argv[1]), fields(sys.argv[2]), fields(sys.argv[3])
rss, rtt = int(sys.argv[4]) / 1024, sys.argv[5]
ratio = float(d["files_per_s"]) / float(l["files_per_s"])
print(f"| 1000 x 16 KiB in 10 folders, {rtt} ms RTT | seconds | files/s |")
print("|---|---:|---:|")
print(f"| sequential loop of `wantu_upload_file` | {l['seconds']} | {l['files_per_s']} |")
print(f"| one `wantu_upload_dir` call, default options | {d['seconds']} | {d['files_per_s']} |")
print()
print(f"Ratio: **{ratio:.1f}x** (target >= 25x, and >= 500 files/s).")
print()
print(f"10,000 x 4 KiB on loopback, one `wantu_upload_dir` call: {r['seconds']} s "
      f"({r['files_per_s']} files/s), client peak RSS **{rss:.1f} MiB** (target <= 64 MiB).")
PY
echo
cat "$OUT/folders.md"

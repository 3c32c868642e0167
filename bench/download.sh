#!/usr/bin/env bash
# `make bench-download`: downloads against curl, release builds, one run:
#
#   1. loopback, 1 GiB of random data: `curl -o` of the file's URL against
#      wantu_download_file (bench/download.c) at default options and at
#      concurrency 4; wall time, client CPU, peak RSS (/usr/bin/time -v),
#      ROUNDS rounds taking turns, medians. Every download is checked
#      (libwantu verifies the MD5 itself; curl's copy and ours are also
#      compared with the source once, outside the timings).
#   2. an emulated 40 ms round trip (bench/latency-proxy in front of
#      wantu-server, for the API and the file URLs alike), 1000 files of
#      16 KiB in 10 folders: wantu_download_dir at default options against
#      a sequential loop of single GETs (one curl process reusing its
#      connection: `curl -K` with 1000 url/output pairs, the fastest
#      sequential form). Both copies are compared with the source.
#   3. loopback, 10,000 files of 1 KiB in 20 folders: one wantu_download_dir
#      call at defaults, peak RSS (the goal: at most 64 MiB).
#
# Results: printed, and written to build/bench-download/results.md.
# Knobs: ROUNDS=N (default 3), BENCH_DIR=DIR (temporary files; ~3 GB for
# part 1), ONLY="large small many" (the parts to run), PROFILE=debug (a quick
# look with debug builds; the figures in bench/README.md are release).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh
source bench/lib.sh

ROUNDS="${ROUNDS:-3}"
ONLY="${ONLY:-large small many}"
PROFILE="${PROFILE:-release}"
want() { [[ " $ONLY " == *" $1 "* ]]; }
OUT=build/bench-download
mkdir -p "$OUT"
bench_tools

echo "== building $PROFILE libwantu, wantu-server and latency-proxy"
PROFILE_FLAG=()
[ "$PROFILE" = release ] && PROFILE_FLAG=(--release)
# (Separately: `--lib` would apply to every package of the command.)
cargo build "${PROFILE_FLAG[@]}" -q -p wantu --lib
cargo build "${PROFILE_FLAG[@]}" -q -p wantu-server -p latency-proxy --bins
REL="$(wantu_target_dir)/$PROFILE"
cc -std=c11 -O2 -Wall -Wextra -Werror -pedantic -Iinclude bench/download.c \
    -o "$OUT/download" -L"$REL" -Wl,-rpath,"$REL" -lwantu
cc -std=c11 -O2 -Wall -Wextra -Werror -pedantic -Iinclude examples-c/upload_large.c \
    -o "$OUT/upload_large" -L"$REL" -Wl,-rpath,"$REL" -lwantu
export WANTU_SERVER_BIN="$REL/wantu-server"
export WANTU_LIB="$REL/libwantu.so"

WORK="$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/wantu-bench-dl.XXXXXX")"
PROXY_PID=""
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
    wantu_server_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# measure LABEL CMD...: runs CMD under /usr/bin/time -v; appends
# "label wall cpu rss_kib" to $OUT/raw. The command's stdout goes to
# $OUT/answer.txt.
measure() {
    local label="$1"
    shift
    /usr/bin/time -v -o "$OUT/time.txt" "$@" >"$OUT/answer.txt"
    echo "$label $(time_figures "$OUT/time.txt")" >>"$OUT/raw"
    tail -n 1 "$OUT/raw" | awk '{printf "   %-16s wall %7.2f s  client CPU %6.2f s  peak RSS %7.1f MiB\n", $1, $2, $3, $4 / 1024}'
}

# The result document of our driver must say 200 at the top level.
check_ours() {
    python3 - "$OUT/answer.txt" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
if doc.get("code") != 200:
    sys.exit("bench: the download failed: %s" % json.dumps(doc)[:2000])
PY
}

: >"$OUT/raw"

# ---- 1. loopback, 1 GiB -------------------------------------------------
if want large; then
echo "== creating 1 GiB of random data"
head -c 1G /dev/urandom >"$WORK/1g.bin"
wantu_server_start
EP="$WANTU_TEST_ENDPOINT"
AUTH=("$WANTU_TEST_AK" "$WANTU_TEST_SK" "$WANTU_TEST_NAMESPACE")
echo "== uploading it"
UPLOAD_LARGE_QUIET=1 "$OUT/upload_large" "$EP" "${AUTH[@]}" "$WORK/1g.bin" /bench/1g.bin >/dev/null
URL="$EP/files/$WANTU_TEST_NAMESPACE/bench/1g.bin"
OURS=("$OUT/download" file "$EP" "${AUTH[@]}" /bench/1g.bin)

echo "== checking both copies once against the source"
curl -sS -f -o "$WORK/curl.bin" "$URL"
"${OURS[@]}" "$WORK/ours.bin" >"$OUT/answer.txt" && check_ours
cmp "$WORK/1g.bin" "$WORK/curl.bin"
cmp "$WORK/1g.bin" "$WORK/ours.bin"
rm -f "$WORK/curl.bin" "$WORK/ours.bin"

echo "== 1 GiB on loopback, $ROUNDS rounds (each configuration in turn)"
for round in $(seq "$ROUNDS"); do
    echo " round $round"
    measure curl curl -sS -f -o "$WORK/curl.bin" "$URL"
    rm -f "$WORK/curl.bin"
    measure ours-default "${OURS[@]}" "$WORK/ours.bin"
    check_ours
    rm -f "$WORK/ours.bin"
    measure ours-c4 "${OURS[@]}" "$WORK/ours.bin" '{"concurrency":4}'
    check_ours
    rm -f "$WORK/ours.bin"
done
wantu_server_stop
rm -f "$WORK/1g.bin"
fi

# ---- 2. 1000 x 16 KiB through a 40 ms round trip -------------------------
if want small; then
PROXY_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
WANTU_SERVER_ARGS="--public-url http://127.0.0.1:$PROXY_PORT" wantu_server_start
AUTH=("$WANTU_TEST_AK" "$WANTU_TEST_SK" "$WANTU_TEST_NAMESPACE")
"$REL/latency-proxy" --listen "127.0.0.1:$PROXY_PORT" --upstream "${WANTU_TEST_ENDPOINT#http://}" \
    --rtt-ms 40 >"$WORK/proxy.out" 2>&1 &
PROXY_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/proxy.out" && break; sleep 0.1; done
grep -q "listening on" "$WORK/proxy.out" || { echo "bench: latency-proxy did not start" >&2; exit 1; }
FAR="http://127.0.0.1:$PROXY_PORT"

echo "== storing 1000 files of 16 KiB in 10 folders (directly, not through the proxy)"
mkdir -p "$WORK/src"
python3 - "$WORK/src" "$WANTU_TEST_ENDPOINT" <<'PY'
import os, sys
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, "bindings/python")
import want
root, ep = sys.argv[1], sys.argv[2]
ak, sk, ns = (os.environ[k] for k in ("WANTU_TEST_AK", "WANTU_TEST_SK", "WANTU_TEST_NAMESPACE"))
w = want.Want(ak, sk, "TOP", ep, ep)
policy = {"namespace": ns, "expiration": -1}
def put(i):
    folder, name = "d%02d" % (i % 10), "f%04d.bin" % i
    data = os.urandom(16384)
    os.makedirs(os.path.join(root, folder), exist_ok=True)
    with open(os.path.join(root, folder, name), "wb") as f:
        f.write(data)
    r = w.upload(policy, "/small/" + folder, name, data)
    assert r["code"] == 200, r
with ThreadPoolExecutor(16) as pool:
    list(pool.map(put, range(1000)))
PY
python3 - "$WORK/src" "$FAR/files/$WANTU_TEST_NAMESPACE/small" "$WORK/seq" >"$WORK/curl.cfg" <<'PY'
import os, sys
src, base, out = sys.argv[1:]
for folder in sorted(os.listdir(src)):
    for name in sorted(os.listdir(os.path.join(src, folder))):
        print('url = "%s/%s/%s"' % (base, folder, name))
        print('output = "%s/%s/%s"' % (out, folder, name))
PY

echo "== 1000 x 16 KiB through a 40 ms round trip"
measure sequential-gets curl -sS -f --create-dirs -K "$WORK/curl.cfg"
diff -r "$WORK/src" "$WORK/seq" >/dev/null
for round in $(seq "$ROUNDS"); do
    rm -rf "$WORK/ours"
    measure download-dir "$OUT/download" dir "$FAR" "${AUTH[@]}" /small "$WORK/ours"
    check_ours
    diff -r "$WORK/src" "$WORK/ours" >/dev/null
done

kill "$PROXY_PID" 2>/dev/null || true
PROXY_PID=""
wantu_server_stop
fi

# ---- 3. 10,000 small files in one call: peak RSS ------------------------
if want many; then
wantu_server_start
AUTH=("$WANTU_TEST_AK" "$WANTU_TEST_SK" "$WANTU_TEST_NAMESPACE")
echo "== storing 10,000 files of 1 KiB in 20 folders"
python3 - "$WANTU_TEST_ENDPOINT" <<'PY'
import os, sys
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, "bindings/python")
import want
ep = sys.argv[1]
ak, sk, ns = (os.environ[k] for k in ("WANTU_TEST_AK", "WANTU_TEST_SK", "WANTU_TEST_NAMESPACE"))
w = want.Want(ak, sk, "TOP", ep, ep)
policy = {"namespace": ns, "expiration": -1}
def put(i):
    r = w.upload(policy, "/many/d%02d" % (i % 20), "f%05d.bin" % i, os.urandom(1024))
    assert r["code"] == 200, r
with ThreadPoolExecutor(16) as pool:
    list(pool.map(put, range(10000)))
PY
echo "== 10,000 x 1 KiB on loopback, one wantu_download_dir call at defaults"
rm -rf "$WORK/many"
measure download-10k "$OUT/download" dir "$WANTU_TEST_ENDPOINT" "${AUTH[@]}" /many "$WORK/many"
check_ours
test "$(find "$WORK/many" -type f | wc -l)" = 10000
fi

python3 - "$OUT/raw" "$ROUNDS" "$PROFILE" >"$OUT/results.md" <<'PY'
import os, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
labels = {r[0] for r in rows}
def med(label, i):
    return statistics.median(float(r[i]) for r in rows if r[0] == label)
print(f"Medians of {sys.argv[2]} rounds; {sys.argv[3]} builds; client and server on the same")
print(f"machine (`nproc` = {os.cpu_count()}).")
if "curl" in labels:
    print()
    print("| 1 GiB download, loopback | wall (s) | wall / curl | client CPU (s) | client peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|")
    curl = med("curl", 1)
    for label, name in [("curl", "`curl -o`"), ("ours-default", "wantu_download_file, defaults"),
                        ("ours-c4", "wantu_download_file, concurrency 4")]:
        print(f"| {name} | {med(label, 1):.2f} | {med(label, 1) / curl:.2f} | {med(label, 2):.2f} | {med(label, 3) / 1024:.1f} |")
if "download-dir" in labels:
    print()
    seq, ours = med("sequential-gets", 1), med("download-dir", 1)
    print("| 1000 x 16 KiB, 10 folders, 40 ms RTT | wall (s) | files/s | speed-up | client peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|")
    print(f"| sequential GETs (one curl, keep-alive) | {seq:.2f} | {1000 / seq:.0f} | 1.0 | {med('sequential-gets', 3) / 1024:.1f} |")
    print(f"| wantu_download_dir, defaults | {ours:.2f} | {1000 / ours:.0f} | {seq / ours:.1f} | {med('download-dir', 3) / 1024:.1f} |")
if "download-10k" in labels:
    print()
    print("| 10,000 x 1 KiB, 20 folders, loopback, one call | wall (s) | files/s | client peak RSS (MiB) |")
    print("|---|---:|---:|---:|")
    many = med("download-10k", 1)
    print(f"| wantu_download_dir, defaults | {many:.2f} | {10000 / many:.0f} | {med('download-10k', 3) / 1024:.1f} |")
PY
echo
cat "$OUT/results.md"

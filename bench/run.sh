#!/usr/bin/env bash
# `make bench`: the one-call upload against `curl -F content=@file`, on the
# same machine and the same wantu-server (release builds), in one run:
#
#   - 1 GiB: wall time and client CPU (user + sys) of
#       curl (one simple upload request with a valid token),
#       upload_large with integrity on (the default),
#       upload_large with integrity off,
#     and, as the reference for the client's hashing cost, one MD5 pass over
#     the same file (`openssl dgst -md5`);
#   - peak RSS of upload_large at default options for 1 GiB and 4 GiB;
#   - small files: SMALL_COUNT (default 1000) files of 4 KiB uploaded with
#     the seed's one-request call (wantu_upload_file in a loop over one
#     client, bench/small_files.c) against one curl process uploading them
#     all over one reused handle (libcurl keeps the connection): files/s.
#
# Figures come from /usr/bin/time -v (GNU time; installed with apt-get when
# missing). Each 1 GiB configuration runs ROUNDS times (default 3), taking
# turns, and the median is reported; the server's CPU time per upload is
# shown too, read from /proc. The random test files live in a temporary
# directory that is removed at the end, as is the server's data directory.
# Results: printed, and written to build/bench/results.md.
#
# Every 1 GiB upload stores the same remote name, so the server keeps one
# copy. Knobs: ROUNDS=N, SMALL_COUNT=N, LARGE=0 (skip the 4 GiB run when
# disk is short: it needs ~9 GB more), BENCH_DIR=DIR (where the test files
# go; default $TMPDIR).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh
source bench/lib.sh

ROUNDS="${ROUNDS:-3}"
SMALL_COUNT="${SMALL_COUNT:-1000}"
LARGE="${LARGE:-1}"
OUT=build/bench
mkdir -p "$OUT"

bench_tools

echo "== building release libwantu and wantu-server"
cargo build --release -q -p wantu --lib
cargo build --release -q -p wantu-server --bin wantu-server
REL="$(wantu_target_dir)/release"
cc -std=c11 -O2 -Wall -Wextra -Werror -pedantic -Iinclude examples-c/upload_large.c \
    -o "$OUT/upload_large" -L"$REL" -Wl,-rpath,"$REL" -lwantu
cc -std=c11 -O2 -Wall -Wextra -Werror -pedantic -Iinclude bench/small_files.c \
    -o "$OUT/small_files" -L"$REL" -Wl,-rpath,"$REL" -lwantu
export WANTU_SERVER_BIN="$REL/wantu-server"

WORK="$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/wantu-bench.XXXXXX")"
cleanup() {
    wantu_server_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== creating 1 GiB and 4 GiB files of random data in $WORK"
head -c 1G /dev/urandom >"$WORK/1g.bin"
[ "$LARGE" = 0 ] || head -c 4G /dev/urandom >"$WORK/4g.bin"
mkdir "$WORK/small"
python3 - "$WORK/small" "$SMALL_COUNT" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "f%05d" % i), "wb") as f:
        f.write(os.urandom(4096))
PY

echo "== starting wantu-server (release)"
wantu_server_start
EP="$WANTU_TEST_ENDPOINT"

# An upload token for {"namespace":NS,"expiration":-1} (docs/protocol.md §2).
TOKEN="$(python3 - <<'PY'
import base64, hashlib, hmac, json, os
ak, sk, ns = (os.environ[k] for k in ("WANTU_TEST_AK", "WANTU_TEST_SK", "WANTU_TEST_NAMESPACE"))
b64u = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
policy = b64u(json.dumps({"namespace": ns, "expiration": -1}).encode())
sign = hmac.new(sk.encode(), policy.encode(), hashlib.sha1).hexdigest()
print("UPLOAD_AK_TOP " + b64u(f"{ak}:{policy}:{sign}".encode()))
PY
)"

server_cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$WANTU_SERVER_PID/stat"; }

# measure LABEL CMD...: runs CMD under /usr/bin/time -v, checks that the
# upload succeeded (EXPECT answers with code 200 or "OK", default 1; 0 for
# a command that uploads nothing), appends "label wall cpu rss_kib
# server_cpu" to $OUT/raw.
measure() {
    local label="$1" before after got
    shift
    before="$(server_cpu)"
    /usr/bin/time -v -o "$OUT/time.txt" "$@" >"$OUT/answer.txt"
    after="$(server_cpu)"
    got="$(grep -oE '"code":(200|"OK")' "$OUT/answer.txt" | wc -l || true)"
    [ "$got" = "${EXPECT:-1}" ] || {
        echo "bench: $label did not succeed ($got of ${EXPECT:-1} answers OK):" >&2
        head -c 2000 "$OUT/answer.txt" >&2
        exit 1
    }
    echo "$label $(time_figures "$OUT/time.txt") $(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", a - b }')" >>"$OUT/raw"
    tail -n 1 "$OUT/raw" | awk '{printf "   %-14s wall %6.2f s  client CPU %6.2f s  peak RSS %7.1f MiB  server CPU %6.2f s\n", $1, $2, $3, $4 / 1024, $5}'
}

# /usr/bin/time runs programs, not shell functions: spell the commands out.
export UPLOAD_LARGE_QUIET=1
OURS=("$OUT/upload_large" "$EP" "$WANTU_TEST_AK" "$WANTU_TEST_SK" "$WANTU_TEST_NAMESPACE")
CURL=(curl -sS -H "Authorization: $TOKEN" -F dir=/bench -F name=1g.bin)

: >"$OUT/raw"
echo "== 1 GiB, $ROUNDS rounds (each configuration in turn)"
for round in $(seq "$ROUNDS"); do
    echo " round $round"
    measure curl "${CURL[@]}" -F "content=@$WORK/1g.bin" "$EP/api/proxy/upload"
    measure integrity-on "${OURS[@]}" "$WORK/1g.bin" /bench/1g.bin
    measure integrity-off "${OURS[@]}" "$WORK/1g.bin" /bench/1g.bin '{"integrity":false}'
    EXPECT=0 measure md5-pass openssl dgst -md5 "$WORK/1g.bin"
done
if [ "$LARGE" != 0 ]; then
    echo "== 4 GiB at defaults"
    measure rss-4g "${OURS[@]}" "$WORK/4g.bin" /bench/4g.bin
fi

echo "== $SMALL_COUNT files of 4 KiB, one request each"
# One curl process, one transfer per file separated by `next`: libcurl
# reuses its handle and connection, as a tuned C loop over libcurl would.
for i in $(seq 0 $((SMALL_COUNT - 1))); do
    f="$(printf 'f%05d' "$i")"
    [ "$i" -gt 0 ] && echo next
    printf 'url = "%s/api/proxy/upload"\nheader = "Authorization: %s"\n' "$EP" "$TOKEN"
    printf 'form = "dir=/small-curl"\nform = "name=%s"\nform = "content=@%s/small/%s"\n' "$f" "$WORK" "$f"
done >"$WORK/curl-small.cfg"
measure small-seed "$OUT/small_files" "$EP" "$WANTU_TEST_AK" "$WANTU_TEST_SK" \
    "$WANTU_TEST_NAMESPACE" "$WORK/small" "$SMALL_COUNT"
EXPECT="$SMALL_COUNT" measure small-curl curl -sS --config "$WORK/curl-small.cfg"

python3 - "$OUT/raw" "$ROUNDS" "$SMALL_COUNT" >"$OUT/results.md" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
small = int(sys.argv[3])
def med(label, i):
    return statistics.median(float(r[i]) for r in rows if r[0] == label)
curl_wall, curl_cpu = med("curl", 1), med("curl", 2)
print(f"Median of {sys.argv[2]} rounds; 1 GiB of random data; release builds; client and")
print("server on the same machine (`nproc` = %s)." % __import__("os").cpu_count())
print()
print("| 1 GiB upload | wall (s) | wall / curl | client CPU (s) | client peak RSS (MiB) | server CPU (s) |")
print("|---|---:|---:|---:|---:|---:|")
for label, name in [("curl", "`curl -F content=@file`"), ("integrity-on", "one-call, integrity on (default)"),
                    ("integrity-off", "one-call, integrity off")]:
    w, c = med(label, 1), med(label, 2)
    print(f"| {name} | {w:.2f} | {w / curl_wall:.2f} | {c:.2f} | {med(label, 3) / 1024:.1f} | {med(label, 4):.2f} |")
md5 = med("md5-pass", 2)
on = med("integrity-on", 2)
print()
print("| client CPU per GiB | s | / one MD5 pass |")
print("|---|---:|---:|")
print(f"| one MD5 pass (`openssl dgst -md5`, the reference) | {md5:.2f} | 1.00 |")
for label, name in [("integrity-on", "one-call, integrity on"), ("integrity-off", "one-call, integrity off"),
                    ("curl", "curl")]:
    print(f"| {name} | {med(label, 2):.2f} | {med(label, 2) / md5:.2f} |")
print()
print(f"wantu-server CPU, multipart (integrity on) / curl's simple upload: "
      f"{med('integrity-on', 4):.2f} / {med('curl', 4):.2f} s = {med('integrity-on', 4) / med('curl', 4):.2f}")
print()
print(f"| {small} files of 4 KiB | files/s | client CPU (s) | server CPU (s) |")
print("|---|---:|---:|---:|")
for label, name in [("small-seed", "`wantu_upload_file` loop (one client)"),
                    ("small-curl", "one curl process, reused handle")]:
    print(f"| {name} | {small / med(label, 1):.0f} | {med(label, 2):.2f} | {med(label, 4):.2f} |")
rss1 = med("integrity-on", 3) / 1024
large = any(r[0] == "rss-4g" for r in rows)
rss4 = med("rss-4g", 3) / 1024 if large else float("nan")
print()
print("| peak RSS at defaults | MiB |")
print("|---|---:|")
print(f"| 1 GiB | {rss1:.1f} |")
print(f"| 4 GiB | {rss4:.1f} |")
print()
if large:
    print(f"4 GiB upload at defaults: wall {med('rss-4g', 1):.2f} s, client CPU {med('rss-4g', 2):.2f} s.")
else:
    print("4 GiB run skipped (LARGE=0).")
PY
echo
cat "$OUT/results.md"

#!/usr/bin/env bash
# `make bench`: the one-call upload against `curl -F content=@file`, on the
# same machine and the same wantu-server (release builds), in one run:
#
#   - 1 GiB: wall time and client CPU (user + sys) of
#       curl (one simple upload request with a valid token),
#       upload_large with integrity on (the default),
#       upload_large with integrity off;
#   - peak RSS of upload_large at default options for 1 GiB and 4 GiB.
#
# Figures come from /usr/bin/time -v (GNU time; installed with apt-get when
# missing). Each 1 GiB configuration runs ROUNDS times (default 3), taking
# turns, and the median is reported; the server's CPU time per upload is
# shown too, read from /proc. The random test files live in a temporary
# directory that is removed at the end, as is the server's data directory.
# Results: printed, and written to build/bench/results.md.
#
# Knobs: ROUNDS=N, BENCH_DIR=DIR (where the test files go; default $TMPDIR).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh
source bench/lib.sh

ROUNDS="${ROUNDS:-3}"
OUT=build/bench
mkdir -p "$OUT"

bench_tools

echo "== building release libwantu and wantu-server"
cargo build --release -q -p wantu --lib
cargo build --release -q -p wantu-server --bin wantu-server
REL="$(wantu_target_dir)/release"
cc -std=c11 -O2 -Wall -Wextra -Werror -pedantic -Iinclude examples-c/upload_large.c \
    -o "$OUT/upload_large" -L"$REL" -Wl,-rpath,"$REL" -lwantu
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
head -c 4G /dev/urandom >"$WORK/4g.bin"

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
# upload succeeded, appends "label wall cpu rss_kib server_cpu" to $OUT/raw.
measure() {
    local label="$1" before after
    shift
    before="$(server_cpu)"
    /usr/bin/time -v -o "$OUT/time.txt" "$@" >"$OUT/answer.txt"
    after="$(server_cpu)"
    grep -qE '"code":(200|"OK")' "$OUT/answer.txt" || {
        echo "bench: $label did not succeed:" >&2
        cat "$OUT/answer.txt" >&2
        exit 1
    }
    echo "$label $(time_figures "$OUT/time.txt") $(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", a - b }')" >>"$OUT/raw"
    tail -n 1 "$OUT/raw" | awk '{printf "   %-14s wall %6.2f s  client CPU %6.2f s  peak RSS %7.1f MiB  server CPU %6.2f s\n", $1, $2, $3, $4 / 1024, $5}'
}

# /usr/bin/time runs programs, not shell functions: spell the commands out.
export UPLOAD_LARGE_QUIET=1
OURS=("$OUT/upload_large" "$EP" "$WANTU_TEST_AK" "$WANTU_TEST_SK" "$WANTU_TEST_NAMESPACE")
CURL=(curl -sS -H "Authorization: $TOKEN" -F dir=/bench -F name=curl.bin)

: >"$OUT/raw"
echo "== 1 GiB, $ROUNDS rounds (each configuration in turn)"
for round in $(seq "$ROUNDS"); do
    echo " round $round"
    measure curl "${CURL[@]}" -F "content=@$WORK/1g.bin" "$EP/api/proxy/upload"
    measure integrity-on "${OURS[@]}" "$WORK/1g.bin" /bench/on.bin
    measure integrity-off "${OURS[@]}" "$WORK/1g.bin" /bench/off.bin '{"integrity":false}'
done
echo "== 4 GiB at defaults"
measure rss-4g "${OURS[@]}" "$WORK/4g.bin" /bench/4g.bin

python3 - "$OUT/raw" "$ROUNDS" >"$OUT/results.md" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
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
rss1, rss4 = med("integrity-on", 3) / 1024, med("rss-4g", 3) / 1024
print()
print("| peak RSS at defaults | MiB |")
print("|---|---:|")
print(f"| 1 GiB | {rss1:.1f} |")
print(f"| 4 GiB | {rss4:.1f} |")
print()
print(f"4 GiB upload at defaults: wall {med('rss-4g', 1):.2f} s, client CPU {med('rss-4g', 2):.2f} s.")
PY
echo
cat "$OUT/results.md"

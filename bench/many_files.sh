#!/usr/bin/env bash
# `make bench-many-files`: the `wantu` tool's peak memory against the number
# of files, release builds, one run per count.
#
# For each count N (COUNTS, default "20000 200000"): N files of 10 bytes in
# 1,000 folders, then on loopback against a local wantu-server
#   1. `wantu cp -r TREE wantu://NS/up/`            (every file uploaded)
#   2. `wantu sync TREE wantu://NS/up/TREE/`        (every file skipped)
#   3. `wantu cp -r wantu://NS/up/TREE/ DOWN/`      (every file downloaded)
# each under /usr/bin/time -v: wall time, files/s and the client's peak RSS.
# The figures show how the folder engines' memory grows with the count.
#
# The server keeps its data on tmpfs (/dev/shm) when there is one, so its
# fsyncs do not set the pace (see bench/folders.sh).
#
# Results are printed and written to build/bench/many_files.md.
# Knobs: COUNTS, BENCH_DIR (where the local files go; default $TMPDIR),
# SERVER_DIR (the server's data; default /dev/shm, else $TMPDIR).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh
source bench/lib.sh

COUNTS="${COUNTS:-20000 200000}"
OUT=build/bench
mkdir -p "$OUT"
bench_tools

echo "== building release wantu and wantu-server"
cargo build --release -q -p wantu-cli --bin wantu
cargo build --release -q -p wantu-server --bin wantu-server
REL="$(wantu_target_dir)/release"
export WANTU_SERVER_BIN="$REL/wantu-server"

WORK="$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/wantu-bench-many.XXXXXX")"
cleanup() {
    wantu_server_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SERVER_DIR="${SERVER_DIR:-/dev/shm}"
[ -d "$SERVER_DIR" ] && [ -w "$SERVER_DIR" ] || SERVER_DIR="${TMPDIR:-/tmp}"
echo "== starting wantu-server (release, data under $SERVER_DIR)"
TMPDIR="$SERVER_DIR" wantu_server_start
export WANTU_AK="$WANTU_TEST_AK" WANTU_SK="$WANTU_TEST_SK" WANTU_ENDPOINT="$WANTU_TEST_ENDPOINT"
export WANTU_CONFIG="$WORK/no-config"
NS="$WANTU_TEST_NAMESPACE"

# make_tree DIR FILES: FILES files of 10 bytes in 1,000 folders.
make_tree() {
    python3 - "$1" "$2" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for d in range(1000):
    os.makedirs(os.path.join(root, "d%04d" % d), exist_ok=True)
for i in range(n):
    with open(os.path.join(root, "d%04d" % (i % 1000), "f%07d" % i), "wb") as f:
        f.write(b"%010d" % i)
PY
}

# measure LABEL N ARGS...: runs wantu ARGS under GNU time; one result line.
RESULTS="$WORK/results"
: >"$RESULTS"
measure() {
    local label="$1" n="$2"
    shift 2
    local code=0
    /usr/bin/time -v -o "$WORK/time.txt" "$REL/wantu" -q "$@" || code=$?
    read -r wall cpu rss < <(time_figures "$WORK/time.txt")
    echo "   $label: ${wall} s, $((rss / 1024)) MiB peak RSS, exit $code"
    echo "$n $label $wall $cpu $rss $code" >>"$RESULTS"
}

for n in $COUNTS; do
    tree="t$n"
    echo "== $n files of 10 bytes in 1,000 folders"
    make_tree "$WORK/$tree" "$n"
    (cd "$WORK" && measure up "$n" cp -r "$tree" "wantu://$NS/up/")
    (cd "$WORK" && measure sync "$n" sync "$tree" "wantu://$NS/up/$tree/")
    (cd "$WORK" && measure down "$n" cp -r "wantu://$NS/up/$tree/" "down$n/")
    got="$(find "$WORK/down$n/$tree" -type f | wc -l)"
    echo "   $got files came down"
    [ "$got" = "$n" ] || { echo "bench: expected $n files down, got $got" >&2; exit 1; }
    rm -rf "$WORK/$tree" "$WORK/down$n"
done

python3 - "$RESULTS" >"$OUT/many_files.md" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    n, label, wall, cpu, rss, code = line.split()
    rows.setdefault(int(n), {})[label] = (float(wall), float(cpu), int(rss), int(code))
print("| files | `cp -r` up | `sync` again (all skipped) | `cp -r` down |")
print("|---:|---:|---:|---:|")
for n, r in sorted(rows.items()):
    cells = []
    for label in ("up", "sync", "down"):
        wall, cpu, rss, code = r[label]
        fail = "" if code == 0 else f" (exit {code})"
        cells.append(f"{rss / 1024:.0f} MiB, {wall:.1f} s, {n / wall:.0f} files/s{fail}")
    print(f"| {n:,} | " + " | ".join(cells) + " |")
PY
echo
cat "$OUT/many_files.md"

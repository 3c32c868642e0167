#!/usr/bin/env bash
# `make bench-streams`: bytes through pipes and memory, release builds,
# one run against a local wantu-server on loopback:
#
#   1. `wantu cat` of a 512 MiB file piped to md5sum against
#      `curl -s URL | md5sum`: wall time of each pipeline (median of ROUNDS,
#      taking turns), their ratio, and the peak RSS of `wantu`
#      (/usr/bin/time -v on it alone). Both MD5s must be the source's.
#   2. `cat big | wantu cp - wantu://…` of the same 512 MiB: wall, peak RSS
#      of `wantu`, and the stored MD5 against the source's.
#   3. One 8 MiB member of a stored 200 MiB zip read through Python's
#      `Want.open` and zipfile: bytes fetched from the network against the
#      member's size (RemoteFile.bytes_fetched), member bytes checked.
#   4. A 1 MiB range from the middle of the 512 MiB file (`wantu cat
#      --range`): the requests of the server's log (one range GET) and the
#      bytes against the source's.
#
# Results: printed, and written to build/bench-streams/results.md.
# Knobs: ROUNDS=N (default 3), BENCH_DIR=DIR (temporary files; ~1.5 GB),
# PROFILE=debug (a quick look; the figures in bench/README.md are release),
# BUILD=0 (use the binaries already built).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh
source bench/lib.sh

ROUNDS="${ROUNDS:-3}"
PROFILE="${PROFILE:-release}"
OUT=build/bench-streams
mkdir -p "$OUT"
bench_tools

PROFILE_FLAG=()
[ "$PROFILE" = release ] && PROFILE_FLAG=(--release)
if [ "${BUILD:-1}" != 0 ]; then
    echo "== building $PROFILE libwantu, wantu-server and wantu"
    cargo build "${PROFILE_FLAG[@]}" -q -p wantu --lib
    cargo build "${PROFILE_FLAG[@]}" -q -p wantu-server -p wantu-cli --bins
fi
REL="$(wantu_target_dir)/$PROFILE"
export WANTU_SERVER_BIN="$REL/wantu-server"
export WANTU_LIB="$REL/libwantu.so"
WANTU="$REL/wantu"

WORK="$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/wantu-bench-streams.XXXXXX")"
cleanup() {
    wantu_server_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wantu_server_start
export WANTU_AK="$WANTU_TEST_AK" WANTU_SK="$WANTU_TEST_SK" WANTU_ENDPOINT="$WANTU_TEST_ENDPOINT"
NS="$WANTU_TEST_NAMESPACE"
: >"$OUT/raw"

# wall CMD: runs the shell pipeline CMD, answers its wall seconds.
wall() {
    local t0 t1
    t0="$(date +%s.%N)"
    bash -o pipefail -c "$1"
    t1="$(date +%s.%N)"
    python3 -c "print(f'{$t1 - $t0:.3f}')"
}

# rss FILE: peak RSS in KiB from a /usr/bin/time -v report.
rss() { time_figures "$1" | awk '{print $3}'; }

echo "== creating and storing 512 MiB of random data"
head -c 512M /dev/urandom >"$WORK/big.bin"
SRC_MD5="$(md5sum "$WORK/big.bin" | cut -d' ' -f1)"
"$WANTU" -q cp "$WORK/big.bin" "wantu://$NS/bench/big.bin"
URL="$WANTU_TEST_ENDPOINT/files/$NS/bench/big.bin"

# ---- 1. cat | md5sum against curl | md5sum ------------------------------
echo "== 512 MiB: wantu cat | md5sum against curl -s | md5sum, $ROUNDS rounds"
for round in $(seq "$ROUNDS"); do
    w="$(wall "curl -sS -f '$URL' | md5sum >'$WORK/curl.md5'")"
    [ "$(cut -d' ' -f1 "$WORK/curl.md5")" = "$SRC_MD5" ] || { echo "bench: curl's MD5 differs" >&2; exit 1; }
    echo "curl $w 0" >>"$OUT/raw"
    w="$(wall "/usr/bin/time -v -o '$WORK/cat.time' '$WANTU' cat 'wantu://$NS/bench/big.bin' | md5sum >'$WORK/cat.md5'")"
    [ "$(cut -d' ' -f1 "$WORK/cat.md5")" = "$SRC_MD5" ] || { echo "bench: wantu cat's MD5 differs" >&2; exit 1; }
    echo "cat $w $(rss "$WORK/cat.time")" >>"$OUT/raw"
    tail -n 2 "$OUT/raw" | awk '{printf "   %-5s wall %6.2f s  peak RSS %7.1f MiB\n", $1, $2, $3 / 1024}'
done

# ---- 2. cat big | wantu cp - -------------------------------------------
echo "== 512 MiB: cat big | wantu cp - wantu://…"
w="$(wall "cat '$WORK/big.bin' | /usr/bin/time -v -o '$WORK/cp.time' '$WANTU' -q cp - 'wantu://$NS/bench/piped.bin'")"
STORED="$("$WANTU" --json stat "wantu://$NS/bench/piped.bin" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["md5"])')"
[ "$STORED" = "$SRC_MD5" ] || { echo "bench: the stored MD5 $STORED is not the source's $SRC_MD5" >&2; exit 1; }
echo "stdin $w $(rss "$WORK/cp.time")" >>"$OUT/raw"
tail -n 1 "$OUT/raw" | awk '{printf "   wall %6.2f s  peak RSS %7.1f MiB  stored MD5 matches\n", $2, $3 / 1024}'

# ---- 4. 1 MiB from the middle -------------------------------------------
echo "== a 1 MiB range from the middle of the 512 MiB file"
FIRST=$((256 * 1024 * 1024 + 12345))
LAST=$((FIRST + 1024 * 1024 - 1))
BEFORE="$(grep -c 'GET /files/' "$WANTU_SERVER_LOG" || true)"
"$WANTU" cat --range "$FIRST-$LAST" "wantu://$NS/bench/big.bin" >"$WORK/range.bin"
AFTER="$(grep -c 'GET /files/' "$WANTU_SERVER_LOG" || true)"
tail -c +$((FIRST + 1)) "$WORK/big.bin" | head -c $((1024 * 1024)) | cmp - "$WORK/range.bin"
echo "range $((AFTER - BEFORE)) $(stat -c %s "$WORK/range.bin")" >>"$OUT/raw"
echo "   $((AFTER - BEFORE)) request(s), $(stat -c %s "$WORK/range.bin") bytes, identical to the source's"
rm -f "$WORK/big.bin"

# ---- 3. one member of a 200 MiB zip through Want.open --------------------
echo "== one 8 MiB member of a stored 200 MiB zip through Want.open"
WANTU_BIN="$WANTU" python3 - "$WORK" "$WANTU_TEST_ENDPOINT" "$NS" >>"$OUT/raw" <<'PY'
import hashlib, os, subprocess, sys, zipfile
sys.path.insert(0, "bindings/python")
import want
work, ep, ns = sys.argv[1:]
path = os.path.join(work, "archive.zip")
member = os.urandom(8 << 20)
with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
    for i in range(12):
        z.writestr("before/%02d.bin" % i, os.urandom(8 << 20))
    z.writestr("media/member.bin", member)
    for i in range(12):
        z.writestr("after/%02d.bin" % i, os.urandom(8 << 20))
size = os.path.getsize(path)
subprocess.run([os.environ.get("WANTU_BIN", "wantu"), "-q", "cp", path, "wantu://%s/bench/archive.zip" % ns],
               check=True)
os.remove(path)
w = want.Want(os.environ["WANTU_AK"], os.environ["WANTU_SK"], None, ep, ep)
with w.open(ns, "/bench", "archive.zip") as f:
    got = zipfile.ZipFile(f).read("media/member.bin")
    fetched, requests = f.raw.bytes_fetched, f.raw.requests
assert hashlib.md5(got).digest() == hashlib.md5(member).digest(), "the member's bytes differ"
print("zip %d %d %d %d" % (size, len(member), fetched, requests))
sys.stderr.write("   zip of %.1f MiB, member %.1f MiB: %.2f MiB fetched in %d requests (%.2fx the member)\n"
                 % (size / 2**20, len(member) / 2**20, fetched / 2**20, requests, fetched / len(member)))
PY

python3 - "$OUT/raw" "$ROUNDS" "$PROFILE" >"$OUT/results.md" <<'PY'
import os, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def med(label, i):
    return statistics.median(float(r[i]) for r in rows if r[0] == label)
def one(label):
    return next(r for r in rows if r[0] == label)
print(f"Medians of {sys.argv[2]} rounds; {sys.argv[3]} builds; client and server on the same")
print(f"machine (`nproc` = {os.cpu_count()}); both pipelines hash once more in md5sum.")
print()
print("| 512 MiB, loopback | wall (s) | wall / curl | peak RSS of wantu (MiB) |")
print("|---|---:|---:|---:|")
curl, cat = med("curl", 1), med("cat", 1)
print(f"| `curl -s URL \\| md5sum` | {curl:.2f} | 1.00 | |")
print(f"| `wantu cat … \\| md5sum` (MD5-checked) | {cat:.2f} | {cat / curl:.2f} | {med('cat', 2) / 1024:.1f} |")
s = one("stdin")
print(f"| `cat big \\| wantu cp - …` (stored MD5 matches) | {float(s[1]):.2f} | | {float(s[2]) / 1024:.1f} |")
print()
r = one("range")
z = one("zip")
print("| reads | figure |")
print("|---|---|")
print(f"| 1 MiB range from the middle (`cat --range`) | {r[1]} request(s), {r[2]} bytes, identical |")
print(f"| 8 MiB member of a {int(z[1]) / 2**20:.0f} MiB zip via `Want.open` | {int(z[3]) / 2**20:.2f} MiB fetched "
      f"in {z[4]} requests = {int(z[3]) / int(z[2]):.2f}x the member |")
PY
echo
cat "$OUT/results.md"

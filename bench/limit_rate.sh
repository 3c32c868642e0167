#!/usr/bin/env bash
# `make bench-limit-rate`: how closely `wantu cp --limit-rate` keeps to the
# rate, release builds, one run: a 12 MiB file up at 2 MiB/s should take
# 6 s (target 6 s +- 25%), then down at the same rate. The tests only check
# a lower bound (a loaded machine is slower, never faster); this checks the
# figure itself, and fails outside the target.
#
# Knobs: SIZE_MIB (default 12), RATE (default 2MiB, bytes per second).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh

SIZE_MIB="${SIZE_MIB:-12}"
RATE="${RATE:-2MiB}"
echo "== building release wantu and wantu-server"
cargo build --release -q -p wantu-cli --bin wantu
cargo build --release -q -p wantu-server --bin wantu-server
REL="$(wantu_target_dir)/release"
export WANTU_SERVER_BIN="$REL/wantu-server"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/wantu-bench-rate.XXXXXX")"
cleanup() {
    wantu_server_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
TMPDIR="${SERVER_DIR:-/dev/shm}" wantu_server_start
export WANTU_AK="$WANTU_TEST_AK" WANTU_SK="$WANTU_TEST_SK" WANTU_ENDPOINT="$WANTU_TEST_ENDPOINT"
export WANTU_CONFIG="$WORK/no-config"
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$WORK/big.bin"

# expected seconds: SIZE_MIB MiB at RATE.
expected="$(python3 - "$SIZE_MIB" "$RATE" <<'PY'
import re, sys
size = int(sys.argv[1]) << 20
m = re.fullmatch(r"(\d+)\s*([kmg]?)(i?b)?", sys.argv[2].strip().lower())
rate = int(m.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30}[m.group(2)]
print(f"{size / rate:.2f}")
PY
)"

status=0
run() {
    local label="$1"
    shift
    local start end took
    start="$(date +%s.%N)"
    "$REL/wantu" -q "$@"
    end="$(date +%s.%N)"
    took="$(python3 -c "print(f'{$end - $start:.2f}')")"
    if python3 -c "import sys; sys.exit(0 if abs($took - $expected) <= 0.25 * $expected else 1)"; then
        echo "   $label: $took s (expected $expected s +- 25%): ok"
    else
        echo "   $label: $took s (expected $expected s +- 25%): OUTSIDE THE TARGET"
        status=1
    fi
}
echo "== ${SIZE_MIB} MiB at --limit-rate $RATE"
run "up  " cp --limit-rate "$RATE" "$WORK/big.bin" "wantu://$WANTU_TEST_NAMESPACE/rate/"
run "down" cp --limit-rate "$RATE" "wantu://$WANTU_TEST_NAMESPACE/rate/big.bin" "$WORK/back.bin"
cmp "$WORK/big.bin" "$WORK/back.bin"
exit "$status"

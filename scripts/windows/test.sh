#!/usr/bin/env bash
# `make test-windows`: the C tests (tests/c/test_*.c) built with MinGW-w64
# against build/windows/wantu.dll and run under Wine, against a
# wantu-server running on Linux (built by the normal Linux cargo).
#
#   1. wantu-server for Linux (cargo build -p wantu-server)
#   2. the DLL (scripts/windows/build.sh, i.e. `make dll`)
#   3. the tests and the ProcessPrng stand-in (tests/windows/
#      bcryptprimitives.c; Wine 8.0 lacks it; TEST ONLY, never shipped),
#      into build/windows/tests/ next to a copy of wantu.dll
#   4. a private Wine prefix in $TMPDIR, removed at the end (about 20 s to
#      make, 700 MB of disk that is not worth keeping), and one persistent
#      wineserver for all the programs
#   5. each test under Wine, with a 10-minute limit each, and test_core
#      once more linked with the static library libwantu.a
#
# Knobs: WANTU_C_TESTS="test_core test_paths" runs only those.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)
source scripts/server.sh

echo "== wantu-server for Linux"
cargo build -q -p wantu-server --bin wantu-server
export WANTU_SERVER_BIN="${WANTU_SERVER_BIN:-$(wantu_target_dir)/debug/wantu-server}"

echo "== wantu.dll (make dll)"
scripts/windows/build.sh
source scripts/windows/env.sh

echo "== C tests for Windows"
tests_dir="$WIN_OUT/tests"
mkdir -p "$tests_dir"
cp "$WIN_OUT/wantu.dll" "$tests_dir/"
WIN_TEST_CC="${WIN_TEST_CC:-x86_64-w64-mingw32-gcc-posix}" # posix flavour: winpthreads
"$WIN_TEST_CC" -std=c11 -Wall -Wextra -Werror -O2 -shared \
    tests/windows/bcryptprimitives.c -o "$tests_dir/bcryptprimitives.dll" -lbcrypt
tests=()
for src in tests/c/test_*.c; do
    name="$(basename "$src" .c)"
    if [ -n "${WANTU_C_TESTS:-}" ] && [[ " $WANTU_C_TESTS " != *" $name "* ]]; then
        continue
    fi
    echo "compile $src"
    # -static: winpthreads and libgcc inside the .exe, so the only DLLs it
    # needs are Windows' own and wantu.dll.
    "$WIN_TEST_CC" -std=c11 -Wall -Wextra -Werror -pedantic -g -static -Iinclude -Itests/c \
        "$src" "$WIN_OUT/wantu.dll.a" -lws2_32 -o "$tests_dir/$name.exe"
    tests+=("$name")
done
[ "${#tests[@]}" -gt 0 ] || { echo "no C tests selected" >&2; exit 1; }
# The static library too: test_core linked with libwantu.a and the system
# libraries rustc listed for it, as the zip's README tells users to.
if [[ " ${tests[*]} " == *" test_core "* ]]; then
    echo "compile tests/c/test_core.c against libwantu.a"
    # shellcheck disable=SC2046 # the list is words on purpose
    "$WIN_TEST_CC" -std=c11 -Wall -Wextra -Werror -pedantic -g -static -Iinclude -Itests/c \
        tests/c/test_core.c "$WIN_OUT/libwantu.a" $(cat "$WIN_OUT/native-static-libs.txt") \
        -o "$tests_dir/test_core_static.exe"
    tests+=(test_core_static)
fi

WINEPREFIX="$(mktemp -d "${TMPDIR:-/tmp}/wantu-wine.XXXXXX")"
export WINEPREFIX
trap 'wantu_server_stop; "$WINESERVER" -k 2>/dev/null || true; rm -rf "$WINEPREFIX"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "== Wine prefix $WINEPREFIX"
t0=$(date +%s)
"$WINE" wineboot --init >/dev/null 2>&1
"$WINESERVER" -w
# One wineserver for the whole run (killed by the EXIT trap). Left alone it
# exits about 3 s after each program and the next program starts a new
# one; once in four runs on a loaded machine a program died at start with
# "wine client error:0: recvmsg: Connection reset by peer" before printing
# anything, i.e. it lost its wineserver. A persistent one is never mid-exit.
"$WINESERVER" -p
echo "ready in $(($(date +%s) - t0)) s ($("$WINE" --version))"
wantu_server_start

passed=0
failed=()
for name in "${tests[@]}"; do
    log="$tests_dir/$name.log"
    t0=$(date +%s)
    status=0
    (cd "$tests_dir" && timeout 600 "$WINE" "$name.exe") >"$log" 2>&1 || status=$?
    secs=$(($(date +%s) - t0))
    checks="$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 | cut -d' ' -f1 || true)"
    if [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
        echo "ok     $name.exe: ${checks:-?} checks passed (${secs} s)"
    else
        failed+=("$name")
        echo "FAILED $name.exe: exit status $status (${secs} s); its output:"
        sed 's/^/    /' "$log"
    fi
done
echo "Windows C tests under Wine: $passed passed, ${#failed[@]} failed ($(($(date +%s) - started)) s in all)"
if [ "${#failed[@]}" -ne 0 ]; then
    echo "last lines of the server log ($WANTU_SERVER_LOG):"
    tail -n 15 "$WANTU_SERVER_LOG" | sed 's/^/    /'
    exit 1
fi

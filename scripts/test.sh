#!/usr/bin/env bash
# `make test`: every test, in order, stopping at the first stage that fails.
#
#   1. cargo fmt --check          5. C tests: tests/c/test_*.c, strict warnings,
#   2. cargo clippy -D warnings      each run under valgrind against one
#   3. cargo test --workspace        wantu-server (leaks are errors)
#   4. cargo build (cdylib+server) 6. C tests again, built with gcc's
#                                     -fsanitize=address,undefined
#                                  7. C examples: examples-c/*.c built, sync
#                                     run twice under valgrind
#                                  8. Python: bindings/python/test_*.py   (if any)
#                                  9. Python wheel: tests/python-wheel/run.sh
#                                 10. Node package: tests/node/run.sh
#                                 11. C++: tests/cpp/*.cpp                (if any)
#                                 12. install: tests/install/run.sh       (if present)
#
# Stages 5-12 run with a wantu-server up and these variables exported:
#   WANTU_TEST_ENDPOINT, WANTU_TEST_AK, WANTU_TEST_SK, WANTU_TEST_NAMESPACE
#       (see scripts/server.sh and tests/c/common.h)
#   WANTU_LIB        the built target/debug/libwantu.so
#   WANTU_LIB_DIR    its directory (also prepended to LD_LIBRARY_PATH)
#
# Environment knobs, for debugging: CC, CXX, SAN_CC (gcc); VALGRIND=0 runs the C tests
# without valgrind; WANTU_C_TESTS="test_core test_threads" runs only those;
# SKIP_RUST=1 skips stages 1-3 (a run with it does not count as a full run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh

CC="${CC:-cc}"
CXX="${CXX:-g++}"
CFLAGS_STRICT=(-std=c11 -Wall -Wextra -Werror -pedantic -g -pthread)
CXXFLAGS_STRICT=(-std=c++17 -Wall -Wextra -Werror -g -pthread)
# Leaks. Measured: after wantu_client_free the library leaves nothing at all
# ("in use at exit: 0 bytes" for every test here). What may legitimately stay
# "still reachable" are process-lifetime statics: the tracing subscriber that
# WANTU_LOG installs, a process-wide rustls crypto provider, std's and
# glibc's own caches. Those are tolerated; memory that nothing points to any
# more (definite, indirect) or only into the middle of (possible) fails the
# test, and so does every memory error (exit code 99).
VALGRIND_ARGS=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --num-callers=40)

started=$(date +%s)
stages_passed=0

stage() {
    echo
    echo "== $1"
}

fail() {
    echo
    echo "FAILED: $1"
    echo "stages: $stages_passed passed, 1 failed"
    exit 1
}

passed() {
    stages_passed=$((stages_passed + 1))
    echo "-- $1 ok ($(($(date +%s) - started)) s so far)"
}

if [ "${SKIP_RUST:-0}" = 1 ]; then
    echo "SKIP_RUST=1: skipping rustfmt, clippy and cargo test"
else
    stage "rustfmt (cargo fmt --all -- --check)"
    cargo fmt --all -- --check || fail "formatting: run 'cargo fmt --all'"
    passed "rustfmt"

    stage "clippy (cargo clippy --workspace --all-targets -- -D warnings)"
    cargo clippy --workspace --all-targets -- -D warnings || fail "clippy warnings"
    passed "clippy"

    stage "Rust tests (cargo test --workspace)"
    cargo test --workspace || fail "cargo test"
    passed "Rust tests"
fi

stage "build libwantu.so and wantu-server (cargo build --workspace)"
cargo build --workspace || fail "cargo build"
TARGET="$(wantu_target_dir)"
export WANTU_LIB_DIR="$TARGET/debug"
export WANTU_LIB="$WANTU_LIB_DIR/libwantu.so"
export LD_LIBRARY_PATH="$WANTU_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export WANTU_SERVER_BIN="${WANTU_SERVER_BIN:-$WANTU_LIB_DIR/wantu-server}"
[ -f "$WANTU_LIB" ] || fail "$WANTU_LIB was not built"
[ -x "$WANTU_SERVER_BIN" ] || fail "$WANTU_SERVER_BIN was not built"
passed "build"

trap wantu_server_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
stage "wantu-server"
wantu_server_start || fail "wantu-server did not start"

# Compiles every tests/c/test_*.c (or those in WANTU_C_TESTS) into $2 with
# "${C_BUILD[@]}" and runs each with "${C_RUN[@]}" in front; reports each
# test and fails the stage named $1 if any test fails.
run_c_tests() {
    local label="$1" out="$2" src name log t0 secs status checks why
    local c_tests=() failed_names=() c_passed=0 c_failed=0
    mkdir -p "$out"
    for src in tests/c/test_*.c; do
        [ -e "$src" ] || continue
        name="$(basename "$src" .c)"
        if [ -n "${WANTU_C_TESTS:-}" ] && [[ " $WANTU_C_TESTS " != *" $name "* ]]; then
            continue
        fi
        echo "compile $src"
        "${C_BUILD[@]}" -Iinclude -Itests/c "$src" -o "$out/$name" \
            -L"$WANTU_LIB_DIR" -Wl,-rpath,"$WANTU_LIB_DIR" -lwantu ||
            fail "$src does not compile cleanly"
        c_tests+=("$name")
    done
    [ "${#c_tests[@]}" -gt 0 ] || fail "no C tests found in tests/c"
    for name in "${c_tests[@]}"; do
        log="$out/$name.log"
        t0=$(date +%s)
        status=0
        "${C_RUN[@]}" "$out/$name" >"$log" 2>&1 || status=$?
        secs=$(($(date +%s) - t0))
        checks="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 | cut -d' ' -f1 || true)"
        # A sanitizer that reports but lets the test pass would go unseen.
        if [ "$status" -eq 0 ] && grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
            status=96
        fi
        if [ "$status" -eq 0 ]; then
            c_passed=$((c_passed + 1))
            echo "ok     $name: ${checks:-?} checks passed (${secs} s)"
        else
            c_failed=$((c_failed + 1))
            failed_names+=("$name")
            case "$status" in
            99) why="valgrind found memory errors or leaks" ;;
            98) why="AddressSanitizer found a memory error" ;;
            97) why="UndefinedBehaviorSanitizer found undefined behaviour" ;;
            96) why="a sanitizer reported a problem" ;;
            23) why="LeakSanitizer found leaks" ;;
            *) why="exit status $status" ;;
            esac
            echo "FAILED $name: $why (${secs} s); its output:"
            sed 's/^/    /' "$log"
        fi
    done
    echo "$c_passed passed, $c_failed failed"
    if [ "$c_failed" -ne 0 ]; then
        echo "last lines of the server log ($WANTU_SERVER_LOG):"
        tail -n 15 "$WANTU_SERVER_LOG" | sed 's/^/    /'
        fail "$label: ${failed_names[*]}"
    fi
    passed "$label"
}

stage "C tests (tests/c/test_*.c, under valgrind)"
C_BUILD=("$CC" "${CFLAGS_STRICT[@]}")
C_RUN=("${VALGRIND_ARGS[@]}")
[ "${VALGRIND:-1}" = 0 ] && C_RUN=()
run_c_tests "C tests" build/c

# The same programs built with gcc's AddressSanitizer and
# UndefinedBehaviorSanitizer (the library itself is not instrumented: ASan
# still sees every allocation it makes through malloc and free, and checks
# everything the C side does with what it gets). Any report ends the
# program with a distinct status, and fails the stage.
stage "C tests under AddressSanitizer + UndefinedBehaviorSanitizer"
C_BUILD=("${SAN_CC:-gcc}" "${CFLAGS_STRICT[@]}" -fsanitize=address,undefined
    -fno-omit-frame-pointer -fno-sanitize-recover=all)
C_RUN=(env ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:exitcode=98:${ASAN_OPTIONS:-}"
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=97:${UBSAN_OPTIONS:-}"
    LSAN_OPTIONS="exitcode=23:${LSAN_OPTIONS:-}")
run_c_tests "C tests (sanitizers)" build/c-san

stage "C examples (examples-c/*.c build strictly; sync up and down, twice, under valgrind)"
mkdir -p build/examples
runner=("${VALGRIND_ARGS[@]}")
[ "${VALGRIND:-1}" = 0 ] && runner=()
for src in examples-c/*.c; do
    name="$(basename "$src" .c)"
    "$CC" "${CFLAGS_STRICT[@]}" -Iinclude "$src" -o "build/examples/$name" \
        -L"$WANTU_LIB_DIR" -Wl,-rpath,"$WANTU_LIB_DIR" -lwantu ||
        fail "$src does not compile cleanly"
done
# sync: a small tree up and back down into another folder, byte-exact;
# the second run must skip every file both ways.
sync_dir="$(mktemp -d)"
mkdir -p "$sync_dir/up/a/b"
printf 'one' >"$sync_dir/up/one.txt"
printf 'two two' >"$sync_dir/up/a/two.txt"
: >"$sync_dir/up/a/b/empty"
sync_args=("$WANTU_TEST_ENDPOINT" "$WANTU_TEST_AK" "$WANTU_TEST_SK" "$WANTU_TEST_NAMESPACE"
    "$sync_dir/up" "/example-sync-$$" "$sync_dir/down")
for run in 1 2; do
    "${runner[@]}" build/examples/sync "${sync_args[@]}" >"build/examples/sync$run.json" 2>/dev/null ||
        { rm -rf "$sync_dir"; fail "examples-c/sync (run $run): $(cat "build/examples/sync$run.json")"; }
done
diff -r "$sync_dir/up" "$sync_dir/down" >/dev/null ||
    { rm -rf "$sync_dir"; fail "examples-c/sync: the folder that came back down differs"; }
rm -rf "$sync_dir"
# upload_many_async: uploads in flight from one thread, answers taken as
# the queue's descriptor polls readable; every one must be stored.
"${runner[@]}" build/examples/upload_many_async "$WANTU_TEST_ENDPOINT" "$WANTU_TEST_AK" \
    "$WANTU_TEST_SK" "$WANTU_TEST_NAMESPACE" "/example-async-$$" 200 4096 >build/examples/async.json ||
    fail "examples-c/upload_many_async: $(cat build/examples/async.json)"
grep -q '"ok":200,"failed":0' build/examples/async.json ||
    fail "examples-c/upload_many_async: $(cat build/examples/async.json)"
# One JSON line per half: code, then sent (uploaded or downloaded), skipped, failed.
sync_counts() {
    python3 -c 'import json,sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    print(d["code"], d.get("uploaded", d.get("downloaded")), d["skipped"], d["failed"], end=" ")' "$1"
}
[ "$(sync_counts build/examples/sync1.json)" = "200 3 0 0 200 3 0 0 " ] ||
    fail "examples-c/sync: the first run did not send 3 files each way: $(cat build/examples/sync1.json)"
[ "$(sync_counts build/examples/sync2.json)" = "200 0 3 0 200 0 3 0 " ] ||
    fail "examples-c/sync: the second run did not skip all 3 files each way: $(cat build/examples/sync2.json)"
echo "examples-c: $(ls examples-c/*.c | wc -l) built; sync sent 3 files up and down (byte-exact), then skipped all 3 both ways"
passed "C examples"

if compgen -G "bindings/python/test_*.py" >/dev/null; then
    stage "Python tests (bindings/python/test_*.py)"
    python3 -m unittest discover -s bindings/python -p 'test_*.py' || fail "Python tests"
    passed "Python tests"
fi

stage "Python wheel (tests/python-wheel/run.sh: make wheel, pip install into a fresh venv)"
bash tests/python-wheel/run.sh || fail "Python wheel"
passed "Python wheel"

stage "Node package (tests/node/run.sh: npm pack, install into a fresh folder, node --test)"
bash tests/node/run.sh || fail "Node package"
passed "Node package"

if compgen -G "tests/cpp/*.cpp" >/dev/null; then
    stage "C++ tests (tests/cpp/*.cpp)"
    mkdir -p build/cpp
    cpp_passed=0
    for src in tests/cpp/*.cpp; do
        name="$(basename "$src" .cpp)"
        echo "compile $src"
        "$CXX" "${CXXFLAGS_STRICT[@]}" -Iinclude -Itests/cpp "$src" -o "build/cpp/$name" \
            -L"$WANTU_LIB_DIR" -Wl,-rpath,"$WANTU_LIB_DIR" -lwantu ||
            fail "$src does not compile cleanly"
        "build/cpp/$name" || fail "C++ test $name"
        cpp_passed=$((cpp_passed + 1))
    done
    echo "C++: $cpp_passed passed, 0 failed"
    passed "C++ tests"
fi

if [ -f tests/install/run.sh ]; then
    stage "install test (tests/install/run.sh)"
    bash tests/install/run.sh || fail "install test"
    passed "install test"
fi

echo
echo "all tests passed in $(($(date +%s) - started)) s"
echo "stages: $stages_passed passed, 0 failed"

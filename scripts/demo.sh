#!/usr/bin/env bash
# `make demo`: builds libwantu, the server and examples-c/demo.c (strict
# warnings), starts a wantu-server on a free port with demo keys and a temp
# data directory, runs the demo against it and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh

CC="${CC:-cc}"
TARGET="$(wantu_target_dir)"
LIBDIR="$TARGET/debug"
mkdir -p build

echo "== building libwantu and wantu-server"
cargo build -q -p wantu --lib
cargo build -q -p wantu-server --bin wantu-server
WANTU_SERVER_BIN="${WANTU_SERVER_BIN:-$LIBDIR/wantu-server}"
export WANTU_SERVER_BIN

echo "== compiling examples-c/demo.c"
"$CC" -std=c11 -Wall -Wextra -Werror -pedantic -g -Iinclude examples-c/demo.c \
    -o build/demo -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lwantu

trap wantu_server_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "== starting wantu-server"
wantu_server_start

echo "== running build/demo $WANTU_TEST_ENDPOINT $WANTU_TEST_AK <sk> $WANTU_TEST_NAMESPACE"
echo
build/demo "$WANTU_TEST_ENDPOINT" "$WANTU_TEST_AK" "$WANTU_TEST_SK" "$WANTU_TEST_NAMESPACE"

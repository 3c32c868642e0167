#!/usr/bin/env bash
# `make dll`: builds libwantu for x86_64-pc-windows-gnu and copies into
# build/windows/:
#   wantu.dll     the library (release profile: LTO, stripped)
#   wantu.dll.a   its import library, for linking with MinGW gcc/ld
#                 (`-lwantu` finds it; MSVC link.exe can read it too)
#   libwantu.a    the static library (link it with the system libraries
#                 listed in build/windows/native-static-libs.txt)
# Installs the toolchain first (scripts/windows/ensure-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/windows/ensure-deps.sh
source scripts/windows/env.sh

started=$(date +%s)
echo "windows: $("$WIN_CARGO" --version), $("$WIN_RUSTC" --version), target $WIN_TARGET"
echo "windows: CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
# panic_unwind: the C boundary catches panics (src/ffi/boundary.rs), which
# needs the unwinding runtime, not panic=abort.
# cargo's messages go to a log first (read below for the native libraries)
# and are shown once it ends: a `tee` in a process substitution may not have
# written the last line yet when the next command reads the log, and on a
# fresh machine the folder for the log does not exist yet.
mkdir -p "$CARGO_TARGET_DIR"
echo "windows: building wantu.dll (cold: std and every dependency, several minutes; the log follows at the end)"
log="$CARGO_TARGET_DIR/build.log"
status=0
"$WIN_CARGO" rustc --release --locked -p wantu --lib --target "$WIN_TARGET" \
    -Zbuild-std=std,panic_unwind -- --print native-static-libs 2>"$log" || status=$?
cat "$log" >&2
[ "$status" -eq 0 ] || { echo "windows: the build failed (exit $status)" >&2; exit "$status"; }

built="$CARGO_TARGET_DIR/$WIN_TARGET/release"
mkdir -p "$WIN_OUT"
cp "$built/wantu.dll" "$built/libwantu.dll.a" "$built/libwantu.a" "$WIN_OUT/"
mv "$WIN_OUT/libwantu.dll.a" "$WIN_OUT/wantu.dll.a"
# As `make install` does on Linux: the DLL keeps its export table, the
# static library its symbol table; target/windows keeps the full build.
x86_64-w64-mingw32-strip --strip-unneeded "$WIN_OUT/wantu.dll"
x86_64-w64-mingw32-strip --strip-debug "$WIN_OUT/libwantu.a"
sed -n 's/^note: native-static-libs: //p' "$log" | tail -n 1 \
    >"$WIN_OUT/native-static-libs.txt"
echo "windows: built in $(($(date +%s) - started)) s:"
ls -l "$WIN_OUT"/wantu.dll "$WIN_OUT"/wantu.dll.a "$WIN_OUT"/libwantu.a

#!/usr/bin/env bash
# `make dist-windows`: packs what `make dll` built into
# build/windows/wantu-VERSION-x86_64-pc-windows-gnu.zip:
#   bin/wantu.dll, lib/wantu.dll.a, lib/libwantu.a,
#   include/wantu.h, include/wantu.hpp, README.md
# (never the test-only bcryptprimitives.dll stand-in).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/windows/env.sh

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
name="wantu-$version-$WIN_TARGET"
for f in wantu.dll wantu.dll.a libwantu.a native-static-libs.txt; do
    [ -f "$WIN_OUT/$f" ] || { echo "dist-windows: $WIN_OUT/$f is missing; run make dll" >&2; exit 1; }
done
stage="$WIN_OUT/dist/$name"
rm -rf "$WIN_OUT/dist"
mkdir -p "$stage/bin" "$stage/lib" "$stage/include"
cp "$WIN_OUT/wantu.dll" "$stage/bin/"
cp "$WIN_OUT/wantu.dll.a" "$WIN_OUT/libwantu.a" "$stage/lib/"
cp include/wantu.h include/wantu.hpp "$stage/include/"
sed -e "s|@VERSION@|$version|g" \
    -e "s|@NATIVE_STATIC_LIBS@|$(cat "$WIN_OUT/native-static-libs.txt")|" \
    scripts/windows/README.dist.md >"$stage/README.md"
rm -f "$WIN_OUT/$name.zip"
(cd "$WIN_OUT/dist" && python3 -m zipfile -c "../$name.zip" "$name")
rm -rf "$WIN_OUT/dist"
echo "dist-windows: $WIN_OUT/$name.zip"
python3 -m zipfile -l "$WIN_OUT/$name.zip"

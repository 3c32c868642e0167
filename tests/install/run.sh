#!/usr/bin/env bash
# Install test: `make install` into a temporary prefix (and a DESTDIR stage),
# then build programs OUT OF TREE the way a user would -- only the installed
# files and `pkg-config --cflags --libs wantu` -- and run them against a
# wantu-server this script starts and stops itself.
#
#   bash tests/install/run.sh        (no arguments; from anywhere)
#
# Checks: the installed file set, the soname (readelf -d), the programs'
# NEEDED entry, examples-c/demo.c and examples-cpp/demo.cpp linked against the
# shared library, and the C demo linked statically against libwantu.a.
# Environment: WANTU_SERVER_BIN (default: the built wantu-server), CC, CXX.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"
# A server started by a caller (scripts/test.sh) is not ours to stop.
unset WANTU_SERVER_PID WANTU_TEST_ENDPOINT
source scripts/server.sh

CC="${CC:-cc}"
CXX="${CXX:-g++}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
major="${version%%.*}"
work="$(mktemp -d "${TMPDIR:-/tmp}/wantu-install.XXXXXX")"
prefix="$work/prefix"
cleanup() {
    wantu_server_stop
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

checks=0
ok() {
    checks=$((checks + 1))
    echo "ok   $1"
}
die() {
    echo "FAIL $1" >&2
    exit 1
}

echo "== make install PREFIX=$prefix"
make -s install PREFIX="$prefix" >"$work/install.log" 2>&1 || {
    cat "$work/install.log" >&2
    die "make install failed"
}
for f in "lib/libwantu.so.$version" "lib/libwantu.a" include/wantu.h include/wantu.hpp \
    lib/pkgconfig/wantu.pc bin/wantu; do
    [ -f "$prefix/$f" ] || die "$f is not installed"
done
[ "$(readlink "$prefix/lib/libwantu.so.$major")" = "libwantu.so.$version" ] ||
    die "lib/libwantu.so.$major does not link to libwantu.so.$version"
[ "$(readlink "$prefix/lib/libwantu.so")" = "libwantu.so.$major" ] ||
    die "lib/libwantu.so does not link to libwantu.so.$major"
ok "installed files and links (libwantu.so -> .so.$major -> .so.$version)"

readelf -d "$prefix/lib/libwantu.so.$version" | grep -q "Library soname: \[libwantu.so.$major\]" ||
    die "soname of libwantu.so.$version is not libwantu.so.$major: $(readelf -d "$prefix/lib/libwantu.so.$version" | grep -i soname)"
ok "soname libwantu.so.$major"

cmp -s include/wantu.h "$prefix/include/wantu.h" || die "installed wantu.h differs"
nm -D --defined-only "$prefix/lib/libwantu.so.$version" | grep -q ' T wantu_upload_file$' ||
    die "wantu_upload_file is not exported"
ok "headers and exported symbols"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion wantu)" = "$version" ] || die "pkg-config --modversion is not $version"
[ "$(pkg-config --variable=libdir wantu)" = "$prefix/lib" ] || die "pkg-config libdir is wrong"
ok "pkg-config wantu: $(pkg-config --cflags --libs wantu)"

echo "== DESTDIR staging"
make -s install DESTDIR="$work/stage" PREFIX=/opt/wantu >"$work/stage.log" 2>&1 || {
    cat "$work/stage.log" >&2
    die "make install DESTDIR=... failed"
}
[ -f "$work/stage/opt/wantu/lib/libwantu.so.$version" ] || die "DESTDIR install misses the library"
grep -qx 'prefix=/opt/wantu' "$work/stage/opt/wantu/lib/pkgconfig/wantu.pc" ||
    die "a DESTDIR install must record the final prefix, not the stage"
ok "DESTDIR stages under \$DESTDIR\$PREFIX and records PREFIX in wantu.pc"

# Out of tree: copies of the examples in a directory with nothing else.
src="$work/src"
mkdir -p "$src"
cp examples-c/demo.c "$src/demo.c"
cp examples-cpp/demo.cpp "$src/demo.cpp"
cd "$src"

echo "== building out of tree with pkg-config"
# shellcheck disable=SC2046 # pkg-config output is a list of flags
"$CC" -std=c11 -Wall -Wextra -Werror -pedantic demo.c -o demo $(pkg-config --cflags --libs wantu) ||
    die "demo.c does not build with pkg-config"
readelf -d demo | grep -q "NEEDED.*\[libwantu.so.$major\]" || die "demo does not need libwantu.so.$major"
ok "C demo built; it needs libwantu.so.$major"

# shellcheck disable=SC2046
"$CXX" -std=c++17 -Wall -Wextra -Werror demo.cpp -o demo_cpp $(pkg-config --cflags --libs wantu) ||
    die "demo.cpp does not build with pkg-config"
ok "C++ demo built against the installed wantu.hpp"

# Static: the same flags with libwantu.a and Libs.private.
static_libs="$(pkg-config --static --libs wantu)"
# shellcheck disable=SC2086
"$CC" -std=c11 -Wall -Wextra -Werror -pedantic demo.c -o demo_static \
    $(pkg-config --cflags wantu) ${static_libs/-lwantu/-l:libwantu.a} ||
    die "demo.c does not link statically with pkg-config --static"
! readelf -d demo_static | grep -q "libwantu" || die "demo_static still needs libwantu.so"
ok "C demo linked statically (libwantu.a + Libs.private)"

cd "$repo"
echo "== running against wantu-server"
wantu_server_start >/dev/null 2>&1 || die "wantu-server did not start"
export LD_LIBRARY_PATH="$prefix/lib"
for prog in demo demo_cpp demo_static; do
    "$src/$prog" "$WANTU_TEST_ENDPOINT" "$WANTU_TEST_AK" "$WANTU_TEST_SK" "$WANTU_TEST_NAMESPACE" \
        >"$work/$prog.out" 2>&1 || {
        cat "$work/$prog.out" >&2
        die "$prog failed against wantu-server"
    }
    ok "$prog ran against wantu-server"
done
# The loader resolved the installed library, not a build-tree copy.
# (No arguments and no WANTU_* variables: the demo only prints its usage.)
env -u WANTU_ENDPOINT -u WANTU_AK -u WANTU_SK -u WANTU_NAMESPACE LD_DEBUG=libs "$src/demo" \
    >/dev/null 2>"$work/ld.log" || true
grep -q "calling init: $prefix/lib/libwantu.so.$major" "$work/ld.log" ||
    die "demo did not load $prefix/lib/libwantu.so.$major: $(grep -i wantu "$work/ld.log" | head -n 3)"
ok "demo loads the installed libwantu.so.$major"

# Python: a copy of want.py outside the repository finds the installed
# library through the loader's path, and the seed's demo runs on it.
cp bindings/python/want.py bindings/python/demo.py "$src/"
WANTU_AK="$WANTU_TEST_AK" WANTU_SK="$WANTU_TEST_SK" WANTU_NAMESPACE="$WANTU_TEST_NAMESPACE" \
    WANTU_ENDPOINT="$WANTU_TEST_ENDPOINT" env -u WANTU_LIB python3 "$src/demo.py" >"$work/py.out" 2>&1 || {
    cat "$work/py.out" >&2
    die "bindings/python/demo.py failed on the installed library"
}
loaded="$(cd "$src" && env -u WANTU_LIB python3 -c '
import want
want.load_library()
print([l.split()[-1] for l in open("/proc/self/maps") if "libwantu" in l][0])')"
[[ "$loaded" == "$prefix/lib/libwantu.so"* ]] || die "want.py loaded $loaded, not the installed library"
ok "want.py loads the installed library ($loaded) and runs the seed demo"

# The command-line tool, installed with the library, against the server.
printf 'installed tool\n' >"$work/cli.txt"
WANTU_AK="$WANTU_TEST_AK" WANTU_SK="$WANTU_TEST_SK" WANTU_ENDPOINT="$WANTU_TEST_ENDPOINT" \
    WANTU_CONFIG="$work/cli.conf" "$prefix/bin/wantu" -q cp "$work/cli.txt" \
    "wantu://$WANTU_TEST_NAMESPACE/install-test/" >"$work/cli.out" 2>&1 || {
    cat "$work/cli.out" >&2
    die "the installed wantu cp failed"
}
listed="$(WANTU_AK="$WANTU_TEST_AK" WANTU_SK="$WANTU_TEST_SK" WANTU_ENDPOINT="$WANTU_TEST_ENDPOINT" \
    WANTU_CONFIG="$work/cli.conf" "$prefix/bin/wantu" ls "wantu://$WANTU_TEST_NAMESPACE/install-test/")"
[ "$listed" = "cli.txt" ] || die "the installed wantu ls shows '$listed', not cli.txt"
ok "bin/wantu $("$prefix/bin/wantu" --version | cut -d' ' -f2) copies and lists against wantu-server"

echo "install test: $checks checks passed"

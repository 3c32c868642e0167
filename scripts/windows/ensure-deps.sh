#!/usr/bin/env bash
# Installs what the Windows build and its tests need, through apt-get
# (Debian 12 "bookworm" and later; the same approach as scripts/ensure-deps.sh):
#
#   rustc-web, cargo-web  Debian's newer Rust toolchain (security updates);
#                         used as /usr/bin/rustc-web and /usr/bin/cargo-web,
#                         never rustup's toolchain, which cannot fetch the
#                         Windows target here
#   rust-web-src          the standard library's sources, so cargo can build
#                         std for x86_64-pc-windows-gnu (-Zbuild-std)
#   gcc-mingw-w64-x86-64  the linker, and the C compiler for the tests
#   wine64                runs the Windows test programs (make test-windows)
#
# The package index is refreshed once, and only when something is missing.
set -euo pipefail

packages=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine64)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "windows/ensure-deps: ${packages[*]} are present"
    exit 0
fi

echo "windows/ensure-deps: installing ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "windows/ensure-deps: apt-get not found; install these yourself: ${missing[*]}" >&2
    exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "windows/ensure-deps: not root and no sudo; install these yourself: ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "windows/ensure-deps: done"

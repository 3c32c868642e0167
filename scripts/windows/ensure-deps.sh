#!/usr/bin/env bash
# Installs what the Windows build and its tests need, through apt-get
# (Debian 12 "bookworm" and later; installed by scripts/apt-install.sh, as for
# scripts/ensure-deps.sh):
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

source "$(dirname "${BASH_SOURCE[0]}")/../apt-install.sh"
apt_install windows/ensure-deps "${missing[@]}"

#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain, a C compiler, make
# and python3: valgrind (C tests run under it), pkg-config (install tests),
# curl (downloads in shell checks), g++ (C++ tests), gcc's ASan/UBSan
# runtimes (the sanitizer stage), node and npm (the Node package), Python's
# venv module (the wheel test) and script (util-linux; the wantu tool's
# progress-bar test runs under a pseudo-terminal with it). Debian/Ubuntu
# only, through apt-get; nothing is done when every tool is already there, so the
# package index is refreshed only when something is missing.
set -euo pipefail

# command → Debian package
declare -A PACKAGE=(
    [valgrind]=valgrind
    [pkg-config]=pkg-config
    [curl]=curl
    [g++]=g++
    [node]=nodejs
    [npm]=npm
    [script]=bsdutils
)

# rustfmt and clippy come with rustup's default profile; they cannot be
# installed from Debian's packages for a rustup toolchain, so only say so.
for component in fmt clippy; do
    if ! cargo "$component" --version >/dev/null 2>&1; then
        echo "ensure-deps: 'cargo $component' is missing; run: rustup component add ${component/fmt/rustfmt}" >&2
        exit 1
    fi
done

missing=()
for tool in valgrind pkg-config curl g++ node npm script; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${PACKAGE[$tool]}")
done
# Debian's python3 keeps venv (ensurepip) in a package of its own.
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

# The sanitizer stage links C programs with gcc's -fsanitize=address,undefined;
# the runtimes (libasan, libubsan) come with gcc's libgcc-N-dev package.
sanitizers_link() {
    command -v gcc >/dev/null 2>&1 &&
        echo 'int main(void){return 0;}' |
        gcc -x c -fsanitize=address,undefined -o /dev/null - >/dev/null 2>&1
}
if ! sanitizers_link; then
    if command -v gcc >/dev/null 2>&1; then
        missing+=("libgcc-$(gcc -dumpversion | cut -d. -f1)-dev")
    else
        missing+=(gcc)
    fi
fi

if [ "${#missing[@]}" -eq 0 ]; then
    echo "ensure-deps: valgrind, pkg-config, curl, g++, gcc's sanitizers, node, npm, script and python3 -m venv are present"
    exit 0
fi

source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_install ensure-deps "${missing[@]}"

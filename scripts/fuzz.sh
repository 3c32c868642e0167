#!/usr/bin/env bash
# `make fuzz`: builds the cargo-fuzz targets in fuzz/ and runs each one for
# FUZZ_SECONDS (default 30), failing on the first crash, leak, timeout or
# out-of-memory. The committed corpus fuzz/corpus/<target>/ seeds each run;
# new inputs go to a scratch directory, so the tree stays clean. A crashing
# input is kept under fuzz/artifacts/<target>/ and printed as a reproduce
# command.
#
# Needs a nightly toolchain (sanitizers) and cargo-fuzz. cargo-fuzz is
# installed with `cargo install cargo-fuzz --locked` when missing; a missing
# nightly toolchain is installed with rustup. If either cannot be had, this
# fails loudly: the fuzz stage never passes without having fuzzed.
#
# Knobs: FUZZ_SECONDS (per target), FUZZ_TARGETS="parts c_surface" (a
# subset), FUZZ_TOOLCHAIN (default nightly).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${FUZZ_SECONDS:-30}"
TOOLCHAIN="${FUZZ_TOOLCHAIN:-nightly}"
started=$(date +%s)

die() {
    echo >&2
    echo "FUZZ FAILED: $*" >&2
    exit 1
}

if ! cargo "+$TOOLCHAIN" --version >/dev/null 2>&1; then
    echo "fuzz: no $TOOLCHAIN toolchain; installing it with rustup"
    command -v rustup >/dev/null 2>&1 || die "no '$TOOLCHAIN' Rust toolchain and no rustup to install it"
    rustup toolchain install "$TOOLCHAIN" --profile minimal ||
        die "could not install the '$TOOLCHAIN' toolchain that cargo-fuzz needs"
fi
echo "fuzz: $(cargo "+$TOOLCHAIN" --version)"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz is missing; installing it (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked || die "could not install cargo-fuzz"
    cargo fuzz --version >/dev/null 2>&1 || die "cargo-fuzz was installed but 'cargo fuzz' does not run (is ~/.cargo/bin on PATH?)"
fi
echo "fuzz: $(cargo fuzz --version)"

cd fuzz
all_targets=$(cargo "+$TOOLCHAIN" fuzz list)
[ -n "$all_targets" ] || die "cargo fuzz list found no targets"
targets="${FUZZ_TARGETS:-$all_targets}"

echo "fuzz: building $(echo $targets | wc -w) targets (release, AddressSanitizer)"
cargo "+$TOOLCHAIN" fuzz build || die "the fuzz targets do not build"
echo "fuzz: built ($(($(date +%s) - started)) s so far)"

# New corpus entries and the targets' own files (wantu-server's store, the
# C surface's test files) go to a scratch directory, in shared memory when
# there is some (the store fsyncs), removed at the end.
scratch=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export TMPDIR="$scratch/tmp"
mkdir -p "$TMPDIR"
for t in $targets; do
    echo "$all_targets" | grep -qx "$t" || die "no fuzz target named '$t'"
    mkdir -p "corpus/$t" "$scratch/$t" "artifacts/$t"
    echo
    echo "== fuzz $t (${SECONDS_EACH} s)"
    # -timeout: one input taking longer than 20 s is a hang;
    # -rss_limit_mb: more than 2 GiB is a memory bug.
    if ! cargo "+$TOOLCHAIN" fuzz run "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 2>"$scratch/$t.log"; then
        tail -n 60 "$scratch/$t.log" >&2
        die "target '$t' crashed; the input is in fuzz/artifacts/$t/ (reproduce: cd fuzz && cargo +$TOOLCHAIN fuzz run $t fuzz/artifacts/$t/<file>)"
    fi
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$scratch/$t.log" || true
done
echo
echo "fuzz: every target ran ${SECONDS_EACH} s without a crash ($(($(date +%s) - started)) s in all)"

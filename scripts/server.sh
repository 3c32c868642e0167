#!/usr/bin/env bash
# Runs a throw-away wantu-server for demos and tests.
#
#   scripts/server.sh COMMAND [ARGS...]
#       starts a server, runs COMMAND with the variables below exported, stops
#       the server (whatever happens) and exits with COMMAND's status.
#
#   source scripts/server.sh
#   trap wantu_server_stop EXIT      # the caller owns the traps
#   wantu_server_start
#       the same as functions, for scripts that run several things.
#
# The server listens on 127.0.0.1 on a free port, with a fresh data
# directory (removed on stop; WANTU_KEEP_DATA=1 keeps it) and one key pair.
# Exported once it answers:
#   WANTU_TEST_ENDPOINT   base URL for upload and manage, e.g. http://127.0.0.1:41234
#   WANTU_TEST_AK         access key the server accepts
#   WANTU_TEST_SK         its secret key
#   WANTU_TEST_NAMESPACE  a namespace to upload into
#   WANTU_SERVER_DATA     the data directory
#   WANTU_SERVER_LOG      the server's request log (its stderr)
#   WANTU_SERVER_PID      its process id
# Set WANTU_TEST_AK / _SK / _NAMESPACE beforehand to choose other values,
# WANTU_SERVER_BIN to run another binary, WANTU_SERVER_ARGS for extra flags
# (e.g. "--faults error=0.2 --seed 7").

_wantu_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The cargo target directory (honours CARGO_TARGET_DIR and config files).
wantu_target_dir() {
    local dir
    dir="$(cd "$_wantu_repo" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null)" ||
        dir=""
    echo "${dir:-$_wantu_repo/target}"
}

# The server binary: $WANTU_SERVER_BIN, else the debug build, else the
# release build, else a fresh debug build.
wantu_server_bin() {
    if [ -n "${WANTU_SERVER_BIN:-}" ]; then
        echo "$WANTU_SERVER_BIN"
        return
    fi
    local target
    target="$(wantu_target_dir)"
    for profile in debug release; do
        if [ -x "$target/$profile/wantu-server" ]; then
            echo "$target/$profile/wantu-server"
            return
        fi
    done
    (cd "$_wantu_repo" && cargo build -q -p wantu-server --bin wantu-server) >&2 || return 1
    echo "$target/debug/wantu-server"
}

wantu_server_start() {
    local bin line fd
    bin="$(wantu_server_bin)" || {
        echo "server.sh: cannot build wantu-server" >&2
        return 1
    }
    export WANTU_TEST_AK="${WANTU_TEST_AK:-demo-ak}"
    export WANTU_TEST_SK="${WANTU_TEST_SK:-demo-sk-0123456789abcdef}"
    export WANTU_TEST_NAMESPACE="${WANTU_TEST_NAMESPACE:-demo}"
    _wantu_tmp="$(mktemp -d "${TMPDIR:-/tmp}/wantu-server.XXXXXX")"
    export WANTU_SERVER_DATA="$_wantu_tmp/data"
    export WANTU_SERVER_LOG="$_wantu_tmp/server.log"
    mkdir -p "$WANTU_SERVER_DATA"
    # The first stdout line carries the URL. A FIFO lets us block on it
    # instead of sleeping and polling a file.
    mkfifo "$_wantu_tmp/stdout"
    # shellcheck disable=SC2086 # WANTU_SERVER_ARGS is a list of flags
    "$bin" --listen 127.0.0.1:0 --data "$WANTU_SERVER_DATA" \
        --key "$WANTU_TEST_AK:$WANTU_TEST_SK" ${WANTU_SERVER_ARGS:-} \
        >"$_wantu_tmp/stdout" 2>"$WANTU_SERVER_LOG" &
    export WANTU_SERVER_PID=$!
    exec {fd}<"$_wantu_tmp/stdout"
    if ! IFS= read -r -t 60 line <&"$fd" || [[ "$line" != "listening on http://"* ]]; then
        exec {fd}<&-
        echo "server.sh: $bin did not start (first line: ${line:-none}); its log:" >&2
        tail -n 20 "$WANTU_SERVER_LOG" >&2 || true
        wantu_server_stop
        return 1
    fi
    # Keep draining stdout so the server never blocks on a full pipe.
    cat <&"$fd" >"$_wantu_tmp/stdout.log" &
    _wantu_drain_pid=$!
    exec {fd}<&-
    export WANTU_TEST_ENDPOINT="${line#listening on }"
    echo "server.sh: wantu-server $WANTU_TEST_ENDPOINT (pid $WANTU_SERVER_PID, data $WANTU_SERVER_DATA)" >&2
}

# Stops the server started by wantu_server_start; safe to call twice.
wantu_server_stop() {
    if [ -n "${WANTU_SERVER_PID:-}" ]; then
        kill -TERM "$WANTU_SERVER_PID" 2>/dev/null || true
        # Give it 5 s to finish its requests, then insist.
        local i
        for i in $(seq 50); do
            kill -0 "$WANTU_SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$WANTU_SERVER_PID" 2>/dev/null || true
        wait "$WANTU_SERVER_PID" 2>/dev/null || true
        unset WANTU_SERVER_PID
    fi
    if [ -n "${_wantu_drain_pid:-}" ]; then
        wait "$_wantu_drain_pid" 2>/dev/null || true
        unset _wantu_drain_pid
    fi
    if [ -n "${_wantu_tmp:-}" ]; then
        if [ "${WANTU_KEEP_DATA:-0}" = 1 ]; then
            echo "server.sh: kept $_wantu_tmp" >&2
        else
            rm -rf "$_wantu_tmp"
        fi
        unset _wantu_tmp
    fi
}

# Executed (not sourced): run the given command against a fresh server.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    if [ "$#" -eq 0 ]; then
        echo "usage: scripts/server.sh COMMAND [ARGS...]" >&2
        exit 2
    fi
    trap wantu_server_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    wantu_server_start
    status=0
    "$@" || status=$?
    exit "$status"
fi

# Helpers shared by the benchmark scripts (sourced, not run).

# bench_tools: GNU time (installed with apt-get when missing) and curl.
bench_tools() {
    if [ ! -x /usr/bin/time ]; then
        echo "== installing GNU time (apt-get install time)"
        if [ "$(id -u)" = 0 ]; then apt-get install -y -q time >/dev/null; else sudo apt-get install -y -q time >/dev/null; fi
    fi
    command -v curl >/dev/null || { echo "bench: curl is needed" >&2; exit 1; }
}

# time_figures FILE: "wall cpu rss_kib" (seconds, user + sys seconds, KiB)
# from the report of `/usr/bin/time -v -o FILE`.
time_figures() {
    python3 - "$1" <<'PY'
import sys
v = {}
for line in open(sys.argv[1]):
    k, _, val = line.strip().rpartition(": ")
    v[k] = val
wall = 0.0
for part in v["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"):
    wall = wall * 60 + float(part)
cpu = float(v["User time (seconds)"]) + float(v["System time (seconds)"])
print(f"{wall:.2f}", f"{cpu:.2f}", v["Maximum resident set size (kbytes)"])
PY
}

# bench_proxy_start WORK REL RTT_MS: starts bench/latency-proxy in front of
# the running wantu-server with RTT_MS of round trip; sets PROXY_PID and
# FAR (the proxy's base URL). WORK is a scratch folder, REL the release
# build folder.
bench_proxy_start() {
    local work="$1" rel="$2" rtt="$3" line pfd
    mkfifo "$work/proxy.out"
    "$rel/latency-proxy" --listen 127.0.0.1:0 --upstream "${WANTU_TEST_ENDPOINT#http://}" \
        --rtt-ms "$rtt" >"$work/proxy.out" &
    PROXY_PID=$!
    exec {pfd}<"$work/proxy.out"
    IFS= read -r -t 30 line <&"$pfd" || { echo "latency-proxy did not start" >&2; exit 1; }
    cat <&"$pfd" >/dev/null &
    exec {pfd}<&-
    FAR="http://${line#listening on }"
}

# bench_max_threads PID: the largest thread count PID had, sampled every
# 10 ms until it exits.
bench_max_threads() {
    local pid="$1" max=0 n
    while [ -d "/proc/$pid/task" ]; do
        n=$(ls "/proc/$pid/task" 2>/dev/null | wc -l)
        [ "$n" -gt "$max" ] && max=$n
        sleep 0.01
    done
    echo "$max"
}

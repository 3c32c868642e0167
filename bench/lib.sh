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

#!/usr/bin/env bash
# run.sh [BUILD_DIR] - placement benchmark driver.
#
# 1. bench_place at 1,000 hosts (2 x 32 cores x 2 threads, 8 racks, 2 zones):
#    20,000 ACT/SBY pair requests placed one at a time, 5 runs (medians);
#    the first run also dumps 6 evenly spaced samples (state + request).
# 2. bench_place at 10,000 hosts, 20,000 pair requests, 5 runs.
# 3. nova_compare.py: Nova's numa_fit_instance_to_host on the dumped samples
#    (every host, once per VM of the request, median of 3), ratio Nova/ours.
# Writes perf/results/placement.json and prints every figure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build}
bench=$build/perf/placement/bench_place
[ -x "$bench" ] || { echo "run.sh: $bench not built (cmake --build $build --target bench_place)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
runs=${RUNS:-5}
pairs=${PAIRS:-20000}

echo "== 1,000 hosts, $pairs pair requests, $runs runs"
"$bench" --hosts 1000 --pairs "$pairs" --runs "$runs" --dump-dir "$tmp" --samples 6 >"$tmp/k1.json"
cat "$tmp/k1.json"
echo "== 10,000 hosts, $pairs pair requests, $runs runs"
"$bench" --hosts 10000 --pairs "$pairs" --runs "$runs" >"$tmp/k10.json"
cat "$tmp/k10.json"
echo "== Nova numa_fit_instance_to_host on the same inputs (1,000 hosts, 6 sampled requests)"
/usr/bin/python3 "$here/nova_compare.py" "$tmp" >"$tmp/nova.json"
cat "$tmp/nova.json"

mkdir -p "$top/perf/results"
/usr/bin/python3 - "$tmp" "$top/perf/results/placement.json" <<'PY'
import json, platform, subprocess, sys, time
tmp, out = sys.argv[1], sys.argv[2]
k1 = json.load(open(tmp + "/k1.json")); k10 = json.load(open(tmp + "/k10.json"))
nova = json.load(open(tmp + "/nova.json"))
try:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
except OSError:
    commit = ""
res = {
    "benchmark": "placement",
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "commit": commit,
    "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
    "notes": "latencies in microseconds per request (one request = one ACT/SBY pair); "
             "cpu_* = thread CPU time, p50/p99 = wall clock; medians over runs; "
             "nova = numa_fit_instance_to_host over every host once per VM, no anti-affinity "
             "or reserve (a lower bound for Nova)",
    "hosts_1000": k1,
    "hosts_10000": k10,
    "nova_compare": nova,
}
json.dump(res, open(out, "w"), indent=2)
print("wrote", out)
k = k1
print("1,000 hosts: %.0f requests/s, %.0f VMs placed/s, cpu p50 %.0f us, cpu p99 %.0f us, "
      "wall p99 %.0f us, %d B/host"
      % (k["req_per_s"], k["vms_per_s"], k["cpu_p50"], k["cpu_p99"], k["p99"],
         k["bytes_per_host"]))
k = k10
print("10,000 hosts: %.0f requests/s, cpu p50 %.0f us, cpu p99 %.0f us, wall p99 %.0f us, "
      "%d B/host" % (k["req_per_s"], k["cpu_p50"], k["cpu_p99"], k["p99"], k["bytes_per_host"]))
print("Nova/ours per request (median of %d samples): %.0fx"
      % (len(nova["samples"]), nova["median_ratio_nova_over_ours"]))
PY
